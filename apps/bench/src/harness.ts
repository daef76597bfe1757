/**
 * Measuring one workload: warm up, then time several samples and report the
 * median, minimum and maximum rate. A workload runs `ops` operations per call
 * and returns a value that depends on them, so the work cannot be optimised away.
 */
export interface Workload {
  /** Stable metric prefix, e.g. "fault.anon.4k". */
  readonly name: string;
  /** Operations one call of `run` performs. */
  readonly ops: number;
  /** What one operation is, plural ("faults", "pages", "forks", "entries"). */
  readonly unit: string;
  /** Other units one operation amounts to, e.g. { pages: 262144 } for a fork of 1 GiB. */
  readonly per?: Readonly<Record<string, number>>;
  /** Build state shared by every call of `run`, once, before warming up (not timed). */
  readonly prepare?: () => void;
  /** Prepare fresh state for one call of `run` (not timed). */
  readonly setup?: () => void;
  /** Do the work; throws when the model did not do what was asked. */
  readonly run: () => number;
}

export interface Range {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface Measurement {
  readonly name: string;
  readonly unit: string;
  readonly per: Readonly<Record<string, number>>;
  readonly opsPerSecond: Range;
  readonly nsPerOp: Range;
  readonly samples: number;
}

export interface HarnessOptions {
  readonly samples: number;
  readonly warmup: number;
  /** Keep timing within a sample until at least this many milliseconds of work were measured... */
  readonly minSampleMs: number;
  /** ...unless the sample, setup included, already took this long. */
  readonly maxSampleMs: number;
  /** Called before each timed stretch, so that garbage from setup is not collected on the clock. */
  readonly gc?: () => void;
}

export const FULL: HarnessOptions = { samples: 7, warmup: 2, minSampleMs: 200, maxSampleMs: 1000 };
export const QUICK: HarnessOptions = { samples: 3, warmup: 1, minSampleMs: 20, maxSampleMs: 100 };

let sink = 0;
/** Keeps results alive; read it so the optimiser cannot drop the work. */
export function blackhole(): number {
  return sink;
}

/** One sample: operations done and milliseconds they took. */
function sample(w: Workload, opts: HarnessOptions): [number, number] {
  let ops = 0;
  let ms = 0;
  const wallStart = performance.now();
  if (w.setup === undefined) {
    opts.gc?.();
    const t0 = performance.now();
    do {
      sink ^= w.run();
      ops += w.ops;
      ms = performance.now() - t0;
    } while (ms < opts.minSampleMs);
    return [ops, ms];
  }
  // Fresh state for every call: only `run` is on the clock, repeated while the sample is short.
  do {
    w.setup();
    opts.gc?.();
    const t0 = performance.now();
    sink ^= w.run();
    ms += performance.now() - t0;
    ops += w.ops;
  } while (ms < opts.minSampleMs && performance.now() - wallStart < opts.maxSampleMs);
  return [ops, ms];
}

export function measure(w: Workload, opts: HarnessOptions): Measurement {
  w.prepare?.();
  for (let i = 0; i < opts.warmup; i++) {
    w.setup?.();
    sink ^= w.run();
  }
  const rates: number[] = [];
  for (let s = 0; s < opts.samples; s++) {
    const [ops, ms] = sample(w, opts);
    rates.push((ops * 1e3) / ms);
  }
  return fromRates(w.name, w.unit, w.per ?? {}, rates);
}

/** A measurement from per-sample rates (operations per second), also used for the kernel's figures. */
export function fromRates(name: string, unit: string, per: Readonly<Record<string, number>>, rates: readonly number[]): Measurement {
  if (rates.length === 0) throw new Error(`${name}: no samples`);
  const sorted = [...rates].sort((a, b) => a - b);
  const median = medianOf(sorted);
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  return {
    name,
    unit,
    per,
    samples: sorted.length,
    opsPerSecond: { median, min, max },
    nsPerOp: { median: 1e9 / median, min: 1e9 / max, max: 1e9 / min },
  };
}

/** The median of sorted values (the mean of the middle two for an even count). */
export function medianOf(sorted: readonly number[]): number {
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
