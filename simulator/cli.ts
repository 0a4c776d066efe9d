// The command line: `starling fleet [options]`. Parses and checks every option (a bad value is an error
// that says what to write instead), runs the fleet, prints progress and the verdicts, writes the report.
// Exit code: 0 every verdict holds, 1 a verdict failed, 2 the run could not be made as asked.

import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { checkShards, MergeError, mergeReports, replayOptions } from "./merge";
import { VERSION } from "./fleet";
import { runFleet, PlanError } from "./run";
import { STALL_WARNING_MS, renderText, reportDataOfHtml, reportFileProblem, writeReport } from "./report";
import { shardSlice, shortestDuration } from "./scenario";
import { nonNegativeNumber, positiveNumber, wholeNumber } from "./parsers";
import type { BrokerTarget, Report, RunConfig, Sample, ScenarioName } from "./types";

const SCENARIOS: ScenarioName[] = ["telemetry", "keepalive", "will", "qos", "mixed", "faults"];

/** A setup problem the user can fix: printed as "error: ..." with exit code 2. */
export class UsageError extends Error {}


/** The most devices a run may have: 100,000 fit this machine; beyond that, shards on several machines. */
const MAX_DEVICES = 10_000_000;

function shard(value: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const index = match === null ? NaN : Number(match[1]);
  const count = match === null ? NaN : Number(match[2]);
  if (!(count >= 1 && index >= 0 && index < count)) {
    throw new InvalidArgumentError(`--shard takes i/n with 0 <= i < n, e.g. 0/4 for the first of four shards, not "${value}".`);
  }
  return { index, count };
}

function sourceIps(value: string): string[] {
  const ips = value.split(",").map((ip) => ip.trim()).filter((ip) => ip !== "");
  const bad = ips.find((ip) => net.isIP(ip) === 0);
  if (ips.length === 0 || bad !== undefined) {
    throw new InvalidArgumentError(`--source-ips takes addresses of this machine separated by commas, e.g. 10.0.0.5,10.0.0.6; "${bad ?? value}" is not an IP address.`);
  }
  const local = localAddresses();
  const foreign = ips.find((ip) => !local.has(ip) && !/^127\./.test(ip));
  if (foreign !== undefined) {
    throw new InvalidArgumentError(`--source-ips: ${foreign} is not an address of this machine, so no connection can be made from it; ` +
      `its interfaces have ${[...local].join(", ")} (and all of 127.0.0.0/8)`);
  }
  return ips;
}

/** The addresses of this machine's interfaces. */
function localAddresses(): Set<string> {
  return new Set(Object.values(os.networkInterfaces()).flatMap((addresses) => (addresses ?? []).map((a) => a.address)));
}

/** One of `choices` (for a scenario file: the command line's choices are commander's). */
function choice(name: string, choices: string[]) {
  return (value: string): string => {
    if (!choices.includes(value)) throw new InvalidArgumentError(`${name} takes one of ${choices.join(", ")}, not "${value}".`);
    return value;
  };
}

/**
 * Checks the --client-id and --topic templates: each device needs a client id of its own (a shared one makes
 * the devices take over each other's session) and a topic it may publish to.
 */
function checkTemplates(clientId: string, topic: string): void {
  const stray = (template: string, known: string[]) => (template.match(/\{[^}]*\}/g) ?? []).find((p) => !known.includes(p));
  const badIdPart = stray(clientId, ["{i}"]);
  if (badIdPart !== undefined) throw new UsageError(`--client-id "${clientId}": ${badIdPart} is not a placeholder; {i} (the device number) is the one there is`);
  if (!clientId.includes("{i}")) {
    throw new UsageError(`--client-id "${clientId}" has no {i}: every device would connect with the same client id and take over the ` +
      `others' sessions; write e.g. "${clientId}-{i}"`);
  }
  const badTopicPart = stray(topic, ["{id}", "{group}"]);
  if (badTopicPart !== undefined) throw new UsageError(`--topic "${topic}": ${badTopicPart} is not a placeholder; there are {id} (the client id) and {group} (the device number / 1000)`);
  if (topic === "" || /[+#\u0000]/.test(topic) || topic.startsWith("$")) {
    throw new UsageError(`--topic "${topic}": devices publish to it, so it must be a topic name: not empty, without the wildcards + and #, ` +
      `not starting with $ (the broker's own topics); e.g. "fleet/{group}/{id}/telemetry"`);
  }
}

