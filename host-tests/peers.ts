// Real peers for the suites: the embedded Aedes broker (always available) and Debian's mosquitto (where
// installed). A suite whose peer is missing skips locally, saying what to install, and fails under CI=true.

import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync, ChildProcess } from "node:child_process";
import { startEmbeddedBroker } from "../simulator/broker";

export interface Broker {
  host: string;
  port: number;
  /** TLS options for clients of a TLS listener. */
  tls?: import("node:tls").ConnectionOptions;
  close(): Promise<void>;
}

export function startAedes(): Promise<Broker> {
  return startEmbeddedBroker();
}

/** Where a peer program is, or null. */
export function findProgram(name: string): string | null {
  const found = spawnSync("sh", ["-c", `command -v ${name} || ls /usr/sbin/${name} 2>/dev/null`], { encoding: "utf8" });
  const line = found.stdout.trim().split("\n")[0];
  return line ? line : null;
}

/**
 * Whether a suite that needs `program` can run. Locally a missing peer is reported and the suite skips;
 * under CI=true it must be there, so the caller's suite fails instead.
 */
export function peerAvailable(program: string, install: string): boolean {
  if (findProgram(program) !== null) {
    return true;
  }
  if (process.env.CI === "true") {
    throw new Error(`${program} is missing, and CI=true forbids skipping: ${install}`);
  }
  console.warn(`skipping the ${program} suite: ${program} is not installed (${install})`);
  return false;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => { socket.destroy(); resolve(true); });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on port ${port} within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Mosquitto extends Broker {
  /** Stops the broker with SIGSTOP: it holds its sockets open but reads, answers and saves nothing. */
  freeze(): void;
  /** Kills the broker with SIGKILL (no clean shutdown) and starts it again on the same port and store. */
  killAndRestart(): Promise<void>;
  readonly directory: string;
}

/** Starts Debian's mosquitto on a free loopback port; `extra` lines are added to its configuration. */
export async function startMosquitto(extra: string[] = []): Promise<Mosquitto> {
  const program = findProgram("mosquitto");
  if (program === null) throw new Error("mosquitto is not installed: apt-get install mosquitto");
  const port = await freePort();
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "starling-mosquitto-"));
  const config = path.join(directory, "mosquitto.conf");
  fs.writeFileSync(config, [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    // Started as root (as in CI), mosquitto would switch to its own user, which cannot read the test's
    // private temporary files; as any other user this line does nothing.
    "user root",
    "persistence true",
    `persistence_location ${directory}/`,
    "autosave_interval 1",
    "max_keepalive 65535",
    ...extra,
  ].join("\n") + "\n");
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(program, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr?.on("data", (data: Buffer) => { log += data.toString(); });
    child.once("exit", (code) => {
      if (code !== null && code !== 0) console.warn(`mosquitto exited with ${code}: ${log}`);
    });
    await waitForPort(port, 5000);
  };
  await launch();
  return {
    host: "127.0.0.1",
    port,
    directory,
    freeze() {
      child.kill("SIGSTOP");
    },
    async killAndRestart() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
      await launch();
    },
    async close() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
