// The flash CLI (scripts/flash.ts main) run in this process for the flash suites: its exit code and what it
// printed, the Espruino tools' passed-through output included.

import { vi } from "vitest";
import { main } from "../../scripts/flash";

export function flash(args: string[], outDir: string): { code: number; stdout: string; stderr: string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => { stdout.push(a.join(" ")); });
  const error = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => { stderr.push(a.join(" ")); });
  const out = vi.spyOn(process.stdout, "write").mockImplementation((text: string | Uint8Array) => {
    stdout.push(String(text));
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((text: string | Uint8Array) => {
    stderr.push(String(text));
    return true;
  });
  try {
    return { code: main(args, outDir), stdout: stdout.join("\n"), stderr: stderr.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
    out.mockRestore();
    err.mockRestore();
  }
}
