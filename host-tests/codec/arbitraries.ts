// fast-check arbitraries for valid MQTT packets, written as mqtt-packet objects (the independent oracle),
// plus converters between those objects and the codec's own shapes:
//   - encode side: mqtt-packet object -> ConnectFields / Will / PublishFields / Subscription / Properties
//     -> our encoder's bytes (encodeOurs);
//   - decode side: our decoded Packet (offsets, propertyValue, repeatedPropertyAt) -> an mqtt-packet-shaped
//     object (fromDecoded);
//   - normalize(): the one place where mqtt-packet's representation quirks are folded away, so that the
//     tests can compare two objects with toEqual.
// Nothing here imports the codec's internals (reasons.ts, properties.ts tables): the reason-code lists and
// property value ranges below are written from the MQTT 5.0 specification, so they check the codec rather
// than repeat it.

import fc from "fast-check";
import type * as mqtt from "mqtt-packet";
import {
  CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP, DISCONNECT, AUTH,
  PROP_PAYLOAD_FORMAT, PROP_MESSAGE_EXPIRY, PROP_CONTENT_TYPE, PROP_RESPONSE_TOPIC, PROP_CORRELATION_DATA,
  PROP_SUBSCRIPTION_IDENTIFIER, PROP_SESSION_EXPIRY, PROP_ASSIGNED_CLIENT_ID, PROP_SERVER_KEEP_ALIVE,
  PROP_AUTH_METHOD, PROP_AUTH_DATA, PROP_REQUEST_PROBLEM_INFO, PROP_WILL_DELAY, PROP_REQUEST_RESPONSE_INFO,
  PROP_RESPONSE_INFO, PROP_SERVER_REFERENCE, PROP_REASON_STRING, PROP_RECEIVE_MAXIMUM, PROP_TOPIC_ALIAS_MAXIMUM,
  PROP_TOPIC_ALIAS, PROP_MAXIMUM_QOS, PROP_RETAIN_AVAILABLE, PROP_USER_PROPERTY, PROP_MAXIMUM_PACKET_SIZE,
  PROP_WILDCARD_SUB_AVAILABLE, PROP_SUB_ID_AVAILABLE, PROP_SHARED_SUB_AVAILABLE,
  ConnectFields, Will, PublishFields, Subscription, Properties, UserProperty, Packet, PropertyValue,
  encodeConnect, encodePublish, encodeAck, encodeSubscribe, encodeUnsubscribe, encodePingreq, encodeDisconnect,
  encodeAuth, hasProperty, propertyValue, repeatedPropertyAt,
} from "../../device/codec";
import { readUtf8 } from "../../device/platform/bytes";

export type Version = 4 | 5;
export type MqttPacket = mqtt.Packet;
export type UserProps = { [key: string]: string | string[] };
type Props = Record<string, unknown>;
type Loose = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------
// Primitive arbitraries
// ---------------------------------------------------------------------------------------------------------

/**
 * One code point as a JS string: mostly ASCII, plus 2-, 3- and 4-byte UTF-8 and the edges between them;
 * never U+0000 or a lone surrogate. U+FEFF is among the edges: [MQTT-1.5.4-3] says a receiver keeps it
 * wherever it appears.
 */
const codePoint: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0x01, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xffff, 0x10000,
      0x10ffff),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0x01, max: 0x1f }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x7f, max: 0x7ff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x800, max: 0xd7ff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xffff }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
).map((cp) => String.fromCodePoint(cp));

/**
 * A UTF-8 string MQTT may carry, of minLength .. maxLength code points; one in ten is long instead
 * (up to 200 code points, so its length prefix often needs its high byte).
 */
export function mqttString(maxLength = 16, minLength = 0): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.string({ unit: codePoint, minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: codePoint, minLength, maxLength: 200, size: "max" }) },
  );
}

const topicChar = codePoint.filter((c) => c !== "+" && c !== "#");
const levelChar = codePoint.filter((c) => c !== "+" && c !== "#" && c !== "/");
const topicUnit = fc.oneof({ weight: 5, arbitrary: topicChar }, { weight: 1, arbitrary: fc.constant("/") });

/** A topic name for PUBLISH: non-empty, no wildcards, levels (possibly empty) separated by '/'. */
export const topicName: fc.Arbitrary<string> = fc.oneof(
  { weight: 9, arbitrary: fc.string({ unit: topicUnit, minLength: 1, maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: topicUnit, minLength: 1, maxLength: 200, size: "max" }) },
);

const filterLevel = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: levelChar, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constant("+") },
);

/** A topic filter valid per section 4.7.1: '+' a whole level, '#' a whole last level, never empty. */
const plainFilter: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom("#", "+", "+/#", "/", "$SYS/#", "$share") },
  {
    weight: 8,
    arbitrary: fc.tuple(fc.array(filterLevel, { minLength: 1, maxLength: 5 }), fc.boolean())
      .map(([levels, hash]) => (hash ? levels.concat(["#"]) : levels).join("/")),
  },
// "$share/" starts a shared subscription, with rules of its own (below).
).filter((f) => f.length > 0 && f.indexOf("$share/") !== 0);

/**
 * Any topic filter: plain, or a shared subscription "$share/{ShareName}/{filter}" whose ShareName is at
 * least one character without '/', '+' or '#', followed by '/' and a non-empty filter
 * ([MQTT-4.8.2-1], [MQTT-4.8.2-2]).
 */
export const topicFilter: fc.Arbitrary<string> = fc.oneof(
  { weight: 9, arbitrary: plainFilter },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.string({ unit: levelChar, minLength: 1, maxLength: 5 }), plainFilter)
      .map(([name, filter]) => "$share/" + name + "/" + filter),
  },
);

/**
 * Random bytes as a Buffer (what mqtt-packet hands out). With `wide`, lengths spread over the whole range
 * (fast-check's default size keeps arrays to about ten elements).
 */
