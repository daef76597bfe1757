import type { Step } from "@hugemm/scenario";
import type { FuzzCase } from "./case";
import { mergeProcess, simplerArgs, type Units } from "./simplify";

/** What the shrinker asks about a candidate. */
export interface ShrinkOracle {
  /**
   * Scope checking: null when the candidate is valid, else the index of the
   * first step it rejects (-1 when what it rejects is not a step: a setting,
   * a file, the machine).
   */
  invalidAt(c: FuzzCase): number | null;
  /** Run a valid candidate: the step it fails at when it still fails the same way, else null. */
  failsAt(c: FuzzCase): number | null;
}

export interface ShrinkOptions {
  /** At most this many runs (default 2000). */
  readonly maxRuns?: number;
  /** Called after each run. */
  onRun?(runs: number, maxRuns: number): void;
}

export interface ShrinkResult {
  /** The smallest failing case found. */
  readonly case: FuzzCase;
  /** Candidates run (those scope checking rejected cost nothing and are not counted). */
  readonly runs: number;
  /** The run budget ran out before a fixpoint: the case may not be minimal. */
  readonly exhausted: boolean;
}

export const DEFAULT_SHRINK_RUNS = 2000;

const NONE: ReadonlySet<number> = new Set();

/**
 * The case without the steps at `drop`, and without every later step
 * scope checking then rejects (one naming a process, name, pin or held
 * migration that only a dropped step made). Null when it rejects
 * something that is not a step.
 */
export function dropSteps(c: FuzzCase, drop: ReadonlySet<number>, invalidAt: ShrinkOracle["invalidAt"]): FuzzCase | null {
  let x: FuzzCase = { ...c, steps: c.steps.filter((_, i) => !drop.has(i)) };
  for (let guard = x.steps.length; guard >= 0; guard--) {
    const bad = invalidAt(x);
    if (bad === null) return x;
    if (bad < 0 || bad >= x.steps.length) return null;
    x = { ...x, steps: x.steps.filter((_, i) => i !== bad) };
  }
  return null;
}

/**
 * Reduce a failing case to a small one that fails the same way. First
 * delta debugging over the steps: remove chunks, halving their size when no
 * chunk can go; a removal that leaves a later step naming what is gone (a
 * name, a process, a pin) drops that step too. Then simpler arguments,
 * step by step (see simplerArgs), then fewer processes (a forked or
 * spawned process's steps done by its parent), fewer settings and files,
 * one node and no swap. All again until nothing changes or the runs run out. Every
 * accepted candidate is cut after the step it fails at. Deterministic: the
 * same case and oracle give the same result.
 */
export function shrink(start: FuzzCase, oracle: ShrinkOracle, units: Units, opts: ShrinkOptions = {}): ShrinkResult {
  const maxRuns = opts.maxRuns ?? DEFAULT_SHRINK_RUNS;
  let cur = start;
  let runs = 0;
  let exhausted = false;

  /** Run a candidate; keep it when it fails the same way. */
  const attempt = (candidate: FuzzCase): boolean => {
    if (runs >= maxRuns) {
      exhausted = true;
      return false;
    }
    const c = dropSteps(candidate, NONE, oracle.invalidAt);
    if (c === null) return false;
    runs++;
    const at = oracle.failsAt(c);
    opts.onRun?.(runs, maxRuns);
    if (at === null) return false;
    cur = at + 1 < c.steps.length ? { ...c, steps: c.steps.slice(0, Math.max(0, at + 1)) } : c;
    return true;
  };

  const withSteps = (steps: readonly Step[]): FuzzCase => ({ ...cur, steps });

  const ddmin = (): boolean => {
    let changed = false;
    let n = 2;
    while (cur.steps.length > 0 && !exhausted) {
      const len = cur.steps.length;
      const chunk = Math.max(1, Math.ceil(len / n));
      let reduced = false;
      for (let from = 0; from < len && !exhausted; from += chunk) {
        if (attempt(withSteps(cur.steps.filter((_, i) => i < from || i >= from + chunk)))) {
          reduced = true;
          break;
        }
      }
      if (reduced) {
        changed = true;
        n = Math.max(n - 1, 2);
      } else if (chunk === 1) break;
      else n = Math.min(n * 2, len);
    }
    return changed;
  };

  const simplifySteps = (): boolean => {
    let changed = false;
    for (let i = 0; i < cur.steps.length && !exhausted; i++) {
      let again = true;
      while (again && i < cur.steps.length && !exhausted) {
        again = false;
        const s = cur.steps[i]!;
        for (const arg of simplerArgs(s, units)) {
          if (attempt(withSteps(cur.steps.map((x, j) => (j === i ? { ...x, arg } : x))))) {
            again = changed = true;
            break;
          }
        }
      }
    }
    return changed;
  };

  const simplifyCase = (): boolean => {
    let changed = false;
    for (let i = cur.steps.length - 1; i >= 0 && !exhausted; i--) {
      const merged = mergeProcess(cur.steps, i);
      if (merged !== null && attempt(withSteps(merged))) changed = true;
    }
    for (let i = cur.settings.length - 1; i >= 0 && !exhausted; i--) {
      if (i < cur.settings.length && attempt({ ...cur, settings: cur.settings.filter((_, j) => j !== i) })) changed = true;
    }
    for (const name of Object.keys(cur.files)) {
      if (exhausted || !(name in cur.files)) continue;
      const files = { ...cur.files };
      delete files[name];
      if (attempt({ ...cur, files })) changed = true;
    }
    if (cur.machine.nodes > 1 && attempt({ ...cur, machine: { ...cur.machine, nodes: 1 } })) changed = true;
    if (cur.machine.swap !== 0 && cur.machine.swap !== "0" && attempt({ ...cur, machine: { ...cur.machine, swap: 0 } })) changed = true;
    return changed;
  };

  for (;;) {
    const a = ddmin();
    const b = simplifySteps();
    const c = simplifyCase();
    if (exhausted || !(a || b || c)) break;
  }
  return { case: cur, runs, exhausted };
}
