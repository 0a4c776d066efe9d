// A seeded generator for backoff jitter: the Park-Miller "minimal standard" generator, stepped with
// Schrage's method so every intermediate stays below 2^31 (Lua 5.3 on NodeMCU has 32-bit integers).

export class Random {
  private state: number;

  constructor(seed: number) {
    const start = Math.floor(seed) % 2147483646;
    this.state = start <= 0 ? start + 2147483646 : start;
    // The first draw of seed s is 16807 s / (2^31 - 1): consecutive seeds (a fleet's devices) would
    // all start low and reconnect together. Four steps in, seed s stands at c * s mod (2^31 - 1) for a
    // large c, which spreads consecutive seeds evenly over the range.
    for (let i = 0; i < 4; i++) {
      this.next();
    }
  }

  /** A number in [0, 1). */
  next(): number {
    const high = Math.floor(this.state / 127773);
    const low = this.state - high * 127773;
    let next = 16807 * low - 2836 * high;
    if (next <= 0) {
      next += 2147483647;
    }
    this.state = next;
    return (next - 1) / 2147483646;
  }
}
