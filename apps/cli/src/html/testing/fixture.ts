import type { ArchBackend } from "@hugemm/arch";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE, vmstat, type Mm } from "@hugemm/core";
import type { RunLike } from "../extract";

/*
 * A small workload built directly on the core, for the report's tests: base
 * pages, 64K mTHP, PMD THP, a fork with a COW write, a split and a pageout.
 */

const KiB = 1024;
const MiB = 2 ** 20;
const RW = PROT_READ | PROT_WRITE;
const ANON_FIXED = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;

/** Where the fixture maps its VMAs (holes between them keep them apart). */
export const AT = {
  /** 16K: too small for any THP, four base pages. */
  base: 0x10000000,
  /** 1M with 64K mTHP: the first 256K written. */
  mthp: 0x20000000,
  /** 4M: two PMD THPs, the second split to base pages. */
  thp: 0x40000000,
  /** 32K of base pages paged out to swap. */
  swapped: 0x60000000,
} as const;

function mapFixed(k: Kernel, mm: Mm, addr: number, len: number): void {
  const r = k.mmap(mm, { addr, len, prot: RW, flags: ANON_FIXED });
  if (!r.ok) throw new Error(`fixture mmap at 0x${addr.toString(16)} failed: ${r.errno} ${r.reason}`);
}

function counters(k: Kernel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of vmstat(k).fields) out[name] = v;
  return out;
}

export interface Fixture extends RunLike {
  readonly parent: Mm;
  readonly child: Mm;
}

/** The workload on x86-64 (or another backend), with checkpoints after the faults and pageout, the fork and the split. */
export function buildFixture(backend: ArchBackend = createX86_64Backend(), scenarioName = "fixture"): Fixture {
  const k = new Kernel({ backend, memory: "1G", swap: "64M", check: true, seed: 7 });
  k.thp.set("enabled", "always");
  k.thp.set("hugepages-64kB/enabled", "always");
  const mm = k.createMm();
  mapFixed(k, mm, AT.base, 16 * KiB);
  mapFixed(k, mm, AT.mthp, MiB);
  mapFixed(k, mm, AT.thp, 4 * MiB);
  mapFixed(k, mm, AT.swapped, 32 * KiB);
  k.touch(mm, AT.base, 16 * KiB, true, 1);
  k.touch(mm, AT.mthp, 256 * KiB, true, 2);
  k.touch(mm, AT.thp, 4 * MiB, true, 3);
  k.touch(mm, AT.swapped, 32 * KiB, true, 4);
  const po = k.madvise(mm, AT.swapped, 32 * KiB, MADV.PAGEOUT);
  if (!po.ok) throw new Error(`fixture pageout failed: ${po.errno} ${po.reason}`);
  const checkpoints = [{ name: "faulted", counters: counters(k) }];
  const child = k.fork(mm);
  if (child === null) throw new Error("fixture fork failed");
  // The child's write copies one page out of a shared 64K folio.
  k.touch(child, AT.mthp, 4 * KiB, true, 5);
  checkpoints.push({ name: "forked", counters: counters(k) });
  k.splitHugePages(mm, AT.thp + 2 * MiB, AT.thp + 4 * MiB, 0);
  checkpoints.push({ name: "split", counters: counters(k) });
  return {
    archId: backend.id,
    seed: 7,
    scenarioName,
    kernel: k,
    processes: new Map([
      [1, mm],
      [2, child],
    ]),
    checkpoints,
    expects: [
      { clause: "thp_fault_alloc == 2", pass: true, expected: 2, actual: counters(k)["thp_fault_alloc"] },
      { clause: "mapped_at(0x40000000) == pmd", pass: true, expected: "pmd", actual: "pmd" },
      { clause: 'counter("thp_split_page") > 5', pass: false, expected: "> 5", actual: counters(k)["thp_split_page"] },
    ],
    parent: mm,
    child,
  };
}
