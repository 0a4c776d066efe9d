// The Espruino sandbox (README.md): a node:vm context with only what Espruino offers, whose `net` and `tls`
// sockets are bridged to real TCP (node:net, node:tls) and whose Wifi joins an access point this side
// controls. The Espruino side is espruino-runtime.js; this is the Node side of the bridge.

import crypto from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import vm from "node:vm";
import { bufferVariables } from "../../../boards/espruino/profile";
import { ARRAY_METHODS } from "../syntax";

const RUNTIME = readFileSync(new URL("./espruino-runtime.js", import.meta.url), "utf8");

export interface SandboxOptions {
  /** process.env.BOARD and the memory process.memory() reports. */
  board?: string;
  variables?: number;
  variableBytes?: number;
  /** Files in Storage at power-on. */
  storage?: Record<string, string>;
  /**
   * The Wifi module and the access points in range (ssid -> password). Without it there is no Wifi module and
   * the network is always up, as on a board whose WiFi was joined before the code ran.
   */
  accessPoints?: Record<string, string>;
  /** Milliseconds the radio takes to join. */
  joinMs?: number;
  /** Received data is handed out in segments of 1 to this many bytes, sizes drawn from `seed`. */
  maxSegment?: number;
  seed?: number;
}

/** Espruino's socket error codes (its reference, Socket "error": -9 is "connection reset (or refused)") for Node's. */
const SOCKET_ERROR: Record<string, number> = {
  ETIMEDOUT: -3, ENOTFOUND: -6, EAI_AGAIN: -6, ECONNRESET: -9, EPIPE: -9, ECONNREFUSED: -9,
  EHOSTUNREACH: -4, ENETUNREACH: -4,
};
const SOCKET_ERROR_UNKNOWN = -10;
const SOCKET_ERROR_TLS = -13;

// Espruino's tls.connect takes `ca`, `key` and `cert` as "the decoded content of the certificate" (DER bytes, as
// a binary string: atob of a PEM file's body); Node wants PEM.
function certificatePem(der: string | null): string | undefined {
  return der === null ? undefined : new crypto.X509Certificate(Buffer.from(der, "latin1")).toString();
}

function privateKeyPem(der: string | null): string | undefined {
  if (der === null) return undefined;
  const bytes = Buffer.from(der, "latin1");
  for (const type of ["pkcs8", "pkcs1", "sec1"] as const) {
    try {
      return crypto.createPrivateKey({ key: bytes, format: "der", type }).export({ format: "pem", type: "pkcs8" }) as string;
    } catch {
      // Not this encoding: try the next.
    }
  }
  throw new Error("tls.connect: key is not a DER private key (PKCS#8, PKCS#1 or SEC1)");
}

interface Bridge {
  socketEvent(id: number, event: string, value?: string | number): void;
  accessPointChanged(up: boolean): void;
  writeFile(name: string, text: string): void;
  readFile(name: string): string | undefined;
}

export class EspruinoSandbox {
  readonly context: vm.Context;
  /** Lines the code printed (print, console.log). */
  readonly output: string[] = [];
  /** Exceptions nothing caught: Espruino prints them and carries on; a test should find none. */
  readonly uncaught: string[] = [];
  /** Bytes each bridged socket sent, as Espruino put them on the wire. */
  readonly sent = new Map<number, string[]>();
  private readonly bridge: Bridge;
  private readonly sockets = new Map<number, net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly accessPoints: Map<string, string>;
  private readonly inRange = new Set<string>();
  private readonly maxSegment: number;
  private random: number;
  private poweredOff = false;
  /** While true, what the code writes is dropped before the broker sees it (a link that died mid-flight). */
  dropWrites = false;

  constructor(options: SandboxOptions = {}) {
    this.maxSegment = options.maxSegment ?? 300;
    this.random = options.seed ?? 1;
    this.accessPoints = new Map(Object.entries(options.accessPoints ?? {}));
    for (const ssid of this.accessPoints.keys()) this.inRange.add(ssid);
    const variableBytes = options.variableBytes ?? 14;
    this.context = vm.createContext({}, { name: "espruino", codeGeneration: { strings: true, wasm: false } });
    const host = {
      now: () => performance.now(),
      setTimer: (fn: () => void, ms: number, repeat: boolean) => this.setTimer(fn, ms, repeat),
      clearTimer: (handle: NodeJS.Timeout) => this.clearTimer(handle),
      print: (line: string) => { this.output.push(line); },
      uncaught: (text: string) => { this.uncaught.push(text); },
      bufferVariables: (bytes: number) => bufferVariables(bytes, variableBytes),
      compileModule: (name: string, text: string) =>
        vm.compileFunction(text, ["exports", "module"], { parsingContext: this.context, filename: `Storage:${name}` }),
      socketConnect: (id: number, host: string, port: number, secure: boolean, ca: string | null, key: string | null,
        cert: string | null) => this.connect(id, host, port, secure, ca, key, cert),
      socketWrite: (id: number, text: string) => this.write(id, text),
      socketEnd: (id: number) => { this.sockets.get(id)?.end(); },
      accessPoint: (ssid: string) => (this.inRange.has(ssid) ? this.accessPoints.get(ssid)! : null),
      networkDown: () => this.cutLinks(),
      load: () => {
        // load() restarts: the code that called it stops, and the boot files run on a fresh start.
        const timer: NodeJS.Timeout = setTimeout(() => {
          this.timers.delete(timer);
          this.boot();
        }, 0);
        this.timers.add(timer);
      },
    };
    const config = {
      board: options.board ?? "ESP32",
      version: "2v24",
      variables: options.variables ?? 16000,
      variableBytes,
      // What a fresh interpreter holds before the code runs is not modelled (README.md).
      baseVariables: 0,
      storageFree: 200000,
      wifi: options.accessPoints === undefined ? null : { joinMs: options.joinMs ?? 20 },
      arrayMethods: [...ARRAY_METHODS],
    };
    const install = vm.runInContext(RUNTIME, this.context, { filename: "espruino-runtime.js" }) as
      (h: typeof host, c: typeof config) => Bridge;
    this.bridge = install(host, config);
    for (const [name, text] of Object.entries(options.storage ?? {})) this.bridge.writeFile(name, text);
  }

