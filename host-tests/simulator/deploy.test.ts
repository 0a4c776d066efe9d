// The Kubernetes Indexed Job in simulator/deploy/ must stay a run that `starling fleet` accepts: its command
// line is read out of the manifest and resolved for every index, and its shard count must match the Job's.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fleetCommand, resolveConfig } from "../../simulator/cli";
import { temporaryDirectory } from "../report-page";

const MANIFEST = fileURLToPath(new URL("../../simulator/deploy/fleet-job.yaml", import.meta.url));

/** The folded `args` block of the manifest, as the shell would get it. */
function commandLine(manifest: string): string {
  const lines = manifest.split("\n");
  const start = lines.findIndex((line) => line.trim() === "- >-");
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!/^ {14}\S/.test(line)) break;
    block.push(line.trim());
  }
  return block.join(" ");
}

/** Words of a simple shell command (double quotes, $VARIABLES expanded from `env`). */
function words(command: string, env: Record<string, string>): string[] {
  const expanded = command.replace(/\$([A-Z_]+)/g, (_whole, name: string) => env[name] ?? "");
  return [...expanded.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

describe("simulator/deploy/fleet-job.yaml", () => {
  const directory = temporaryDirectory("starling-deploy-");
  const manifest = fs.readFileSync(MANIFEST, "utf8");
  const completions = Number(/completions: (\d+)/.exec(manifest)![1]);
  const parallelism = Number(/parallelism: (\d+)/.exec(manifest)![1]);
  const fleetPart = commandLine(manifest).split(";")[0];

  it("is an Indexed Job whose shard count is its number of completions", () => {
    expect(manifest).toMatch(/completionMode: Indexed/);
    expect(parallelism).toBe(completions);
    expect(fleetPart).toMatch(new RegExp(`--shard "\\$JOB_COMPLETION_INDEX/${completions}"`));
  });

  it("gives every pod the same START_AT, an ISO 8601 time", () => {
    expect(fleetPart).toContain('--start-at "$START_AT"');
    expect(manifest).toMatch(/name: START_AT, value: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/);
  });

  it("runs, for every index, a fleet command that starling fleet accepts, each shard writing its own report", () => {
    // What a user writes there: a time a few minutes ahead.
    const startAt = new Date(Date.now() + 300_000).toISOString();
    const reports = directory();
    const files = new Set<string>();
    for (let index = 0; index < completions; index++) {
      const argv = words(fleetPart, { JOB_COMPLETION_INDEX: String(index), START_AT: startAt });
      expect(argv.slice(0, 3)).toEqual(["node", "simulator/bin.js", "fleet"]);
      const command = fleetCommand().exitOverride();
      command.parse(argv.slice(3).map((word) => word.replace(/^\/reports\//, `${reports}${path.sep}`)), { from: "user" });
      const config = resolveConfig(command);
      expect(config.shard).toEqual({ index, count: completions });
      // Every shard starts at the one time the Job gives them all.
      expect(config.startAt).toBe(Date.parse(startAt));
      expect(config.brokers).toHaveLength(1);
      expect(config.topic).toContain("{group}");
      files.add(config.report!);
    }
    expect(files.size).toBe(completions);
  });
});
