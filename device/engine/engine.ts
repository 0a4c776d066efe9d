// The protocol state machine (sans-I/O). The platform driver feeds it time, link events and received
// bytes, and gives it a Link to write to; the engine decides every packet and every deadline. All its
// memory is sized at construction from EngineOptions.

import { Bytes } from "../platform/bytes";
import * as bytes from "../platform/bytes";
import * as mqtt from "../codec/constants";
import * as errors from "../codec/errors";
import { ConnectFields, Packet, Properties, PublishFields, Subscription, reservePropertyTables } from "../codec/packets";
import * as encode from "../codec/encode";
import { decodePacket } from "../codec/decode";
import * as framing from "../codec/framer";
import { propertyValue } from "../codec/properties";
import { EngineOptions, DROP_OLDEST, checkOptions } from "./options";
import * as box from "./outbox";
import * as wire from "../codec/wire";
import { Random } from "./random";

/** The transport, as the platform driver provides it. */
export interface Link {
  /** Start opening the transport; answer with engine.linkOpened() or engine.linkClosed(). */
  open(): void;
  /** Send bytes[offset .. offset+length) now; the engine reuses `bytes` as soon as this returns. */
  write(bytes: Bytes, offset: number, length: number): void;
  /** Close the transport. The engine already considers it closed; no linkClosed() is expected. */
  close(): void;
}

/** What the engine tells the application. */
export interface EngineEvents {
  connected(sessionPresent: boolean): void;
  /** OK after disconnect(), otherwise the error code that ended the link; the engine reconnects on its own. */
  disconnected(code: number): void;
  /** A received message; its topic and payload are views into packet.buffer, valid during the call only. */
  message(packet: Packet): void;
  /** A publish completed (PUBACK or PUBCOMP), or a (un)subscribe was acknowledged (SUBACK/UNSUBACK). */
  acknowledged(type: number, packetId: number, reasonCode: number): void;
}

export const IDLE = 0;
export const WAITING = 1;
export const OPENING = 2;
export const CONNECTING = 3;
export const CONNECTED = 4;

// Subscription slot states.
const SUB_FREE = 0;
const SUB_PENDING = 1;
const SUB_ACTIVE = 2;
const SUB_UNSUBSCRIBING = 3;
/** Bytes of state per subscription slot (a state byte, its packet id, an outstanding id) and per incoming QoS 2 slot. */
export const SUBSCRIPTION_SLOT_BYTES = 5;
export const INCOMING_SLOT_BYTES = 2;

/**
 * What a CONNECT, publish() and (un)subscribe() hand the encoders, and the packet a received one is decoded
 * into: shared by every engine, each filling it just before use, so that a fleet's engines do not each hold
 * it. The received packet can be shared because an engine is never fed bytes from inside its events (a
 * driver calls received() from its own I/O callbacks), so one packet is handled at a time. (One module
 * local for all: Lua 5.1 caps a function's locals, and the module body is one.)
 */
const scratch = {
  received: new Packet(),
  connect: new ConnectFields(),
  publish: new PublishFields(),
  /** The one filter of a SUBSCRIBE (its one Subscription, filled from a slot) or of an UNSUBSCRIBE. */
  single: [new Subscription("", 0)],
  singleFilter: [] as string[],
  /** The filters of every engine without subscription slots (a fleet's devices): one array, never written, not 32 B each. */
  noFilters: [] as string[],
};

export class Counters {
  connects = 0;
  reconnects = 0;
  retransmits = 0;
  drops = 0;
  messagesSent = 0;
  messagesReceived = 0;
  duplicatesSuppressed = 0;
  qosDowngrades = 0;
  pingRoundTripMs = -1;
  queueHighWater = 0;
}

export class Engine {
  readonly options: EngineOptions;
  readonly counters = new Counters();
  state = IDLE;
  /** The last reason code the broker gave: a refused CONNACK or a server DISCONNECT. */
  lastReasonCode = 0;
  /** OK, or ERR_BAD_ARGUMENT for options the engine cannot run from: start() returns it. */
  private readonly optionsError: number;
  private readonly link: Link;
  private readonly events: EngineEvents;
  private readonly version: number;
  private readonly framer: framing.Framer;
  private readonly outbox: box.Outbox;
  private readonly random: Random;
  /** 5.0: the CONNECT's properties (null over 3.1.1). */
  private readonly connectProperties: Properties | null = null;
  /** Per subscription slot, its topic filter ("" when free); its state and QoS are bytes (subscriptionsAt). */
  private readonly subscriptionFilters: string[];
  /**
   * The outbox's state bytes; from subscriptionsAt, a state byte per subscription slot; from idAt(0), a 16-bit
   * packet id per subscription slot, then per slot the id of a SUBSCRIBE still awaiting its SUBACK after the
   * subscription was undone (else 0); from incomingAt to the end, per incoming QoS 2 slot the packet id
   * awaiting PUBREL (else 0); from transmitAt to the end, the transmit buffer. Bytes rather than arrays of
   * numbers, whose headers and element stores cost more than the state they hold; one view for the state and
   * the transmit buffer, as each view costs about 100 B on V8.
   */
  private readonly stateAndTransmit: Bytes;
  /** Where the transmit buffer starts in stateAndTransmit: after the state, so the encoders' room ends with it. */
  private readonly transmitAt: number;
  private readonly subscriptionsAt: number;
  private readonly incomingAt: number;
  /** Packet id classes: one per message slot, then one per subscription slot (nextPacketId). */
  private readonly idClasses: number;

