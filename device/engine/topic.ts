// Topic matching (section 4.7) on bytes, without making a string.

import { Bytes, byteAt } from "../platform/bytes";

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;

/**
 * True when the topic name topic[topicOffset .. +topicLength) matches the filter
 * filter[0 .. filterLength). '+' matches one level, '#' the rest (including the parent level), and a
 * wildcard at the start never matches a topic beginning with '$' ([MQTT-4.7.2-1]).
 */
export function topicMatches(filter: Bytes, filterLength: number, topic: Bytes, topicOffset: number,
  topicLength: number): boolean {
  if (topicLength > 0 && byteAt(topic, topicOffset) === DOLLAR && filterLength > 0) {
    const first = byteAt(filter, 0);
    if (first === PLUS || first === HASH) {
      return false;
    }
  }
  let f = 0;
  const topicEnd = topicOffset + topicLength;
  let at = topicOffset;
  while (f < filterLength) {
    const c = byteAt(filter, f);
    if (c === HASH) {
      return true;
    }
    if (c === PLUS) {
      while (at < topicEnd && byteAt(topic, at) !== SLASH) {
        at++;
      }
      f++;
    } else {
      if (at >= topicEnd) {
        // "a/#" matches "a": the filter may end in "/#" where the topic ends.
        return c === SLASH && f + 2 === filterLength && byteAt(filter, f + 1) === HASH;
      }
      if (byteAt(topic, at) !== c) {
        return false;
      }
      f++;
      at++;
    }
  }
  return at === topicEnd;
}
