// The Espruino module (the entry of both builds, scripts/build.ts). Espruino runs a module from Storage with
// `exports` in scope and returns it to require(), so this file sets its fields, as Espruino's own modules do:
// the client, the options it is made from, the will, and the two helpers that turn a received message's
// topic and payload into strings.

import { EspruinoClient } from "./client";
import { EngineOptions } from "../../engine/options";
import { Will } from "../../codec/packets";
import { topicText, payloadText } from "../../engine/topic";

declare const exports: {
  EspruinoClient: typeof EspruinoClient;
  EngineOptions: typeof EngineOptions;
  Will: typeof Will;
  topicText: typeof topicText;
  payloadText: typeof payloadText;
};

exports.EspruinoClient = EspruinoClient;
exports.EngineOptions = EngineOptions;
exports.Will = Will;
exports.topicText = topicText;
exports.payloadText = payloadText;
