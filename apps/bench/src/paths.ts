import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/**
 * The directory of the @hugemm/bench package: the same from the bundled
 * dist/bin.js and from the TypeScript sources the tests run.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "@hugemm/bench") return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the @hugemm/bench package above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Where the compiled kernel benchmark is cached (gitignored). */
export function cacheDir(): string {
  return join(packageRoot(), ".cache");
}