  private now = 0;
  private linkNumber = 0;
  private attempt = 0;
  private deadline = -1;
  private connectedAt = 0;
  private lastSent = 0;
  private lastReceived = 0;
  private pingSentAt = -1;
  private keepAliveMs = 0;
  // Limits the broker announced in CONNACK (5.0); 3.1.1 brokers get the protocol's own limits.
  private brokerReceiveMaximum = 65535;
  private brokerMaximumPacketSize = mqtt.MAX_REMAINING_LENGTH;
  private brokerMaximumQos = 2;
  private brokerRetainAvailable = true;

  constructor(options: EngineOptions, link: Link, events: EngineEvents) {
    this.options = options;
    this.link = link;
    this.events = events;
    this.version = options.protocolVersion;
    this.optionsError = checkOptions(options);
    // Options the engine cannot run from size nothing (start() returns their error): the smallest sizes.
    const sizes = this.optionsError === errors.OK ? options : new EngineOptions();
    if (sizes !== options) {
      sizes.receiveBufferSize = 16;
      sizes.transmitBufferSize = 16;
      sizes.messageSlotSize = 0;
      sizes.inflightWindow = 1;
      sizes.queueSlots = 0;
      sizes.incomingQos2Slots = 0;
      sizes.subscriptionSlots = 0;
    }
    // The receive buffer, the transmit buffer, the slots' state and the stored messages, in one allocation
    // (the receive buffer and the messages as its cold part: see newColdBytes and newRarelyWrittenBytes).
    const slots = sizes.inflightWindow + sizes.queueSlots;
    this.subscriptionsAt = slots * box.SLOT_STATE_BYTES;
    this.idClasses = slots + sizes.subscriptionSlots;
    this.incomingAt = this.subscriptionsAt + sizes.subscriptionSlots * SUBSCRIPTION_SLOT_BYTES;
    const storeSize = this.incomingAt + sizes.incomingQos2Slots * INCOMING_SLOT_BYTES;
    const messagesSize = slots * sizes.messageSlotSize;
    bytes.beginBytesBlock(sizes.transmitBufferSize + storeSize, framing.framerBufferSize(sizes.receiveBufferSize) + messagesSize);
    this.framer = new framing.Framer(sizes.receiveBufferSize);
    this.stateAndTransmit = bytes.newBytes(storeSize + sizes.transmitBufferSize);
    this.transmitAt = storeSize;
    this.outbox = new box.Outbox(this.stateAndTransmit, bytes.newColdBytes(messagesSize), slots, sizes.messageSlotSize);
    bytes.endBytesBlock();
    this.random = new Random(sizes.seed);
    this.subscriptionFilters = sizes.subscriptionSlots > 0 ? [] : scratch.noFilters;
    for (let i = 0; i < sizes.subscriptionSlots; i++) {
      this.subscriptionFilters.push("");
    }
    // 5.0 only: the CONNECT's properties and the received packet's tables.
    if (mqtt.MQTT5 && this.version === mqtt.MQTT_5) {
      const properties = new Properties();
      if (options.sessionExpiry > 0) {
        properties.sessionExpiry = options.sessionExpiry;
      }
      properties.receiveMaximum = options.incomingQos2Slots > 1 ? Math.floor(options.incomingQos2Slots / 2) : 1;
      properties.maximumPacketSize = options.receiveBufferSize;
      properties.userProperties = options.connectUserProperties;
      this.connectProperties = properties;
      reservePropertyTables(scratch.received);
    }
  }

  // ---- the application's calls ----

  /**
   * Begin connecting, and keep the client connected until stop(). Returns OK; ERR_BAD_ARGUMENT for options
   * the engine cannot run from (checkOptions); or the error that keeps the options' CONNECT from being
   * encoded (ERR_BAD_ARGUMENT for a password without a user name in 3.1.1, an empty client id with a
   * persistent session or a field of the wrong type, ERR_BUFFER_TOO_SMALL when it outgrows the transmit
   * buffer, ...): no attempt is made, as every one would fail the same way.
   */
  start(now: number): number {
    this.now = now;
    if (this.optionsError !== errors.OK) {
      return this.optionsError;
    }
    if (this.state === IDLE) {
      const length = this.encodeConnect();
      if (length < 0) {
        return length;
      }
      this.attempt = 0;
      this.openLink();
    }
    return errors.OK;
  }

  /** A clean DISCONNECT (the broker discards the will), then idle. Stored messages stay for a later start(). */
  stop(now: number): void {
    this.now = now;
    if (this.state === CONNECTED) {
      this.sendControl(encode.encodeDisconnect(this.stateAndTransmit, this.transmitAt, this.version, 0, null));
    }
    this.halt(errors.OK);
  }

