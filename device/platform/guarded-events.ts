// The application's event handlers as the JavaScript drivers (Node, Espruino) call them. A handler that
// throws must not stop the engine halfway through the call it came from: a read with an acknowledgement
// unsent and the rest of its packets unhandled. So each handler runs in try/catch, and its exception is
// handed back to the runtime once the current task is over, as a rejected promise nobody handles: Node
// raises it as an uncaught exception, Espruino reports "Unhandled promise rejection" at idle (jswrap_promise.c
// queues the rejection as an event). NodeMCU has its own rule: an error in a callback restarts the board
// (node.setonerror), so its driver leaves errors to the firmware.

import type { EngineEvents } from "../engine";
import type { Packet } from "../codec/packets";

function rethrow(error: unknown): void {
  void Promise.reject(error);
}

/** The engine's events, handed on to the application's; a driver extends it and gives itself to its engine. */
export class GuardedEvents implements EngineEvents {
  protected readonly events: EngineEvents;

  constructor(events: EngineEvents) {
    this.events = events;
  }

  connected(sessionPresent: boolean): void {
    try {
      this.events.connected(sessionPresent);
    } catch (error) {
      rethrow(error);
    }
  }

  disconnected(code: number): void {
    try {
      this.events.disconnected(code);
    } catch (error) {
      rethrow(error);
    }
  }

  message(packet: Packet): void {
    try {
      this.events.message(packet);
    } catch (error) {
      rethrow(error);
    }
  }

  acknowledged(type: number, packetId: number, reasonCode: number): void {
    try {
      this.events.acknowledged(type, packetId, reasonCode);
    } catch (error) {
      rethrow(error);
    }
  }
}
