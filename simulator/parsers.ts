// Parsers of numeric option values, for commander: `starling fleet`'s and the benches' command lines read
// numbers one way, and a bad value is an error that names the option, the value and what it takes.

import { InvalidArgumentError } from "commander";

/** A whole number (digits, no exponent or fraction) from `min` to `max`; `why` says where a bound comes from. */
export function wholeNumber(name: string, min: number, max: number, why = ""): (value: string) => number {
  return (value: string): number => {
    const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} takes a whole number from ${min.toLocaleString("en-US")} to ` +
        `${max.toLocaleString("en-US")}${why === "" ? "" : ` (${why})`}, not "${value}".`);
    }
    return n;
  };
}

/** A number above 0 (or, with `zeroAllowed`, from 0) and at most `max`. */
function numberUpTo(name: string, max: number, zeroAllowed: boolean): (value: string) => number {
  const range = zeroAllowed ? `from 0 to ${max.toLocaleString("en-US")}` : `above 0 and at most ${max.toLocaleString("en-US")}`;
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (n === 0 && !zeroAllowed) || n > max) {
      throw new InvalidArgumentError(`${name} takes a number ${range}, not "${value}".`);
    }
    return n;
  };
}

/** A number above 0 and at most `max`. */
export function positiveNumber(name: string, max: number): (value: string) => number {
  return numberUpTo(name, max, false);
}

/** A number from 0 to `max`. */
export function nonNegativeNumber(name: string, max: number): (value: string) => number {
  return numberUpTo(name, max, true);
}
