// The shapes the codec reads and fills. Outgoing packets are described by small reusable objects the
// caller fills in (the engine keeps one of each); a received packet is decoded into one reused Packet
// whose strings and payload are (offset, length) views into the receive buffer.

import { Bytes } from "../platform/bytes";

export class UserProperty {
  key: string;
  value: string;
  constructor(key: string, value: string) {
    this.key = key;
    this.value = value;
  }
}

/** MQTT 5.0 properties to send. A number of -1 or a null means "absent". */
export class Properties {
  payloadFormat = -1;
  messageExpiry = -1;
  contentType: string | null = null;
  responseTopic: string | null = null;
  correlationData: Bytes | null = null;
  subscriptionIdentifier = -1;
  sessionExpiry = -1;
  authMethod: string | null = null;
  authData: Bytes | null = null;
  requestProblemInfo = -1;
  willDelay = -1;
  requestResponseInfo = -1;
  receiveMaximum = -1;
  topicAliasMaximum = -1;
  topicAlias = -1;
  maximumPacketSize = -1;
  reasonString: string | null = null;
  userProperties: UserProperty[] | null = null;
}

export class Will {
  topic = "";
  payload: Bytes | null = null;
  qos = 0;
  retain = false;
  properties: Properties | null = null;
}

export class ConnectFields {
  protocolVersion = 4;
  clientId = "";
  cleanStart = true;
  keepAlive = 60;
  username: string | null = null;
  password: Bytes | null = null;
  will: Will | null = null;
  properties: Properties | null = null;
}

export class PublishFields {
  topic = "";
  payload: Bytes | null = null;
  payloadOffset = 0;
  payloadLength = 0;
  qos = 0;
  retain = false;
  dup = false;
  packetId = 0;
  properties: Properties | null = null;
}

export class Subscription {
  topicFilter: string;
  qos: number;
  noLocal = false;
  retainAsPublished = false;
  retainHandling = 0;
  constructor(topicFilter: string, qos: number) {
    this.topicFilter = topicFilter;
    this.qos = qos;
  }
}

/**
 * Every packet's property tables until reservePropertyTables: one empty array for all (a fleet's 3.1.1
 * engines would each hold two), never written to (readProperties reserves first).
 */
const NO_PROPERTY_TABLE: number[] = [];

/**
 * A packet received from the broker, decoded in place. Every offset indexes `buffer`. Fields a packet
 * type does not have keep their last value; read only those of `type`.
 */
export class Packet {
  buffer: Bytes | null = null;
  type = 0;
  packetId = 0;
  // PUBLISH
  qos = 0;
  dup = false;
  retain = false;
  topicOffset = 0;
  topicLength = 0;
  payloadOffset = 0;
  payloadLength = 0;
  // CONNACK
  sessionPresent = false;
  // CONNACK (3.1.1 return code), the four acks, DISCONNECT, AUTH
  reasonCode = 0;
  // SUBACK and UNSUBACK: one byte per filter (UNSUBACK of 3.1.1 has none)
  reasonCodesOffset = 0;
  reasonCodesCount = 0;
  // MQTT 5.0 properties: the whole block, then per identifier a presence bit and a value. For numbers the
  // value is the number; for strings and binary data it is the offset of the bytes and
  // propertyLengths[id] their length. User properties and subscription identifiers may repeat: count
  // them here and walk them with repeatedPropertyAt. The two tables stay empty until the packet is given
  // them (reservePropertyTables), so that a 3.1.1 client never pays for them.
  propertiesOffset = 0;
  propertiesLength = 0;
  propertiesPresentLow = 0;
  propertiesPresentHigh = 0;
  propertyValues: number[] = NO_PROPERTY_TABLE;
  propertyLengths: number[] = NO_PROPERTY_TABLE;
  userPropertyCount = 0;
  subscriptionIdentifierCount = 0;
}

/**
 * Gives `packet` its 5.0 property tables, one entry per property identifier; a no-op once it has them.
 * The decoder calls it before it reads a property block; the engine calls it at construction when it
 * speaks 5.0, so that no packet it decodes allocates.
 */
export function reservePropertyTables(packet: Packet): void {
  if (packet.propertyValues.length === 0) {
    packet.propertyValues = propertyTable();
    packet.propertyLengths = propertyTable();
  }
}

/**
 * A table indexed by property identifier, 0 to 0x2a (PROP_SHARED_SUB_AVAILABLE). Written out, not filled by
 * push, so that it holds exactly 43 entries: pushing grows V8's backing store to 77.
 */
function propertyTable(): number[] {
  return [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  ];
}