  /** Ends the link, if any, and stays idle; disconnected(code) unless idle already. */
  private halt(code: number): void {
    const wasActive = this.state !== IDLE;
    this.dropLink();
    this.state = IDLE;
    this.deadline = -1;
    if (wasActive) {
      this.events.disconnected(code);
    }
  }

  /**
   * Publishes payload[offset .. offset+length) to `topic`. Returns the packet id (QoS 1 and 2), 0 (QoS 0),
   * or an error code. A message that cannot go out now waits in the store, in order.
   */
  publish(topic: string, payload: Bytes, offset: number, length: number, qos: number, retain: boolean,
    now: number): number {
    this.now = now;
    const refused = this.refusal(topic);
    if (refused !== errors.OK) {
      return refused;
    }
    // A QoS the broker does not grant; one that is no QoS at all is the encoder's ERR_BAD_QOS.
    if ((qos > this.brokerMaximumQos && qos <= 2) || (retain && !this.brokerRetainAvailable)) {
      return errors.ERR_NOT_SUPPORTED;
    }
    const fields = scratch.publish;
    fields.topic = topic;
    fields.payload = payload;
    fields.payloadOffset = offset;
    fields.payloadLength = length;
    fields.qos = qos;
    fields.retain = retain;
    fields.dup = false;
    fields.packetId = 0;
    const direct = qos === 0 && this.state === CONNECTED && this.outbox.queued === 0;
    if (direct) {
      return this.sendPublish(this.stateAndTransmit, this.transmitAt, encode.encodePublish(this.stateAndTransmit, this.transmitAt, this.version, fields));
    }
    // Measure first, so a message that cannot be stored costs nothing already stored.
    fields.packetId = qos > 0 ? 1 : 0;
    const size = encode.publishSize(this.version, fields);
    if (size < 0) {
      return size;
    }
    // A stored message's length is kept in 16 bits: a messageSlotSize over 65535 never holds more.
    if (size > this.options.messageSlotSize || size > 65535 || size > this.brokerMaximumPacketSize) {
      return errors.ERR_MESSAGE_TOO_LARGE;
    }
    let slot = this.outbox.freeSlot();
    if (slot < 0) {
      // No room: one message is dropped, the oldest queued one if the policy says so, else this one.
      this.counters.drops++;
      if (this.options.queuePolicy === DROP_OLDEST) {
        slot = this.outbox.firstQueued();
      }
      if (slot < 0) {
        return errors.ERR_QUEUE_FULL;
      }
      this.outbox.setState(slot, box.FREE);
    }
    fields.packetId = qos > 0 ? this.nextPacketId(this.outbox.idOf(slot), slot) : 0;
    // It fits: size <= messageSlotSize was checked above. The encoder returns the length, not the end offset.
    this.outbox.enqueue(slot, encode.encodePublish(this.outbox.messageBytes, this.outbox.offsetOf(slot), this.version, fields),
      fields.packetId);
    if (this.outbox.used > this.counters.queueHighWater) {
      this.counters.queueHighWater = this.outbox.used;
    }
    this.flushQueue();
    return fields.packetId;
  }

  /** Subscribes to one filter; kept and re-sent when the broker has lost the session. Returns the packet id or an error. */
  subscribe(topicFilter: string, qos: number, now: number): number {
    this.now = now;
    const refused = this.refusal(topicFilter);
    if (refused !== errors.OK) {
      return refused;
    }
    const slot = this.findSubscription(SUB_FREE, "");
    if (slot < 0) {
      return errors.ERR_NO_SUBSCRIPTION_SLOT;
    }
    // Encode once now so that a bad filter or QoS is the caller's error, never a stored one.
    const check = this.encodeSubscribe(1, topicFilter, qos);
    if (check < 0) {
      return check;
    }
    this.subscriptionFilters[slot] = topicFilter;
    bytes.setByte(this.stateAndTransmit, this.subscriptionsAt + slot, qos << 2);
    return this.setSubscription(slot, SUB_PENDING);
  }

  /** Unsubscribes from a filter given to subscribe(). Returns the packet id or an error. */
  unsubscribe(topicFilter: string, now: number): number {
    this.now = now;
    const refused = this.refusal(topicFilter);
    if (refused !== errors.OK) {
      return refused;
    }
    let slot = this.findSubscription(SUB_ACTIVE, topicFilter);
    if (slot < 0) {
      slot = this.findSubscription(SUB_PENDING, topicFilter);
    }
    if (slot < 0) {
      return errors.ERR_NO_SUBSCRIPTION_SLOT;
    }
    if (this.subscriptionState(slot) === SUB_PENDING && this.state === CONNECTED) {
      // Its SUBSCRIBE is on the wire: the SUBACK will still come, under the old id.
      wire.writeU16(this.stateAndTransmit, this.idAt(slot + this.subscriptionFilters.length), wire.readU16(this.stateAndTransmit, this.idAt(slot)));
    }
    return this.setSubscription(slot, SUB_UNSUBSCRIBING);
  }