/** --start-at: an ISO 8601 time with its zone, as epoch ms. */
function startTime(value: string): number {
  const time = /(Z|[+-]\d\d:?\d\d)$/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(time)) {
    throw new InvalidArgumentError(`--start-at takes an ISO 8601 time with its zone, e.g. ${new Date(Date.now() + 60_000).toISOString().slice(0, 19)}Z, not "${value}".`);
  }
  return time;
}


/** mqtt://host[:port] or mqtts://host[:port]; anything else is a UsageError saying what is accepted. */
export function parseBrokerUrl(text: string): { host: string; port: number; secure: boolean } {
  const port = /:(\d+)\/?$/.exec(text);
  if (port !== null && (Number(port[1]) < 1 || Number(port[1]) > 65535)) {
    throw new UsageError(`--broker "${text}": port ${port[1]} is out of range; a port is 1 to 65535 (MQTT's are 1883, and 8883 for TLS)`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--broker "${text}" is not a URL: write mqtt://HOST:PORT or mqtts://HOST:PORT, e.g. mqtt://127.0.0.1:1883`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new UsageError(`--broker "${text}": give the user name and password with --username and --password, not in the URL ` +
      "(a URL is shown in progress and reports; a password given apart never is)");
  }
  if (url.search !== "" || url.hash !== "") {
    throw new UsageError(`--broker "${text}": a broker URL takes no ?query or #fragment; write mqtt://HOST:PORT`);
  }
  if (url.protocol !== "mqtt:" && url.protocol !== "mqtts:") {
    throw new UsageError(`--broker "${text}": the scheme must be mqtt:// or mqtts://, not ${url.protocol}//`);
  }
  if (url.hostname === "") {
    throw new UsageError(`--broker "${text}" names no host: write e.g. mqtt://127.0.0.1:1883`);
  }
  if (url.pathname !== "" && url.pathname !== "/") {
    throw new UsageError(`--broker "${text}": a broker URL has no path (MQTT over WebSocket is not supported)`);
  }
  const secure = url.protocol === "mqtts:";
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: url.port === "" ? (secure ? 8883 : 1883) : Number(url.port), secure };
}

