import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { PTE, entryRegs, type ArchBackend } from "@hugemm/arch";
import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { PG_anon, PG_swapbacked } from "../phys/page-flags";
import { Slot, WALK_OK } from "../pgtable/walker";
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES } from "./counters";
import type { MadviseReclaimOps } from "./madvise";
import type { Mm } from "./mm";
import { sysMadvise, sysMmap, sysMprotect, sysMremap, sysMunmap } from "./syscalls";
import {
  MADV,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from "./vm-flags";

const ARENA = 0x4000_0000;
const ARENA_PAGES = 64;
const NOOPS: MadviseReclaimOps = { free: () => 0, pageout: () => 0, cold: () => 0, collapse: () => 0 };

type Op =
  | { op: "mmap"; page: number; pages: number; prot: number; fixed: boolean; file: boolean; shared: boolean; populate: boolean }
  | { op: "munmap"; page: number; pages: number }
  | { op: "mprotect"; page: number; pages: number; prot: number }
  | { op: "mremap"; page: number; oldPages: number; newPages: number; mode: number; to: number }
  | { op: "madvise"; page: number; pages: number; advice: number }
  | { op: "touch"; page: number; pages: number; write: boolean; seed: number };

const page = fc.integer({ min: 0, max: ARENA_PAGES - 1 });
const pages = fc.integer({ min: 1, max: 16 });
const prot = fc.constantFrom(PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE, PROT_READ | PROT_WRITE | PROT_EXEC);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("mmap" as const), page, pages, prot, fixed: fc.boolean(), file: fc.boolean(), shared: fc.boolean(), populate: fc.boolean() }),
  fc.record({ op: fc.constant("munmap" as const), page, pages }),
  fc.record({ op: fc.constant("mprotect" as const), page, pages, prot }),
  fc.record({ op: fc.constant("mremap" as const), page, oldPages: fc.integer({ min: 1, max: 4 }), newPages: pages, mode: fc.integer({ min: 0, max: 3 }), to: page }),
  fc.record({
    op: fc.constant("madvise" as const),
    page,
    pages,
    advice: fc.constantFrom(MADV.DONTNEED, MADV.HUGEPAGE, MADV.NOHUGEPAGE, MADV.POPULATE_READ, MADV.POPULATE_WRITE, MADV.WILLNEED, MADV.DONTFORK, MADV.RANDOM, MADV.NORMAL, MADV.COLD),
  }),
  fc.record({ op: fc.constant("touch" as const), page, pages, write: fc.boolean(), seed: fc.integer({ min: 1, max: 1000 }) }),
);

const MREMAP_MODES = [0, MREMAP_MAYMOVE, MREMAP_MAYMOVE | MREMAP_FIXED, MREMAP_MAYMOVE | MREMAP_DONTUNMAP];

function run(k: Kernel, mm: Mm, file: ReturnType<Kernel["createFile"]>, o: Op, sharedAnon: boolean): void {
  const ps = k.pageSize;
  const at = (p: number) => ARENA + p * ps;
  switch (o.op) {
    case "mmap": {
      // Shared anonymous memory's shmem file goes with its last munmap (exit does not release it yet).
      const type = o.shared && (o.file || sharedAnon) ? MAP_SHARED : MAP_PRIVATE;
      const flags = type | (o.file ? 0 : MAP_ANONYMOUS) | (o.fixed ? MAP_FIXED : 0) | (o.populate ? MAP_POPULATE : 0);
      sysMmap(k, mm, { addr: at(o.page), len: o.pages * ps, prot: o.prot, flags, file: o.file ? file : null, offset: o.file ? (o.page % 8) * ps : 0 });
      return;
    }
    case "munmap":
      sysMunmap(k, mm, at(o.page), o.pages * ps);
      return;
    case "mprotect":
      sysMprotect(k, mm, at(o.page), o.pages * ps, o.prot);
      return;
    case "mremap": {
      const flags = MREMAP_MODES[o.mode]!;
      const newPages = flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) && !(flags & MREMAP_FIXED && o.newPages !== o.oldPages) ? o.oldPages : o.newPages;
      sysMremap(k, mm, at(o.page), o.oldPages * ps, newPages * ps, flags, flags & MREMAP_FIXED ? at(o.to) : 0);
      return;
    }
    case "madvise":
      sysMadvise(k, mm, at(o.page), o.pages * ps, o.advice, NOOPS);
      return;
    case "touch":
      // Only where it is mapped and accessible, as a program would.
      for (let p = o.page; p < Math.min(ARENA_PAGES, o.page + o.pages); p++) {
        const v = mm.vmas.lookup(at(p));
        if (v === undefined || (v.flags & (o.write ? 0x2 : 0x1)) === 0) continue;
        k.touch(mm, at(p), ps, o.write, o.seed);
      }
      return;
  }
}

