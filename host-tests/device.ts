// A device for integration tests: the real engine over the Node driver, with its events recorded and
// waited on.

import { NodeClient } from "../device/platform/node/client";
import { EngineOptions } from "../device/engine";
import { Packet, errorName } from "../device/codec";
import { readUtf8 } from "../device/platform/bytes";
import { Broker } from "./peers";

export interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  dup: boolean;
  /** When it arrived (performance.now()). */
  at: number;
}

export class TestDevice {
  readonly client: NodeClient;
  readonly received: Received[] = [];
  readonly acknowledged: { type: number; packetId: number; reasonCode: number }[] = [];
  readonly disconnects: string[] = [];
  connects = 0;
  sessionPresent = false;
  private waiters: (() => void)[] = [];

  constructor(broker: Broker, configure: (options: EngineOptions) => void) {
    const options = new EngineOptions();
    options.receiveBufferSize = 8192;
    options.messageSlotSize = 2048;
    options.backoffInitialMs = 50;
    options.backoffMaxMs = 500;
    configure(options);
    this.client = new NodeClient({ host: broker.host, port: broker.port, tls: broker.tls ?? null }, options, {
      connected: (sessionPresent) => { this.connects++; this.sessionPresent = sessionPresent; this.wake(); },
      disconnected: (code) => { this.disconnects.push(errorName(code)); this.wake(); },
      message: (packet: Packet) => {
        const buffer = packet.buffer as Uint8Array;
        this.received.push({
          topic: readUtf8(buffer, packet.topicOffset, packet.topicLength),
          payload: readUtf8(buffer, packet.payloadOffset, packet.payloadLength),
          qos: packet.qos, retain: packet.retain, dup: packet.dup, at: performance.now(),
        });
        this.wake();
      },
      acknowledged: (type, packetId, reasonCode) => { this.acknowledged.push({ type, packetId, reasonCode }); this.wake(); },
    });
  }

  get engine() {
    return this.client.engine;
  }

  start(): void {
    this.client.connect();
  }

  stop(): void {
    this.client.disconnect();
  }

  publish(topic: string, payload: string, qos: number, retain = false): number {
    return this.client.publish(topic, payload, qos, retain);
  }

  subscribe(filter: string, qos: number): number {
    return this.client.subscribe(filter, qos);
  }

  /** Resolves when `condition` holds, checking after every event; fails after `timeoutMs`. */
  async until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
