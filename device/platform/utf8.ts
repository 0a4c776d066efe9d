// Which bytes may follow a UTF-8 lead byte (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF). The one statement of that rule: the codec checks received text with it, and the runtimes whose
// strings are byte strings (byte-string-utf8.ts) check text to send with it.

/** How many continuation bytes follow the lead byte `first` (0x80 or above), or 0 when it cannot lead. */
export function utf8ContinuationCount(first: number): number {
  if (first < 0xc2 || first > 0xf4) {
    return 0;
  }
  return first >= 0xf0 ? 3 : first >= 0xe0 ? 2 : 1;
}

/** The lowest byte that may follow the lead byte `first` (no overlong forms); the rest start at 0x80. */
export function utf8SecondLow(first: number): number {
  return first === 0xe0 ? 0xa0 : first === 0xf0 ? 0x90 : 0x80;
}

/** The highest byte that may follow the lead byte `first` (no surrogates, nothing past U+10FFFF); the rest end at 0xbf. */
export function utf8SecondHigh(first: number): number {
  return first === 0xed ? 0x9f : first === 0xf4 ? 0x8f : 0xbf;
}
