import { parseSize } from "@hugemm/core";
import type { FileSpec, Step } from "@hugemm/scenario";
import { step, type FuzzCase } from "./case";
import { Dice } from "./dice";
import { GenModel } from "./model";
import * as ops from "./ops";
import { archProfile, machineFor, type ArchProfile } from "./profile";
import { initialSettings } from "./settings";
import { sizeText } from "./text";

export interface GenerateOptions {
  /** Arch spec ("x86-64", "arm64:4k", "arm64:64k", "ppc8xx:4k", ...). */
  readonly arch: string;
  /** Steps in the sequence. */
  readonly ops: number;
  readonly seed: number;
}

/** Base pages the live processes may touch in all: bounds the checker's work per step. */
export const TOUCH_PAGES = 1024;
/** The share of memory the live processes may map in all. */
export const MEMORY_SHARE = 0.4;

/** A step kind, its weight now (0: not possible now), and its builder (null: nothing fitting now). */
type Entry = readonly [weight: number, build: (g: ops.GenContext) => Step | null];

/**
 * The op mix. Memory operations dominate (mmap while few names exist,
 * writes and reads that fault THPs and mTHPs, madvise, mprotect, munmap,
 * mremap); process, pin and migration steps are common enough to meet them;
 * reclaim, compaction, splits and settings come now and then.
 */
function mix(g: ops.GenContext): Entry[] {
  const names = ops.namedProcs(g).reduce((n, p) => n + p.names.size, 0);
  const named = names > 0;
  const m = g.model;
  const w = (on: boolean, weight: number): number => (on ? weight : 0);
  // Little left to touch: unmap whole mappings and end processes more often.
  const tight = m.touchRoom < m.touchCap / 4;
  return [
    [w(tight, 6), ops.genUnmapWhole],
    [names < 3 ? 40 : 10, ops.genMmap],
    [w(named, 14), (c) => ops.genAccess(c, true)],
    [w(named, 6), (c) => ops.genAccess(c, false)],
    [w(named, 10), ops.genMadvise],
    [w(named, 4), ops.genMunmap],
    [w(named, 6), ops.genMprotect],
    [w(named, 5), ops.genMremap],
    [w(m.procs.size < ops.MAX_PROCS, 3), ops.genFork],
    [w(m.procs.size < ops.MAX_PROCS, 0.7), ops.genSpawn],
    [w(m.procs.size > 1, tight ? 4 : 1.5), ops.genExit],
    [w(named, 3), ops.genPin],
    [w(m.pins.length > 0, 3), ops.genUnpin],
    [w(named, 3), ops.genMigrate],
    [w(m.holds.length > 0, 3), ops.genMigrateFinish],
    [w(named, 2), ops.genPageout],
    [1, ops.genPressure],
    [0.7, ops.genKswapd],
    [0.7, () => step("compact", {})],
    [w(named, 3), ops.genSplit],
    [1.5, () => step("shrink", {})],
    // THP settings exist only where the arch has THP.
    [w(g.p.pmdThp, 2), ops.genSet],
  ];
}

/**
 * The default hugetlb page size where it is small enough for a fuzz
 * machine (2M on x86-64 and arm64 4K, 512K on the 8xx), else null.
 */
function hugetlbSize(p: ArchProfile): number | null {
  const size = p.id.startsWith("ppc8xx") ? 512 * 1024 : p.pmdSize;
  return size <= 2 * 2 ** 20 ? size : null;
}

/** A hugetlbfs step on the file h0 of two huge pages: fallocate a page, punch it out, or truncate to 0..2 pages. */
function genHugetlbfs(d: Dice, size: number): Step {
  const kind = d.weighted([
    ["fallocate", 3],
    ["punch", 2],
    ["truncate", 1],
  ] as const);
  if (kind === "truncate") return step("truncate", { file: "h0", size: sizeText(d.int(0, 2) * size) });
  const arg: Record<string, unknown> = { file: "h0", offset: sizeText(d.int(0, 1) * size), len: sizeText(size) };
  if (kind === "punch") arg.punch_hole = true;
  return step("fallocate", arg);
}

/** The files a sequence may map: a regular file and a shmem file of about two PMDs (8M at most). */
function declareFiles(d: Dice, p: ArchProfile): ops.GenFile[] {
  const size = Math.min(2 * p.pmdSize, 8 * 2 ** 20) + 4 * p.pageSize;
  return [
    { name: "f0", size, shmem: false },
    { name: "s0", size, shmem: true },
  ].map((f) => ({ ...f, size: f.size + d.below(4) * p.pageSize }));
}

/**
 * A random but valid sequence of `ops` steps for `arch` from `seed`: the
 * same options give the same case. Scope checking accepts every sequence
 * (names are used only in processes that bound or inherited them, pids
 * only while alive, pins and held migrations released once), and no step
 * fails for a reason other than the kernel's own errno or fault.
 */
export function generate(o: GenerateOptions): FuzzCase {
  if (!Number.isSafeInteger(o.ops) || o.ops < 0) throw new RangeError(`ops is ${o.ops}: expected a whole number of steps`);
  const p = archProfile(o.arch);
  const d = new Dice(o.seed);
  // One sequence in five on an arch with PUD THP may map one: it gets a machine with room for it.
  const pud = p.pudSize !== null && d.chance(0.2);
  const machine = machineFor(p, pud);
  const memory = parseSize("memory", machine.memory!);
  const files = declareFiles(d, p);
  const filesBytes = files.reduce((n, f) => n + f.size, 0);
  const model = new GenModel(memory * MEMORY_SHARE, TOUCH_PAGES * p.pageSize, filesBytes);
  const g: ops.GenContext = { d, p, model, pud, pudMapped: false, files };
  const settings = initialSettings(d, p, pud);
  // hugetlbfs steps draw from their own dice, so the rest of the sequence is what it was without them.
  const hd = new Dice(o.seed + 0x6874);
  const hsize = hugetlbSize(p);
  if (hsize !== null) settings.push([`hugepages/hugepages-${hsize / 1024}kB/nr_hugepages`, "4"]);
  const steps: Step[] = [];
  // Feature steps draw from their own dice, so that adding one leaves the core mix's sequences as they were.
  const features = new Dice((o.seed ^ 0x6b687567) >>> 0);
  while (steps.length < o.ops) {
    if (p.pmdThp && features.chance(0.01)) {
      steps.push(ops.genKhugepaged({ ...g, d: features }));
      continue;
    }
    if (hsize !== null && hd.chance(0.02)) {
      steps.push(genHugetlbfs(hd, hsize));
      continue;
    }
    let s: Step | null = null;
    for (let tries = 0; s === null && tries < 8; tries++) s = d.weighted(mix(g).map(([weight, build]) => [build, weight] as const))(g);
    steps.push(s ?? step("compact", {}));
  }
  const fileSpecs: Record<string, FileSpec> = {};
  for (const f of files) fileSpecs[f.name] = f.shmem ? { size: sizeText(f.size), shmem: true } : { size: sizeText(f.size), seed: d.int(1, 999) };
  if (hsize !== null) fileSpecs.h0 = { size: sizeText(2 * hsize), hugetlbfs: { pagesize: sizeText(hsize) } };
  return { arch: o.arch, seed: o.seed, machine, settings, files: fileSpecs, steps };
}