/** A PEM file of a TLS option, which must hold `what` (Node would quietly skip anything else in it). */
function readPemOption(option: string, file: string | undefined, what: RegExp, fix: string): Buffer | undefined {
  if (file === undefined) return undefined;
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (error) {
    throw new UsageError(`${option} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (!what.test(data.toString("latin1"))) throw new UsageError(`${option} ${file}: ${fix}`);
  return data;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/;

/**
 * A file's text for JSON.parse: as it is, or from an HTML report (.html) the report it holds. A UsageError
 * starting with `label` says why there is none.
 */
function readJsonText(file: string, label: string, fix: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`${label}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})${fix}`);
  }
  if (path.extname(file).toLowerCase() !== ".html") return text;
  const data = reportDataOfHtml(text);
  if (data === null) throw new UsageError(`${label}: an HTML page that holds no starling fleet report (the page of --report FILE.html does)`);
  return data;
}

/**
 * Option values from a scenario file: the same names as the flags, in camelCase. Or from a report's JSON:
 * the options of the run it reports (a report keeps no password: `passwordGiven` says one is on the command line).
 */
function readScenarioFile(file: string, passwordGiven: boolean): Record<string, unknown> {
  const text = readJsonText(file, `--scenario ${file}`, `: check the path, or name one of ${SCENARIOS.join(", ")}`);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
  } catch (error) {
    throw new UsageError(`--scenario ${file}: not a JSON object of options (${(error as Error).message})`);
  }
  const report = value as Partial<Report>;
  if (typeof report.starling !== "string" || report.config === undefined || !Array.isArray(report.verdicts)) {
    return value as Record<string, unknown>;
  }
  // A report: the run it reports, again.
  const config = report.config;
  if (config.password !== null && !passwordGiven) {
    throw new UsageError(`--scenario ${file}: its run logged in with a password, which a report never holds: give --password again`);
  }
  console.log(`starling fleet: replaying the run of ${file} (started ${report.startedAt}, seed ${config.seed}); options given here override its own` +
    (report.starling === VERSION ? "" : `; it was planned by starling ${report.starling}, this is ${VERSION}: the schedule may differ`));
  return replayOptions(config);
}

export function fleetCommand(): Command {
  const command = new Command("fleet")
    .description("Run a fleet of simulated devices (the real starling engine) against a broker and check every message, will and keep-alive.")
    .addOption(new Option("--broker <url>", "broker to test: mqtt://HOST:PORT or mqtts://HOST:PORT; give it again for a pool of brokers (default: embedded Aedes brokers on free loopback ports)")
      .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]))
    .addOption(new Option("--assign <how>", "how devices are spread over a pool of brokers").choices(["round-robin", "hash"]).default("round-robin"))
    .addOption(new Option("--devices <n>", "number of simulated devices (of the whole fleet, when sharded)").default(1000).argParser(wholeNumber("--devices", 1, MAX_DEVICES)))
    .addOption(new Option("--processes <n>", "child processes to run the devices in (default: as many as the open-file limit needs)").argParser(wholeNumber("--processes", 1, 256)))
    .addOption(new Option("--shard <i/n>", "run only shard i of n (0-based) of the fleet; `starling merge` combines the shards' JSON reports").argParser(shard))
    .addOption(new Option("--source-ips <list>", "comma-separated local addresses to connect from, in turn (default: 127.0.0.0/8 addresses for a loopback broker)").argParser(sourceIps))
    .addOption(new Option("--scenario <name>", `what devices do: ${SCENARIOS.join(", ")}, or a JSON file of options`).default("mixed"))
    .addOption(new Option("--qos <n>", "QoS of the devices' messages (the mixed scenario spreads 0, 1 and 2)").default(1).argParser(wholeNumber("--qos", 0, 2)))
    .addOption(new Option("--rate <n>", "messages per second per device").default(1).argParser(positiveNumber("--rate", 1000)))
    .addOption(new Option("--payload <bytes>", "bytes per message (at least 16, the observer's header)").default(64).argParser(wholeNumber("--payload", 16, 65536)))
    .addOption(new Option("--duration <s>", "seconds of traffic after the ramp").default(20).argParser(positiveNumber("--duration", 86400)))
    .addOption(new Option("--ramp <s>", "seconds over which the devices connect").default(5).argParser(nonNegativeNumber("--ramp", 3600)))
    .addOption(new Option("--seed <n>", "seed of the run: the same seed replays the same schedule").default(1).argParser(wholeNumber("--seed", 0, 2147483646)))
    .addOption(new Option("--protocol <version>", "MQTT version").choices(["3.1.1", "5"]).default("3.1.1"))
    .addOption(new Option("--keepalive <s>", "devices' keep-alive in seconds").default(5).argParser(wholeNumber("--keepalive", 1, 65535)))
    .addOption(new Option("--keepalive-grace <s>", "seconds a broker may take past 1.5x keep-alive to drop a silent device (mosquitto 2.0 checks about every 5 s)").default(6).argParser(nonNegativeNumber("--keepalive-grace", 3600)))
    .addOption(new Option("--client-id <template>", "device client id; {i} is the device number").default("starling-{i}"))
    .addOption(new Option("--topic <template>", "device topic; {id} is the client id, {group} the device number / 1000").default("starling/{group}/{id}/telemetry"))
    .addOption(new Option("--ca <file>", "TLS: certificate authority (PEM) to trust"))
    .addOption(new Option("--cert <file>", "TLS: client certificate (PEM)"))
    .addOption(new Option("--key <file>", "TLS: client private key (PEM)"))
    .addOption(new Option("--servername <name>", "TLS: server name to verify (SNI)"))
    .addOption(new Option("--insecure", "TLS: do not verify the broker's certificate"))
    .addOption(new Option("--username <name>", "user name for every device"))
    .addOption(new Option("--password <secret>", "password for every device (never printed or written to a report)"))
    .addOption(new Option("--latency <ms>", "latency the fault proxy adds to every chunk, each way (puts the proxy between devices and broker)").argParser(wholeNumber("--latency", 0, 60000)))
    .addOption(new Option("--jitter <ms>", "uniform jitter on top of --latency (bytes are never reordered)").argParser(wholeNumber("--jitter", 0, 60000)))
    .addOption(new Option("--broker-restart-cmd <command>", "the faults scenario: a shell command that restarts the external broker (the embedded one restarts itself)"))
    .addOption(new Option("--start-at <time>", "when the run's clock starts, an ISO 8601 time (e.g. 2026-11-25T21:00:00Z): shards given the same time start together (default: as soon as the devices' processes are ready)").argParser(startTime))
    .addOption(new Option("--report <file>", "write the report: FILE.json or FILE.html"))
    .addOption(new Option("--fault-no-resend", "test only: devices do not resend unacknowledged messages (a planted fault)").hideHelp())
    .addOption(new Option("--fault-stall-ms <ms>", "test only: each device process blocks for this long after its first kill (a planted fault)")
      .argParser(wholeNumber("--fault-stall-ms", 0, 600000)).hideHelp());
  return command;
}

/** The planted faults' options: a scenario file may give them, and the list of its keys leaves them out. */
const TEST_ONLY_KEYS = new Set(["faultNoResend", "faultStallMs"]);

/** A scenario file's value, checked as its command-line flag is; a bad one is reported as the file's. */
function fileValue<T>(check: (value: string) => T, value: unknown): T {
  try {
    return check(String(value));
  } catch (error) {
    throw new UsageError(`the scenario file ${(error as Error).message}`);
  }
}

/** Resolves and checks a parsed fleet command into a RunConfig. */
export function resolveConfig(command: Command): RunConfig {
  const options = command.opts();
  let values: Record<string, unknown> = { ...options };
  let scenario = String(options.scenario);
  if (!SCENARIOS.includes(scenario as ScenarioName)) {
    if (!scenario.endsWith(".json") && !scenario.endsWith(".html")) {
      throw new UsageError(`--scenario "${scenario}" is not one of ${SCENARIOS.join(", ")} nor a .json file (or a report, .json or .html)`);
    }
    const fromFile = readScenarioFile(scenario, command.getOptionValueSource("password") === "cli");
    const known = new Set(["scenario", ...command.options.map((option) => option.attributeName())]);
    const unknown = Object.keys(fromFile).filter((key) => !known.has(key));
    if (unknown.length > 0) {
      throw new UsageError(`the scenario file ${scenario} has ${unknown.map((key) => `"${key}"`).join(", ")}, which is no option: its keys are ` +
        `the flags' names in camelCase (${[...known].filter((key) => !TEST_ONLY_KEYS.has(key)).join(", ")})`);
    }
    // A flag given on the command line wins over the file (but --scenario named the file itself).
    const explicit = Object.fromEntries(Object.keys(options)
      .filter((k) => k !== "scenario" && command.getOptionValueSource(k) === "cli").map((k) => [k, options[k]]));
    values = { ...options, ...fromFile, ...explicit };
    scenario = String(fromFile.scenario ?? "mixed");
    if (!SCENARIOS.includes(scenario as ScenarioName)) {
      throw new UsageError(`the scenario file says scenario "${scenario}": it must be one of ${SCENARIOS.join(", ")}`);
    }
    // Each value the file gives is checked as its flag's is, by the flag's own choices or parser (so the two
    // cannot drift apart); an array (sourceIps) as the flag's comma-separated list. --broker, a flag given
    // once per broker, takes a string or a list as it is.
    for (const option of command.options) {
      const name = option.attributeName();
      const raw = fromFile[name];
      if (raw === undefined || name in explicit || name === "broker") continue;
      const text = Array.isArray(raw) ? raw.join(",") : String(raw);
      if (option.argChoices !== undefined) values[name] = fileValue(choice(option.long!, option.argChoices), text);
      else if (option.parseArg !== undefined) values[name] = fileValue((value) => option.parseArg!(value, undefined), text);
    }
  }
  const keepAlive = values.keepalive as number;
  const grace = values.keepaliveGrace as number;
  // Devices are struck down after the first second of traffic: cuts need a few seconds of it; hung and
  // killed devices need their wills to be due before the end (1.5x keep-alive plus the grace, and a margin).
  const shortest = shortestDuration({ scenario, keepAlive, keepAliveGrace: grace, ramp: Number(values.ramp) } as RunConfig);
  // Left to its default, the traffic lasts as long as the scenario needs; asked for, it is checked.
  const durationGiven = command.getOptionValueSource("duration") !== "default" || values.duration !== options.duration;
  const duration = durationGiven ? values.duration as number : Math.max(values.duration as number, shortest);
  if (duration < shortest) {
    throw new UsageError(`--duration ${duration} is too short for the ${scenario} scenario with --keepalive ${keepAlive} and ` +
      `--keepalive-grace ${grace}: a struck-down device needs 1.5x keep-alive plus the grace to be noticed; use --duration ` +
      `${shortest} or more, or a shorter --keepalive`);
  }
  if (scenario === "qos" && values.qos === 0) {
    throw new UsageError("the qos scenario checks QoS 1 and 2 delivery: use --qos 1 or --qos 2");
  }
  const report = values.report as string | undefined;
  const reportProblem = report === undefined ? null : reportFileProblem(report);
  if (reportProblem !== null) throw new UsageError(`--report ${report}: ${reportProblem}`);
  const devices = values.devices as number;
  const brokerUrls = values.broker === undefined ? [] : (Array.isArray(values.broker) ? values.broker : [values.broker]).map(String);
  const secure = brokerUrls.some((url) => url.startsWith("mqtts:"));
  for (const option of ["ca", "cert", "key", "servername", "insecure"]) {
    if (values[option] !== undefined && !secure) {
      throw new UsageError(`--${option} is a TLS option: use it with an mqtts:// --broker URL (the embedded broker speaks plain MQTT)`);
    }
  }
  const brokers: BrokerTarget[] = brokerUrls.map((text) => {
    const parsed = parseBrokerUrl(text);
    const tlsOptions = parsed.secure ? {
      ca: readPemOption("--ca", values.ca as string | undefined, PEM_CERTIFICATE, "holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the certificate of the CA that signed the broker's"),
      cert: readPemOption("--cert", values.cert as string | undefined, PEM_CERTIFICATE, "holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the client's certificate"),
      key: readPemOption("--key", values.key as string | undefined, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, "holds no PEM private key (-----BEGIN PRIVATE KEY-----): give the client certificate's key"),
      // Node verifies the certificate against the host by itself, and refuses an IP address as a server name.
      servername: values.servername as string | undefined,
      rejectUnauthorized: values.insecure !== true,
    } : null;
    const host = net.isIPv6(parsed.host) ? `[${parsed.host}]` : parsed.host;
    return { host: parsed.host, port: parsed.port, tls: tlsOptions, url: `${parsed.secure ? "mqtts" : "mqtt"}://${host}:${parsed.port}` };
  });
  const restartCommand = (values.brokerRestartCmd as string | undefined) ?? null;
  if (restartCommand !== null && (scenario !== "faults" || brokers.length === 0)) {
    throw new UsageError("--broker-restart-cmd restarts an external --broker in the faults scenario: use it with --scenario faults and --broker");
  }
  const startAt = (values.startAt as number | undefined) ?? null;
  if (startAt !== null && startAt < Date.now() + 2000) {
    throw new UsageError(`--start-at ${new Date(startAt).toISOString()} is not ahead of now (${new Date().toISOString()}): the devices' ` +
      "processes need a few seconds to get ready; give a later time, the same for every shard");
  }
  checkTemplates(String(values.clientId), String(values.topic));
  if (values.password !== undefined && values.username === undefined && values.protocol !== "5") {
    throw new UsageError("--password without --username: MQTT 3.1.1 sends a password only with a user name; give --username too (or use --protocol 5)");
  }
  const duplicate = brokers.find((broker, i) => brokers.findIndex((other) => other.url === broker.url) !== i);
  if (duplicate !== undefined) throw new UsageError(`--broker ${duplicate.url} is given twice: each broker of a pool once`);
  return {
    brokers, assign: values.assign === "hash" ? "hash" : "round-robin", devices,
    shard: (values.shard as RunConfig["shard"] | undefined) ?? { index: 0, count: 1 },
    processes: (values.processes as number | undefined) ?? 0,
    sourceIps: (values.sourceIps as string[] | undefined) ?? [], scenario: scenario as ScenarioName,
    qos: values.qos as number, rate: values.rate as number, payload: values.payload as number, duration,
    ramp: Number(values.ramp), seed: values.seed as number, protocol: values.protocol === "5" ? 5 : 4, keepAlive,
    keepAliveGrace: grace,
    username: (values.username as string | undefined) ?? null, password: (values.password as string | undefined) ?? null,
    clientId: String(values.clientId), topic: String(values.topic), report: report ?? null,
    faultNoResend: values.faultNoResend === true,
    faultStallMs: (values.faultStallMs as number | undefined) ?? 0,
    latencyMs: (values.latency as number | undefined) ?? (scenario === "faults" ? 20 : 0),
    jitterMs: (values.jitter as number | undefined) ?? (scenario === "faults" ? 10 : 0),
    brokerRestartCommand: restartCommand,
    startAt,
  };
}