export function bytes(maxLength: number, wide = false): fc.Arbitrary<Buffer> {
  return fc.uint8Array(wide ? { maxLength, size: "max" } : { maxLength }).map((a) => Buffer.from(a));
}

/** 0 .. 300 bytes: short ones often, and Remaining Lengths past 127 (two-byte Variable Byte Integers). */
export const payload = fc.oneof(bytes(300), bytes(300, true));
export const packetId = fc.integer({ min: 1, max: 65535 });
export const qos = fc.constantFrom<0 | 1 | 2>(0, 1, 2);

const u16 = fc.oneof(fc.constantFrom(0, 1, 255, 256, 65535), fc.integer({ min: 0, max: 65535 }));
const u16NonZero = fc.oneof(fc.constantFrom(1, 255, 256, 65535), fc.integer({ min: 1, max: 65535 }));
// fc.integer stops at 2^31-1; four-byte integers go to 2^32-1 (and past 2^31 they catch sign bugs).
const u32 = fc.oneof(
  fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff),
  fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 })).map(([h, l]) => h * 65536 + l),
);
const u32NonZero = u32.filter((n) => n !== 0);
// Variable Byte Integer, 1 .. 268,435,455, biased to the edges of 1, 2, 3 and 4 bytes.
const varNonZero = fc.oneof(
  fc.constantFrom(1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455),
  fc.integer({ min: 1, max: 268435455 }),
);

/** Picks reason code 0 (success) half the time, otherwise any of `codes`. */
function reasonCode(codes: number[]): fc.Arbitrary<number> {
  return fc.oneof(fc.constant(codes[0]), fc.constantFrom(...codes));
}

// Reason codes by packet and sender, from the MQTT 5.0 tables (3-1, 3-4, 3-5, 3-6, 3-7, 3-8, 3-9, 3-10, 3-13).
export const CONNACK_RETURN_CODES_V4 = [0, 1, 2, 3, 4, 5];
export const CONNACK_REASON_CODES = [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c,
  0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f];
export const PUBACK_PUBREC_CODES = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
export const PUBREL_PUBCOMP_CODES = [0x00, 0x92];
export const SUBACK_CODES_V4 = [0x00, 0x01, 0x02, 0x80];
export const SUBACK_CODES_V5 = [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2];
export const UNSUBACK_CODES = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91];
export const DISCONNECT_CODES_CLIENT = [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
  0x99];
export const DISCONNECT_CODES_SERVER = [0x00, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93,
  0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2];
// AUTH: 0x18 Continue is sent by both; 0x19 Re-authenticate by the client only; 0x00 Success by the server only.
export const AUTH_CODES_CLIENT = [0x18, 0x19];
export const AUTH_CODES_SERVER = [0x00, 0x18];

// ---------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------

type Kind = "bool" | "number" | "string" | "binary" | "pairs";

interface PropertyDef {
  /** mqtt-packet's name. */
  name: string;
  id: number;
  kind: Kind;
  /** The field of our Properties class, or null for properties only a server sends. */
  ours: keyof Properties | null;
}

/**
 * Every v5 property, in the order our encoder (encodeProperties) writes them. mqtt-packet writes them in
 * the key order of its properties object, so arbitraries build that object in this order and the byte
 * comparison is meaningful.
 */
export const PROPERTY_DEFS: PropertyDef[] = [
  { name: "payloadFormatIndicator", id: PROP_PAYLOAD_FORMAT, kind: "bool", ours: "payloadFormat" },
  { name: "messageExpiryInterval", id: PROP_MESSAGE_EXPIRY, kind: "number", ours: "messageExpiry" },
  { name: "contentType", id: PROP_CONTENT_TYPE, kind: "string", ours: "contentType" },
  { name: "responseTopic", id: PROP_RESPONSE_TOPIC, kind: "string", ours: "responseTopic" },
  { name: "correlationData", id: PROP_CORRELATION_DATA, kind: "binary", ours: "correlationData" },
  { name: "subscriptionIdentifier", id: PROP_SUBSCRIPTION_IDENTIFIER, kind: "number", ours: "subscriptionIdentifier" },
  { name: "sessionExpiryInterval", id: PROP_SESSION_EXPIRY, kind: "number", ours: "sessionExpiry" },
  { name: "authenticationMethod", id: PROP_AUTH_METHOD, kind: "string", ours: "authMethod" },
  { name: "authenticationData", id: PROP_AUTH_DATA, kind: "binary", ours: "authData" },
  { name: "requestProblemInformation", id: PROP_REQUEST_PROBLEM_INFO, kind: "bool", ours: "requestProblemInfo" },
  { name: "willDelayInterval", id: PROP_WILL_DELAY, kind: "number", ours: "willDelay" },
  { name: "requestResponseInformation", id: PROP_REQUEST_RESPONSE_INFO, kind: "bool", ours: "requestResponseInfo" },
  { name: "receiveMaximum", id: PROP_RECEIVE_MAXIMUM, kind: "number", ours: "receiveMaximum" },
  { name: "topicAliasMaximum", id: PROP_TOPIC_ALIAS_MAXIMUM, kind: "number", ours: "topicAliasMaximum" },
  { name: "topicAlias", id: PROP_TOPIC_ALIAS, kind: "number", ours: "topicAlias" },
  { name: "maximumPacketSize", id: PROP_MAXIMUM_PACKET_SIZE, kind: "number", ours: "maximumPacketSize" },
  { name: "reasonString", id: PROP_REASON_STRING, kind: "string", ours: "reasonString" },
  { name: "userProperties", id: PROP_USER_PROPERTY, kind: "pairs", ours: "userProperties" },
  // Sent by a server only: the client decodes them, never encodes them.
  { name: "assignedClientIdentifier", id: PROP_ASSIGNED_CLIENT_ID, kind: "string", ours: null },
  { name: "serverKeepAlive", id: PROP_SERVER_KEEP_ALIVE, kind: "number", ours: null },
  { name: "responseInformation", id: PROP_RESPONSE_INFO, kind: "string", ours: null },
  { name: "serverReference", id: PROP_SERVER_REFERENCE, kind: "string", ours: null },
  { name: "maximumQoS", id: PROP_MAXIMUM_QOS, kind: "number", ours: null },
  { name: "retainAvailable", id: PROP_RETAIN_AVAILABLE, kind: "bool", ours: null },
  { name: "wildcardSubscriptionAvailable", id: PROP_WILDCARD_SUB_AVAILABLE, kind: "bool", ours: null },
  { name: "subscriptionIdentifiersAvailable", id: PROP_SUB_ID_AVAILABLE, kind: "bool", ours: null },
  { name: "sharedSubscriptionAvailable", id: PROP_SHARED_SUB_AVAILABLE, kind: "bool", ours: null },
];

