// The Espruino board profiles (boards/<board>/profile.json): the one source of the client's sizes for a
// board. The build checks a profile, prints the memory it costs and puts it into the board's firmware, which
// makes the client from it; the flash tool and the tests read the same files.

import { readFileSync, readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EngineOptions } from "../../device/engine/options";
import { framerBufferSize } from "../../device/codec/framer";
import { SLOT_STATE_BYTES } from "../../device/engine/outbox";
import { SUBSCRIPTION_SLOT_BYTES, INCOMING_SLOT_BYTES } from "../../device/engine/engine";
import { RECEIVE_CHUNK } from "../../device/platform/espruino/client";

export const BOARDS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The EngineOptions fields a profile sets (numbers only: names and credentials are the maker's settings). */
export type ClientSizes = Partial<Record<
  "protocolVersion" | "keepAlive" | "receiveBufferSize" | "transmitBufferSize" | "messageSlotSize" |
  "inflightWindow" | "queueSlots" | "incomingQos2Slots" | "subscriptionSlots" | "backoffInitialMs" |
  "backoffMaxMs" | "backoffResetAfterMs" | "connectTimeoutMs", number>>;

export interface BoardProfile {
  /** The folder name under boards/ (esp32, esp8266). */
  name: string;
  /** Espruino's name for the board (process.env.BOARD, the espruino CLI's --board). */
  board: string;
  summary: string;
  /** The interpreter's memory: how many variables (JsVars) and how many bytes each. */
  espruino: { variables: number; variableBytes: number };
  /** Which module of dist/espruino/ the board runs (scripts/build.ts FLAVOURS). */
  module: string;
  client: ClientSizes;
}


/** The Espruino boards: every folder of boards/ with a profile.json that names an Espruino module. */
export function espruinoBoards(): string[] {
  return readdirSync(BOARDS_DIR).filter((name) => existsSync(path.join(BOARDS_DIR, name, "profile.json")) &&
    typeof (JSON.parse(readFileSync(path.join(BOARDS_DIR, name, "profile.json"), "utf8")) as { espruino?: unknown })
      .espruino === "object").sort();
}

/** Reads and checks boards/<name>/profile.json; a wrong field is an error that names it. */
export function loadProfile(name: string): BoardProfile {
  const file = path.join(BOARDS_DIR, name, "profile.json");
  const profile = { name, ...JSON.parse(readFileSync(file, "utf8")) } as BoardProfile;
  const defaults = new EngineOptions() as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(profile.client)) {
    if (typeof defaults[key] !== "number" || typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new Error(`${file}: client.${key} is not a numeric EngineOptions field with a whole number`);
    }
  }
  if (!(profile.espruino?.variables > 0 && profile.espruino?.variableBytes > 0)) {
    throw new Error(`${file}: espruino.variables and espruino.variableBytes must be positive`);
  }
  return profile;
}

/** The EngineOptions a profile makes (defaults where it says nothing). */
export function profileOptions(profile: BoardProfile): EngineOptions {
  return Object.assign(new EngineOptions(), profile.client);
}

/**
 * Variables an Espruino typed array of `bytes` bytes takes: its data is one flat string (a header variable
 * and the bytes in whole variables), plus the ArrayBuffer and the view.
 */
export function bufferVariables(bytes: number, variableBytes: number): number {
  return 1 + Math.ceil(bytes / variableBytes) + 2;
}

export interface MemoryUse {
  /** Bytes of the client's buffers: receive, transmit, message slots and slot state (one block) and the driver's chunk. */
  bufferBytes: number;
  /** Variables those buffers take: exact, from Espruino's flat-string layout. */
  bufferVariables: number;
  /**
   * Variables of the per-slot objects (subscriptions) and the 5.0 property tables: an estimate from
   * Espruino's variable layout, not measured on a board.
   */
  slotVariables: number;
  total: number;
  /** The board's variables. */
  budget: number;
}

// Per-slot state, in variables (device/engine/outbox.ts, engine.ts): a slot's state is bytes in the engine's
// block; a subscription slot also has its topic filter (an array element and the topic's text).
const SUBSCRIPTION_SLOT_VARIABLES = 1 + 4;
/** MQTT 5.0: the two property tables of the received packet, 43 entries each (codec/packets.ts). */
const MQTT5_TABLE_VARIABLES = 2 * 43;

/** The memory the client of a profile takes, computed from the profile. */
export function memoryUse(profile: BoardProfile): MemoryUse {
  const o = profileOptions(profile);
  const slots = o.inflightWindow + o.queueSlots;
  const block = framerBufferSize(o.receiveBufferSize) + o.transmitBufferSize + slots * (o.messageSlotSize + SLOT_STATE_BYTES) +
    o.subscriptionSlots * SUBSCRIPTION_SLOT_BYTES + o.incomingQos2Slots * INCOMING_SLOT_BYTES;
  const size = profile.espruino.variableBytes;
  const bufferVars = bufferVariables(block, size) + bufferVariables(RECEIVE_CHUNK, size);
  const slotVars = o.subscriptionSlots * SUBSCRIPTION_SLOT_VARIABLES + (o.protocolVersion === 5 ? MQTT5_TABLE_VARIABLES : 0);
  return {
    bufferBytes: block + RECEIVE_CHUNK,
    bufferVariables: bufferVars,
    slotVariables: slotVars,
    total: bufferVars + slotVars,
    budget: profile.espruino.variables,
  };
}

export function describeMemory(profile: BoardProfile): string {
  const m = memoryUse(profile);
  const percent = ((100 * m.total) / m.budget).toFixed(1);
  return `${profile.name}: client ${m.total.toLocaleString("en-US")} of ${m.budget.toLocaleString("en-US")} variables ` +
    `(${percent}%): buffers ${m.bufferBytes.toLocaleString("en-US")} B = ${m.bufferVariables} variables of ` +
    `${profile.espruino.variableBytes} B, slot state ~${m.slotVariables} variables`;
}