  /** Gives a subscription slot `state` and a new packet id, sends it if connected; returns the id. */
  private setSubscription(slot: number, state: number): number {
    this.setSubscriptionState(slot, state);
    const idClass = this.outbox.capacity + slot;
    let id = this.nextPacketId(wire.readU16(this.stateAndTransmit, this.idAt(slot)), idClass);
    if (id === wire.readU16(this.stateAndTransmit, this.idAt(slot + this.subscriptionFilters.length))) {
      // Its earlier SUBSCRIBE, still awaiting a SUBACK, has this one.
      id = this.nextPacketId(id, idClass);
    }
    wire.writeU16(this.stateAndTransmit, this.idAt(slot), id);
    if (this.state === CONNECTED) {
      this.sendSubscription(slot);
    }
    return id;
  }

  // A subscription slot's byte: its state (SUB_*) in bits 0-1, its QoS in bits 2-3.
  private subscriptionState(slot: number): number {
    return bytes.byteAt(this.stateAndTransmit, this.subscriptionsAt + slot) & 3;
  }

  private subscriptionQos(slot: number): number {
    return bytes.byteAt(this.stateAndTransmit, this.subscriptionsAt + slot) >> 2;
  }

  private setSubscriptionState(slot: number, state: number): void {
    const at = this.subscriptionsAt + slot;
    bytes.setByte(this.stateAndTransmit, at, (bytes.byteAt(this.stateAndTransmit, at) & 12) | state);
  }

  /** Where subscription slot `slot`'s packet id is; idAt(slot + subscriptionSlots) is its outstanding id. */
  private idAt(slot: number): number {
    return this.subscriptionsAt + this.subscriptionFilters.length + slot * 2;
  }

  /** Messages stored and not yet acknowledged (queued or in flight). */
  get pendingMessages(): number {
    return this.outbox.used;
  }

  // ---- the driver's calls ----

  linkOpened(now: number): void {
    this.now = now;
    if (this.state !== OPENING) {
      return;
    }
    this.state = CONNECTING;
    this.lastReceived = now;
    const length = this.encodeConnect();
    if (length < 0) {
      // The options changed since start() and no longer make a CONNECT: stop, as start() would have.
      this.halt(length);
      return;
    }
    this.write(this.stateAndTransmit, this.transmitAt, length);
  }

  /** The transport closed (or failed to open). */
  linkClosed(now: number): void {
    this.now = now;
    if (this.state >= OPENING) {
      this.closeLink(errors.ERR_LINK_LOST);
    }
  }

  /** Bytes arrived: chunk[offset .. offset+length). */
  received(chunk: Bytes, offset: number, length: number, now: number): void {
    this.now = now;
    if (this.state < CONNECTING) {
      return;
    }
    const link = this.linkNumber;
    const end = offset + length;
    let at = offset;
    while (at < end) {
      const used = this.framer.feed(chunk, at, end - at);
      if (used < 0) {
        this.closeLink(used);
        return;
      }
      at += used;
      if (this.framer.ready) {
        // Only a whole packet counts as input: a broker trickling bytes is not alive.
        this.lastReceived = now;
        const framer = this.framer;
        const packet = scratch.received;
        const error = decodePacket(framer.packetBuffer, framer.packetStart, framer.packetLength, this.version, packet);
        if (error < 0) {
          this.closeLink(error);
          return;
        }
        this.handle(packet);
        // The packet may have ended the link (or the application may have stopped the client).
        if (this.linkNumber !== link || this.state < CONNECTING) {
          return;
        }
        framer.next();
      }
    }
  }

  /** Time passed: runs whatever deadline is due. */
  poll(now: number): void {
    this.now = now;
    if (this.deadline < 0 || now < this.deadline) {
      return;
    }
    if (this.state === WAITING) {
      this.openLink();
    } else if (this.state === OPENING || this.state === CONNECTING) {
      this.closeLink(errors.ERR_CONNECT_TIMEOUT);
    } else if (this.state === CONNECTED) {
      if (now >= this.deadAt()) {
        this.closeLink(errors.ERR_KEEPALIVE_TIMEOUT);
        return;
      }
      if (this.pingSentAt < 0 && now >= this.pingAt()) {
        this.pingSentAt = now;
        this.sendControl(encode.encodePingreq(this.stateAndTransmit, this.transmitAt));
      }
      this.scheduleKeepAlive();
    }
  }

  /** When poll() next has work: an absolute time in the driver's milliseconds, or -1 for never. */
  nextDeadline(): number {
    return this.deadline;
  }

  // ---- inside ----

  private openLink(): void {
    this.state = OPENING;
    this.linkNumber++;
    this.framer.next();
    this.deadline = this.now + this.options.connectTimeoutMs;
    this.link.open();
  }

  /** Ends the current link with `code` and schedules the next attempt. */
  private closeLink(code: number): void {
    if (mqtt.MQTT5 && this.version === mqtt.MQTT_5 && (this.state === CONNECTED || this.state === CONNECTING)) {
      // 5.0 lets the client say why ([MQTT-4.13.1-1]); any reason but success keeps the will.
      const reason = disconnectReasonFor(code);
      if (reason > 0) {
        this.sendControl(encode.encodeDisconnect(this.stateAndTransmit, this.transmitAt, this.version, reason, null));
      }
    }
    if (this.state === CONNECTED && this.now - this.connectedAt >= this.options.backoffResetAfterMs) {
      this.attempt = 0;
    }
    this.dropLink();
    this.state = WAITING;
    // Full jitter: uniform in [0, min(cap, initial * 2^attempt)).
    const cap = this.options.backoffMaxMs;
    let ceiling = this.options.backoffInitialMs;
    for (let i = 0; i < this.attempt && ceiling < cap; i++) {
      ceiling = ceiling * 2;
    }
    if (ceiling > cap) {
      ceiling = cap;
    }
    this.attempt++;
    this.deadline = this.now + Math.floor(this.random.next() * ceiling);
    this.events.disconnected(code);
  }

