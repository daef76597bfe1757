import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The scenarios shipped with the CLI: apps/cli/scenarios in the repository,
 * <package>/scenarios once published (the bundle sits one level lower).
 */
export function shippedDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../../scenarios", "../scenarios"]) {
    const d = join(here, up);
    if (existsSync(join(d, "tour.yaml"))) return d;
  }
  return null;
}

/** Names of the shipped scenarios ("pmd-thp"), sorted. */
export function shippedNames(): string[] {
  const d = shippedDir();
  if (d === null) return [];
  return readdirSync(d)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -".yaml".length))
    .sort();
}

/** A shipped scenario's path by name ("pmd-thp", or "kdiff/fork-cow" in a suite's folder), or null. */
export function shippedPath(name: string): string | null {
  const d = shippedDir();
  if (d === null || !/^([a-z0-9-]+\/)?[a-z0-9-]+$/.test(name)) return null;
  const p = join(d, `${name}.yaml`);
  return existsSync(p) ? p : null;
}
