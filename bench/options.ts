// The benches' command lines, read one way (commander, as simulator/cli.ts reads `starling fleet`): a bad
// value ends the bench at once with exit code 2 and a message that names the option, the value and what it
// takes, instead of a run that prints NaN or never ends. And one rule for ratios between two measurements,
// so that a figure that measured nothing is said to be so rather than printed as Infinity or NaN.

import { Command } from "commander";

export { positiveNumber, wholeNumber } from "../simulator/parsers";

/**
 * Reads `argv` (the arguments after the script) with `program`'s options and returns their values. A bad
 * option or value: commander prints what is wrong and the bench exits with 2 (--help exits with 0).
 */
export function parseBenchOptions<T extends object>(program: Command, argv: string[]): T {
  program
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .showHelpAfterError("(--help lists the options)")
    .parse(argv, { from: "user" });
  return program.opts<T>();
}

/**
 * `numerator / denominator` of two measurements, or null when the ratio says nothing: a side that is not a
 * finite number, a denominator of 0 or less (nothing measured), or a negative numerator.
 */
export function ratio(numerator: number, denominator: number): number | null {
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator <= 0 || numerator < 0) return null;
  return numerator / denominator;
}

/** A ratio as the benches print it: "4.60x", or "not measured (why)". */
export function formatRatio(value: number | null, digits: number, why: string): string {
  return value === null ? `not measured (${why})` : `${value.toFixed(digits)}x`;
}

/**
 * A target's verdict from ratios: not met (false) when a measured one falls short, whatever the others; not
 * judged (null) when the measured ones meet it but another was not measured; met (true) otherwise.
 */
export function judge(ratios: Array<number | null>, target: number): boolean | null {
  if (ratios.some((r) => r !== null && r < target)) return false;
  return ratios.some((r) => r === null) ? null : true;
}
