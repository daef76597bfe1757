import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * The charting library, read from the installed uplot package when a report
 * is rendered, so the HTML carries it inline and needs no network. Reading at
 * render time keeps the library's own build as published and lets a
 * dependency update reach reports without a build step of ours.
 */
export interface ChartAssets {
  readonly script: string;
  readonly style: string;
}

let cached: ChartAssets | undefined;

export function chartAssets(): ChartAssets {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const read = (path: string): string => {
    let file: string;
    try {
      file = require.resolve(path);
    } catch {
      throw new Error(`cannot find ${path}: the uplot package must be installed beside @hugemm/cli (run pnpm install)`);
    }
    return readFileSync(file, "utf8");
  };
  cached = { script: read("uplot/dist/uPlot.iife.min.js"), style: read("uplot/dist/uPlot.min.css") };
  return cached;
}
