// An embedded Aedes broker in a process of its own (simulator/run.ts forks one per 15,000 devices, since a
// process may hold at most 20,000 open files): it reports where it listens, and closes when told to.

import { startEmbeddedBroker } from "./broker";

const broker = await startEmbeddedBroker();
process.send!({ type: "listening", value: { host: broker.host, port: broker.port } });
process.on("message", (message: { type: string }) => {
  if (message.type === "close") void broker.close().then(() => process.exit(0));
});
process.on("disconnect", () => process.exit(0));