/** The mm's VMAs are sorted, disjoint and page-aligned, and its rss counters equal what its PTEs map. */
function checkMm(k: Kernel, mm: Mm): void {
  const ps = k.pageSize;
  const vmas = mm.vmas.all();
  for (let i = 0; i < vmas.length; i++) {
    const v = vmas[i]!;
    expect(v.start % ps === 0 && v.end % ps === 0 && v.start < v.end).toBe(true);
    if (i > 0) expect(vmas[i - 1]!.end <= v.start).toBe(true);
  }
  const b = k.backend;
  const R = entryRegs(1);
  const s = new Slot();
  const found = [0, 0, 0, 0];
  for (const v of vmas) {
    for (let va = v.start; va < v.end; va += ps) {
      if (mm.walker.find(va, PTE, false, s) !== WALK_OK) continue;
      b.readEntry(s.table, s.index, PTE, R, 0);
      if (!b.present(R, 0, PTE) || b.special(R, 0, PTE) || b.pfn(R, 0, PTE) === k.zeroPfn) continue;
      const head = k.folios.head(b.pfn(R, 0, PTE));
      found[k.folios.test(head, PG_anon) ? MM_ANONPAGES : k.folios.test(head, PG_swapbacked) ? MM_SHMEMPAGES : MM_FILEPAGES]!++;
    }
  }
  expect([mm.rss[MM_FILEPAGES], mm.rss[MM_ANONPAGES], mm.rss[MM_SHMEMPAGES]]).toEqual([found[MM_FILEPAGES], found[MM_ANONPAGES], found[MM_SHMEMPAGES]]);
}

function property(backend: () => ArchBackend, memory: string, seed: number, numRuns: number, sharedAnon: boolean): void {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 40, size: "medium" }), (ops) => {
      const k = new Kernel({ backend: backend(), memory });
      const file = k.createFile("data", 32 * k.pageSize);
      const free0 = k.phys.freePagesWithPcp;
      const mm = k.createMm();
      // Start from a populated arena so that most calls land on mappings.
      sysMmap(k, mm, { addr: ARENA, len: ARENA_PAGES * k.pageSize, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED });
      k.touch(mm, ARENA, ARENA_PAGES * k.pageSize, true, 1);
      for (const o of ops) {
        run(k, mm, file, o, sharedAnon);
        checkMm(k, mm);
      }
      if (sharedAnon) {
        expect(sysMunmap(k, mm, 0, mm.taskSize)).toEqual({ ok: true, value: 0 });
        expect(mm.vmas.count).toBe(0);
      }
      k.exit(mm);
      // Every page and table comes back but the file's page cache.
      let cached = 0;
      for (const as of k.files.values()) cached += as.nrpages;
      expect(k.files.size).toBe(1);
      expect(k.tables.count).toBe(0);
      expect(k.phys.freePagesWithPcp + cached).toBe(free0);
    }),
    { seed, numRuns: propertyRuns(numRuns) },
  );
}

describe("random mmap/munmap/mprotect/mremap/madvise sequences", () => {
  it("keep VMAs sorted and disjoint, rss equal to what is mapped, and exit returning everything (x86-64)", () => {
    property(() => createX86_64Backend(), "64M", 20240611, 80, false);
  });

  it("do the same on arm64 (4K pages with contiguous PTEs, and 64K pages) and on 8xx", () => {
    property(() => createArm64Backend("4k-48"), "64M", 7, 25, false);
    property(() => createArm64Backend("64k-48"), "1G", 8, 12, false);
    property(() => createPpc8xxBackend("4k"), "64M", 9, 25, false);
  });

  it("give everything back, shared anonymous memory included, when the whole address space is unmapped", () => {
    property(() => createX86_64Backend(), "64M", 31337, 50, true);
  });
});
