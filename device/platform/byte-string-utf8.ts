// What the runtimes whose strings are byte strings share (Espruino without Unicode support, and NodeMCU Lua):
// text is held as its UTF-8 bytes, one character per byte, so measuring it for the wire is checking that the
// bytes are UTF-8 that MQTT may carry. Node's strings are UTF-16 and have their own measure (bytes.ts).

import { utf8ContinuationCount, utf8SecondLow, utf8SecondHigh } from "./utf8";

/**
 * The UTF-8 length of `text` (its length: one character per byte); -1 when it holds a zero byte, which MQTT
 * strings may not carry; -2 when it is not UTF-8: a character above 0xFF (a string of a Unicode build of Espruino, which these boards do not run), or
 * bytes that are not well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF),
 * such as Latin-1 text. Allocation-free.
 */
export function utf8Length(text: string): number {
  const count = text.length;
  // Continuation bytes still expected, and the range the next one must be in.
  let expected = 0;
  let low = 0x80;
  let high = 0xbf;
  for (let i = 0; i < count; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) {
      return -1;
    }
    if (c > 0xff) {
      return -2;
    }
    if (expected > 0) {
      if (c < low || c > high) {
        return -2;
      }
      expected--;
      low = 0x80;
      high = 0xbf;
    } else if (c >= 0x80) {
      expected = utf8ContinuationCount(c);
      if (expected === 0) {
        return -2;
      }
      low = utf8SecondLow(c);
      high = utf8SecondHigh(c);
    }
  }
  return expected === 0 ? count : -2;
}
