// Primitive fields of the wire format (section 1.5): integers, Variable Byte Integers, UTF-8 strings,
// binary data. Writers return the offset after the field; readers leave their result in `cursor`.

import { Bytes, byteAt, setByte, bytesLength, copyBytes, utf8Length, writeUtf8 } from "../platform/bytes";
import * as errors from "./errors";
import { utf8ContinuationCount, utf8SecondLow, utf8SecondHigh } from "../platform/utf8";

/** A whole number from min to max: false for NaN, a fraction, or what is no number at all. */
export function isWhole(value: number, min: number, max: number): boolean {
  return typeof value === "number" && value >= min && value <= max && value === Math.floor(value);
}

export function varintSize(value: number): number {
  if (value < 128) return 1;
  if (value < 16384) return 2;
  if (value < 2097152) return 3;
  return 4;
}

export function writeVarint(buffer: Bytes, at: number, value: number): number {
  let rest = value;
  do {
    let digit = rest % 128;
    rest = (rest - digit) / 128;
    if (rest > 0) {
      digit = digit | 0x80;
    }
    setByte(buffer, at, digit);
    at++;
  } while (rest > 0);
  return at;
}

export function writeU16(buffer: Bytes, at: number, value: number): number {
  setByte(buffer, at, (value >> 8) & 0xff);
  setByte(buffer, at + 1, value & 0xff);
  return at + 2;
}

export function writeU32(buffer: Bytes, at: number, value: number): number {
  // Division, not >>>: the value may exceed 2^31 and >>> breaks on Lua's 32-bit integers.
  const high = Math.floor(value / 65536);
  writeU16(buffer, at, high);
  return writeU16(buffer, at + 2, value - high * 65536);
}

/** The error code for what utf8Length() found (-1 a zero character, -2 text that is not UTF-8). */
export function utf8Error(length: number): number {
  return length === -1 ? errors.ERR_UTF8_NULL : errors.ERR_BAD_UTF8;
}

/** The wire size of a UTF-8 string field, or an error code for text MQTT cannot carry. */
export function stringFieldSize(text: string): number {
  if (typeof text !== "string") {
    return errors.ERR_BAD_ARGUMENT;
  }
  const length = utf8Length(text);
  if (length < 0) {
    return utf8Error(length);
  }
  if (length > 65535) {
    return errors.ERR_STRING_TOO_LONG;
  }
  return 2 + length;
}

/** Writes a string field whose size stringFieldSize accepted. */
export function writeString(buffer: Bytes, at: number, text: string): number {
  const end = writeUtf8(buffer, at + 2, text);
  writeU16(buffer, at, end - at - 2);
  return end;
}

/** The wire size of a binary data field holding all of `data` (none when null), or an error code. */
export function binaryFieldSize(data: Bytes | null): number {
  if (data === null) {
    return 2;
  }
  const length = bytesLength(data);
  // No whole length: what was given is no byte buffer.
  return length > 65535 ? errors.ERR_STRING_TOO_LONG : isWhole(length, 0, 65535) ? 2 + length : errors.ERR_BAD_ARGUMENT;
}

/** Writes a binary data field whose size binaryFieldSize accepted. */
export function writeBinary(buffer: Bytes, at: number, data: Bytes | null): number {
  if (data === null) {
    return writeU16(buffer, at, 0);
  }
  const length = bytesLength(data);
  writeU16(buffer, at, length);
  copyBytes(buffer, at + 2, data, 0, length);
  return at + 2 + length;
}

/** A topic name to publish to: a string field without wildcards. */
// A device publishes to the same few topics again and again: the last answer is kept, so the usual
// publish checks its topic once instead of scanning it twice per message.
let lastTopic = "";
let lastTopicSize = 0;

export function topicNameFieldSize(topic: string): number {
  if (topic === lastTopic && lastTopicSize !== 0) {
    return lastTopicSize;
  }
  const count = topic.length;
  for (let i = 0; i < count; i++) {
    const c = topic.charCodeAt(i);
    if (c === 0x23 || c === 0x2b) {
      return errors.ERR_TOPIC_WILDCARD;
    }
  }
  const size = stringFieldSize(topic);
  if (size > 0) {
    lastTopic = topic;
    lastTopicSize = size;
  }
  return size;
}

/**
 * A topic filter (section 4.7.1): '#' only as a whole last level, '+' only as a whole level, never
 * empty; a shared subscription "$share/{name}/{filter}" needs a name without '/', '+' or '#' and a
 * filter after it ([MQTT-4.8.2-1], [MQTT-4.8.2-2]).
 */
