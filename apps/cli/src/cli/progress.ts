/**
 * A progress bar on stderr for long runs. It draws only on a terminal and
 * never with --quiet, redraws at most every 100 ms, and erases itself when
 * done so that what the command prints stays clean.
 */
export interface Progress {
  update(done: number, total: number, label?: string): void;
  done(): void;
}

const NONE: Progress = { update() {}, done() {} };
const WIDTH = 28;
const INTERVAL_MS = 100;

export function makeProgress(write: ((s: string) => void) | null, now: () => number = Date.now): Progress {
  if (write === null) return NONE;
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, total, label = "") {
      const t = now();
      if (t - last < INTERVAL_MS && done < total) return;
      last = t;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const fill = Math.round(frac * WIDTH);
      const text = `[${"#".repeat(fill)}${".".repeat(WIDTH - fill)}] ${done}/${total}${label === "" ? "" : ` ${label}`}`;
      write(`\r${text.slice(0, 78).padEnd(78)}`);
      drawn = true;
    },
    done() {
      if (drawn) write(`\r${" ".repeat(78)}\r`);
      drawn = false;
    },
  };
}
