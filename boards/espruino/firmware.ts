// The reference firmware for the Espruino boards (ESP32, ESP8266): a maker's starting point. It joins WiFi
// (retrying with backoff), keeps an MQTT connection through the starling module in Storage, announces itself
// with a retained `online` (and leaves a retained `offline` as its will), publishes telemetry at QoS 1,
// and answers commands with an acknowledgement. Its settings live in Storage (starling.json), so the same
// firmware serves every board of a kind; the board's profile (boards/<board>/profile.json) is put in by the
// build as PROFILE. It uses only the module's public API and Espruino's documented modules.
//
// Topics, under `<topicPrefix>/<device>/`:
//   status     "online" (retained, on each connection) / "offline" (retained, the will)
//   telemetry  {"seq", "uptime", "memory": {"usage", "free", "total"}, "clientVariables"}, QoS 1
//   command    subscribed at QoS 1: {"id": any, "command": "ping" | "interval", "seconds": n}
//   ack        the answer to each command, QoS 1: {"id", "ok": true | false, "error"?, "telemetrySeconds"?}

import type { EspruinoClient, Endpoint } from "../../device/platform/espruino/client";
import type { EngineOptions } from "../../device/engine/options";
import type { Will, Packet } from "../../device/codec/packets";
import type { ClientSizes } from "./profile";
import { SETTINGS_FILE, MIN_SECONDS, MAX_SECONDS } from "./settings";

/** What starling.json in Storage holds (boards/README.md). */
interface Settings {
  wifi: { ssid: string; password: string };
  /** As Endpoint, but `ca`, `key` and `cert` in base64 (a PEM file's body): JSON cannot hold their bytes. */
  broker: Endpoint;
  /** The client id and the device's part of every topic. */
  device: string;
  topicPrefix: string;
  telemetrySeconds: number;
  /** 4 (MQTT 3.1.1) or 5 (MQTT 5.0, with the 3.1.1 + 5.0 module); the profile's when absent. */
  protocolVersion?: number;
  username?: string;
  password?: string;
}

interface Starling {
  EspruinoClient: typeof EspruinoClient;
  EngineOptions: typeof EngineOptions;
  Will: typeof Will;
  topicText(message: Packet): string;
  payloadText(message: Packet): string;
}

interface StorageModule {
  readJSON(name: string, noExceptions: boolean): unknown;
  writeJSON(name: string, data: unknown): boolean;
}

interface WifiModule {
  connect(ssid: string, options: { password: string }, callback: (error: string | null) => void): void;
  disconnect(callback?: () => void): void;
  /** The station's addresses now (ip absent while not connected), and to the callback. */
  getIP(callback?: (details: { ip?: string; mac: string }) => void): { ip?: string; mac: string };
  on(event: "connected" | "disconnected", listener: (details: unknown) => void): void;
}

declare function require(name: "Storage"): StorageModule;
declare function require(name: "Wifi"): WifiModule;
declare function require(name: "starling"): Starling;
declare function print(...values: unknown[]): void;
declare function getTime(): number;
declare const E: { toUint8Array(text: string): Uint8Array };
declare function atob(base64: string): string;
declare const process: { memory(): { usage: number; free: number; total: number } };
/** The board's profile, put in by the build (scripts/build-boards.ts). */
declare const PROFILE: { name: string; client: ClientSizes; memory: { total: number } };

/** WiFi: a join that has not succeeded after this long is abandoned and retried. */
const JOIN_TIMEOUT_MS = 20000;
const WIFI_BACKOFF_INITIAL_MS = 1000;
const WIFI_BACKOFF_MAX_MS = 60000;

const Storage = require("Storage");
const wifi = require("Wifi");
const settings = Storage.readJSON(SETTINGS_FILE, true) as Settings | undefined;

function topic(leaf: string): string {
  return settings!.topicPrefix + "/" + settings!.device + "/" + leaf;
}