export function mergeCommand(): Command {
  return new Command("merge")
    .description("Combine the reports of a sharded run (starling fleet --shard i/n --report FILE.json or FILE.html) into the report of the whole run.")
    .argument("<reports...>", "the reports of every shard of the run, each once (JSON, or the HTML pages that hold them)")
    .addOption(new Option("--report <file>", "write the merged report: FILE.json or FILE.html").argParser((file: string) => {
      const problem = reportFileProblem(file);
      if (problem !== null) throw new InvalidArgumentError(`${problem}.`);
      return file;
    }));
}

/** A shard's report (its JSON, or the HTML page that holds it), or a UsageError saying what is wrong with the file. */
function readReport(file: string): Report {
  const text = readJsonText(file, file, "");
  let report: Report;
  try {
    report = JSON.parse(text) as Report;
  } catch (error) {
    throw new UsageError(`${file}: not JSON (${(error as Error).message}); give the reports of starling fleet --report (.json, or the .html page that holds one)`);
  }
  if (report === null || typeof report !== "object" || typeof report.starling !== "string" || !Array.isArray(report.slices) ||
    typeof report.latencyMs?.histogram !== "string") {
    throw new UsageError(`${file}: not a starling fleet report with device slices and a latency histogram (older versions wrote none): ` +
      "give the reports of starling fleet --report (.json, or the .html page that holds one)");
  }
  return report;
}

