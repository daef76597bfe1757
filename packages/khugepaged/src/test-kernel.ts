import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, type Mm } from "@hugemm/core";
import { installKhugepaged } from "./khugepaged";
import type { Khugepaged } from "./khugepaged";

/*
 * Kernels for this package's tests (not exported): the invariant checker on,
 * khugepaged installed.
 */

export interface TestMachine {
  readonly k: Kernel;
  readonly kh: Khugepaged;
  readonly mm: Mm;
}

export function machine(arch: "x86-64" | "arm64:4k" = "x86-64", opts: { memory?: string; swap?: string; enabled?: string; nodes?: number } = {}): TestMachine {
  const backend = arch === "x86-64" ? createX86_64Backend() : createArm64Backend("4k-48");
  const k = new Kernel({ backend, memory: opts.memory ?? "256M", swap: opts.swap ?? "32M", nodes: opts.nodes ?? 1, check: true });
  const kh = installKhugepaged(k);
  k.thp.set("enabled", opts.enabled ?? "madvise");
  return { k, kh, mm: k.createMm() };
}

/** An anonymous private read-write mapping of `len` bytes (PMD-aligned when a whole number of PMDs). */
export function anon(t: TestMachine, len: number, mm = t.mm): number {
  const r = t.k.mmap(mm, { addr: 0, len, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  if (!r.ok) throw new Error(`mmap: ${r.errno} ${r.reason}`);
  return r.value;
}

export function madvise(t: TestMachine, addr: number, len: number, advice: number, mm = t.mm): 0 | string {
  const r = t.k.madvise(mm, addr, len, advice);
  return r.ok ? 0 : r.errno;
}

export const MB2 = 2 << 20;
export const KB4 = 4096;
export { MADV };
