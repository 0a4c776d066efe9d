// The benches' command lines and ratios (bench/options.ts): a bad numeric option ends every bench at once
// with exit code 2 and a message naming the option and the value (before, `--rounds abc` printed rows of NaN
// and `--messages abc` never ended); a ratio of a measurement that produced nothing is "not measured", and a
// verdict is never met or not met because of one.

import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/build";
import { formatRatio, judge, positiveNumber, ratio, wholeNumber } from "../../bench/options";

describe("bench option parsers", () => {
  it("take whole numbers in range and refuse the rest, naming the option and the value", () => {
    const rounds = wholeNumber("--rounds", 1, 1000);
    expect(rounds("7")).toBe(7);
    for (const bad of ["abc", "1.5", "", "0", "1001", "NaN"]) {
      expect(() => rounds(bad)).toThrow(`--rounds takes a whole number from 1 to 1,000, not "${bad}".`);
    }
    expect(() => wholeNumber("--count", 100, 15_000, "a process may hold 20,000 open files")("50"))
      .toThrow('--count takes a whole number from 100 to 15,000 (a process may hold 20,000 open files), not "50".');
    const rate = positiveNumber("--rate", 1000);
    expect(rate("0.1")).toBe(0.1);
    for (const bad of ["0", "-1", "abc", "Infinity", "1001"]) expect(() => rate(bad)).toThrow(`not "${bad}"`);
  });
});

describe("ratios and verdicts", () => {
  it("is no ratio when a side measured nothing", () => {
    expect(ratio(6, 3)).toBe(2);
    expect(ratio(0, 5)).toBe(0);
    for (const [a, b] of [[5, 0], [5, -1], [-1, 5], [NaN, 1], [1, Infinity], [Infinity, 1]]) expect(ratio(a, b)).toBeNull();
    expect(formatRatio(ratio(5, 0), 2, "too few clients")).toBe("not measured (too few clients)");
    expect(formatRatio(ratio(9, 2), 2, "unused")).toBe("4.50x");
  });

  it("judges met or not met only from measured ratios", () => {
    expect(judge([4, 3.5], 3)).toBe(true);
    expect(judge([4, 2], 3)).toBe(false);
    expect(judge([null, 4], 3)).toBeNull();
    // One measured ratio already short: not met, whatever the unmeasured one would have been.
    expect(judge([null, 2], 3)).toBe(false);
  });
});

/** Runs a bench script with `args`; resolves with its exit code and stderr (killed after 20 s). */
function runBench(script: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (data: Buffer) => { stderr += data.toString(); });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe("every bench refuses a bad numeric option with exit code 2 before it measures anything", () => {
  const CASES: Array<[string, string[], string]> = [
    ["bench/codec.ts", ["--rounds", "abc", "--round-ms", "5", "--warmup-ms", "0"],
      `error: option '--rounds <n>' argument 'abc' is invalid. --rounds takes a whole number from 1 to 1,000, not "abc".`],
    ["bench/client.ts", ["--messages", "abc", "--rounds", "1"], `--messages takes a whole number from 1 to 100,000,000, not "abc".`],
    ["bench/fleet.ts", ["--rate", "0"], `--rate takes a number above 0 and at most 1,000, not "0".`],
    ["bench/size.ts", ["--jsn", "out.json"], "error: unknown option '--jsn'"],
    ["bench/fault-proxy.ts", ["--connections", "-5"], `--connections takes a whole number from 1 to 1,000,000, not "-5".`],
    ["bench/fleet-parts.ts", ["--count", "1e9"], `--count takes a whole number from 100 to 15,000`],
  ];
  for (const [script, args, message] of CASES) {
    it.concurrent(`${script} ${args.join(" ")}`, async () => {
      const started = Date.now();
      const result = await runBench(script, args);
      expect(result.stderr).toContain(message);
      expect(result.code).toBe(2);
      // Refused while parsing, not after a run.
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  }
});
