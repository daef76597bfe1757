import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { cacheDir, kexecSource } from "./paths";

/** gnu99: the executor uses Linux's memfd, mremap and glibc's strerrorname_np. */
export const CFLAGS = ["-O2", "-std=gnu99"];

/** The C compiler: the command line that runs it and the first line of its --version. */
export interface Compiler {
  readonly argv: readonly string[];
  readonly version: string;
}

/** `$CC` (default `cc`), or why there is none. */
export function findCompiler(cc = process.env.CC ?? "cc"): Compiler | { readonly missing: string } {
  const argv = cc.trim().split(/\s+/).filter((s) => s !== "");
  if (argv.length === 0) return { missing: "no C compiler: CC is empty" };
  const r = spawnSync(argv[0]!, [...argv.slice(1), "--version"], { encoding: "utf8" });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return { missing: code === "ENOENT" ? `no C compiler: ${JSON.stringify(argv[0])} was not found on PATH (set CC to use another)` : `no C compiler: ${argv[0]}: ${r.error.message}` };
  }
  const version = (r.stdout || r.stderr).split("\n")[0]!.trim() || argv.join(" ");
  return { argv, version };
}

/**
 * Compile the C program at `source` with `flags` into `dir`, keyed by the
 * source, the compiler and the flags (an edit or another compiler rebuilds
 * it), and return the binary's path (`<name>-<key>`). A compile error throws
 * with the compiler's output. The oracle's executor and the benchmark's
 * kbench are both built this way.
 */
export function compileNative(cc: Compiler, source: string, dir: string, name: string, flags: readonly string[]): string {
  const text = readFileSync(source);
  const key = createHash("sha256").update(text).update(cc.version).update(cc.argv.join(" ")).update(flags.join(" ")).digest("hex").slice(0, 16);
  const binary = join(dir, `${name}-${key}`);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  // Build beside the final name and rename, so a concurrent run never sees half a binary.
  const tmp = `${binary}.${process.pid}.tmp`;
  const r = spawnSync(cc.argv[0]!, [...cc.argv.slice(1), ...flags, "-o", tmp, source], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`compiling ${source} with ${cc.argv.join(" ")} failed${r.error ? `: ${r.error.message}` : ` (exit ${r.status})`}:\n${(r.stderr ?? "").trim()}`);
  }
  renameSync(tmp, binary);
  return binary;
}

/** Compile kexec.c into the cache and return the binary. */
export function compileKexec(cc: Compiler, source = kexecSource(), dir = join(cacheDir(), "kexec")): string {
  return compileNative(cc, source, dir, "kexec", CFLAGS);
}
