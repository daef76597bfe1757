/**
 * Measuring one workload: warm up, then time several samples and report the
 * median, minimum and maximum rate. A workload runs `ops` operations per call
 * and returns a value that depends on them, so the work cannot be optimised away.
 */
export interface Workload {
  /** Stable metric prefix, e.g. "arch.x86-64.4level.pte_make". */
  readonly name: string;
  /** Operations one call of `run` performs. */
  readonly ops: number;
  /** What one operation is ("entries", "walks", "pages"). */
  readonly unit: string;
  /** Prepare state before each sample (not timed). */
  readonly setup?: () => void;
  readonly run: () => number;
}

export interface Measurement {
  readonly name: string;
  readonly unit: string;
  readonly opsPerSecond: { readonly median: number; readonly min: number; readonly max: number };
  readonly nsPerOp: { readonly median: number; readonly min: number; readonly max: number };
  readonly samples: number;
}

export interface HarnessOptions {
  readonly samples: number;
  readonly warmup: number;
  /** Repeat `run` within a sample until at least this many milliseconds pass. */
  readonly minSampleMs: number;
}

export const FULL: HarnessOptions = { samples: 7, warmup: 2, minSampleMs: 200 };
export const QUICK: HarnessOptions = { samples: 3, warmup: 1, minSampleMs: 20 };

let sink = 0;
/** Keeps results alive; read it so the optimiser cannot drop the work. */
export function blackhole(): number {
  return sink;
}

export function measure(w: Workload, opts: HarnessOptions): Measurement {
  for (let i = 0; i < opts.warmup; i++) {
    w.setup?.();
    sink ^= w.run();
  }
  const rates: number[] = [];
  for (let s = 0; s < opts.samples; s++) {
    w.setup?.();
    let ops = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    do {
      sink ^= w.run();
      ops += w.ops;
      elapsed = process.hrtime.bigint() - start;
    } while (elapsed < BigInt(opts.minSampleMs) * 1_000_000n && w.setup === undefined);
    rates.push((ops * 1e9) / Number(elapsed));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)]!;
  const min = rates[0]!;
  const max = rates[rates.length - 1]!;
  return {
    name: w.name,
    unit: w.unit,
    samples: rates.length,
    opsPerSecond: { median, min, max },
    nsPerOp: { median: 1e9 / median, min: 1e9 / max, max: 1e9 / min },
  };
}
