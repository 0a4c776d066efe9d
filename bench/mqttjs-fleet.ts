// The peer of bench/fleet.ts: a fleet of MQTT.js clients doing what starling's telemetry scenario does, the
// way a load script is usually written (one process, one client object per device, one timer each), with
// an MQTT.js observer that counts each message once. It prints one JSON line of results.
//
//   tsx bench/mqttjs-fleet.ts DEVICES RATE DURATION RAMP KEEPALIVE BROKER_URL[,BROKER_URL...]

import mqtt from "mqtt";
import { HEADER_BYTES, writeHeader } from "../simulator/observer";
import { proportionalSetSize } from "../simulator/memory";

export interface MqttJsFleetResult {
  devices: number;
  connected: number;
  /** Resident memory with every client that could connect connected, and before the first was made. */
  rssBytes: number;
  baselineBytes: number;
  /** Proportional set size at its highest (Linux), or null. */
  pssBytes: number | null;
  /** From the first connect attempt to the last first connection. */
  connectSeconds: number;
  published: number;
  /** Messages the observer received, each (device, sequence) counted once. */
  verified: number;
  trafficSeconds: number;
  errors: number;
  firstError: string;
}

async function main(): Promise<void> {
  const [devices, rate, duration, ramp, keepalive] = process.argv.slice(2, 7).map(Number);
  const brokers = process.argv[7].split(",");
  const baselineBytes = process.memoryUsage.rss();
  const seen = new Set<number>();
  const observers: mqtt.MqttClient[] = [];
  for (const url of brokers) {
    const observer = await mqtt.connectAsync(url, { clientId: `mqttjs-observer-${process.pid}-${observers.length}`, keepalive });
    await observer.subscribeAsync("mqttjs/+/telemetry", { qos: 1 });
    observer.on("message", (_topic, payload) => {
      if (payload.length < HEADER_BYTES) return;
      seen.add(payload.readUInt32BE(0) * 100_000 + payload.readUInt32BE(4));
    });
    observers.push(observer);
  }
  const result: MqttJsFleetResult = {
    devices, connected: 0, rssBytes: 0, baselineBytes, pssBytes: proportionalSetSize(), connectSeconds: 0, published: 0, verified: 0,
    trafficSeconds: duration, errors: 0, firstError: "",
  };
  const clients: mqtt.MqttClient[] = [];
  const started = Date.now();
  let lastConnected = started;
  const trafficEnd = started + (ramp + duration) * 1000;
  for (let i = 0; i < devices; i++) {
    setTimeout(() => {
      const client = mqtt.connect(brokers[i % brokers.length], {
        clientId: `mqttjs-${i}`, keepalive, clean: true, reconnectPeriod: 1000, connectTimeout: 30_000,
      });
      clients.push(client);
      let first = true;
      client.on("connect", () => {
        if (!first) return;
        first = false;
        result.connected++;
        lastConnected = Date.now();
        let sequence = 0;
        const payload = Buffer.alloc(64);
        const interval = 1000 / rate;
        const firstAt = started + ramp * 1000 + Math.random() * interval;
        const publish = () => {
          if (Date.now() >= trafficEnd) return;
          writeHeader(payload, i, sequence, Date.now());
          client.publish(`mqttjs/${i}/telemetry`, payload, { qos: 1 });
          result.published++;
          sequence++;
          setTimeout(publish, firstAt + sequence * interval - Date.now());
        };
        setTimeout(publish, firstAt - Date.now());
      });
      client.on("error", (error) => {
        result.errors++;
        if (result.firstError === "") result.firstError = `${(error as NodeJS.ErrnoException).code ?? ""} ${error.message}`.trim();
      });
    }, (ramp * 1000 * i) / devices);
  }
  // Memory at its highest, sampled each second while the traffic runs.
  const sampler = setInterval(() => {
    try {
      result.rssBytes = Math.max(result.rssBytes, process.memoryUsage.rss());
      const pss = proportionalSetSize();
      result.pssBytes = pss === null || result.pssBytes === null ? null : Math.max(result.pssBytes, pss);
    } catch {
      // Reading it opens a file: at the open-file limit (EMFILE) the last reading stands.
    }
  }, 1000);
  await new Promise((resolve) => setTimeout(resolve, (ramp + duration) * 1000 + 5000));
  clearInterval(sampler);
  result.connectSeconds = (lastConnected - started) / 1000;
  result.verified = seen.size;
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

void main();