  private dropLink(): void {
    if (this.state >= OPENING) {
      this.linkNumber++;
      this.link.close();
    }
    this.pingSentAt = -1;
  }

  private handle(packet: Packet): void {
    const type = packet.type;
    if (this.state === CONNECTING) {
      if (type !== mqtt.CONNACK) {
        this.closeLink(errors.ERR_PROTOCOL);
        return;
      }
      this.handleConnack(packet);
      return;
    }
    if (type === mqtt.PUBLISH) {
      this.handlePublish(packet);
    } else if (type === mqtt.PUBACK || type === mqtt.PUBREC || type === mqtt.PUBCOMP) {
      this.handlePublishAck(packet);
    } else if (type === mqtt.PUBREL) {
      this.handlePubrel(packet);
    } else if (type === mqtt.SUBACK || type === mqtt.UNSUBACK) {
      this.handleSubscriptionAck(packet);
    } else if (type === mqtt.PINGRESP) {
      if (this.pingSentAt >= 0) {
        this.counters.pingRoundTripMs = this.now - this.pingSentAt;
        this.pingSentAt = -1;
      }
    } else if (type === mqtt.DISCONNECT) {
      this.lastReasonCode = packet.reasonCode;
      this.closeLink(errors.ERR_SERVER_DISCONNECT);
    } else {
      // A second CONNACK, or AUTH without an authentication method.
      this.closeLink(errors.ERR_PROTOCOL);
    }
  }

  private handleConnack(packet: Packet): void {
    const v5 = mqtt.MQTT5 && this.version === mqtt.MQTT_5;
    this.lastReasonCode = packet.reasonCode;
    if (packet.reasonCode !== 0) {
      this.closeLink(errors.ERR_CONNECTION_REFUSED);
      return;
    }
    // [MQTT-3.2.2-1] (3.1.1), [MQTT-3.2.2-2] (5.0): a clean start never finds a session.
    if (packet.sessionPresent && this.options.cleanStart) {
      this.closeLink(errors.ERR_PROTOCOL);
      return;
    }
    let keepAlive = this.options.keepAlive;
    if (v5) {
      // This broker's limits, each absent one the protocol's own (a 3.1.1 broker keeps those from the start).
      this.brokerReceiveMaximum = numberOr(propertyValue(packet, mqtt.PROP_RECEIVE_MAXIMUM), 65535);
      this.brokerMaximumPacketSize = numberOr(propertyValue(packet, mqtt.PROP_MAXIMUM_PACKET_SIZE), mqtt.MAX_REMAINING_LENGTH);
      this.brokerMaximumQos = numberOr(propertyValue(packet, mqtt.PROP_MAXIMUM_QOS), 2);
      this.brokerRetainAvailable = propertyValue(packet, mqtt.PROP_RETAIN_AVAILABLE) !== 0;
      // [MQTT-3.2.2-21] the broker's keep-alive replaces ours.
      keepAlive = numberOr(propertyValue(packet, mqtt.PROP_SERVER_KEEP_ALIVE), keepAlive);
    }
    this.keepAliveMs = keepAlive * 1000;
    this.state = CONNECTED;
    this.connectedAt = this.now;
    this.counters.connects++;
    if (this.counters.connects > 1) {
      this.counters.reconnects++;
    }
    const sessionPresent = packet.sessionPresent;
    if (!sessionPresent) {
      this.forgetSession();
    }
    this.scheduleKeepAlive();
    // Before the application hears of it: a subscription made or a message published in connected() is sent
    // by subscribe() or publish() itself, and would otherwise go twice (the broker's second acknowledgement
    // then has an id no longer awaited); and what was in flight goes before anything new.
    this.resendSubscriptions(sessionPresent);
    this.resendInflight(sessionPresent);
    if (this.state !== CONNECTED) {
      // A write failed on the way and ended the link: the application heard disconnected, not connected.
      return;
    }
    this.events.connected(sessionPresent);
    this.flushQueue();
  }

