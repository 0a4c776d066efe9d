// An embedded Aedes broker in a process of its own (simulator/run.ts forks one per 15,000 devices, since a
// process may hold at most 20,000 open files): it reports where it listens, restarts and closes when told to.

import { startEmbeddedBroker } from "./broker";

const broker = await startEmbeddedBroker();
process.send!({ type: "listening", value: { host: broker.host, port: broker.port } });
process.on("message", (message: { type: string; downMs?: number }) => {
  if (message.type === "close") void broker.close().then(() => process.exit(0));
  if (message.type === "restart") {
    void broker.restart(message.downMs ?? 0).then(() => process.send!({ type: "restarted" }),
      (error: unknown) => process.send!({ type: "error", error: `the embedded broker did not come back: ${(error as Error).message}` }));
  }
});
process.on("disconnect", () => process.exit(0));
