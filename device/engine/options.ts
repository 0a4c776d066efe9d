// Everything the engine sizes itself from. A board profile fills one of these; nothing grows afterwards.

import { Bytes } from "../platform/bytes";
import { Will, UserProperty } from "../codec/packets";
import { OK, ERR_BAD_ARGUMENT } from "../codec/errors";
import { isWhole } from "../codec/wire";

/** Offline-queue policies: what publish() does when every message slot is taken. */
export const REJECT_NEW = 0;
export const DROP_OLDEST = 1;

export class EngineOptions {
  protocolVersion = 4;
  clientId = "";
  cleanStart = true;
  /** Seconds; 0 turns keep-alive off. */
  keepAlive = 60;
  username: string | null = null;
  password: Bytes | null = null;
  will: Will | null = null;
  /** 5.0: seconds the broker keeps the session after the link drops (0 = ends with the link). */
  sessionExpiry = 0;
  connectUserProperties: UserProperty[] | null = null;

  /** The largest packet accepted from the broker (the receive buffer; announced to a 5.0 broker). */
  receiveBufferSize = 1024;
  /** The largest packet other than a stored PUBLISH the client sends (CONNECT, SUBSCRIBE, acks). */
  transmitBufferSize = 512;
  /** Bytes per stored outgoing PUBLISH: the largest message the client can publish at QoS > 0 or offline. */
  messageSlotSize = 256;
  /** Outgoing QoS 1/2 messages in flight at once (also capped by the broker's receive maximum). */
  inflightWindow = 4;
  /**
   * Further messages held while offline or while the window is full. inflightWindow + queueSlots +
   * subscriptionSlots stays below 65,535: each slot has its own packet ids.
   */
  queueSlots = 8;
  queuePolicy = REJECT_NEW;
  /**
   * Incoming QoS 2 packet ids awaiting PUBREL at once (2 bytes of state each). A 5.0 broker is told half
   * of this as our receive maximum: mosquitto 2.0 frees a credit at PUBREC, not PUBCOMP, so up to twice
   * the announced number can await PUBREL. 3.1.1 cannot announce a limit; mosquitto's default is 20.
   */
  incomingQos2Slots = 32;
  subscriptionSlots = 8;

  /** No CONNACK within this many milliseconds ends the attempt. */
  connectTimeoutMs = 10000;
  /** Reconnect backoff: full jitter over min(cap, initial * 2^attempt). */
  backoffInitialMs = 1000;
  backoffMaxMs = 60000;
  /** A connection that lasts this long resets the backoff. */
  backoffResetAfterMs = 30000;
  /** Seed of the backoff jitter, so a simulated fleet is reproducible and does not stampede in step. */
  seed = 1;
  /** Test-only fault: when false, unacknowledged messages are never sent again after a reconnect (the simulator's planted fault). */
  resendOnReconnect = true;
}

/** The largest buffer or store the engine sizes from its options: MQTT's largest packet. */
const LARGEST = 268435460;
/** The longest time an option may give, in milliseconds (24.8 days: setTimeout's limit, and 31 bits on NodeMCU). */
const LONGEST_MS = 2147483647;

/**
 * OK, or ERR_BAD_ARGUMENT when an option is not one the engine can size itself or run from (each a whole
 * number in its range, the policy one of the two, the seed a number). Checked before anything is allocated:
 * an engine made from such options allocates (almost) nothing and start() returns the code. The CONNECT's
 * fields (client id, credentials, will, keep-alive, version, session expiry) are the encoder's to check, at start().
 */
export function checkOptions(options: EngineOptions): number {
  const slots = options.inflightWindow + options.queueSlots;
  const ok = isWhole(options.receiveBufferSize, 16, LARGEST) && isWhole(options.transmitBufferSize, 16, LARGEST) &&
    isWhole(options.messageSlotSize, 0, LARGEST) && isWhole(options.inflightWindow, 1, 65534) &&
    isWhole(options.queueSlots, 0, 65534) && isWhole(options.subscriptionSlots, 0, 65534) &&
    // Each slot and subscription slot has its own packet ids, which are 16 bits.
    slots + options.subscriptionSlots <= 65534 && slots * options.messageSlotSize <= LARGEST &&
    isWhole(options.incomingQos2Slots, 0, 65535) &&
    isWhole(options.connectTimeoutMs, 1, LONGEST_MS) && isWhole(options.backoffInitialMs, 1, LONGEST_MS) &&
    isWhole(options.backoffMaxMs, options.backoffInitialMs, LONGEST_MS) && isWhole(options.backoffResetAfterMs, 0, LONGEST_MS) &&
    (options.queuePolicy === REJECT_NEW || options.queuePolicy === DROP_OLDEST) &&
    typeof options.seed === "number" && options.seed - options.seed === 0 && typeof options.cleanStart === "boolean";
  return ok ? OK : ERR_BAD_ARGUMENT;
}
