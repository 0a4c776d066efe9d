// Runs a script on the NodeMCU imitation in fengari (Lua 5.3 with 32-bit integers, as NodeMCU's default 5.3
// build has), in this Node process. fengari has no luasocket, so the imitation's transport is this file's:
// the calls of imitation/transport-luasocket.lua (connect, send, close, poll, now, files) on node:net sockets,
// with the same events, and TLS (node:tls), which luasocket does not have. The loop is inverted: Node's event
// loop runs, and calls the session's step() whenever a socket event or the next timer is due.

import net from "node:net";
import tls from "node:tls";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
// fengari ships no types.
// @ts-expect-error no declaration file
import * as fengari from "fengari";

const { lua, lauxlib, lualib, to_luastring } = fengari as {
  lua: Record<string, any>;
  lauxlib: Record<string, any>;
  lualib: Record<string, any>;
  to_luastring: (s: string) => Uint8Array;
};

const IMITATION = path.join(path.dirname(fileURLToPath(import.meta.url)), "imitation");
const SEGMENT = 1460;

interface Event {
  id: number;
  kind: "connected" | "data" | "closed" | "reset" | "refused" | "failed";
  data?: Uint8Array;
}

export interface LuaRun {
  lines: string[];
  passed: boolean;
}

/** Set stop to end a run from outside, as power loss would: connections drop, nothing more is sent. */
export interface FengariControl {
  stop: boolean;
  /** Called by the run: wakes it at once when stop is set (set by runFengari). */
  wake?: () => void;
}

/** The transport: TCP over node:net, reporting what happened as events for poll(). */
class NodeTransport {
  private readonly sockets = new Map<number, net.Socket>();
  private readonly events: Event[] = [];
  private nextId = 0;
  /** Called when an event arrives, so the loop runs at once instead of at its next timer. */
  wake: () => void = () => {};

  constructor(readonly directory: string | null) {}