  /** The broker has no session: drop what only made sense inside the old one, keep every message. */
  private forgetSession(): void {
    // The outstanding SUBSCRIBE ids and the incoming QoS 2 ids: the buffer's last bytes.
    for (let at = this.idAt(this.subscriptionFilters.length); at < this.transmitAt; at++) {
      bytes.setByte(this.stateAndTransmit, at, 0);
    }
    const outbox = this.outbox;
    // Two passes: the queue is whole again (requeued and sorted) before any acknowledged event below, in
    // which the application may publish onto it.
    if (this.options.resendOnReconnect) {
      // Sent but never acknowledged: each goes again as a new message, in its original place.
      for (let slot = 0; slot < outbox.capacity; slot++) {
        if (outbox.stateOf(slot) === box.AWAIT_ACK) {
          outbox.setDup(slot, false);
          outbox.setState(slot, box.QUEUED);
        }
      }
      outbox.sortQueue();
    }
    for (let slot = 0; slot < outbox.capacity; slot++) {
      if (outbox.stateOf(slot) === box.AWAIT_COMPLETE) {
        // The broker had the message (PUBREC); only the release was outstanding, and the broker has
        // forgotten it: tell the application, as a 5.0 broker would, "packet id not found".
        outbox.setState(slot, box.FREE);
        this.events.acknowledged(mqtt.PUBCOMP, outbox.idOf(slot), mqtt.RC_PACKET_ID_NOT_FOUND);
      }
    }
  }

  private resendInflight(sessionPresent: boolean): void {
    const outbox = this.outbox;
    if (!sessionPresent || !this.options.resendOnReconnect) {
      return;
    }
    // [MQTT-4.4.0-1] resend unacknowledged PUBLISH (DUP set) and PUBREL, in their original order.
    for (let slot = outbox.after(-1, box.AWAIT_ACK); slot >= 0 && this.state === CONNECTED;
      slot = outbox.after(outbox.orderOf(slot), box.AWAIT_ACK)) {
      this.counters.retransmits++;
      if (outbox.stateOf(slot) === box.AWAIT_ACK) {
        outbox.setDup(slot, true);
        this.write(outbox.messageBytes, outbox.offsetOf(slot), outbox.lengthOf(slot));
      } else {
        this.sendAck(mqtt.PUBREL, outbox.idOf(slot), 0);
      }
    }
  }

  /** Sends queued messages while the in-flight window has room. */
  private flushQueue(): void {
    if (this.state !== CONNECTED) {
      return;
    }
    const outbox = this.outbox;
    let window = this.options.inflightWindow;
    if (window > this.brokerReceiveMaximum) {
      window = this.brokerReceiveMaximum;
    }
    while (outbox.queued > 0) {
      const slot = outbox.firstQueued();
      const qos = outbox.qosOf(slot);
      const size = outbox.lengthOf(slot);
      if (qos > 0 && outbox.inflight >= window) {
        return;
      }
      if (size > this.brokerMaximumPacketSize) {
        // Stored before this broker said its limit; it can never be sent here.
        outbox.setState(slot, box.FREE);
        this.counters.drops++;
      } else {
        outbox.setState(slot, qos > 0 ? box.AWAIT_ACK : box.FREE);
        this.sendPublish(outbox.messageBytes, outbox.offsetOf(slot), size);
        if (this.state !== CONNECTED) {
          return;
        }
      }
    }
  }

  private handlePublish(packet: Packet): void {
    if (mqtt.MQTT5 && this.version === mqtt.MQTT_5 && propertyValue(packet, mqtt.PROP_TOPIC_ALIAS) >= 0) {
      // We announce no Topic Alias Maximum, so the broker may send none ([MQTT-3.3.2-9]).
      this.closeLink(errors.ERR_TOPIC_ALIAS);
      return;
    }
    const id = packet.packetId;
    if (packet.qos === 2) {
      if (this.incomingSlot(id) >= 0) {
        // Already delivered, PUBREL not yet seen: a resend. Acknowledge again, deliver nothing.
        this.counters.duplicatesSuppressed++;
        this.sendAck(mqtt.PUBREC, id, 0);
        return;
      }
      const free = this.incomingSlot(0);
      if (free < 0) {
        this.closeLink(errors.ERR_RECEIVE_MAXIMUM);
        return;
      }
      wire.writeU16(this.stateAndTransmit, free, id);
    }
    this.counters.messagesReceived++;
    const link = this.linkNumber;
    this.events.message(packet);
    if (this.linkNumber !== link || this.state !== CONNECTED) {
      return;
    }
    if (packet.qos > 0) {
      this.sendAck(packet.qos === 1 ? mqtt.PUBACK : mqtt.PUBREC, id, 0);
    }
  }

  private handlePublishAck(packet: Packet): void {
    const outbox = this.outbox;
    const id = packet.packetId;
    if (packet.type === mqtt.PUBCOMP) {
      const slot = outbox.find(box.AWAIT_COMPLETE, id, this.idClasses);
      if (slot < 0) {
        this.closeLink(errors.ERR_UNKNOWN_PACKET_ID);
        return;
      }
      this.complete(slot, mqtt.PUBCOMP, packet.reasonCode);
      return;
    }
    let slot = outbox.find(box.AWAIT_ACK, id, this.idClasses);
    if (slot < 0 && packet.type === mqtt.PUBREC) {
      // A PUBREC repeated after our PUBREL: send the PUBREL again.
      slot = outbox.find(box.AWAIT_COMPLETE, id, this.idClasses);
      if (slot >= 0) {
        this.sendAck(mqtt.PUBREL, id, 0);
        return;
      }
    }
    if (slot < 0) {
      this.closeLink(errors.ERR_UNKNOWN_PACKET_ID);
      return;
    }
    if (packet.type === mqtt.PUBACK) {
      // A PUBACK for a QoS 2 message: the broker downgraded it to QoS 1 (as RabbitMQ does).
      if (outbox.qosOf(slot) === 2) {
        this.counters.qosDowngrades++;
      }
      this.complete(slot, mqtt.PUBACK, packet.reasonCode);
      return;
    }
    if (packet.reasonCode >= 0x80) {
      // 5.0: the broker refused the message; there is no release to send.
      this.complete(slot, mqtt.PUBREC, packet.reasonCode);
      return;
    }
    outbox.setState(slot, box.AWAIT_COMPLETE);
    this.sendAck(mqtt.PUBREL, id, 0);
  }

