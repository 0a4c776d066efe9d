// The first thing a new user runs until the fleet simulator lands: a round trip through the codec.
// It encodes a stream of PUBLISH packets of both protocol versions, cuts the stream at random points as a
// network would, frames and decodes it, and checks every message came back intact. Exit code 0 = pass.

import {
  ConnectFields, Framer, Packet, PublishFields, Will, Properties, MQTT_3_1_1, MQTT_5, PUBLISH,
  encodeConnect, encodePublish, decodePacket, errorName,
} from "../device/codec";
import { readUtf8 } from "../device/platform/bytes";

const MESSAGES = 200_000;
const seedArgument = process.argv.indexOf("--seed");
let seed = seedArgument > 0 ? Number(process.argv[seedArgument + 1]) : 1;
if (!Number.isInteger(seed) || seed < 0) {
  console.error("error: --seed takes a non-negative integer, e.g. --seed 42");
  process.exit(2);
}

function random(): number {
  // mulberry32: a small seeded generator, so a run can be replayed.
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function hex(bytes: Uint8Array, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, length).toString("hex").replace(/(..)/g, "$1 ").trim();
}

const transmit = new Uint8Array(8192);
const connect = new ConnectFields();
connect.protocolVersion = MQTT_5;
connect.clientId = "starling-demo";
connect.keepAlive = 30;
connect.will = new Will();
connect.will.topic = "fleet/starling-demo/presence";
connect.will.payload = new TextEncoder().encode("offline");
connect.will.retain = true;
connect.will.qos = 1;
const connectLength = encodeConnect(transmit, 0, connect);
console.log(`CONNECT (MQTT 5.0, will "offline" retained at QoS 1), ${connectLength} bytes:\n  ${hex(transmit, connectLength)}\n`);

// Encode the stream: message i goes to a topic naming i, with a payload of i-dependent size and content.
const stream = new Uint8Array(64 * 1024 * 1024);
const payload = new Uint8Array(1024);
for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
const publish = new PublishFields();
publish.payload = payload;
publish.properties = new Properties();
let streamLength = 0;
const started = performance.now();
for (let i = 0; i < MESSAGES; i++) {
  publish.topic = `fleet/device-${i % 1000}/telemetry`;
  publish.qos = i % 3;
  publish.packetId = publish.qos > 0 ? (i % 65535) + 1 : 0;
  publish.payloadOffset = i % 7;
  publish.payloadLength = (i * 37) % 600;
  const written = encodePublish(stream, streamLength, i % 2 === 0 ? MQTT_3_1_1 : MQTT_5, publish);
  if (written < 0) {
    console.error(`encode failed at message ${i}: ${errorName(written)}`);
    process.exit(1);
  }
  streamLength += written;
}
const encoded = performance.now();
console.log(`encoded ${MESSAGES.toLocaleString()} PUBLISH packets (QoS 0/1/2, MQTT 3.1.1 and 5.0): ${(streamLength / 1e6).toFixed(1)} MB in ${(encoded - started).toFixed(0)} ms`);

// Decode it as a socket would deliver it: chunks of random size, 1 byte to 3,000 bytes.
const framer = new Framer(4096);
const packet = new Packet();
let decodedCount = 0;
let failures = 0;
let chunks = 0;
let position = 0;
while (position < streamLength) {
  const chunkLength = Math.min(streamLength - position, 1 + Math.floor(random() * 3000));
  chunks++;
  let at = position;
  const end = position + chunkLength;
  while (at < end) {
    const used = framer.feed(stream, at, end - at);
    if (used < 0) {
      console.error(`framing failed: ${errorName(used)}`);
      process.exit(1);
    }
    at += used;
    if (!framer.ready) continue;
    const i = decodedCount;
    const result = decodePacket(framer.packetBuffer, framer.packetStart, framer.packetLength, i % 2 === 0 ? MQTT_3_1_1 : MQTT_5, packet);
    const expectedTopic = `fleet/device-${i % 1000}/telemetry`;
    let intact = result === 0 && packet.type === PUBLISH && packet.qos === i % 3 &&
      readUtf8(framer.packetBuffer, packet.topicOffset, packet.topicLength) === expectedTopic &&
      packet.payloadLength === (i * 37) % 600;
    for (let k = 0; intact && k < packet.payloadLength; k++) {
      intact = framer.packetBuffer[packet.payloadOffset + k] === ((k + (i % 7)) & 0xff);
    }
    if (!intact) {
      failures++;
      if (failures <= 5) console.error(`message ${i} did not come back intact (${errorName(result)})`);
    }
    decodedCount++;
    framer.next();
  }
  position = end;
}
const decoded = performance.now();
console.log(`decoded ${decodedCount.toLocaleString()} packets from ${chunks.toLocaleString()} chunks of random size in ${(decoded - encoded).toFixed(0)} ms`);

const pass = failures === 0 && decodedCount === MESSAGES;
console.log(`\nverdict: ${pass ? "PASS" : "FAIL"} — ${decodedCount.toLocaleString()} of ${MESSAGES.toLocaleString()} messages round-tripped intact, ${failures} damaged`);
process.exit(pass ? 0 : 1);