  /** A TCP connection, or with `secure` a TLS one (checking the broker's certificate against `ca` when given). */
  connect(host: string, port: number, secure: boolean, ca: Uint8Array | null): number {
    const id = ++this.nextId;
    const socket = secure
      ? tls.connect({ host, port, ca: ca === null ? undefined : Buffer.from(ca), rejectUnauthorized: ca !== null })
      : net.connect({ host, port });
    socket.setNoDelay(true);
    this.sockets.set(id, socket);
    socket.on(secure ? "secureConnect" : "connect", () => this.push({ id, kind: "connected" }));
    socket.on("data", (data: Buffer) => {
      for (let at = 0; at < data.length; at += SEGMENT) {
        this.push({ id, kind: "data", data: Uint8Array.from(data.subarray(at, at + SEGMENT)) });
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.sockets.delete(id);
      this.push({ id, kind: error.code === "ECONNREFUSED" ? "refused" : error.code === "ECONNRESET" ? "reset" : "failed" });
    });
    socket.on("end", () => {
      if (this.sockets.delete(id)) this.push({ id, kind: "closed" });
      socket.destroy();
    });
    return id;
  }

  send(id: number, data: Uint8Array): boolean {
    const socket = this.sockets.get(id);
    if (socket === undefined) return false;
    socket.write(Buffer.from(data));
    return true;
  }

  close(id: number): void {
    const socket = this.sockets.get(id);
    this.sockets.delete(id);
    socket?.end();
  }

  closeAll(): void {
    for (const socket of this.sockets.values()) socket.destroy();
    this.sockets.clear();
  }

  resetAll(): void {
    for (const [id, socket] of this.sockets) {
      socket.resetAndDestroy();
      this.push({ id, kind: "reset" });
    }
    this.sockets.clear();
  }

  take(): Event[] {
    return this.events.splice(0, this.events.length);
  }

  private push(event: Event): void {
    this.events.push(event);
    this.wake();
  }
}

function pushString(L: unknown, value: string | Uint8Array): void {
  lua.lua_pushstring(L, typeof value === "string" ? to_luastring(value) : value);
}

function setFunction(L: unknown, name: string, fn: (L: unknown) => number): void {
  lua.lua_pushjsfunction(L, fn);
  lua.lua_setfield(L, -2, to_luastring(name));
}

/** The transport table the imitation gets, as the luasocket one (imitation/transport-luasocket.lua). */
function pushTransport(L: unknown, transport: NodeTransport, board: string): void {
  const started = performance.now();
  lua.lua_newtable(L);
  pushString(L, board);
  lua.lua_setfield(L, -2, to_luastring("board"));
  setFunction(L, "now", (L) => {
    lua.lua_pushnumber(L, (performance.now() - started) / 1000);
    return 1;
  });
  setFunction(L, "loadfile", (L) => {
    const name = lua.lua_tojsstring(L, 1) as string;
    if (lauxlib.luaL_loadfile(L, to_luastring(path.join(IMITATION, name))) !== lua.LUA_OK) {
      return lua.lua_error(L);
    }
    return 1;
  });
  lua.lua_pushboolean(L, true);
  lua.lua_setfield(L, -2, to_luastring("tlsAvailable"));
  setFunction(L, "connect", (L) => {
    const ca = lua.lua_isstring(L, 4) ? (lua.lua_tolstring(L, 4) as Uint8Array) : null;
    lua.lua_pushinteger(L, transport.connect(lua.lua_tojsstring(L, 1), lua.lua_tointeger(L, 2), lua.lua_toboolean(L, 3), ca));
    return 1;
  });
  setFunction(L, "send", (L) => {
    lua.lua_pushboolean(L, transport.send(lua.lua_tointeger(L, 1), lua.lua_tolstring(L, 2)));
    return 1;
  });
  setFunction(L, "close", (L) => {
    transport.close(lua.lua_tointeger(L, 1));
    return 0;
  });
  setFunction(L, "closeAll", () => {
    transport.closeAll();
    return 0;
  });
  setFunction(L, "resetAll", () => {
    transport.resetAll();
    return 0;
  });
  // poll never waits here: Node's loop does the waiting (see runFengari).
  setFunction(L, "poll", (L) => {
    const events = transport.take();
    lua.lua_createtable(L, events.length, 0);
    events.forEach((event, index) => {
      lua.lua_createtable(L, 0, 3);
      lua.lua_pushinteger(L, event.id);
      lua.lua_setfield(L, -2, to_luastring("id"));
      pushString(L, event.kind);
      lua.lua_setfield(L, -2, to_luastring("kind"));
      if (event.data !== undefined) {
        pushString(L, event.data);
        lua.lua_setfield(L, -2, to_luastring("data"));
      }
      lua.lua_rawseti(L, -2, index + 1);
    });
    return 1;
  });
  setFunction(L, "path", (L) => {
    const name = lua.lua_tojsstring(L, 1) as string;
    pushString(L, transport.directory !== null && !name.startsWith("/") ? path.join(transport.directory, name) : name);
    return 1;
  });
  setFunction(L, "readFile", (L) => {
    const file = path.join(transport.directory ?? ".", lua.lua_tojsstring(L, 1));
    if (fs.existsSync(file)) pushString(L, new Uint8Array(fs.readFileSync(file)));
    else lua.lua_pushnil(L);
    return 1;
  });
  setFunction(L, "writeFile", (L) => {
    fs.writeFileSync(path.join(transport.directory ?? ".", lua.lua_tojsstring(L, 1)), lua.lua_tolstring(L, 2));
    lua.lua_pushboolean(L, true);
    return 1;
  });
}

/**
 * Runs `script` on the imitation in fengari until it finishes (or its timeLimitMs passes), as
 * imitation/run.lua does on lua5.1/lua5.3. `settings` are its test.config; NODEMCU_DIR and NODEMCU_BOARD as
 * there come from `environment`.
 */
export async function runFengari(script: string, settings: Record<string, string>,
  environment: { NODEMCU_DIR?: string; NODEMCU_BOARD?: string } = {}, control: FengariControl = { stop: false },
  lines: string[] = []): Promise<LuaRun> {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const transport = new NodeTransport(environment.NODEMCU_DIR ?? null);
  // session.start(transport, script, settings, write), kept in a global for step().
  if (lauxlib.luaL_loadfile(L, to_luastring(path.join(IMITATION, "session.lua"))) !== lua.LUA_OK ||
    lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) {
    throw new Error(`fengari: ${lua.lua_tojsstring(L, -1)}`);
  }
  lua.lua_getfield(L, -1, to_luastring("start"));
  pushTransport(L, transport, environment.NODEMCU_BOARD ?? "esp8266");
  pushString(L, script);
  lua.lua_createtable(L, 0, 0);
  for (const [key, value] of Object.entries(settings)) {
    pushString(L, value);
    lua.lua_setfield(L, -2, to_luastring(key));
  }
  lua.lua_pushjsfunction(L, (L: unknown) => {
    lines.push(lua.lua_tojsstring(L, 1));
    return 0;
  });
  if (lua.lua_pcall(L, 4, 1, 0) !== lua.LUA_OK) {
    throw new Error(`fengari: ${lua.lua_tojsstring(L, -1)}`);
  }
  lua.lua_setglobal(L, to_luastring("session"));

  let wakeUp: (() => void) | null = null;
  transport.wake = () => {
    if (wakeUp !== null) wakeUp();
  };
  control.wake = transport.wake;
  let finished = false;
  let passed = false;
  while (!finished && !control.stop) {
    lua.lua_getglobal(L, to_luastring("session"));
    lua.lua_getfield(L, -1, to_luastring("step"));
    lua.lua_pushnumber(L, 0.05);
    if (lua.lua_pcall(L, 1, 2, 0) !== lua.LUA_OK) {
      throw new Error(`fengari: ${lua.lua_tojsstring(L, -1)}`);
    }
    const wait = lua.lua_tonumber(L, -2) as number;
    finished = lua.lua_toboolean(L, -1) as boolean;
    lua.lua_settop(L, 0);
    if (!finished && !control.stop) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          wakeUp = null;
          resolve();
        }, Math.max(0, Math.min(wait, 0.05) * 1000));
        wakeUp = () => {
          clearTimeout(timer);
          wakeUp = null;
          resolve();
        };
      });
    }
  }
  lua.lua_getglobal(L, to_luastring("session"));
  lua.lua_getfield(L, -1, to_luastring("test"));
  lua.lua_getfield(L, -1, to_luastring("passed"));
  passed = lua.lua_toboolean(L, -1) as boolean;
  transport.closeAll();
  return { lines, passed };
}
