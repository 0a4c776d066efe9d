// An application's message handler that throws: the Node client hands the exception back to the process
// (uncaught, as an EventEmitter's would be) only after the engine has finished the read it came from, so
// the message is still acknowledged and the messages read with it are still delivered.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CONNECTED } from "../../device/engine";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("a message handler that throws", () => {
  it("reaches the process as one uncaught exception; every message is delivered once and acknowledged; the link stays up", () => {
    const child = spawnSync(process.execPath, ["--import", "tsx", "host-tests/engine/handler-throws-child.ts"],
      { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
    expect(child.status, child.stderr).toBe(0);
    const result = JSON.parse(child.stdout.trim().split("\n").pop()!) as
      { received: string[]; uncaught: string[]; state: number; pending: number; redelivered: string[] };
    expect(result.received).toEqual(["m1", "m2", "m3", "m4"]);
    expect(result.uncaught).toEqual(["the handler failed on m1"]);
    expect([result.state, result.pending]).toEqual([CONNECTED, 0]);
    // Each was acknowledged: the session's next client is sent none of them again.
    expect(result.redelivered).toEqual([]);
  });
});
