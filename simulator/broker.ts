// The embedded broker: Aedes in this process on a free loopback port, so a first run needs nothing else.

import net from "node:net";
import { Aedes } from "aedes";

export interface EmbeddedBroker {
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: "127.0.0.1",
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => broker.close(() => resolve()));
      // Aedes keeps its clients' sockets open; the server closes only once they are gone.
      for (const client of Object.values((broker as unknown as { clients: Record<string, { close(): void }> }).clients)) {
        client.close();
      }
    }),
  };
}
