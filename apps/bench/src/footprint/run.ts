import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../paths";
import type { FootprintKind, FootprintPoint } from "./measure";

/** The bundled child entry (tsup builds it beside bin.js). */
export function childScript(): string {
  return join(packageRoot(), "dist", "footprint-child.js");
}

/**
 * Node flags of the measuring process. V8's background threads (concurrent
 * compilation and marking) and its random hash seed moved the live heap by
 * up to ~250 KiB between identical runs; without them the figure repeats to
 * the byte. The old-space limit leaves room for the largest 4K mapping.
 */
export const CHILD_FLAGS: readonly string[] = ["--expose-gc", "--single-threaded", "--hash-seed=1", "--random-seed=1", "--max-old-space-size=16384"];

/** Measure one (kind, size) in a fresh `node --expose-gc` process, so that nothing else on the heap moves the figures. */
export function measureInChild(kind: FootprintKind, bytes: number, script = childScript()): Promise<FootprintPoint> {
  if (!existsSync(script)) return Promise.reject(new Error(`footprint: ${script} is missing: build the package first (pnpm --filter @hugemm/bench build)`));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CHILD_FLAGS, script, kind, String(bytes)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`footprint of ${kind} over ${bytes} bytes: the measuring process exited with ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out) as FootprintPoint);
      } catch (e) {
        reject(new Error(`footprint of ${kind} over ${bytes} bytes: unreadable output ${JSON.stringify(out.slice(0, 200))}: ${(e as Error).message}`));
      }
    });
  });
}

/** Run `jobs` with at most `parallel` at a time, keeping their order in the result. */
export async function runLimited<T>(jobs: readonly (() => Promise<T>)[], parallel: number): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, jobs.length)) }, worker));
  return out;
}
