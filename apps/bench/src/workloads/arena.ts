import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { EV, Kernel, MAP_ANONYMOUS, MAP_PRIVATE, MM_ANONPAGES, PROT_READ, PROT_WRITE, type Mm, type TouchResult } from "@hugemm/core";

export const KiB = 2 ** 10;
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const PAGE = 4096;

/** Page sizes the workloads map memory with on x86-64 (4-level). */
export type PageKind = "4k" | "64k" | "pmd" | "pud";

/** THP knobs that make anonymous faults map exactly one size. */
export const THP: Readonly<Record<PageKind, Readonly<Record<string, string>>>> = {
  "4k": { enabled: "never" },
  "64k": { enabled: "never", "hugepages-64kB/enabled": "always" },
  pmd: { enabled: "always" },
  // The 1 GiB size with its page tables reserved at fault time, so that a later split never fails.
  pud: { enabled: "always", "hugepages-1048576kB/enabled": "always", pud_deposit: "pre-deposit" },
};

/** Base pages one fault maps, by kind. */
export const PAGES_PER_FAULT: Readonly<Record<PageKind, number>> = { "4k": 1, "64k": 16, pmd: 512, pud: 262144 };

export interface ArenaOptions {
  /** Run the core's invariant checker after every operation (the tests do; the benchmark does not). */
  readonly check: boolean;
  /** NUMA nodes (memory is split evenly). */
  readonly nodes?: number;
  readonly swap?: number;
}

/** A fresh x86-64 machine, one process and one anonymous private mapping of `len` bytes. */
export interface Arena {
  readonly k: Kernel;
  readonly mm: Mm;
  readonly addr: number;
  readonly len: number;
  readonly kind: PageKind;
}

/**
 * Memory for a machine that maps `len` bytes of `kind`: room to spare, and
 * for 1 GiB folios twice the mapping, since the zero page and page tables
 * taken early can leave a gigantic block unusable.
 */
export function memoryFor(len: number, kind: PageKind): number {
  const need = kind === "pud" ? 2 * len + GiB : len + GiB;
  return Math.ceil(need / GiB) * GiB;
}

/** `memory` overrides the machine's size (bytes). */
export function arena(len: number, kind: PageKind, opts: ArenaOptions, memory?: number): Arena {
  const nodes = opts.nodes ?? 1;
  // Each node must hold the whole mapping: migration moves all of it to the other one.
  memory ??= memoryFor(len, kind) * nodes;
  const k = new Kernel({ backend: createX86_64Backend("4level"), memory, nodes, check: opts.check, ...(opts.swap === undefined ? {} : { swap: opts.swap }) });
  for (const [knob, value] of Object.entries(THP[kind])) k.thp.set(knob, value);
  const mm = k.createMm();
  const r = k.mmap(mm, { len, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  if (!r.ok) throw new Error(`mmap of ${len} bytes failed: ${r.errno} ${r.reason}`);
  return { k, mm, addr: r.value, len, kind };
}

/**
 * Write-fault the whole mapping in, checking that it took one fault per page
 * of its kind. The stores write data (a seeded pattern): pages of zeroes
 * would let a split map the shared zero page instead of keeping them.
 */
export function populate(a: Arena, name: string): void {
  const before = a.k.events[EV.pgfault]!;
  const r = a.k.touch(a.mm, a.addr, a.len, true, 0x6d6d);
  expectNoFaultError(name, r);
  expectCount(name, "faults to populate", r.faults, a.len / PAGE / PAGES_PER_FAULT[a.kind]);
  expectCount(name, "pgfault events", a.k.events[EV.pgfault]! - before, r.faults);
  expectCount(name, "anonymous pages mapped", a.mm.rss[MM_ANONPAGES]!, a.len / PAGE);
}

/** Free base pages on every zone, per-cpu lists included. */
export function freePages(k: Kernel): number {
  let n = 0;
  for (const z of k.phys.zones) n += z.freeIncludingPcp;
  return n;
}

/** Throw unless the model did exactly the work asked for. */
export function expectCount(workload: string, what: string, got: number, expected: number): void {
  if (got !== expected) throw new Error(`${workload}: ${what}: ${got}, expected ${expected}`);
}

/** Throw unless the model did at least the work asked for. */
export function expectAtLeast(workload: string, what: string, got: number, expected: number): void {
  if (!(got >= expected)) throw new Error(`${workload}: ${what}: ${got}, expected at least ${expected}`);
}

/** A run of accesses that a fault stopped (out of memory, SIGSEGV): say where and why before any count. */
export function expectNoFaultError(workload: string, r: TouchResult): void {
  if (r.error !== 0) throw new Error(`${workload}: the accesses stopped at 0x${r.errorAddr.toString(16)} after ${r.faults} faults: fault result 0x${r.error.toString(16)}`);
}
