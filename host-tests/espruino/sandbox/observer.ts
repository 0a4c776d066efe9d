// Helpers the sandbox suites share: an independent observer on the broker (MQTT.js), waiting for what a
// sandboxed program prints, and an Aedes broker behind TLS with certificates made for the run.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { Aedes } from "aedes";
import { connectAsync, MqttClient } from "mqtt";
import { Broker } from "../../peers";
import { Certificates, makeCertificates } from "../../tls";
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

  /** With `tls`, over TLS trusting that CA. */
  static async start(host: string, port: number, filter: string, tls?: { ca: Buffer }): Promise<Observer> {
    const client = await connectAsync({ host, port, protocolVersion: 4, clientId: `observer-${Math.random()}`, reconnectPeriod: 0,
      ...(tls === undefined ? {} : { protocol: "mqtts" as const, ca: tls.ca }) });
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

export interface TlsBroker extends Broker {
  certificates: Certificates;
}

/** Aedes behind node:tls, with a CA and a server certificate for 127.0.0.1 made by openssl for this run. */
export async function startTlsAedes(): Promise<TlsBroker> {
  const certificates = makeCertificates(mkdtempSync(path.join(os.tmpdir(), "starling-espruino-tls-")));
  const aedes = await Aedes.createBroker();
  const server = tls.createServer({ cert: readFileSync(certificates.serverCert), key: readFileSync(certificates.serverKey) },
    aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    host: "127.0.0.1",
    port: (server.address() as AddressInfo).port,
    certificates,
    async close() {
      server.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      rmSync(certificates.directory, { recursive: true, force: true });
    },
  };
}

/** A PEM file's body: the base64 of its DER bytes, which Espruino's tls.connect wants decoded (atob). */
export function pemBody(file: string): string {
  return readFileSync(file, "utf8").split("\n").filter((line) => !line.startsWith("-----")).join("");
}
