// Restarting an external broker (`--broker-restart-cmd`): the user's shell command, e.g.
// "systemctl restart mosquitto" or "docker restart emqx", run with a timeout and its output kept.

import { spawn } from "node:child_process";

export interface RestartResult {
  command: string;
  /** What the command printed (stdout and stderr together, the last OUTPUT_LIMIT bytes). */
  output: string;
  milliseconds: number;
}

/** A restart command that failed, timed out or could not start; the message names the command and why. */
export class RestartCommandError extends Error {
  constructor(readonly command: string, readonly exitCode: number | null, readonly output: string, why: string) {
    super(`broker restart command \`${command}\` ${why}${output.trim() === "" ? "" : `; its output:\n${output.trimEnd()}`}`);
    this.name = "RestartCommandError";
  }
}

/** A chatty command must not fill memory: only the end of its output is kept. */
const OUTPUT_LIMIT = 16 * 1024;

/** Runs `command` with sh -c; resolves when it exits 0, rejects with a RestartCommandError otherwise. */
export function runRestartCommand(command: string, timeoutMs = 60_000): Promise<RestartResult> {
  const started = Date.now();
  // Its own process group, so a timeout ends the command and everything it started.
  const child = spawn("sh", ["-c", command], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  const keep = (data: Buffer) => {
    output += data.toString("utf8");
    if (output.length > OUTPUT_LIMIT) output = output.slice(output.length - OUTPUT_LIMIT);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  return new Promise<RestartResult>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new RestartCommandError(command, null, output, `could not start: ${error.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new RestartCommandError(command, null, output, `did not finish within ${timeoutMs} ms and was killed`));
      else if (code === 0) resolve({ command, output, milliseconds: Date.now() - started });
      else if (code !== null) reject(new RestartCommandError(command, code, output, `failed with exit code ${code}`));
      else reject(new RestartCommandError(command, null, output, `was killed by ${signal}`));
    });
  });
}
