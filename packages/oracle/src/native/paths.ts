import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/**
 * The directory of the @hugemm/oracle package, which holds native/kexec.c:
 * resolved as a dependency (so a bundle that inlines this code still finds
 * it), else by walking up from this file.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  try {
    return (root = dirname(createRequire(import.meta.url).resolve("@hugemm/oracle/package.json")));
  } catch {
    // Not resolvable from here: the sources themselves, in the repository.
  }
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "@hugemm/oracle") return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the @hugemm/oracle package above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Where the compiled executor is cached (gitignored): HUGEMM_CACHE, else the package's .cache. */
export function cacheDir(): string {
  return process.env.HUGEMM_CACHE ?? join(packageRoot(), ".cache");
}

/** The executor's source. */
export function kexecSource(): string {
  return join(packageRoot(), "native", "kexec.c");
}
