// Everything the engine sizes itself from. A board profile fills one of these; nothing grows afterwards.

import { Bytes } from "../platform/bytes";
import { Will, UserProperty } from "../codec/packets";

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
