// The NodeMCU module (the entry of the Lua build, scripts/build-lua.ts): what `require("starling")` (or
// dofile, or LFS) returns to a Lua application. Lua cannot call a TypeScript constructor, so each class an
// application needs comes with a function that makes one; the client's methods are called with a colon
// (client:publish(...)), these functions with a dot (starling.newClient(...)).

import { NodeMCUClient, Endpoint, SOCKET_CALL_FAILED, SOCKET_QUEUE_FULL } from "./client";
import { EngineOptions, EngineEvents, TopicFilter, topicText, payloadText } from "../../engine";
import { Will } from "../../codec/packets";
import { errorName } from "../../codec/errors";
import { stringBytes } from "./bytes";

export { topicText, payloadText, errorName, SOCKET_CALL_FAILED, SOCKET_QUEUE_FULL };

/** Options with every field at its default, for the application to set (options.clientId = "..."). */
export function newOptions(): EngineOptions {
  return new EngineOptions();
}

/** A will: published by the broker when the link dies without a DISCONNECT. */
export function newWill(topic: string, payload: string, qos: number, retain: boolean): Will {
  const will = new Will();
  will.topic = topic;
  will.payload = stringBytes(payload);
  will.qos = qos;
  will.retain = retain;
  return will;
}

/** A topic filter to match received messages against without making strings (filter:matches(message)). */
export function newTopicFilter(filter: string): TopicFilter {
  return new TopicFilter(filter);
}

/**
 * The client. `endpoint` is { host = ..., port = ..., tls = false }; `events` a table of four functions, each
 * called with the table first: connected(events, sessionPresent), disconnected(events, code),
 * message(events, message), acknowledged(events, packetType, packetId, reasonCode).
 */
export function newClient(endpoint: Endpoint, options: EngineOptions, events: EngineEvents): NodeMCUClient {
  return new NodeMCUClient(endpoint, options, events);
}
