// The embedded broker: Aedes in this process on a free loopback port, so a first run needs nothing else.
// It can crash and come back (restart): a new Aedes instance on the same port over the same persistence,
// as mosquitto with persistence comes back with its sessions, subscriptions and queued messages.

import net from "node:net";
import { Aedes } from "aedes";

export interface EmbeddedBroker {
  host: string;
  port: number;
  /**
   * A crash and a restart: the listener and every connection close at once (no DISCONNECT, no will: a
   * crashed broker publishes nothing), and after downMs a new instance listens on the same port with the
   * same sessions, subscriptions and queued QoS 1/2 messages. Resolves once it listens again.
   */
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

/** One life of the broker: an Aedes instance, its listener and the sockets it accepted. */
interface Instance {
  broker: Aedes;
  server: net.Server;
  sockets: Set<net.Socket>;
  crashed: boolean;
}

async function startInstance(port: number, persistence: unknown): Promise<Instance> {
  // A high concurrency: Aedes's emitter hands each finished publish the next queued one synchronously, so a
  // long queue (thousands of devices connecting, each announced on $SYS) recursed past the stack limit at
  // the default of 100 (seen here with 15,000 devices a broker).
  const broker = new Aedes(persistence === null ? { concurrency: AEDES_CONCURRENCY } : { persistence, concurrency: AEDES_CONCURRENCY });
  const server = net.createServer(broker.handle);
  const instance: Instance = { broker, server, sockets: new Set(), crashed: false };
  // Aedes publishes a client's will when its connection drops; when the broker itself goes down, none may go.
  const authorizePublish = broker.authorizePublish;
  broker.authorizePublish = (client, packet, callback) =>
    instance.crashed ? callback(new Error("the broker is down")) : authorizePublish.call(broker, client, packet, callback);
  await broker.listen();
  server.on("connection", (socket) => {
    instance.sockets.add(socket);
    socket.once("close", () => instance.sockets.delete(socket));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw error;
  }
  return instance;
}

const AEDES_CONCURRENCY = 10_000;

/** How long a restart waits for its port to be free again. */
const PORT_WAIT_MS = 5000;

/**
 * The next instance, on the port of the last. While the broker was down its port was free, so a client's
 * outgoing connection may have been given it as a local port for a moment; the listen waits that out.
 */
async function restartOn(port: number, persistence: unknown): Promise<Instance> {
  const deadline = Date.now() + PORT_WAIT_MS;
  for (;;) {
    try {
      return await startInstance(port, persistence);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
      if (Date.now() > deadline) throw new Error(`the embedded broker cannot listen again: port ${port} stayed in use for ${PORT_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Stops the listener and drops every connection at once, then stops the instance's timers. */
async function stopInstance(instance: Instance): Promise<void> {
  instance.crashed = true;
  const closed = new Promise<void>((resolve) => instance.server.close(() => resolve()));
  for (const socket of instance.sockets) socket.destroy();
  await closed;
  await new Promise<void>((resolve) => instance.broker.close(() => resolve()));
}

export async function startEmbeddedBroker(): Promise<EmbeddedBroker> {
  let instance = await startInstance(0, null);
  // The memory persistence Aedes made for itself, handed on to each next instance.
  const persistence = (instance.broker as unknown as { persistence: unknown }).persistence;
  const port = (instance.server.address() as net.AddressInfo).port;
  let restarting: Promise<void> | null = null;
  return {
    host: "127.0.0.1",
    port,
    restart(downMs: number): Promise<void> {
      if (restarting !== null) return Promise.reject(new Error("the embedded broker is already restarting"));
      restarting = (async () => {
        await stopInstance(instance);
        await new Promise((resolve) => setTimeout(resolve, downMs));
        instance = await restartOn(port, persistence);
      })().finally(() => { restarting = null; });
      return restarting;
    },
    async close(): Promise<void> {
      if (restarting !== null) await restarting;
      await stopInstance(instance);
    },
  };
}