const DEF_BY_NAME: Record<string, PropertyDef> = {};
for (const def of PROPERTY_DEFS) {
  DEF_BY_NAME[def.name] = def;
}

const userKey = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom("k", "a", "1", "ключ", "🔑", "") },
  { weight: 3, arbitrary: mqttString(12) },
).filter((k) => k !== "__proto__");

/**
 * User properties as mqtt-packet holds them: one key -> its value, or its values in order when it repeats.
 * Keys come partly from a small pool so that repeats are common.
 *
 * Excluded on purpose: a repeated key whose FIRST value is "". mqtt-packet's parser tests
 * `if (result.userProperties[key])` to decide whether a key repeats, so an empty first value is
 * overwritten by the next one (the pair is lost). That is an oracle bug, not a representation difference,
 * so it cannot be normalised away; the wire form itself is valid and other tests cover empty values.
 */
export const userProperties: fc.Arbitrary<UserProps> = fc
  .array(fc.tuple(userKey, mqttString(12)), { minLength: 1, maxLength: 5 })
  .map((pairs) => {
    const out: UserProps = {};
    for (const [key, value] of pairs) {
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        const current = out[key];
        out[key] = Array.isArray(current) ? current.concat([value]) : [current, value];
      } else {
        out[key] = value;
      }
    }
    return out;
  })
  .filter((up) => {
    for (const key of Object.getOwnPropertyNames(up)) {
      const value = up[key];
      if (Array.isArray(value) && value[0] === "") {
        return false;
      }
    }
    return true;
  });

/** Valid values per property (section 3, each property's range). */
const VALUE_ARBS: Record<string, fc.Arbitrary<unknown>> = {
  payloadFormatIndicator: fc.boolean(),
  messageExpiryInterval: u32,
  contentType: mqttString(),
  responseTopic: topicName,
  correlationData: bytes(40),
  subscriptionIdentifier: varNonZero,
  sessionExpiryInterval: u32,
  authenticationMethod: mqttString(),
  authenticationData: bytes(40),
  requestProblemInformation: fc.boolean(),
  willDelayInterval: u32,
  requestResponseInformation: fc.boolean(),
  receiveMaximum: u16NonZero,
  topicAliasMaximum: u16,
  topicAlias: u16NonZero,
  maximumPacketSize: u32NonZero,
  reasonString: mqttString(24),
  userProperties,
  assignedClientIdentifier: mqttString(),
  serverKeepAlive: u16,
  responseInformation: mqttString(),
  serverReference: mqttString(),
  maximumQoS: fc.constantFrom(0, 1),
  retainAvailable: fc.boolean(),
  wildcardSubscriptionAvailable: fc.boolean(),
  subscriptionIdentifiersAvailable: fc.boolean(),
  sharedSubscriptionAvailable: fc.boolean(),
};

/** A properties object holding the given (plain-object) values in PROPERTY_DEFS order; undefined if empty. */
function inEncoderOrder(values: Props): Props | undefined {
  const out: Props = {};
  let any = false;
  for (const def of PROPERTY_DEFS) {
    const value = values[def.name];
    if (value !== undefined) {
      out[def.name] = value;
      any = true;
    }
  }
  return any ? out : undefined;
}

/**
 * Properties drawn from `names` (each present or not), sometimes none at all. `required` names are always
 * present (e.g. the Authentication Method of AUTH). `override` replaces a value arbitrary.
 */
function propertiesArb(names: string[], required: string[] = [],
  override: Record<string, fc.Arbitrary<unknown>> = {}): fc.Arbitrary<Props | undefined> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const name of names) {
    if (DEF_BY_NAME[name] === undefined) {
      throw new Error("unknown property " + name);
    }
    model[name] = override[name] !== undefined ? override[name] : VALUE_ARBS[name];
  }
  const some = fc.record(model, { requiredKeys: required }).map((r) => inEncoderOrder(r as Props));
  if (required.length > 0) {
    return some;
  }
  return fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: some });
}

const CONNECT_PROPS = ["sessionExpiryInterval", "receiveMaximum", "maximumPacketSize", "topicAliasMaximum",
  "requestResponseInformation", "requestProblemInformation", "userProperties", "authenticationMethod",
  "authenticationData"];
const WILL_PROPS = ["willDelayInterval", "payloadFormatIndicator", "messageExpiryInterval", "contentType",
  "responseTopic", "correlationData", "userProperties"];
const PUBLISH_PROPS_CLIENT = ["payloadFormatIndicator", "messageExpiryInterval", "topicAlias", "responseTopic",
  "correlationData", "userProperties", "contentType"];
const PUBLISH_PROPS_SERVER = PUBLISH_PROPS_CLIENT.concat(["subscriptionIdentifier"]);
const ACK_PROPS = ["reasonString", "userProperties"];
const SUBSCRIBE_PROPS = ["subscriptionIdentifier", "userProperties"];
const UNSUBSCRIBE_PROPS = ["userProperties"];
const CONNACK_PROPS = ["sessionExpiryInterval", "receiveMaximum", "maximumQoS", "retainAvailable",
  "maximumPacketSize", "assignedClientIdentifier", "topicAliasMaximum", "reasonString", "userProperties",
  "wildcardSubscriptionAvailable", "subscriptionIdentifiersAvailable", "sharedSubscriptionAvailable",
  "serverKeepAlive", "responseInformation", "serverReference", "authenticationMethod", "authenticationData"];
