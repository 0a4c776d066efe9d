// `starling merge` as a user runs it: two shards of one run, started as separate `starling fleet` processes
// at one --start-at and written to files of their own (as the README and the Kubernetes Job do), with a
// whole run of the same seed beside them. The merge takes exactly every shard of one run; it refuses other
// options, missing shards and a report folder that is not there, before it prints anything. And a report
// given as the scenario (`starling fleet --scenario REPORT.json`) runs its run again.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { fleetCommand, main, resolveConfig } from "../../simulator/cli";
import { writeReport } from "../../simulator/report";
import { shardSlice } from "../../simulator/scenario";
import type { Report } from "../../simulator/types";
import { temporaryDirectory } from "../report-page";

const REPOSITORY = fileURLToPath(new URL("../..", import.meta.url));
const BIN = path.join(REPOSITORY, "simulator", "bin.js");
const DEVICES = 40;

interface Finished {
  code: number | null;
  out: string;
  err: string;
}

/** `starling fleet ...` in a process of its own, as a shard's machine runs it (stdout a pipe, not a terminal). */
function fleet(args: string[]): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "fleet", ...args], { cwd: REPOSITORY });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr.on("data", (chunk: Buffer) => { err += chunk.toString(); });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

function readJson(file: string): Report {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Report;
}

const directory = temporaryDirectory("starling-merge-");