function start(): void {
  const s = settings!;
  const starling = require("starling");
  const options = new starling.EngineOptions();
  const sizes = PROFILE.client as Record<string, number>;
  for (const key in sizes) {
    (options as unknown as Record<string, number>)[key] = sizes[key];
  }
  if (s.protocolVersion !== undefined) options.protocolVersion = s.protocolVersion;
  options.clientId = s.device;
  options.cleanStart = false;
  options.sessionExpiry = 3600;
  if (s.username !== undefined) options.username = s.username;
  if (s.password !== undefined) options.password = E.toUint8Array(s.password);
  const will = new starling.Will();
  will.topic = topic("status");
  will.payload = E.toUint8Array("offline");
  will.qos = 1;
  will.retain = true;
  options.will = will;

  // tls.connect wants the certificates' bytes ("the decoded content of the certificate").
  const endpoint: Endpoint = { host: s.broker.host, port: s.broker.port, tls: s.broker.tls };
  if (s.broker.ca !== undefined) endpoint.ca = atob(s.broker.ca);
  if (s.broker.key !== undefined) endpoint.key = atob(s.broker.key);
  if (s.broker.cert !== undefined) endpoint.cert = atob(s.broker.cert);
  // What the client costs, as the interpreter counts it, beside what the profile says it should.
  const before = process.memory().usage;
  const client = new starling.EspruinoClient(endpoint, options, {
    connected: function (): void {
      print("starling: connected to " + s.broker.host);
      client.publish(topic("status"), "online", 1, true);
    },
    disconnected: function (code: number): void {
      print("starling: link down (" + code + "), reconnecting");
    },
    message: function (message: Packet): void {
      if (starling.topicText(message) === topic("command")) command(starling.payloadText(message));
    },
    acknowledged: function (): void {},
  });
  const clientVariables = process.memory().usage - before;
  print("starling: " + PROFILE.name + " client uses " + clientVariables + " variables (profile: " +
    PROFILE.memory.total + ")");

  let seq = 0;
  let telemetryTimer: ReturnType<typeof setInterval> | null = null;
  function telemetry(): void {
    const memory = process.memory();
    seq++;
    client.publish(topic("telemetry"), JSON.stringify({ seq: seq, uptime: Math.round(getTime()),
      memory: { usage: memory.usage, free: memory.free, total: memory.total }, clientVariables: clientVariables }), 1, false);
  }
  function scheduleTelemetry(): void {
    if (telemetryTimer !== null) clearInterval(telemetryTimer);
    telemetryTimer = setInterval(telemetry, s.telemetrySeconds * 1000);
  }

  function acknowledge(id: unknown, error: string | null): void {
    const answer: Record<string, unknown> = { id: id, ok: error === null };
    if (error !== null) answer.error = error;
    else answer.telemetrySeconds = s.telemetrySeconds;
    client.publish(topic("ack"), JSON.stringify(answer), 1, false);
  }

  function command(text: string): void {
    let request: { id?: unknown; command?: unknown; seconds?: unknown };
    try {
      request = JSON.parse(text);
    } catch (e) {
      acknowledge(null, "not JSON");
      return;
    }
    if (typeof request !== "object" || request === null) {
      acknowledge(null, "not an object");
      return;
    }
    const id = request.id === undefined ? null : request.id;
    if (request.command === "ping") {
      acknowledge(id, null);
    } else if (request.command === "interval") {
      const seconds = request.seconds;
      if (typeof seconds !== "number" || !(seconds >= MIN_SECONDS && seconds <= MAX_SECONDS)) {
        acknowledge(id, "seconds must be " + MIN_SECONDS + " to " + MAX_SECONDS);
        return;
      }
      s.telemetrySeconds = seconds;
      Storage.writeJSON(SETTINGS_FILE, s);
      scheduleTelemetry();
      acknowledge(id, null);
    } else {
      acknowledge(id, "unknown command");
    }
  }

  // WiFi: join, and join again with backoff (full jitter) whenever the link is lost or a join fails.
  let attempt = 0;
  let joinTimer: ReturnType<typeof setTimeout> | null = null;
  let joined = false;
  let clientStarted = false;
  function retryJoin(): void {
    if (joinTimer !== null) clearTimeout(joinTimer);
    let cap = WIFI_BACKOFF_INITIAL_MS * Math.pow(2, attempt);
    if (cap > WIFI_BACKOFF_MAX_MS) cap = WIFI_BACKOFF_MAX_MS;
    attempt++;
    const delay = Math.random() * cap;
    print("starling: WiFi join again in " + Math.round(delay) + " ms");
    joinTimer = setTimeout(join, delay);
  }
  function join(): void {
    joinTimer = null;
    joined = false;
    wifi.connect(s.wifi.ssid, { password: s.wifi.password }, (error) => {
      if (error) {
        print("starling: WiFi " + error);
        retryJoin();
      }
    });
    // The radio reports only a wrong password; any other failure is known by the join not completing.
    joinTimer = setTimeout(() => {
      joinTimer = null;
      if (!joined) retryJoin();
    }, JOIN_TIMEOUT_MS);
  }
  wifi.on("connected", () => {
    joined = true;
    attempt = 0;
    if (joinTimer !== null) {
      clearTimeout(joinTimer);
      joinTimer = null;
    }
    print("starling: WiFi up, " + wifi.getIP().ip);
    if (!clientStarted) {
      clientStarted = true;
      client.connect();
      // Once: the client keeps its subscriptions across reconnections (and subscribes again if the broker
      // lost the session); subscribing on every connection would take a new slot each time.
      const id = client.subscribe(topic("command"), 1);
      if (id < 0) print("starling: cannot subscribe to commands (" + id + ")");
      scheduleTelemetry();
    }
  });
  wifi.on("disconnected", () => {
    if (joined) {
      joined = false;
      print("starling: WiFi lost");
      retryJoin();
    }
  });
  join();
}

if (settings === undefined) {
  print("starling: no " + SETTINGS_FILE + " in Storage: write it first (boards/README.md)");
} else {
  start();
}