// The server never sends a Session Expiry Interval in DISCONNECT ([MQTT-3.14.2-2]); the client never a Server Reference.
const DISCONNECT_PROPS_CLIENT = ["sessionExpiryInterval", "reasonString", "userProperties"];
const DISCONNECT_PROPS_SERVER = ["reasonString", "serverReference", "userProperties"];
const AUTH_PROPS = ["authenticationMethod", "authenticationData", "reasonString", "userProperties"];

/** Drops Authentication Data without an Authentication Method (a Protocol Error, 3.1.2.11.10). */
function authDataNeedsMethod(props: Props | undefined): Props | undefined {
  if (props !== undefined && props.authenticationData !== undefined && props.authenticationMethod === undefined) {
    const copy: Props = {};
    for (const key of Object.keys(props)) {
      if (key !== "authenticationData") copy[key] = props[key];
    }
    return inEncoderOrder(copy);
  }
  return props;
}

/** Builds an object with only the defined values (mqtt-packet treats a missing key and undefined alike). */
function defined(fields: Loose): Loose {
  const out: Loose = {};
  for (const key of Object.keys(fields)) {
    if (fields[key] !== undefined) out[key] = fields[key];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Client -> server packets (what our encoders write)
// ---------------------------------------------------------------------------------------------------------

function willArb(version: Version): fc.Arbitrary<Loose> {
  return fc.record({
    topic: topicName,
    payload,
    qos,
    retain: fc.boolean(),
    properties: version === 5 ? propertiesArb(WILL_PROPS) : fc.constant(undefined),
  }).map((w) => defined(w));
}

export function connectArb(version: Version): fc.Arbitrary<mqtt.IConnectPacket> {
  return fc.record({
    clientId: fc.oneof(fc.constant(""), mqttString(23)),
    clean: fc.boolean(),
    keepalive: u16,
    username: fc.option(mqttString(), { nil: undefined }),
    password: fc.option(bytes(30), { nil: undefined }),
    will: fc.option(willArb(version), { nil: undefined }),
    properties: version === 5 ? propertiesArb(CONNECT_PROPS).map(authDataNeedsMethod) : fc.constant(undefined),
  }).map((c) => {
    let clean = c.clean;
    let username = c.username;
    if (version === 4) {
      // 3.1.1: an empty client id needs a clean session [MQTT-3.1.3-7]; a password needs a user name [MQTT-3.1.2-22].
      if (c.clientId === "") clean = true;
      if (c.password !== undefined && username === undefined) username = "";
    }
    return defined({
      cmd: "connect", protocolId: "MQTT", protocolVersion: version, clientId: c.clientId, clean,
      keepalive: c.keepalive, username, password: c.password, will: c.will, properties: c.properties,
    }) as unknown as mqtt.IConnectPacket;
  });
}

function publishArb(version: Version, fromServer: boolean): fc.Arbitrary<mqtt.IPublishPacket> {
  const propertyArb = version === 5
    ? propertiesArb(fromServer ? PUBLISH_PROPS_SERVER : PUBLISH_PROPS_CLIENT, [], {
      // A server may send one Subscription Identifier per matching subscription [MQTT-3.3.4-4].
      subscriptionIdentifier: fc.oneof(varNonZero, fc.array(varNonZero, { minLength: 2, maxLength: 4 })),
    })
    : fc.constant(undefined);
  return fc.record({
    topic: topicName,
    emptyTopic: fc.boolean(),
    qos,
    dup: fc.boolean(),
    retain: fc.boolean(),
    messageId: packetId,
    payload,
    properties: propertyArb,
  }).map((p) => {
    // 5.0: a Topic Alias may stand in for the topic name, which is then empty (3.3.2.3.4).
    const topic = p.properties !== undefined && p.properties.topicAlias !== undefined && p.emptyTopic ? "" : p.topic;
    return defined({
      cmd: "publish", topic, qos: p.qos,
      // DUP is 0 for QoS 0 [MQTT-3.3.1-2]; QoS 0 has no packet identifier [MQTT-2.2.1-2].
      dup: p.qos > 0 && p.dup, retain: p.retain, messageId: p.qos > 0 ? p.messageId : undefined,
      payload: p.payload, properties: p.properties,
    }) as unknown as mqtt.IPublishPacket;
  });
}

function ackArb(cmd: "puback" | "pubrec" | "pubrel" | "pubcomp", version: Version): fc.Arbitrary<MqttPacket> {
  const codes = cmd === "puback" || cmd === "pubrec" ? PUBACK_PUBREC_CODES : PUBREL_PUBCOMP_CODES;
  if (version === 4) {
    return packetId.map((messageId) => ({ cmd, messageId }) as MqttPacket);
  }
  return fc.record({ messageId: packetId, reasonCode: reasonCode(codes), properties: propertiesArb(ACK_PROPS) })
    .map((a) => defined({ cmd, messageId: a.messageId, reasonCode: a.reasonCode, properties: a.properties }) as unknown as MqttPacket);
}

function subscriptionArb(version: Version): fc.Arbitrary<mqtt.ISubscription> {
  return fc.record({
    topic: topicFilter, qos, nl: fc.boolean(), rap: fc.boolean(), rh: fc.constantFrom(0, 1, 2),
  }).map((s) => {
    if (version === 4) {
      return { topic: s.topic, qos: s.qos };
    }
    // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
    return { topic: s.topic, qos: s.qos, nl: s.nl && s.topic.indexOf("$share/") !== 0, rap: s.rap, rh: s.rh };
  });
}

export function subscribeArb(version: Version): fc.Arbitrary<mqtt.ISubscribePacket> {
  return fc.record({
    messageId: packetId,
    subscriptions: fc.array(subscriptionArb(version), { minLength: 1, maxLength: 5 }),
    properties: version === 5 ? propertiesArb(SUBSCRIBE_PROPS) : fc.constant(undefined),
  }).map((s) => defined({ cmd: "subscribe", ...s }) as unknown as mqtt.ISubscribePacket);
}

export function unsubscribeArb(version: Version): fc.Arbitrary<mqtt.IUnsubscribePacket> {
  return fc.record({
    messageId: packetId,
    unsubscriptions: fc.array(topicFilter, { minLength: 1, maxLength: 5 }),
    properties: version === 5 ? propertiesArb(UNSUBSCRIBE_PROPS) : fc.constant(undefined),
  }).map((u) => defined({ cmd: "unsubscribe", ...u }) as unknown as mqtt.IUnsubscribePacket);
}

function reasonPacketArb(cmd: "disconnect" | "auth", codes: number[], names: string[],
  required: string[] = []): fc.Arbitrary<MqttPacket> {
  return fc.record({ reasonCode: reasonCode(codes), properties: propertiesArb(names, required) })
    .map((d) => defined({ cmd, reasonCode: d.reasonCode, properties: authDataNeedsMethod(d.properties) }) as unknown as MqttPacket);
}

/** Every packet type a client sends, by name, for one protocol version. */
export function clientPacketArbs(version: Version): Record<string, fc.Arbitrary<MqttPacket>> {
  const arbs: Record<string, fc.Arbitrary<MqttPacket>> = {
    connect: connectArb(version),
    publish: publishArb(version, false),
    puback: ackArb("puback", version),
    pubrec: ackArb("pubrec", version),
    pubrel: ackArb("pubrel", version),
    pubcomp: ackArb("pubcomp", version),
    subscribe: subscribeArb(version),
    unsubscribe: unsubscribeArb(version),
    pingreq: fc.constant({ cmd: "pingreq" } as MqttPacket),
    disconnect: version === 5
      ? reasonPacketArb("disconnect", DISCONNECT_CODES_CLIENT, DISCONNECT_PROPS_CLIENT)
      : fc.constant({ cmd: "disconnect" } as MqttPacket),
  };
  if (version === 5) {
    // The Authentication Method is required in AUTH (3.15.2.2.2).
    arbs.auth = reasonPacketArb("auth", AUTH_CODES_CLIENT, AUTH_PROPS, ["authenticationMethod"]);
  }
  return arbs;
}

// ---------------------------------------------------------------------------------------------------------
// Server -> client packets (what our decoder reads)
// ---------------------------------------------------------------------------------------------------------

function connackArb(version: Version): fc.Arbitrary<MqttPacket> {
  return fc.record({
    sessionPresent: fc.boolean(),
    code: reasonCode(version === 5 ? CONNACK_REASON_CODES : CONNACK_RETURN_CODES_V4),
    properties: version === 5
      ? propertiesArb(CONNACK_PROPS).map(authDataNeedsMethod).map((p) => (p === undefined ? {} : p))
      : fc.constant(undefined),
  }).map((c) => {
    // Session Present is 0 with a non-zero code ([MQTT-3.2.2-4] / 5.0 [MQTT-3.2.2-6]).
    const sessionPresent = c.code === 0 && c.sessionPresent;
    if (version === 4) {
      return { cmd: "connack", sessionPresent, returnCode: c.code } as MqttPacket;
    }
    return defined({ cmd: "connack", sessionPresent, reasonCode: c.code, properties: c.properties }) as unknown as MqttPacket;
  });
}

function subackArb(version: Version): fc.Arbitrary<MqttPacket> {
  const codes = version === 5 ? SUBACK_CODES_V5 : SUBACK_CODES_V4;
  return fc.record({
    messageId: packetId,
    granted: fc.array(fc.constantFrom(...codes), { minLength: 1, maxLength: 5 }),
    properties: version === 5 ? propertiesArb(ACK_PROPS) : fc.constant(undefined),
  }).map((s) => defined({ cmd: "suback", ...s }) as unknown as MqttPacket);
}

function unsubackArb(version: Version): fc.Arbitrary<MqttPacket> {
  if (version === 4) {
    // 3.1.1's UNSUBACK is the packet identifier alone.
    return packetId.map((messageId) => ({ cmd: "unsuback", messageId }) as MqttPacket);
  }
  return fc.record({
    messageId: packetId,
    granted: fc.array(fc.constantFrom(...UNSUBACK_CODES), { minLength: 1, maxLength: 5 }),
    properties: propertiesArb(ACK_PROPS),
  }).map((u) => defined({ cmd: "unsuback", ...u }) as unknown as MqttPacket);
}

/** Every packet type a server sends, by name, for one protocol version. */
export function serverPacketArbs(version: Version): Record<string, fc.Arbitrary<MqttPacket>> {
  const arbs: Record<string, fc.Arbitrary<MqttPacket>> = {
    connack: connackArb(version),
    publish: publishArb(version, true),
    puback: ackArb("puback", version),
    pubrec: ackArb("pubrec", version),
    pubrel: ackArb("pubrel", version),
    pubcomp: ackArb("pubcomp", version),
    suback: subackArb(version),
    unsuback: unsubackArb(version),
    pingresp: fc.constant({ cmd: "pingresp" } as MqttPacket),
  };
  if (version === 5) {
    arbs.disconnect = reasonPacketArb("disconnect", DISCONNECT_CODES_SERVER, DISCONNECT_PROPS_SERVER);
    arbs.auth = reasonPacketArb("auth", AUTH_CODES_SERVER, AUTH_PROPS, ["authenticationMethod"]);
  }
  return arbs;
}

/**
 * A PUBLISH whose payload is 16,384 .. 70,000 bytes, so that its Remaining Length takes three bytes.
 * The payload is filled from a seed rather than drawn byte by byte (which would be slow to generate).
 */
export function largePublishArb(version: Version, fromServer: boolean): fc.Arbitrary<mqtt.IPublishPacket> {
  return fc.tuple(publishArb(version, fromServer), fc.integer({ min: 16384, max: 70000 }), fc.integer())
    .map(([p, length, seed]) => {
      const data = Buffer.alloc(length);
      let x = seed | 1;
      for (let i = 0; i < length; i++) {
        x = (Math.imul(x, 1103515245) + 12345) | 0;
        data[i] = (x >>> 16) & 0xff;
      }
      return { ...p, payload: data };
    });
}

/** Any server packet of this version (for framing streams). */
export function anyServerPacket(version: Version): fc.Arbitrary<MqttPacket> {
  const arbs = serverPacketArbs(version);
  return fc.oneof(...Object.keys(arbs).map((k) => arbs[k]));
}

// ---------------------------------------------------------------------------------------------------------
// Encode side: mqtt-packet object -> our shapes -> our bytes
// ---------------------------------------------------------------------------------------------------------

/** User properties in the order mqtt-packet writes them: its object's own keys, each value in turn. */
export function expandUserProperties(up: UserProps | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (up === undefined) {
    return out;
  }
  for (const key of Object.getOwnPropertyNames(up)) {
    const value = up[key];
    if (Array.isArray(value)) {
      for (const v of value) out.push([key, v]);
    } else {
      out.push([key, value]);
    }
  }
  return out;
}

export function toOurProperties(props: Props | undefined): Properties | null {
  if (props === undefined) {
    return null;
  }
  const out = new Properties();
  const fields = out as unknown as Loose;
  for (const name of Object.keys(props)) {
    const def = DEF_BY_NAME[name];
    const value = props[name];
    if (def === undefined || def.ours === null) {
      throw new Error("property " + name + " cannot be encoded by a client");
    }
    if (value === undefined) continue;
    if (def.kind === "pairs") {
      out.userProperties = expandUserProperties(value as UserProps).map(([k, v]) => new UserProperty(k, v));
    } else if (def.kind === "bool") {
      fields[def.ours] = value ? 1 : 0;
    } else {
      fields[def.ours] = value;
    }
  }
  return out;
}

export function toWill(will: Loose | undefined): Will | null {
  if (will === undefined) {
    return null;
  }
  const out = new Will();
  out.topic = will.topic as string;
  const data = will.payload as Buffer;
  // An empty will payload goes both ways (chosen by the topic's length): as null, and as an empty buffer.
  out.payload = data.length === 0 && out.topic.length % 2 === 0 ? null : data;
  out.qos = (will.qos as number | undefined) ?? 0;
  out.retain = (will.retain as boolean | undefined) ?? false;
  out.properties = toOurProperties(will.properties as Props | undefined);
  return out;
}

export function toConnectFields(p: mqtt.IConnectPacket): ConnectFields {
  const out = new ConnectFields();
  out.protocolVersion = p.protocolVersion ?? 4;
  out.clientId = p.clientId;
  out.cleanStart = p.clean ?? true;
  out.keepAlive = p.keepalive ?? 0;
  out.username = p.username ?? null;
  out.password = p.password ?? null;
  out.will = toWill(p.will as Loose | undefined);
  out.properties = toOurProperties(p.properties as Props | undefined);
  return out;
}

/** The payload is placed inside a larger buffer, to check that payloadOffset/payloadLength are honoured. */
export function toPublishFields(p: mqtt.IPublishPacket): PublishFields {
  const out = new PublishFields();
  out.topic = p.topic;
  out.qos = p.qos;
  out.dup = p.dup;
  out.retain = p.retain;
  out.packetId = p.messageId ?? 0;
  const data = p.payload as Buffer;
  // An empty payload goes both ways (chosen by the topic's length): as null, and as an empty view.
  if (data.length > 0 || p.topic.length % 2 === 1) {
    const pad = 1 + (data.length % 7);
    const host = new Uint8Array(pad + data.length + 3).fill(0xee);
    host.set(data, pad);
    out.payload = host;
    out.payloadOffset = pad;
    out.payloadLength = data.length;
  }
  out.properties = toOurProperties(p.properties as Props | undefined);
  return out;
}

export function toSubscriptions(p: mqtt.ISubscribePacket): Subscription[] {
  return p.subscriptions.map((s) => {
    const out = new Subscription(s.topic, s.qos);
    out.noLocal = s.nl ?? false;
    out.retainAsPublished = s.rap ?? false;
    out.retainHandling = s.rh ?? 0;
    return out;
  });
}

const ACK_TYPES: Record<string, number> = { puback: PUBACK, pubrec: PUBREC, pubrel: PUBREL, pubcomp: PUBCOMP };

/**
 * Encodes an mqtt-packet object with our encoder at buffer[at..]: returns our result (length or error).
 * SUBSCRIBE and UNSUBSCRIBE get one extra entry past `count`, which must not be written.
 */
export function encodeOurs(p: MqttPacket, version: Version, buffer: Uint8Array, at: number): number {
  const loose = p as unknown as Loose;
  const props = version === 5 ? toOurProperties(loose.properties as Props | undefined) : null;
  const code = version === 5 ? (loose.reasonCode as number | undefined) ?? 0 : 0;
  switch (p.cmd) {
    case "connect":
      return encodeConnect(buffer, at, toConnectFields(p));
    case "publish":
      return encodePublish(buffer, at, version, toPublishFields(p));
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return encodeAck(buffer, at, version, ACK_TYPES[p.cmd], p.messageId as number, code, props);
    case "subscribe": {
      const subscriptions = toSubscriptions(p);
      subscriptions.push(new Subscription("not/written/#", 1));
      return encodeSubscribe(buffer, at, version, p.messageId as number, subscriptions, p.subscriptions.length, props);
    }
    case "unsubscribe": {
      const filters = p.unsubscriptions.concat(["not/written/#"]);
      return encodeUnsubscribe(buffer, at, version, p.messageId as number, filters, p.unsubscriptions.length, props);
    }
    case "pingreq":
      return encodePingreq(buffer, at);
    case "disconnect":
      return encodeDisconnect(buffer, at, version, code, props);
    case "auth":
      return encodeAuth(buffer, at, code, props);
    default:
      throw new Error("a client does not send " + p.cmd);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Decode side: our decoded Packet -> an mqtt-packet-shaped object
// ---------------------------------------------------------------------------------------------------------

/** Every user property of the decoded packet, in wire order, via repeatedPropertyAt. */
export function decodedUserProperties(packet: Packet): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const buffer = packet.buffer as Uint8Array;
  const value = new PropertyValue();
  for (let i = 0; i < packet.userPropertyCount; i++) {
    if (!repeatedPropertyAt(packet, PROP_USER_PROPERTY, i, value)) {
      throw new Error("repeatedPropertyAt found no user property #" + i + " of " + packet.userPropertyCount);
    }
    out.push([readUtf8(buffer, value.value, value.length), readUtf8(buffer, value.pairValue, value.pairLength)]);
  }
  if (repeatedPropertyAt(packet, PROP_USER_PROPERTY, packet.userPropertyCount, value)) {
    throw new Error("repeatedPropertyAt found more user properties than userPropertyCount");
  }
  return out;
}

/** Every subscription identifier of the decoded PUBLISH, in wire order, via repeatedPropertyAt. */
export function decodedSubscriptionIdentifiers(packet: Packet): number[] {
  const out: number[] = [];
  const value = new PropertyValue();
  for (let i = 0; i < packet.subscriptionIdentifierCount; i++) {
    if (!repeatedPropertyAt(packet, PROP_SUBSCRIPTION_IDENTIFIER, i, value)) {
      throw new Error("repeatedPropertyAt found no subscription identifier #" + i);
    }
    out.push(value.value);
  }
  return out;
}

function decodedProperties(packet: Packet): Props | undefined {
  const buffer = packet.buffer as Uint8Array;
  const out: Props = {};
  for (const def of PROPERTY_DEFS) {
    if (def.kind === "pairs") {
      if (packet.userPropertyCount > 0) {
        const up: UserProps = {};
        for (const [key, value] of decodedUserProperties(packet)) {
          const current = up[key];
          up[key] = current === undefined ? value : Array.isArray(current) ? current.concat([value]) : [current, value];
        }
        out.userProperties = up;
      }
      continue;
    }
    if (def.id === PROP_SUBSCRIPTION_IDENTIFIER && packet.type === PUBLISH) {
      if (packet.subscriptionIdentifierCount > 0) {
        const ids = decodedSubscriptionIdentifiers(packet);
        out.subscriptionIdentifier = ids.length === 1 ? ids[0] : ids;
      }
      continue;
    }
    if (!hasProperty(packet, def.id)) {
      continue;
    }
    const value = propertyValue(packet, def.id);
    if (def.kind === "bool") {
      out[def.name] = value !== 0;
    } else if (def.kind === "number") {
      out[def.name] = value;
    } else if (def.kind === "string") {
      out[def.name] = readUtf8(buffer, value, packet.propertyLengths[def.id]);
    } else {
      out[def.name] = Buffer.from(buffer.subarray(value, value + packet.propertyLengths[def.id]));
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function reasonCodes(packet: Packet): number[] {
  const buffer = packet.buffer as Uint8Array;
  return Array.from(buffer.subarray(packet.reasonCodesOffset, packet.reasonCodesOffset + packet.reasonCodesCount));
}

/** Our decoded packet as the mqtt-packet object it stands for (only the fields of its type are read). */
export function fromDecoded(packet: Packet, version: Version): MqttPacket {
  const buffer = packet.buffer as Uint8Array;
  const v5 = version === 5;
  const properties = v5 ? decodedProperties(packet) : undefined;
  let out: Loose;
  switch (packet.type) {
    case CONNACK:
      out = v5
        ? { cmd: "connack", sessionPresent: packet.sessionPresent, reasonCode: packet.reasonCode, properties }
        : { cmd: "connack", sessionPresent: packet.sessionPresent, returnCode: packet.reasonCode };
      break;
    case PUBLISH:
      out = {
        cmd: "publish", qos: packet.qos, dup: packet.dup, retain: packet.retain,
        topic: readUtf8(buffer, packet.topicOffset, packet.topicLength),
        payload: Buffer.from(buffer.subarray(packet.payloadOffset, packet.payloadOffset + packet.payloadLength)),
        messageId: packet.qos > 0 ? packet.packetId : undefined, properties,
      };
      break;
    case PUBACK:
    case PUBREC:
    case PUBREL:
    case PUBCOMP: {
      const cmd = ["puback", "pubrec", "pubrel", "pubcomp"][packet.type - PUBACK];
      out = { cmd, messageId: packet.packetId, reasonCode: v5 ? packet.reasonCode : undefined, properties };
      break;
    }
    case SUBACK:
      out = { cmd: "suback", messageId: packet.packetId, granted: reasonCodes(packet), properties };
      break;
    case UNSUBACK:
      out = { cmd: "unsuback", messageId: packet.packetId, granted: v5 ? reasonCodes(packet) : undefined, properties };
      break;
    case PINGRESP:
      out = { cmd: "pingresp" };
      break;
    case DISCONNECT:
      out = { cmd: "disconnect", reasonCode: packet.reasonCode, properties };
      break;
    case AUTH:
      out = { cmd: "auth", reasonCode: packet.reasonCode, properties };
      break;
    default:
      throw new Error("decoded an unexpected packet type " + packet.type);
  }
  return defined(out) as unknown as MqttPacket;
}

// ---------------------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------------------

/** Bytes as hex: one cheap comparison for a 70 KB payload, and a readable diff for a short one. */
function toHex(value: unknown): string {
  if (typeof value === "string") {
    return Buffer.from(value, "utf8").toString("hex");
  }
  const data = value as Uint8Array;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("hex");
}

function normalizeProperties(props: unknown): Props | undefined {
  if (props === undefined || props === null) {
    return undefined;
  }
  const source = props as Props;
  const out: Props = {};
  for (const name of Object.keys(source)) {
    const value = source[name];
    if (value === undefined) continue;
    const def = DEF_BY_NAME[name];
    if (def === undefined) {
      throw new Error("unknown property " + name);
    }
    if (def.kind === "pairs") {
      // A key is a string when it occurs once and an array when it repeats: always an array here.
      const up: Record<string, string[]> = {};
      const given = value as UserProps;
      for (const key of Object.getOwnPropertyNames(given)) {
        const v = given[key];
        up[key] = Array.isArray(v) ? v.slice() : [v];
      }
      out[name] = up;
    } else if (def.id === PROP_SUBSCRIPTION_IDENTIFIER) {
      // One identifier is a number, several are an array: always an array here.
      out[name] = Array.isArray(value) ? value.slice() : [value];
    } else if (def.kind === "bool") {
      // mqtt-packet's byte properties are booleans; the wire has 0 or 1.
      out[name] = value === true || value === 1;
    } else if (def.kind === "binary") {
      out[name] = toHex(value);
    } else {
      out[name] = value;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The one canonical shape in which an mqtt-packet object (given to or parsed by mqtt-packet) and our
 * decoded packet are compared. mqtt-packet spells the same wire bytes in more than one way; each rule
 * says which difference it folds:
 * - Only the fields of the packet's type are kept: the parser also sets `length`, `retain`/`qos`/`dup`
 *   from the fixed header of every type (a PUBREL parses as qos 1) and `topic: null`/`payload: null`.
 * - Buffers, Uint8Arrays (and string payloads) become hex strings.
 * - Properties: missing, undefined and an empty object are one thing (the parser leaves out an empty
 *   block; the generators write `{}` and no properties alike, except the acks, see oracle.test.ts).
 * - User properties: a key holds a string when it occurs once and an array when it repeats; always an
 *   array here.
 * - Subscription Identifier: a number, or an array when several; always an array here.
 * - Byte properties (payloadFormatIndicator, requestProblemInformation, retainAvailable, ...): booleans.
 * - v5 reason codes: a PUBACK/PUBREC/PUBREL/PUBCOMP of Remaining Length 2 (and a DISCONNECT of 0)
 *   parses as reasonCode 0, and an object without reasonCode is generated as 0: `reasonCode ?? 0`.
 *   3.1.1 has no reason codes in these packets.
 * - Generator defaults: CONNECT `clean` true, `keepalive` 0, `protocolId` "MQTT"; will qos 0, retain false.
 * - SUBSCRIBE options nl/rap/rh exist in 5.0 only (the parser always sets them there, never in 3.1.1);
 *   absent means false/false/0.
 * - PUBLISH has a messageId only at QoS > 0; 3.1.1 UNSUBACK has no granted list.
 */
export function normalize(packet: MqttPacket | Loose, version: Version): Loose {
  const p = packet as Loose;
  const v5 = version === 5;
  const cmd = p.cmd as string;
  const properties = v5 ? normalizeProperties(p.properties) : undefined;
  switch (cmd) {
    case "connect": {
      const willIn = p.will as Loose | undefined;
      const will = willIn === undefined ? undefined : defined({
        topic: willIn.topic, payload: toHex(willIn.payload ?? Buffer.alloc(0)),
        qos: willIn.qos ?? 0, retain: !!willIn.retain, properties: v5 ? normalizeProperties(willIn.properties) : undefined,
      });
      return defined({
        cmd, protocolId: p.protocolId ?? "MQTT", protocolVersion: p.protocolVersion ?? 4, clientId: p.clientId,
        clean: p.clean ?? true, keepalive: p.keepalive ?? 0, username: p.username ?? undefined,
        password: p.password === undefined || p.password === null ? undefined : toHex(p.password),
        will, properties,
      });
    }
    case "connack":
      return defined(v5
        ? { cmd, sessionPresent: !!p.sessionPresent, reasonCode: p.reasonCode ?? 0, properties }
        : { cmd, sessionPresent: !!p.sessionPresent, returnCode: p.returnCode });
    case "publish": {
      const q = (p.qos as number | undefined) ?? 0;
      return defined({
        cmd, topic: p.topic, qos: q, dup: !!p.dup, retain: !!p.retain,
        messageId: q > 0 ? p.messageId : undefined, payload: toHex(p.payload ?? Buffer.alloc(0)), properties,
      });
    }
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return defined({ cmd, messageId: p.messageId, reasonCode: v5 ? p.reasonCode ?? 0 : undefined, properties });
    case "subscribe":
      return defined({
        cmd, messageId: p.messageId, properties,
        subscriptions: (p.subscriptions as mqtt.ISubscription[]).map((s) => (v5
          ? { topic: s.topic, qos: s.qos, nl: !!s.nl, rap: !!s.rap, rh: s.rh ?? 0 }
          : { topic: s.topic, qos: s.qos })),
      });
    case "suback":
      return defined({ cmd, messageId: p.messageId, granted: (p.granted as number[]).slice(), properties });
    case "unsubscribe":
      return defined({ cmd, messageId: p.messageId, unsubscriptions: (p.unsubscriptions as string[]).slice(), properties });
    case "unsuback":
      return defined({ cmd, messageId: p.messageId, granted: v5 ? (p.granted as number[]).slice() : undefined, properties });
    case "pingreq":
    case "pingresp":
      return { cmd };
    case "disconnect":
    case "auth":
      return defined({ cmd, reasonCode: v5 ? p.reasonCode ?? 0 : undefined, properties });
    default:
      throw new Error("unknown cmd " + cmd);
  }
}

/** True when the object carries at least one v5 property. */
export function hasProperties(packet: MqttPacket): boolean {
  return normalizeProperties((packet as unknown as Loose).properties) !== undefined;
}