export function topicFilterFieldSize(filter: string): number {
  const count = filter.length;
  if (count === 0) {
    return errors.ERR_TOPIC_FILTER;
  }
  let levelStart = true;
  for (let i = 0; i < count; i++) {
    const c = filter.charCodeAt(i);
    const levelEnd = i === count - 1 || filter.charCodeAt(i + 1) === 0x2f;
    if (c === 0x23 && (!levelStart || i !== count - 1)) {
      return errors.ERR_TOPIC_FILTER;
    }
    if (c === 0x2b && (!levelStart || !levelEnd)) {
      return errors.ERR_TOPIC_FILTER;
    }
    levelStart = c === 0x2f;
  }
  if (filter.indexOf("$share/") === 0) {
    const nameEnd = filter.indexOf("/", 7);
    if (nameEnd <= 7 || nameEnd === count - 1) {
      return errors.ERR_TOPIC_FILTER;
    }
    for (let i = 7; i < nameEnd; i++) {
      const c = filter.charCodeAt(i);
      if (c === 0x23 || c === 0x2b) {
        return errors.ERR_TOPIC_FILTER;
      }
    }
  }
  return stringFieldSize(filter);
}

/** Where a reader leaves what it read: the value (or a string's offset), its length, and the next offset. */
export class Cursor {
  value = 0;
  length = 0;
  next = 0;
}

export function readU16(buffer: Bytes, at: number): number {
  return (byteAt(buffer, at) << 8) | byteAt(buffer, at + 1);
}

export function readU32(buffer: Bytes, at: number): number {
  return readU16(buffer, at) * 65536 + readU16(buffer, at + 2);
}

/** A Variable Byte Integer at `at`, no further than `end`: OK with cursor.value/next set, or an error code. */
export function readVarint(buffer: Bytes, at: number, end: number, cursor: Cursor): number {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    if (at + i >= end) {
      return errors.ERR_MALFORMED;
    }
    const digit = byteAt(buffer, at + i);
    value += (digit & 0x7f) * multiplier;
    if (digit < 0x80) {
      // [MQTT-1.5.5-1] the shortest form only: a last byte of 0 after the first adds nothing.
      if (digit === 0 && i > 0) {
        return errors.ERR_REMAINING_LENGTH;
      }
      cursor.value = value;
      cursor.next = at + i + 1;
      return 0;
    }
    multiplier *= 128;
  }
  return errors.ERR_REMAINING_LENGTH;
}

/**
 * A UTF-8 string field at `at`: checks it is well-formed and free of U+0000 ([MQTT-1.5.4-1],
 * [MQTT-1.5.4-2]; 3.1.1: [MQTT-1.5.3-1], [MQTT-1.5.3-2]). Sets cursor.value (offset of the text),
 * cursor.length and cursor.next.
 */
export function readString(buffer: Bytes, at: number, end: number, cursor: Cursor): number {
  const error = readBinary(buffer, at, end, cursor);
  if (error !== 0) {
    return error;
  }
  return checkUtf8(buffer, cursor.value, cursor.length);
}

export function readBinary(buffer: Bytes, at: number, end: number, cursor: Cursor): number {
  if (at + 2 > end) {
    return errors.ERR_MALFORMED;
  }
  const length = readU16(buffer, at);
  if (at + 2 + length > end) {
    return errors.ERR_MALFORMED;
  }
  cursor.value = at + 2;
  cursor.length = length;
  cursor.next = at + 2 + length;
  return 0;
}

/** Well-formed UTF-8 as RFC 3629 defines it (no overlong forms, surrogates or code points past U+10FFFF). */
export function checkUtf8(buffer: Bytes, offset: number, length: number): number {
  const end = offset + length;
  let at = offset;
  while (at < end) {
    const size = utf8SequenceAt(buffer, at, end);
    if (size < 0) {
      return size;
    }
    at += size;
  }
  return 0;
}

/** The byte count of the well-formed UTF-8 sequence at `at`, or an error code. */
function utf8SequenceAt(buffer: Bytes, at: number, end: number): number {
  const first = byteAt(buffer, at);
  if (first < 0x80) {
    return first === 0 ? errors.ERR_UTF8_NULL : 1;
  }
  const extra = utf8ContinuationCount(first);
  if (extra === 0 || at + extra >= end) {
    return errors.ERR_BAD_UTF8;
  }
  const second = byteAt(buffer, at + 1);
  if (second < utf8SecondLow(first) || second > utf8SecondHigh(first)) {
    return errors.ERR_BAD_UTF8;
  }
  for (let k = 2; k <= extra; k++) {
    const next = byteAt(buffer, at + k);
    if (next < 0x80 || next > 0xbf) {
      return errors.ERR_BAD_UTF8;
    }
  }
  return extra + 1;
}

/** True when a received topic name holds '+' or '#' ([MQTT-3.3.2-2]). */
export function hasWildcard(buffer: Bytes, offset: number, length: number): boolean {
  for (let i = 0; i < length; i++) {
    const c = byteAt(buffer, offset + i);
    if (c === 0x23 || c === 0x2b) {
      return true;
    }
  }
  return false;
}
