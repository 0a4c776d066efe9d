// Helpers the sandbox suites share: an independent observer on the broker (MQTT.js), and waiting for what a
// sandboxed program prints.

import { connectAsync, MqttClient } from "mqtt";
import type { EspruinoSandbox } from "./sandbox";

export interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** An MQTT.js client subscribed to `filter` that keeps what it receives. */
export class Observer {
  readonly messages: Received[] = [];
  private constructor(private readonly client: MqttClient) {
    client.on("message", (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString("latin1"), qos: packet.qos, retain: packet.retain });
    });
  }

  static async start(host: string, port: number, filter: string): Promise<Observer> {
    const client = await connectAsync({ host, port, protocolVersion: 4, clientId: `observer-${Math.random()}`, reconnectPeriod: 0 });
    const observer = new Observer(client);
    await client.subscribeAsync(filter, { qos: 2 });
    return observer;
  }

  publish(topic: string, payload: string, qos: 0 | 1 | 2): Promise<unknown> {
    return this.client.publishAsync(topic, payload, { qos });
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

/** Waits until `condition` holds (polling), or fails with `what` and the program's output. */
export async function waitFor(condition: () => boolean, what: string, sandbox?: EspruinoSandbox, ms = 8000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) {
      const output = sandbox === undefined ? "" : `\noutput:\n${sandbox.output.join("\n")}\nuncaught:\n${sandbox.uncaught.join("\n")}`;
      throw new Error(`timed out waiting for ${what}${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The lines the program printed that start with `prefix`. */
export function printed(sandbox: EspruinoSandbox, prefix: string): string[] {
  return sandbox.output.filter((line) => line.startsWith(prefix));
}
