// The engine's public surface.
export { Engine, Counters, IDLE, WAITING, OPENING, CONNECTING, CONNECTED } from "./engine";
export type { Link, EngineEvents } from "./engine";
export { EngineOptions, REJECT_NEW, DROP_OLDEST } from "./options";
export { topicMatches, TopicFilter, topicText, payloadText } from "./topic";
