// A subscription made inside the connected() event goes out once. The engine used to send pending
// subscriptions again right after that event, so the broker answered the same SUBSCRIBE twice and the second
// SUBACK, for an id no longer awaited, ended the link with ERR_UNKNOWN_PACKET_ID (found by the Lua suites,
// where subscribing on connect is the usual pattern).

import { describe, expect, it } from "vitest";
import { Engine, EngineEvents, EngineOptions, Link } from "../../device/engine";

describe("subscribing inside connected()", () => {
  for (const version of [4, 5]) {
    it(`MQTT ${version === 5 ? "5.0" : "3.1.1"}: one SUBSCRIBE, and the SUBACK is accepted`, () => {
      const written: number[] = [];
      const disconnects: number[] = [];
      let engine: Engine | null = null;
      let id = 0;
      const link: Link = {
        open() {},
        write(bytes: Uint8Array, offset: number) {
          written.push(bytes[offset]);
        },
        close() {},
      };
      const events: EngineEvents = {
        connected() {
          id = engine?.subscribe("cmd/#", 1, 0) ?? 0;
        },
        disconnected(code) {
          disconnects.push(code);
        },
        message() {},
        acknowledged() {},
      };
      const options = new EngineOptions();
      options.protocolVersion = version;
      options.clientId = "c";
      engine = new Engine(options, link, events);
      engine.start(0);
      engine.linkOpened(0);
      const ack = version === 5 ? Uint8Array.of(0x20, 0x03, 0x00, 0x00, 0x00) : Uint8Array.of(0x20, 0x02, 0x00, 0x00);
      engine.received(ack, 0, ack.length, 1);
      expect(written.filter((first) => first === 0x82)).toHaveLength(1);
      expect(id).toBeGreaterThan(0);
      const suback = version === 5 ? Uint8Array.of(0x90, 0x04, id >> 8, id & 255, 0x00, 0x01) : Uint8Array.of(0x90, 0x03, id >> 8, id & 255, 0x01);
      engine.received(suback, 0, suback.length, 2);
      expect(disconnects).toEqual([]);
    });
  }
});