describe("starling merge of shards run as separate processes", () => {
  const files: string[] = [];
  let whole = "";
  const runs: Finished[] = [];
  let printed: ReturnType<typeof vi.spyOn>;
  let failed: ReturnType<typeof vi.spyOn>;
  // Commander writes its own errors (a bad option value) to stderr itself.
  let written: ReturnType<typeof vi.spyOn>;
  const out = () => printed.mock.calls.flat().join("\n");
  const err = () => [...failed.mock.calls, ...written.mock.calls].flat().join("\n");

  beforeAll(async () => {
    // Time for three processes to start (tsx, device processes) on a busy machine.
    const startAt = new Date(Date.now() + 10_000).toISOString();
    const common = ["--devices", String(DEVICES), "--scenario", "telemetry", "--ramp", "1", "--duration", "6", "--seed", "3",
      "--keepalive", "2", "--start-at", startAt];
    files.push(path.join(directory(), "shard-0.json"), path.join(directory(), "shard-1.json"));
    whole = path.join(directory(), "whole.json");
    // The second shard's machine spreads its devices differently: that is its own business, not the run's.
    runs.push(...await Promise.all([
      fleet([...common, "--shard", "0/2", "--report", files[0]]),
      fleet([...common, "--shard", "1/2", "--processes", "2", "--source-ips", "127.0.0.5,127.0.0.6", "--report", files[1]]),
      fleet([...common, "--report", whole]),
    ]));
    for (const run of runs) expect(run.code, run.out + run.err).toBe(0);
  }, 60_000);

  beforeEach(() => {
    printed = vi.spyOn(console, "log").mockImplementation(() => undefined);
    failed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    written = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  });
  afterEach(() => {
    printed.mockRestore();
    failed.mockRestore();
    written.mockRestore();
  });

  it("each shard's progress counts its own devices, after a countdown to --start-at", () => {
    for (const [index, run] of runs.slice(0, 2).entries()) {
      const slice = shardSlice({ ...readJson(files[index]).config, brokers: [] });
      const lines = run.out.split("\n");
      const countdown = lines.filter((line) => /^starting in \d+ s$/.test(line));
      expect(countdown.length, run.out).toBeGreaterThan(0);
      expect(countdown.every((line) => Number(line.split(" ")[2]) >= 1), run.out).toBe(true);
      // Every progress line, and none with a time before the start.
      const progress = lines.filter((line) => line.startsWith("["));
      expect(progress.length, run.out).toBeGreaterThan(0);
      for (const line of progress) {
        const match = /^\[ *\d+ s\] connected (\d+)\/(\d+) /.exec(line);
        expect(match, line).not.toBeNull();
        const [connected, of] = match!.slice(1).map(Number);
        expect(of, line).toBe(slice.end - slice.first);
        expect(connected, line).toBeLessThanOrEqual(of);
      }
    }
  });

  it("takes shards written to different files, run with different --processes and --source-ips, into the report of the whole run", async () => {
    const merged = path.join(directory(), "merged.json");
    expect(await main(["merge", ...files, "--report", merged]), err()).toBe(0);
    expect(out()).toMatch(/^verdict: PASS$/m);
    const report = readJson(merged);
    const one = readJson(whole);
    expect(report.slices).toEqual([{ first: 0, end: DEVICES }]);
    expect(report.config.shard).toEqual({ index: 0, count: 1 });
    for (const key of ["devices", "connected", "published"] as const) expect(report.counts[key], key).toBe(one.counts[key]);
    expect(report.verdicts.map((v) => [v.name, v.pass, v.checked])).toEqual(one.verdicts.map((v) => [v.name, v.pass, v.checked]));
  });

  it("refuses shards whose run-defining options differ, naming exactly those, with both values", async () => {
    const shard = readJson(files[1]);
    const other = path.join(directory(), "other-options.json");
    writeReport({ ...shard, config: { ...shard.config, rate: 2, topic: "elsewhere/{id}", username: "someone-else" } }, other);
    expect(await main(["merge", files[0], other])).toBe(2);
    const differ = /their options differ \((.*)\); run every shard with the same options/.exec(err());
    expect(differ, err()).not.toBeNull();
    // The user name may differ from machine to machine; the rate and the topic define the run.
    expect(differ![1].split(", ")).toEqual(["--rate 1 vs 2", `--topic ${shard.config.topic} vs elsewhere/{id}`]);
    expect(out()).toBe("");
  });

  it("refuses fewer than every shard, naming the missing one; still refuses one shard twice", async () => {
    for (const [given, missing] of [[files[0], 1], [files[1], 0]] as const) {
      failed.mockClear();
      written.mockClear();
      expect(await main(["merge", given]), given).toBe(2);
      expect(err()).toBe(`error: missing shard ${missing} of 2 (--shard ${missing}/2): merge needs the report of every shard`);
    }
    failed.mockClear();
    written.mockClear();
    expect(await main(["merge", files[0], files[0], files[1]])).toBe(2);
    expect(err()).toMatch(/the reports overlap: devices 0-19 are in two of them/);
    expect(out()).toBe("");
  });

  it("passes a whole run's report through", async () => {
    expect(await main(["merge", whole]), err()).toBe(0);
    const one = readJson(whole);
    expect(out()).toMatch(new RegExp(`^  devices +${one.counts.devices}$`, "m"));
    expect(out()).toMatch(/^verdict: PASS$/m);
  });

  it("checks the merged report's folder before it reads or prints anything", async () => {
    const absent = path.join(directory(), "absent");
    expect(await main(["merge", ...files, "--report", path.join(absent, "merged.json")])).toBe(2);
    expect(err()).toContain(`the folder ${absent} does not exist`);
    expect(out()).toBe("");
    expect(fs.existsSync(absent)).toBe(false);
  });
  it("runs a reported run again from its report (--scenario REPORT.json), a shard's as that shard; flags given win", async () => {
    const again = path.join(directory(), "again.json");
    const shardAgain = path.join(directory(), "shard-1-again.json");
    const otherSeed = path.join(directory(), "other-seed.json");
    const [run, shardRun, seedRun] = await Promise.all([
      fleet(["--scenario", whole, "--report", again]),
      fleet(["--scenario", files[1], "--report", shardAgain]),
      fleet(["--scenario", whole, "--seed", "4", "--duration", "3", "--report", otherSeed]),
    ]);
    for (const finished of [run, shardRun, seedRun]) expect(finished.code, finished.out + finished.err).toBe(0);
    expect(run.out).toContain(`starling fleet: replaying the run of ${whole} (started ${readJson(whole).startedAt}, seed 3)`);
    // The same run: every option that defines it, the same devices, messages and checks. Not its start
    // time (past), its report file, or the first shard's machine's processes and addresses.
    const same = (original: Report, replayed: Report) => {
      const { report: _a, startAt: _b, processes: _c, sourceIps: _d, ...defining } = original.config;
      expect(replayed.config).toMatchObject(defining);
      expect(replayed.config.startAt).toBeNull();
      expect(replayed.slices).toEqual(original.slices);
      expect(replayed.counts.published).toBe(original.counts.published);
      expect(replayed.verdicts.map((v) => [v.name, v.pass, v.checked])).toEqual(original.verdicts.map((v) => [v.name, v.pass, v.checked]));
    };
    same(readJson(whole), readJson(again));
    same(readJson(files[1]), readJson(shardAgain));
    expect(readJson(shardAgain).config.shard).toEqual({ index: 1, count: 2 });
    const overridden = readJson(otherSeed).config;
    expect([overridden.seed, overridden.duration, overridden.devices, overridden.topic]).toEqual([4, 3, DEVICES, readJson(whole).config.topic]);
  }, 60_000);

  it("takes an HTML report as well as its JSON: to replay its run, and to merge", async () => {
    const resolved = (file: string) => {
      const command = fleetCommand().exitOverride();
      command.parse(["--scenario", file], { from: "user" });
      return resolveConfig(command);
    };
    const page = path.join(directory(), "whole.html");
    writeReport(readJson(whole), page);
    expect(resolved(page)).toEqual(resolved(whole));
    const shardPage = path.join(directory(), "shard-1.html");
    writeReport(readJson(files[1]), shardPage);
    const merged = path.join(directory(), "merged-from-html.json");
    expect(await main(["merge", files[0], shardPage, "--report", merged]), err()).toBe(0);
    for (const key of ["devices", "connected", "published"] as const) expect(readJson(merged).counts[key], key).toBe(readJson(whole).counts[key]);
    const other = path.join(directory(), "not-a-report.html");
    fs.writeFileSync(other, "<!doctype html><p>hello</p>");
    expect(() => resolved(other)).toThrow(`--scenario ${other}: an HTML page that holds no starling fleet report`);
  });

  it("refuses to replay a run that logged in with a password unless --password is given again", async () => {
    const one = readJson(whole);
    const secret = path.join(directory(), "with-password.json");
    writeReport({ ...one, config: { ...one.config, username: "device", password: "***" } }, secret);
    expect(await main(["fleet", "--scenario", secret])).toBe(2);
    expect(err()).toContain(`--scenario ${secret}: its run logged in with a password, which a report never holds: give --password again`);
  });
});
