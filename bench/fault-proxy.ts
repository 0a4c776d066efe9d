// What the fault proxy costs: memory per device connection it holds (identified, idle), without and with
// latency, and the throughput of one connection through it against the same connection straight to the
// same sink. The proxy runs in a child process of its own (--expose-gc), so its RSS and heap are its own;
// the "broker" is a sink (a TCP server that reads and discards) in another child.
//
//   npx tsx bench/fault-proxy.ts                          4,000 connections, 256 MB for throughput
//   npx tsx bench/fault-proxy.ts --connections 8000 --megabytes 512
//
// Not a test: nothing here asserts a figure. Mind the open-file limit: the proxy holds two files per
// connection (ulimit -n must exceed twice --connections, plus a few).

import net from "node:net";
import { spawn, ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as mqtt from "mqtt-packet";
import { FaultProxy } from "../simulator/faults/proxy";

interface Usage {
  rss: number;
  heapUsed: number;
}

const script = fileURLToPath(import.meta.url);

/** The child that runs one proxy: prints its port, answers "usage" on stdin with its memory after a GC. */
async function proxyChild(sinkPort: number, latencyMs: number): Promise<void> {
  const proxy = await FaultProxy.start({ host: "127.0.0.1", port: sinkPort });
  proxy.setLatency(latencyMs, latencyMs / 2);
  process.stdout.write(`${proxy.port}\n`);
  process.stdin.on("data", () => {
    (globalThis as { gc?: () => void }).gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ rss, heapUsed, open: proxy.counters.open, identified: proxy.counters.identified })}\n`);
  });
}

function sinkChild(): void {
  const server = net.createServer((socket) => {
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
}

function child(args: string[]): { process: ChildProcess; line(): Promise<string> } {
  const started = spawn(process.execPath, ["--expose-gc", "--import", "tsx", script, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  let waiting: ((line: string) => void) | null = null;
  let partial = "";
  started.stdout!.on("data", (data: Buffer) => {
    partial += data.toString();
    let end: number;
    while ((end = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, end);
      partial = partial.slice(end + 1);
      if (waiting !== null) { const wake = waiting; waiting = null; wake(line); } else lines.push(line);
    }
  });
  return {
    process: started,
    line: () => lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => { waiting = resolve; }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function memoryPerConnection(sinkPort: number, connections: number, latencyMs: number): Promise<string> {
  const proxy = child(["--child", "proxy", "--sink", String(sinkPort), "--latency", String(latencyMs)]);
  const port = Number(await proxy.line());
  const usage = async (): Promise<Usage & { identified: number }> => {
    proxy.process.stdin!.write("usage\n");
    return JSON.parse(await proxy.line());
  };
  await sleep(300);
  const before = await usage();
  const sockets: net.Socket[] = [];
  for (let i = 0; i < connections; i++) {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    socket.write(mqtt.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: `bench-${i}`, clean: true, keepalive: 60 }));
    sockets.push(socket);
    // Paced, so the accept queue does not overflow.
    if (i % 500 === 499) await sleep(50);
  }
  let after = await usage();
  for (let tries = 0; after.identified < connections && tries < 50; tries++) {
    await sleep(100);
    after = await usage();
  }
  for (const socket of sockets) socket.destroy();
  proxy.process.kill();
  const per = (key: keyof Usage) => Math.round((after[key] - before[key]) / connections).toLocaleString("en-US");
  return `memory per connection, latency ${latencyMs} ms: rss ${per("rss")} B, heapUsed ${per("heapUsed")} B (${after.identified} of ${connections} identified)`;
}

/** Seconds to push `megabytes` over one connection to `port`, until the sender's last byte has left. */
async function push(port: number, megabytes: number): Promise<number> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  const block = Buffer.alloc(64 * 1024, 0x5a);
  const started = performance.now();
  socket.write(mqtt.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "bench-push", clean: true, keepalive: 60 }));
  for (let sent = 0; sent < megabytes * 1024 * 1024; sent += block.length) {
    if (!socket.write(block)) await new Promise((resolve) => socket.once("drain", resolve));
  }
  await new Promise<void>((resolve) => socket.end(resolve));
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return seconds;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  const role = args.includes("--child") ? args[args.indexOf("--child") + 1] : null;
  if (role === "sink") return sinkChild();
  if (role === "proxy") return proxyChild(option("sink", 0), option("latency", 0));

  const connections = option("connections", 4000);
  const megabytes = option("megabytes", 256);
  const sink = child(["--child", "sink"]);
  const sinkPort = Number(await sink.line());
  console.log(`Node ${process.version}; the proxy holds ${FaultProxy.FILES_PER_CONNECTION} files per connection`);
  for (const latency of [0, 50]) console.log(await memoryPerConnection(sinkPort, connections, latency));
  const proxy = child(["--child", "proxy", "--sink", String(sinkPort), "--latency", "0"]);
  const proxyPort = Number(await proxy.line());
  const direct = await push(sinkPort, megabytes);
  const proxied = await push(proxyPort, megabytes);
  const rate = (seconds: number) => Math.round(megabytes / seconds).toLocaleString("en-US");
  console.log(`one connection, ${megabytes} MB: direct ${rate(direct)} MB/s, through the proxy ${rate(proxied)} MB/s (${(proxied / direct).toFixed(2)}x the time)`);
  proxy.process.kill();
  sink.process.kill();
}

await main();
