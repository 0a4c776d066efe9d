// Received messages, read without making strings: topic matching (section 4.7) on bytes, and the two
// helpers that do make a string, for when the application wants one.

import { Bytes, byteAt, newBytes, utf8Length, writeUtf8, readUtf8 } from "../platform/bytes";
import { Packet } from "../codec/packets";
import { OK, ERR_BAD_ARGUMENT } from "../codec/errors";
import { topicFilterFieldSize } from "../codec/wire";

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

/**
 * A topic filter kept as bytes, made once (at setup), then matched against messages allocation-free. A
 * shared subscription's filter ("$share/group/a/#") matches as the filter after its group ("a/#"): the
 * broker delivers its messages under their own topics.
 */
export class TopicFilter {
  readonly bytes: Bytes;
  readonly length: number;
  /** OK, or why the filter is none (the codec's ERR_TOPIC_FILTER, ERR_BAD_ARGUMENT for no string, ...): it then matches nothing. */
  readonly error: number;

  constructor(filter: string) {
    const size = typeof filter === "string" ? topicFilterFieldSize(filter) : ERR_BAD_ARGUMENT;
    this.error = size < 0 ? size : OK;
    const text = size < 0 ? "" : filter.indexOf("$share/") === 0 ? filter.substring(filter.indexOf("/", 7) + 1) : filter;
    this.length = utf8Length(text);
    this.bytes = newBytes(this.length);
    writeUtf8(this.bytes, 0, text);
  }

  /** True when the message's topic matches; a filter without wildcards is a plain equality test. */
  matches(message: Packet): boolean {
    const buffer = message.buffer;
    return buffer !== null && this.error === OK && topicMatches(this.bytes, this.length, buffer, message.topicOffset, message.topicLength);
  }
}

/** The message's topic as a string (allocates). */
export function topicText(message: Packet): string {
  return message.buffer === null ? "" : readUtf8(message.buffer, message.topicOffset, message.topicLength);
}

/** The message's payload decoded as UTF-8 text (allocates). */
export function payloadText(message: Packet): string {
  return message.buffer === null ? "" : readUtf8(message.buffer, message.payloadOffset, message.payloadLength);
}
