// A device process of a fleet run (simulator/run.ts forks it): it runs the slice it is sent, reports a
// sample a second and then its slice's report, all over IPC, and exits.

import { runSlice, SliceRun } from "./fleet";

function send(message: unknown): void {
  process.send!(message);
}

process.on("message", (message: { type: string; value: SliceRun }) => {
  if (message.type !== "run") return;
  runSlice(message.value, (sample) => send({ type: "sample", value: sample }))
    .then((report) => send({ type: "report", value: report }))
    .catch((error: unknown) => send({ type: "error", error: error instanceof Error ? error.message : String(error) }))
    .finally(() => process.disconnect());
});
// The parent went away: nothing is left to report to.
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