  /** Runs code at the top level, as Espruino runs what is uploaded or saved in .boot0. */
  run(code: string, filename = "code.js"): unknown {
    return vm.runInContext(code, this.context, { filename });
  }

  /** Loads module text as require() loads a module from Storage, and returns its exports. */
  loadModule(name: string, text: string): Record<string, any> {
    this.bridge.writeFile(name, text);
    return this.run(`require(${JSON.stringify(name)})`) as Record<string, any>;
  }

  readFile(name: string): string | undefined {
    return this.bridge.readFile(name);
  }

  /** Runs Storage's .boot0, as Espruino does at power-on. */
  boot(): void {
    const code = this.bridge.readFile(".boot0");
    if (code === undefined) throw new Error("no .boot0 in Storage");
    this.run(code, "Storage:.boot0");
  }

  /** The access point comes into or goes out of range (with `password`: now asks for that one). */
  setAccessPoint(ssid: string, inRange: boolean, password?: string): void {
    if (password !== undefined) this.accessPoints.set(ssid, password);
    if (inRange) this.inRange.add(ssid);
    else this.inRange.delete(ssid);
    this.bridge.accessPointChanged(inRange);
  }

  /** Every open link breaks (a router reset): the broker sees the TCP connection die, the code an error. */
  cutLinks(): void {
    for (const [id, socket] of this.sockets) {
      this.sockets.delete(id);
      socket.destroy();
      this.deliver(id, "error", SOCKET_ERROR.ECONNRESET);
      this.deliver(id, "close");
    }
  }

  /** The board loses power: its links die without a word to the broker, and no code runs any more. */
  powerOff(): void {
    this.poweredOff = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets.values()) socket.destroy();
    this.sockets.clear();
  }

  get openLinks(): number {
    return this.sockets.size;
  }

  private setTimer(fn: () => void, ms: number, repeat: boolean): NodeJS.Timeout {
    const timer: NodeJS.Timeout = repeat
      ? setInterval(fn, ms)
      : setTimeout(() => {
        this.timers.delete(timer);
        fn();
      }, ms);
    this.timers.add(timer);
    return timer;
  }

  private clearTimer(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** Hands an event to the code on a later turn, as Espruino's idle loop does. */
  private deliver(id: number, event: string, value?: string | number): void {
    const timer: NodeJS.Timeout = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.poweredOff) this.bridge.socketEvent(id, event, value);
    }, 0);
    this.timers.add(timer);
  }

  private connect(id: number, host: string, port: number, secure: boolean, ca: string | null, key: string | null,
    cert: string | null): void {
    const socket = secure
      ? tls.connect({ host, port, ca: certificatePem(ca), key: privateKeyPem(key), cert: certificatePem(cert),
        servername: net.isIP(host) === 0 ? host : undefined })
      : net.connect({ host, port });
    this.sockets.set(id, socket);
    this.sent.set(id, []);
    let connected = false;
    socket.once(secure ? "secureConnect" : "connect", () => {
      connected = true;
      this.deliver(id, "connect");
    });
    socket.on("data", (data: Buffer) => {
      // Espruino hands out what arrived as binary strings, in pieces of whatever size the stack had.
      for (let at = 0; at < data.length;) {
        const size = Math.min(data.length - at, 1 + (this.nextRandom() % this.maxSegment));
        this.deliver(id, "data", data.toString("latin1", at, at + size));
        at += size;
      }
    });
    socket.on("end", () => this.deliver(id, "end"));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      const code = SOCKET_ERROR[error.code ?? ""] ?? (secure ? SOCKET_ERROR_TLS : SOCKET_ERROR_UNKNOWN);
      this.deliver(id, "error", code);
    });
    socket.on("close", () => {
      if (this.sockets.get(id) !== socket) return; // cut or powered off: already told, or nobody to tell
      this.sockets.delete(id);
      // A connection never made ends with its error alone (Espruino sends no close for it).
      if (connected) this.deliver(id, "close");
    });
  }

  private write(id: number, text: string): void {
    this.sent.get(id)?.push(text);
    const socket = this.sockets.get(id);
    if (socket === undefined) return;
    const drained = () => this.deliver(id, "drain");
    if (this.dropWrites) setImmediate(drained);
    else socket.write(Buffer.from(text, "latin1"), drained);
  }

  private nextRandom(): number {
    // xorshift32: segment sizes reproducible from the seed.
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x >>> 0;
    return this.random;
  }
}