  private complete(slot: number, type: number, reasonCode: number): void {
    const id = this.outbox.idOf(slot);
    this.outbox.setState(slot, box.FREE);
    this.events.acknowledged(type, id, reasonCode);
    this.flushQueue();
  }

  private handlePubrel(packet: Packet): void {
    const id = packet.packetId;
    const held = this.incomingSlot(id);
    if (held >= 0) {
      wire.writeU16(this.stateAndTransmit, held, 0);
    }
    const reason = held >= 0 ? 0 : mqtt.RC_PACKET_ID_NOT_FOUND;
    // An unknown id still gets its PUBCOMP ([MQTT-4.3.3-11]); 5.0 says why.
    this.sendAck(mqtt.PUBCOMP, id, mqtt.MQTT5 && this.version === mqtt.MQTT_5 ? reason : 0);
  }

  /** Where the incoming QoS 2 slot holding `id` is (0: a free slot), or -1 when none does. */
  private incomingSlot(id: number): number {
    for (let at = this.incomingAt; at < this.transmitAt; at += 2) {
      if (wire.readU16(this.stateAndTransmit, at) === id) {
        return at;
      }
    }
    return -1;
  }

  private handleSubscriptionAck(packet: Packet): void {
    const stateBytes = this.stateAndTransmit;
    const subscribing = packet.type === mqtt.SUBACK;
    let slot = -1;
    for (let i = 0; i < this.subscriptionFilters.length; i++) {
      const outstanding = this.idAt(i + this.subscriptionFilters.length);
      if (subscribing && wire.readU16(stateBytes, outstanding) === packet.packetId) {
        // The SUBACK of a subscription already being undone: acknowledge it, nothing more.
        wire.writeU16(stateBytes, outstanding, 0);
        this.events.acknowledged(packet.type, packet.packetId, 0);
        return;
      }
      if (wire.readU16(stateBytes, this.idAt(i)) === packet.packetId &&
        this.subscriptionState(i) === (subscribing ? SUB_PENDING : SUB_UNSUBSCRIBING)) {
        slot = i;
      }
    }
    if (slot < 0) {
      this.closeLink(errors.ERR_UNKNOWN_PACKET_ID);
      return;
    }
    // One filter per request, so one code; 3.1.1's UNSUBACK has none.
    const buffer = packet.buffer;
    const code = packet.reasonCodesCount > 0 && buffer !== null ? bytes.byteAt(buffer, packet.reasonCodesOffset) : 0;
    if (subscribing && code < this.subscriptionQos(slot)) {
      this.counters.qosDowngrades++;
    }
    this.setSubscriptionState(slot, subscribing && code < 0x80 ? SUB_ACTIVE : SUB_FREE);
    wire.writeU16(stateBytes, this.idAt(slot), 0);
    this.events.acknowledged(packet.type, packet.packetId, code);
  }

  private resendSubscriptions(sessionPresent: boolean): void {
    for (let slot = 0; slot < this.subscriptionFilters.length && this.state === CONNECTED; slot++) {
      const state = this.subscriptionState(slot);
      if (state === SUB_UNSUBSCRIBING && !sessionPresent) {
        this.setSubscriptionState(slot, SUB_FREE);
      } else if (state === SUB_ACTIVE && !sessionPresent) {
        // The broker lost the session and with it this subscription.
        this.setSubscription(slot, SUB_PENDING);
      } else if (state !== SUB_FREE && state !== SUB_ACTIVE) {
        this.sendSubscription(slot);
      }
    }
  }

  private sendSubscription(slot: number): void {
    const id = wire.readU16(this.stateAndTransmit, this.idAt(slot));
    if (this.subscriptionState(slot) === SUB_UNSUBSCRIBING) {
      scratch.singleFilter[0] = this.subscriptionFilters[slot];
      this.sendControl(encode.encodeUnsubscribe(this.stateAndTransmit, this.transmitAt, this.version, id, scratch.singleFilter, 1, null));
    } else {
      this.sendControl(this.encodeSubscribe(id, this.subscriptionFilters[slot], this.subscriptionQos(slot)));
    }
  }

  /** A SUBSCRIBE of one filter into the transmit buffer; its length or an error. */
  private encodeSubscribe(packetId: number, topicFilter: string, qos: number): number {
    const subscription = scratch.single[0];
    subscription.topicFilter = topicFilter;
    subscription.qos = qos;
    return encode.encodeSubscribe(this.stateAndTransmit, this.transmitAt, this.version, packetId, scratch.single, 1, null);
  }

