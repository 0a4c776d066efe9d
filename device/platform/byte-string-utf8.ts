// What the runtimes whose strings are byte strings share (Espruino without Unicode support, and NodeMCU Lua):
// text is held as its UTF-8 bytes, one character per byte, so measuring it for the wire is checking that the
// bytes are UTF-8 that MQTT may carry. Node's strings are UTF-16 and have their own measure (bytes.ts).

/**
 * The UTF-8 length of `text` (its length: one character per byte), or -1 when MQTT cannot carry it: a zero
 * byte, a character above 0xFF (a string of a Unicode build of Espruino, which these boards do not run), or
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
    if (c === 0 || c > 0xff) {
      return -1;
    }
    if (expected > 0) {
      if (c < low || c > high) {
        return -1;
      }
      expected--;
      low = 0x80;
      high = 0xbf;
    } else if (c >= 0x80) {
      if (c < 0xc2 || c > 0xf4) {
        return -1;
      }
      expected = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
      low = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
      high = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    }
  }
  return expected === 0 ? count : -1;
}