/** The run's progress, a line a second: a countdown until --start-at, then this shard's devices. */
function progressPrinter(config: RunConfig): { sample(sample: Sample): void; done(): void } {
  const tty = process.stdout.isTTY === true;
  let last = -Infinity;
  let totalErrors = 0;
  // The simulator's longest stall so far: once it is long enough to matter, every line says so.
  let stalledMs = 0;
  const slice = shardSlice(config);
  const devices = (slice.end - slice.first).toLocaleString();
  // A sample's time counts from the run's start: before it, the time left; after the traffic, the wait for
  // what is still due (wills, keep-alive checks, late and stored messages).
  const trafficEnd = config.ramp + config.duration;
  const line = (s: Sample) => (s.t < 0 ? `starting in ${Math.ceil(-s.t)} s`
    : `[${s.t.toFixed(0).padStart(3)} s] connected ${s.connected.toLocaleString()}/${devices}` +
      `  messages/s ${s.messagesPerSecond.toLocaleString()}  errors ${totalErrors.toLocaleString()}` +
      (stalledMs >= STALL_WARNING_MS ? `  simulator stalled up to ${(stalledMs / 1000).toFixed(1)} s` : "") +
      (s.t > trafficEnd ? "  (traffic over: waiting for wills and late messages)" : ""));
  return {
    sample(s) {
      totalErrors += s.errors;
      stalledMs = Math.max(stalledMs, s.stalledMs);
      if (tty) process.stdout.write(`\r${line(s)}\u001b[K`);
      else if (s.t - last >= 5) {
        last = s.t;
        process.stdout.write(`${line(s)}\n`);
      }
    },
    done() {
      if (tty) process.stdout.write("\n");
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command("starling")
    .description("starling: an MQTT client for microcontrollers, and a fleet simulator that runs thousands of copies of it")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  let result = 0;
  program.addCommand(fleetCommand().exitOverride().action(async (_options, command: Command) => {
    const config = resolveConfig(command);
    const target = config.brokers.length === 0 ? "embedded Aedes" : config.brokers.map((broker) => broker.url).join(", ");
    const part = config.shard.count > 1 ? ` (shard ${config.shard.index} of ${config.shard.count})` : "";
    console.log(`starling fleet: ${config.devices.toLocaleString()} devices${part}, scenario ${config.scenario}, MQTT ${config.protocol === 5 ? "5.0" : "3.1.1"}, ` +
      `${target}, seed ${config.seed}; ${config.ramp} s ramp + ${config.duration} s traffic`);
    if (config.startAt !== null) {
      console.log(`starting at ${new Date(config.startAt).toISOString()} (in ${Math.round((config.startAt - Date.now()) / 1000)} s)`);
    }
    const printer = progressPrinter(config);
    const report = await runFleet(config, (s) => printer.sample(s));
    printer.done();
    console.log(renderText(report, process.stdout.isTTY === true));
    if (config.report !== null) {
      writeReport(report, config.report);
      console.log(`report written to ${config.report} (the same run again: starling fleet --scenario ${config.report})`);
    }
    result = report.pass ? 0 : 1;
  }));
  program.addCommand(mergeCommand().exitOverride().action((files: string[], options: { report?: string }) => {
    const parts = files.map(readReport);
    // Every shard, each once: a merge of fewer would pass part of the fleet off as the whole run.
    checkShards(parts);
    const report = mergeReports(parts);
    console.log(renderText(report, process.stdout.isTTY === true, options.report ?? null));
    if (options.report !== undefined) {
      writeReport(report, options.report);
      console.log(`report written to ${options.report}`);
    }
    result = report.pass ? 0 : 1;
  }));
  try {
    await program.parseAsync(argv, { from: "user" });
    return result;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.help" || code === "commander.version") return 0;
    if (code !== undefined && code.startsWith("commander.")) return 2;
    if (error instanceof UsageError || error instanceof PlanError || error instanceof MergeError) {
      console.error(`error: ${error.message}`);
      return 2;
    }
    console.error(`error: ${(error as Error).message}`);
    return 2;
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; process.exit(code); });
}
