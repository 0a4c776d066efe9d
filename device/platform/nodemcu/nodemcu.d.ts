// Typings for the NodeMCU firmware modules the Lua driver uses, as NodeMCU's documentation describes them
// (modules net, tls, tmr, node and bit; ESP8266 "release" branch and ESP32 "dev-esp32"). Only what the driver
// and the reference firmware call is declared. `@noSelf` marks the module tables, whose functions are called
// with a dot (net.createConnection(...)); a socket's or a timer's methods take their object (sck:send(...)).
// Every callback the firmware calls is `this: void`: it gets exactly the arguments listed.

/** A TCP client socket: net.createConnection(net.TCP) and, on ESP8266, tls.createConnection(). */
export interface NodeMCUSocket {
  /** Starts connecting (DNS first for a name); "connection" follows. Raises "already connected" when open. */
  connect(port: number, host: string): void;
  /**
   * Sends a non-empty string. One send at a time: the next only after the "sent" event of this one (the
   * firmware does not queue sends; a second one may raise "out of memory" or be lost).
   */
  send(data: string): void;
  /** Closes the connection. Raises "not connected" when it is already closed. */
  close(): void;
  on(event: "connection" | "sent", callback: ((this: void, socket: NodeMCUSocket) => void) | null): void;
  /** Fires once per received TCP segment (at most 1460 bytes), with its bytes as a string. */
  on(event: "receive", callback: ((this: void, socket: NodeMCUSocket, data: string) => void) | null): void;
  /**
   * "disconnection": the link ended (code 0 for a normal close). "reconnection": when registered, it gets the
   * abnormal ends instead (lwIP error codes: connection reset, aborted, timed out).
   */
  on(event: "disconnection" | "reconnection",
    callback: ((this: void, socket: NodeMCUSocket, code: number) => void) | null): void;
}

/** @noSelf */
export interface NetModule {
  readonly TCP: number;
  readonly UDP: number;
  createConnection(type: number): NodeMCUSocket;
}

/** @noSelf */
export interface TlsModule {
  /** ESP8266 only (the ESP32 firmware has no TLS for net sockets). */
  createConnection(): NodeMCUSocket;
}

export interface NodeMCUTimer {
  /** Registers the callback; a one-shot (tmr.ALARM_SINGLE) timer unregisters itself when it fires. */
  register(intervalMs: number, mode: number, callback: (this: void, timer: NodeMCUTimer) => void): void;
  /** Starts or restarts the registered timer; false on error. */
  start(): boolean;
  /** Stops a running timer (it stays registered); false when it was not registered. */
  stop(): boolean;
  unregister(): void;
}

/** @noSelf */
export interface TmrModule {
  readonly ALARM_SINGLE: number;
  readonly ALARM_SEMI: number;
  readonly ALARM_AUTO: number;
  create(): NodeMCUTimer;
  /** ESP8266 only: the system counter in microseconds, 31 bits, wrapping to 0 (about every 35 minutes). */
  now?(): number;
}

/** @noSelf */
export interface NodeModule {
  /**
   * Microseconds since boot. On an integer-only 32-bit Lua the first result is the low 31 bits (it wraps
   * about every 35 minutes) and a second result the next 31; either way the first result's low 31 bits count
   * microseconds. ESP32, and ESP8266 builds since 2019.
   */
  uptime?(): number;
  /** Free heap in bytes. */
  heap(): number;
}

/** @noSelf */
export interface BitModule {
  band(a: number, b: number): number;
  bor(a: number, b: number): number;
  bxor(a: number, b: number): number;
  lshift(a: number, n: number): number;
  rshift(a: number, n: number): number;
  arshift(a: number, n: number): number;
}
