import { compileNative, findCompiler, type Compiler } from "@hugemm/oracle";
import { join } from "node:path";
import { cacheDir, packageRoot } from "../paths";

/** `$CC` (default `cc`), or why there is none: the only reason the kernel side is skipped rather than failed. */
export { findCompiler, type Compiler };

export const CFLAGS = ["-O2", "-std=c99"];

/** The kernel benchmark's source. */
export function kbenchSource(): string {
  return join(packageRoot(), "native", "kbench.c");
}

/** Compile kbench.c with `cc -O2` into the cache (rebuilt when the source, the compiler or the flags change) and return the binary. */
export function compileKbench(cc: Compiler, source = kbenchSource(), dir = join(cacheDir(), "kbench")): string {
  return compileNative(cc, source, dir, "kbench", CFLAGS);
}
