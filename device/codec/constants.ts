// Wire constants of MQTT 3.1.1 (protocol level 4) and 5.0 (protocol level 5).

export const MQTT_3_1_1 = 4;
export const MQTT_5 = 5;
/**
 * MQTT 5.0 is compiled in. Node, the tests and the Lua build keep it; the Espruino build turns it off for its
 * 3.1.1 module (scripts/build.ts), where esbuild puts `false` at each use and the branches it guards fall
 * away. A 5.0-only branch tests it first: `MQTT5 && version === MQTT_5`. A function that keeps the test in a
 * local declares it first (`const v5 = mqtt.MQTT5 && ...` before any other statement): esbuild puts a local
 * constant in place at its uses only when nothing that may have side effects comes before it. A function
 * handed the test as a parameter tests MQTT5 again at each use (`mqtt.MQTT5 && v5`).
 */
export const MQTT5: boolean = true;

// Control packet types: the high nibble of the first byte.
export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;
export const AUTH = 15;

// The largest Remaining Length a four-byte Variable Byte Integer can hold.
export const MAX_REMAINING_LENGTH = 268435455;

// MQTT 5.0 property identifiers (section 2.2.2.2).
export const PROP_PAYLOAD_FORMAT = 0x01;
export const PROP_MESSAGE_EXPIRY = 0x02;
export const PROP_CONTENT_TYPE = 0x03;
export const PROP_RESPONSE_TOPIC = 0x08;
export const PROP_CORRELATION_DATA = 0x09;
export const PROP_SUBSCRIPTION_IDENTIFIER = 0x0b;
export const PROP_SESSION_EXPIRY = 0x11;
export const PROP_ASSIGNED_CLIENT_ID = 0x12;
export const PROP_SERVER_KEEP_ALIVE = 0x13;
export const PROP_AUTH_METHOD = 0x15;
export const PROP_AUTH_DATA = 0x16;
export const PROP_REQUEST_PROBLEM_INFO = 0x17;
export const PROP_WILL_DELAY = 0x18;
export const PROP_REQUEST_RESPONSE_INFO = 0x19;
export const PROP_RESPONSE_INFO = 0x1a;
export const PROP_SERVER_REFERENCE = 0x1c;
export const PROP_REASON_STRING = 0x1f;
export const PROP_RECEIVE_MAXIMUM = 0x21;
export const PROP_TOPIC_ALIAS_MAXIMUM = 0x22;
export const PROP_TOPIC_ALIAS = 0x23;
export const PROP_MAXIMUM_QOS = 0x24;
export const PROP_RETAIN_AVAILABLE = 0x25;
export const PROP_USER_PROPERTY = 0x26;
export const PROP_MAXIMUM_PACKET_SIZE = 0x27;
export const PROP_WILDCARD_SUB_AVAILABLE = 0x28;
export const PROP_SUB_ID_AVAILABLE = 0x29;
export const PROP_SHARED_SUB_AVAILABLE = 0x2a;

// Reason codes used by name in the client (section 2.4). The full valid sets per packet live in reasons.ts.
export const RC_SUCCESS = 0x00;
export const RC_NO_MATCHING_SUBSCRIBERS = 0x10;
export const RC_DISCONNECT_WITH_WILL = 0x04;
export const RC_CONTINUE_AUTHENTICATION = 0x18;
export const RC_REAUTHENTICATE = 0x19;
export const RC_UNSPECIFIED_ERROR = 0x80;
export const RC_MALFORMED_PACKET = 0x81;
export const RC_PROTOCOL_ERROR = 0x82;
export const RC_PACKET_ID_NOT_FOUND = 0x92;
export const RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93;
export const RC_PACKET_TOO_LARGE = 0x95;
export const RC_TOPIC_ALIAS_INVALID = 0x94;