  private findSubscription(state: number, topicFilter: string): number {
    for (let i = 0; i < this.subscriptionFilters.length; i++) {
      if (this.subscriptionState(i) === state && (state === SUB_FREE || this.subscriptionFilters[i] === topicFilter)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The packet id to use after `previous` (0: none yet) in class `idClass`. Class c's ids are c+1, c+1+n,
   * c+1+2n, ... for n classes, one class per message slot and per subscription slot, each holding one
   * request at a time: so no two requests in flight share an id ([MQTT-2.2.1-3]), an acknowledgement's id
   * tells its slot at once, and an id comes back only after the slot has cycled through all of its class.
   */
  private nextPacketId(previous: number, idClass: number): number {
    const id = previous + this.idClasses;
    return previous > 0 && id <= 65535 ? id : idClass + 1;
  }

  private sendPublish(buffer: Bytes, offset: number, length: number): number {
    if (length < 0) {
      return length;
    }
    if (length > this.brokerMaximumPacketSize) {
      return errors.ERR_MESSAGE_TOO_LARGE;
    }
    this.counters.messagesSent++;
    this.write(buffer, offset, length);
    return 0;
  }

  /** Why a publish or (un)subscribe of `topic` is refused before anything else: stopped, or no string given. */
  private refusal(topic: string): number {
    return this.state === IDLE ? errors.ERR_STOPPED : typeof topic !== "string" ? errors.ERR_BAD_ARGUMENT : errors.OK;
  }

  /** Encodes the options' CONNECT into the transmit buffer: its length, or the encoder's error. */
  private encodeConnect(): number {
    const options = this.options;
    const fields = scratch.connect;
    fields.protocolVersion = options.protocolVersion;
    fields.clientId = options.clientId;
    fields.cleanStart = options.cleanStart;
    fields.keepAlive = options.keepAlive;
    fields.username = options.username;
    fields.password = options.password;
    fields.will = options.will;
    fields.properties = this.connectProperties;
    return encode.encodeConnect(this.stateAndTransmit, this.transmitAt, fields);
  }

  /** PUBACK, PUBREC, PUBREL or PUBCOMP (`type`) for `packetId`, with a 5.0 reason code. */
  private sendAck(type: number, packetId: number, reasonCode: number): void {
    this.sendControl(encode.encodeAck(this.stateAndTransmit, this.transmitAt, this.version, type, packetId, reasonCode, null));
  }

  /** Sends a packet encoded into the transmit buffer (or an encode error, which is a bug: dropped and counted). */
  private sendControl(length: number): void {
    if (length < 0) {
      this.counters.drops++;
      return;
    }
    this.write(this.stateAndTransmit, this.transmitAt, length);
  }

  private write(buffer: Bytes, offset: number, length: number): void {
    this.lastSent = this.now;
    this.link.write(buffer, offset, length);
    if (this.state === CONNECTED) {
      this.scheduleKeepAlive();
    }
  }

  /** When the link counts as dead: 1.5x keep-alive without a packet, or a PINGRESP a keep-alive late. */
  private deadAt(): number {
    const keepAlive = this.keepAliveMs;
    const silent = this.lastReceived + keepAlive + keepAlive / 2;
    const late = this.pingSentAt >= 0 ? this.pingSentAt + keepAlive : silent;
    return late < silent ? late : silent;
  }

  private scheduleKeepAlive(): void {
    const keepAlive = this.keepAliveMs;
    if (keepAlive <= 0) {
      this.deadline = -1;
      return;
    }
    const dead = this.deadAt();
    if (this.pingSentAt >= 0) {
      this.deadline = dead;
      return;
    }
    const ping = this.pingAt();
    this.deadline = ping < dead ? ping : dead;
  }

  /** When a PINGREQ is due: once we have been quiet (the broker's rule) or the broker has (so a dead link shows). */
  private pingAt(): number {
    const quietSince = this.lastSent < this.lastReceived ? this.lastSent : this.lastReceived;
    return quietSince + this.keepAliveMs;
  }
}

function numberOr(value: number, absent: number): number {
  return value < 0 ? absent : value;
}

/** The DISCONNECT reason a 5.0 client gives for closing with `code`, or 0 to send none. */
function disconnectReasonFor(code: number): number {
  if (code === errors.ERR_KEEPALIVE_TIMEOUT || code === errors.ERR_LINK_LOST || code === errors.ERR_SERVER_DISCONNECT ||
    code === errors.ERR_CONNECT_TIMEOUT || code === errors.ERR_CONNECTION_REFUSED) return 0;
  if (code === errors.ERR_PACKET_TOO_LARGE) return mqtt.RC_PACKET_TOO_LARGE;
  // The codec's codes (down to ERR_TOPIC_FILTER) all mean the packet was malformed.
  if (code >= errors.ERR_TOPIC_FILTER) return mqtt.RC_MALFORMED_PACKET;
  if (code === errors.ERR_RECEIVE_MAXIMUM) return mqtt.RC_RECEIVE_MAXIMUM_EXCEEDED;
  if (code === errors.ERR_TOPIC_ALIAS) return mqtt.RC_TOPIC_ALIAS_INVALID;
  return mqtt.RC_PROTOCOL_ERROR;
}
