import { Rng } from "@hugemm/core";

/** The generator's random choices, all drawn from one seeded Rng (never Math.random). */
export class Dice {
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed >>> 0);
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.rng.below(n);
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return hi <= lo ? lo : lo + this.rng.below(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.rng.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError("pick from an empty list");
    return xs[this.below(xs.length)]!;
  }

  /** One of `entries`, each as likely as its weight; entries of weight 0 never. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of entries) total += Math.max(0, w);
    if (total <= 0) throw new RangeError("weighted choice with no positive weight");
    let r = this.rng.float() * total;
    for (const [v, w] of entries) {
      if (w <= 0) continue;
      if (r < w) return v;
      r -= w;
    }
    return entries.filter(([, w]) => w > 0).at(-1)![0];
  }
}
