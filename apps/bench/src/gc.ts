import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gcFn: (() => void) | undefined;

/**
 * A full garbage collection. Node exposes gc() only with --expose-gc; setting
 * the flag at run time and fetching gc from a fresh context gives the same
 * function without asking users to pass node flags.
 */
export function forceGc(): void {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === "function") gcFn = g;
    else {
      setFlagsFromString("--expose-gc");
      gcFn = runInNewContext("gc") as () => void;
    }
  }
  gcFn();
}
