// Child of handler-throws.test.ts (its own process, so that an uncaught exception is the process's, as in an
// application): a NodeClient whose message handler throws on the first of four QoS 1 messages it sent itself
// through the embedded Aedes broker. Prints what the handler saw, the uncaught exceptions and the client's
// state as JSON.

import { NodeClient } from "../../device/platform/node/client";
import { EngineOptions, payloadText } from "../../device/engine";
import { startAedes } from "../peers";

const broker = await startAedes();
const received: string[] = [];
const uncaught: string[] = [];
process.on("uncaughtException", (error) => uncaught.push(error.message));

const options = new EngineOptions();
options.clientId = "throws-in-handler";
// A persistent session: a message left unacknowledged would come again to the next client of this id.
options.cleanStart = false;
let subscribed = false;
const client: NodeClient = new NodeClient({ host: broker.host, port: broker.port, tls: null }, options, {
  connected() {},
  disconnected() {},
  message(packet) {
    const text = payloadText(packet);
    received.push(text);
    if (text === "m1") throw new Error("the handler failed on m1");
  },
  acknowledged() {
    if (!subscribed) {
      subscribed = true;
      for (const text of ["m1", "m2", "m3", "m4"]) client.publish("handler/test", text, 1, false);
    }
  },
});
client.connect();
client.subscribe("handler/#", 1);
const deadline = Date.now() + 5000;
while (received.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
// A moment more: anything delivered twice, or late, shows up too.
await new Promise((resolve) => setTimeout(resolve, 300));
const state = { received, uncaught, state: client.engine.state, pending: client.engine.pendingMessages, redelivered: [] as string[] };
client.disconnect();
await new Promise((resolve) => setTimeout(resolve, 200));
const again = new NodeClient({ host: broker.host, port: broker.port, tls: null }, options, {
  connected() {}, disconnected() {}, acknowledged() {},
  message(packet) { state.redelivered.push(payloadText(packet)); },
});
again.connect();
await new Promise((resolve) => setTimeout(resolve, 700));
again.disconnect();
await broker.close();
console.log(JSON.stringify(state));
process.exit(0);
