// What the fault proxy costs: memory per device connection it holds (identified, idle), without and with
// latency; the throughput of one connection through it against the same connection straight to the same
// sink; and its CPU while a fleet of real clients (the Node client) publishes QoS 1 through it, with
// latency and jitter, to Debian's mosquitto (skipped when mosquitto is not installed). The proxy runs in a
// child process of its own (--expose-gc), so its RSS, heap and CPU are its own; the "broker" of the first
// two is a sink (a TCP server that reads and discards) in another child.
//
//   npx tsx bench/fault-proxy.ts                          4,000 connections, 64 MB x 5, 1,000 devices for 10 s
//   npx tsx bench/fault-proxy.ts --connections 8000 --megabytes 512 --devices 2000
//
// Not a test: nothing here asserts a figure. Mind the open-file limit: the proxy holds two files per
// connection (ulimit -n must exceed twice --connections, plus a few).

import net from "node:net";
import fs from "node:fs";
import { spawn, ChildProcess } from "node:child_process";
import { Command, Option } from "commander";
import { fileURLToPath } from "node:url";
import * as mqtt from "mqtt-packet";
import { FaultProxy } from "../simulator/faults/proxy";
import { NodeClient } from "../device/platform/node/client";
import { EngineOptions } from "../device/engine";
import { PUBACK } from "../device/codec";
import { findProgram, startMosquitto } from "../host-tests/peers";
import { parseBenchOptions, wholeNumber } from "./options";

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

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** `devices` clients publish one QoS 1 message a second each for `seconds` through a proxy with 20 +/- 10 ms. */
async function fleetThroughProxy(devices: number, seconds: number): Promise<string> {
  if (findProgram("mosquitto") === null) return "fleet through the proxy: skipped, mosquitto is not installed (apt-get install mosquitto)";
  const broker = await startMosquitto(["max_queued_messages 0", "max_inflight_messages 0"]);
  const proxy = child(["--child", "proxy", "--sink", String(broker.port), "--latency", "20"]);
  const port = Number(await proxy.line());
  let connected = 0;
  let acknowledged = 0;
  const clients: NodeClient[] = [];
  for (let i = 0; i < devices; i++) {
    const options = new EngineOptions();
    options.clientId = `bench-fleet-${i}`;
    options.keepAlive = 30;
    const client = new NodeClient({ host: "127.0.0.1", port, tls: null }, options, {
      connected: () => { connected++; },
      disconnected: () => undefined,
      message: () => undefined,
      acknowledged: (type) => { if (type === PUBACK) acknowledged++; },
    });
    client.connect();
    clients.push(client);
    if (i % 200 === 199) await sleep(100);
  }
  for (let waited = 0; connected < devices && waited < 30_000; waited += 50) await sleep(50);
  const cpuBefore = cpuSeconds(proxy.process.pid!);
  const started = performance.now();
  for (let second = 0; second < seconds; second++) {
    for (const client of clients) client.publish("bench/fleet", "reading", 1, false);
    await sleep(1000);
  }
  const sent = devices * seconds;
  for (let waited = 0; acknowledged < sent && waited < 30_000; waited += 50) await sleep(50);
  const cpu = cpuSeconds(proxy.process.pid!) - cpuBefore;
  const wall = (performance.now() - started) / 1000;
  for (const client of clients) client.disconnect();
  proxy.process.kill();
  await broker.close();
  return `fleet through the proxy (20 +/- 10 ms): ${connected} devices, ${acknowledged.toLocaleString("en-US")} of ${sent.toLocaleString("en-US")} ` +
    `QoS 1 messages acknowledged in ${wall.toFixed(1)} s; the proxy used ${cpu.toFixed(2)} CPU-s (${Math.round(100 * cpu / wall)}% of a core, ` +
    `${Math.round(cpu * 1e6 / sent)} us per message and its PUBACK)`;
}

async function main(): Promise<void> {
  const program = new Command("fault-proxy")
    .description("what the fault proxy costs: memory per connection, throughput, CPU under a fleet")
    .option("--connections <n>", "idle connections the proxy holds", wholeNumber("--connections", 1, 1_000_000), 4000)
    .option("--megabytes <n>", "megabytes pushed through one connection per round", wholeNumber("--megabytes", 1, 100_000), 64)
    .option("--devices <n>", "devices publishing through the proxy", wholeNumber("--devices", 1, 100_000), 1000)
    // The children's own options (child() below).
    .addOption(new Option("--child <role>").choices(["sink", "proxy"]).hideHelp())
    .addOption(new Option("--sink <port>").argParser(wholeNumber("--sink", 1, 65_535)).default(0).hideHelp())
    .addOption(new Option("--latency <ms>").argParser(wholeNumber("--latency", 0, 60_000)).default(0).hideHelp());
  const { connections, megabytes, devices, child: role, sink: childSink, latency: childLatency } = parseBenchOptions<{
    connections: number; megabytes: number; devices: number; child?: string; sink: number; latency: number;
  }>(program, process.argv.slice(2));
  if (role === "sink") return sinkChild();
  if (role === "proxy") return proxyChild(childSink, childLatency);

  const sink = child(["--child", "sink"]);
  const sinkPort = Number(await sink.line());
  console.log(`Node ${process.version}; the proxy holds ${FaultProxy.FILES_PER_CONNECTION} files per connection`);
  for (const latency of [0, 50]) console.log(await memoryPerConnection(sinkPort, connections, latency));
  const proxy = child(["--child", "proxy", "--sink", String(sinkPort), "--latency", "0"]);
  const proxyPort = Number(await proxy.line());
  // Rounds alternate, so a busy moment of a shared machine falls on both sides alike; the median is kept.
  const direct: number[] = [];
  const proxied: number[] = [];
  for (let round = 0; round < 5; round++) {
    direct.push(await push(sinkPort, megabytes));
    proxied.push(await push(proxyPort, megabytes));
  }
  const median = (values: number[]) => values.slice().sort((a, b) => a - b)[values.length >> 1];
  const rate = (seconds: number) => Math.round(megabytes / seconds).toLocaleString("en-US");
  console.log(`one connection, ${megabytes} MB, median of 5 alternating rounds: direct ${rate(median(direct))} MB/s, ` +
    `through the proxy ${rate(median(proxied))} MB/s (${(median(proxied) / median(direct)).toFixed(2)}x the time)`);
  proxy.process.kill();
  sink.process.kill();
  console.log(await fleetThroughProxy(devices, 10));
  process.exit(0);
}

await main();
