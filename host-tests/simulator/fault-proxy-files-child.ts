// Run by faults.test.ts under a small open-file limit (ulimit -n): a fault proxy in front of a sink (a TCP
// server that reads and discards). Prints the proxy's port; each line on stdin is answered with the
// proxy's counters and last error as JSON, so the test can watch it run out of files and come back.

import net from "node:net";
import { FaultProxy } from "../../simulator/faults/proxy";

const sink = net.createServer((socket) => {
  socket.on("data", () => undefined);
  socket.on("error", () => undefined);
});
await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
const proxy = await FaultProxy.start({ host: "127.0.0.1", port: (sink.address() as net.AddressInfo).port });
process.stdout.write(`${proxy.port}\n`);
process.stdin.on("data", () => {
  process.stdout.write(`${JSON.stringify({ ...proxy.counters, lastError: proxy.lastError })}\n`);
});
process.stdin.on("end", () => process.exit(0));
