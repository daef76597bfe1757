import { PTE, entryRegs, type ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mixTag } from "../folio/contents";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES, MM_SWAPENTS } from "../mm/counters";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { PG_anon } from "../phys/page-flags";
import { Slot, WALK_OK } from "../pgtable/walker";
import { EV, MS, MTHP_STRIDE, NS } from "../stats/counters";
import { mapOk } from "../testing/vma";
import { ModelInputError } from "../util/errors";
import { madvColdOrPageout, madvFree } from "./madvise";
import { FPB_RESPECT_WRITE, batchBits, folioPteBatch } from "./pte-batch";

const KiB = 1024;
const MiB = 2 ** 20;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/*
 * Large folios through every reclaim path in random orders: whatever the
 * interleaving of writes, reads, MADV_PAGEOUT / COLD / FREE over arbitrary
 * ranges, memory pressure and forks, each page reads back what was last
 * written to it — or zeroes, once MADV_FREE let it go — and the invariant
 * checker (on after every operation) finds nothing wrong.
 */

type Op =
  | { op: "write"; region: number; page: number; pages: number; seed: number }
  | { op: "read"; region: number; page: number; pages: number }
  | { op: "advise"; region: number; page: number; pages: number; advice: number }
  | { op: "reclaim"; pages: number }
  | { op: "fork"; region: number; page: number; pages: number }
  | { op: "child"; which: number; region: number; page: number; pages: number };

/** Two regions: 8 MiB of PMD THPs, and 768 KiB too small for one, filled by 64K and 32K folios. */
const REGION_PAGES = [2048, 192];

function range(region: number): fc.Arbitrary<{ region: number; page: number; pages: number }> {
  return fc.integer({ min: 0, max: REGION_PAGES[region]! - 1 }).chain((page) => fc.record({ region: fc.constant(region), page: fc.constant(page), pages: fc.integer({ min: 1, max: Math.min(600, REGION_PAGES[region]! - page) }) }));
}

const anyRange = fc.oneof(range(0), range(1));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(anyRange, fc.integer({ min: 1, max: 1 << 20 })).map(([r, seed]) => ({ op: "write" as const, ...r, seed })) },
  { weight: 2, arbitrary: anyRange.map((r) => ({ op: "read" as const, ...r })) },
  { weight: 5, arbitrary: fc.tuple(anyRange, fc.constantFrom(MADV.PAGEOUT, MADV.COLD, MADV.FREE)).map(([r, advice]) => ({ op: "advise" as const, ...r, advice })) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 3000 }).map((pages) => ({ op: "reclaim" as const, pages })) },
  { weight: 1, arbitrary: anyRange.map((r) => ({ op: "fork" as const, ...r })) },
  { weight: 1, arbitrary: fc.tuple(anyRange, fc.integer({ min: 0, max: 2 })).map(([r, which]) => ({ op: "child" as const, which, ...r })) },
);

/** What each page may read back: its last written tag, and 0 too after MADV_FREE. */
interface Expect {
  tag: Uint32Array;
  maybeZero: Uint8Array;
}

/** A forked child kept alive: it never writes, so it keeps what the parent had at the fork. */
interface Child {
  mm: Mm;
  exp: Expect[];
}

function run(make: () => ArchBackend, ops: readonly Op[]): void {
  const k = new Kernel({ backend: make(), memory: "1G", swap: "6M", check: true });
  k.thp.set("hugepages-64kB/enabled", "always");
  k.thp.set("hugepages-32kB/enabled", "always");
  const ps = k.pageSize;
  const mm = k.createMm();
  const bases = REGION_PAGES.map((n) => mapOk(k, mm, { len: n * ps, prot: RW, flags: ANON }));
  const exp: Expect[] = REGION_PAGES.map((n) => ({ tag: new Uint32Array(n), maybeZero: new Uint8Array(n) }));
  const children: Child[] = [];
  const check = (region: number, page: number, pages: number, child?: Mm, childExp?: Expect[]): void => {
    const base = bases[region]!;
    const who = child ?? mm;
    for (let i = page; i < page + pages; i++) {
      const got = k.peek(who, base + i * ps);
      const e = (childExp ?? exp)[region]!;
      if (got !== e.tag[i] && !(got === 0 && e.maybeZero[i])) expect(got, `region ${region} page ${i}`).toBe(e.tag[i]);
    }
  };
  for (const o of ops) {
    switch (o.op) {
      case "write": {
        const base = bases[o.region]!;
        expect(k.touch(mm, base + o.page * ps, o.pages * ps, true, o.seed).error).toBe(0);
        for (let i = o.page; i < o.page + o.pages; i++) {
          exp[o.region]!.tag[i] = mixTag(o.seed, base / ps + i);
          exp[o.region]!.maybeZero[i] = 0;
        }
        break;
      }
      case "read":
        expect(k.touch(mm, bases[o.region]! + o.page * ps, o.pages * ps, false).error).toBe(0);
        check(o.region, o.page, o.pages);
        break;
      case "advise":
        expect(k.madvise(mm, bases[o.region]! + o.page * ps, o.pages * ps, o.advice).ok).toBe(true);
        if (o.advice === MADV.FREE) {
          exp[o.region]!.maybeZero.fill(1, o.page, o.page + o.pages);
          // A clean page still shared with a child is lazily freed for both (the kernel checks exclusivity only for dirty or swap-cache folios).
          for (const c of children) c.exp[o.region]!.maybeZero.fill(1, o.page, o.page + o.pages);
        }
        break;
      case "reclaim":
        k.reclaim(o.pages);
        break;
      case "fork": {
        const child = k.fork(mm)!;
        expect(k.touch(child, bases[o.region]! + o.page * ps, o.pages * ps, false).error).toBe(0);
        check(o.region, o.page, o.pages, child);
        k.exit(child);
        break;
      }
      case "child": {
        if (o.which >= children.length) {
          if (children.length < 2) children.push({ mm: k.fork(mm)!, exp: exp.map((e) => ({ tag: e.tag.slice(), maybeZero: e.maybeZero.slice() })) });
          break;
        }
        const c = children[o.which]!;
        expect(k.touch(c.mm, bases[o.region]! + o.page * ps, o.pages * ps, false).error).toBe(0);
        check(o.region, o.page, o.pages, c.mm, c.exp);
        if (o.pages % 3 === 0) {
          k.exit(c.mm);
          children.splice(o.which, 1);
        }
        break;
      }
    }
  }
  for (const c of children) {
    for (let r = 0; r < bases.length; r++) {
      expect(k.touch(c.mm, bases[r]!, REGION_PAGES[r]! * ps, false).error).toBe(0);
      check(r, 0, REGION_PAGES[r]!, c.mm, c.exp);
    }
    k.exit(c.mm);
  }
  for (let r = 0; r < bases.length; r++) {
    expect(k.touch(mm, bases[r]!, REGION_PAGES[r]! * ps, false).error).toBe(0);
    check(r, 0, REGION_PAGES[r]!);
  }
  k.exit(mm);
  expect(k.swap.freePages).toBe(k.swap.totalPages);
  expect(k.tables.count).toBe(0);
}

describe("large folios through reclaim, swap and madvise in any order", () => {
  it("on x86-64: contents survive and every invariant holds", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 20 }), (ops) => run(() => createX86_64Backend(), ops)),
      { seed: 20260311, numRuns: propertyRuns(60) },
    );
  }, 120_000);

  it("on arm64 4K: contents survive and every invariant holds", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 20 }), (ops) => run(() => createArm64Backend("4k-48"), ops)),
      { seed: 7, numRuns: propertyRuns(40) },
    );
  }, 120_000);
});

describe("reclaim-side madvise input and PTE batches", () => {
  it("refuses a range outside the VMA or not page-aligned, naming it", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 64 * KiB, prot: RW, flags: ANON });
    const vma = mm.vmas.lookup(a)!;
    expect(() => madvColdOrPageout(k, mm, vma, a, a + 128 * KiB, true)).toThrow(ModelInputError);
    expect(() => madvFree(k, mm, vma, a + 1, a + 4096)).toThrow(
      `invalid advice range "[0x${(a + 1).toString(16)}, 0x${(a + 4096).toString(16)})": expected a page-aligned range inside the VMA [0x${a.toString(16)}, 0x${(a + 64 * KiB).toString(16)})`,
    );
    const other = k.createMm();
    expect(() => madvFree(k, other, vma, a, a + 4096)).toThrow(`invalid VMA "#${vma.id} of mm ${mm.id}": expected a VMA of mm ${other.id}`);
    k.exit(other);
    k.exit(mm);
  });

  it("batches the PTEs of one folio, stopping where they stop mapping it in order or, when asked, at a write bit", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    k.thp.set("enabled", "never");
    k.thp.set("hugepages-64kB/enabled", "always");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 64 * KiB, prot: RW, flags: ANON });
    k.touch(mm, a, 64 * KiB, true, 1);
    const slot = new Slot();
    expect(mm.walker.find(a, PTE, false, slot)).toBe(WALK_OK);
    const b = k.backend;
    const R = entryRegs(1);
    b.readEntry(slot.table, slot.index, PTE, R, 0);
    const head = b.pfn(R, 0, PTE);
    expect(k.folios.test(head, PG_anon)).toBe(true);
    expect(folioPteBatch(k, slot.table, slot.index, head, 16, 0)).toBe(16);
    expect(batchBits).toEqual({ young: true, dirty: true });
    expect(folioPteBatch(k, slot.table, slot.index, head, 5, 0)).toBe(5);
    // Read-only from page 6 on: the same folio, a different write bit.
    expect(k.mprotect(mm, a + 6 * 4096, 10 * 4096, PROT_READ).ok).toBe(true);
    expect(mm.walker.find(a, PTE, false, slot)).toBe(WALK_OK);
    expect(folioPteBatch(k, slot.table, slot.index, head, 16, 0)).toBe(16);
    expect(folioPteBatch(k, slot.table, slot.index, head, 16, FPB_RESPECT_WRITE)).toBe(6);
    // An entry of another page ends a batch.
    expect(folioPteBatch(k, slot.table, slot.index, head + 1, 16, 0)).toBe(1);
    k.exit(mm);
  });
});

describe("a partially mapped THP under reclaim", () => {
  it("is split first: its unmapped half goes without I/O, its mapped half is swapped page by page", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", swap: "16M", check: true });
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 2 * MiB, true, 8);
    expect(k.madvise(mm, a + MiB, MiB, MADV.DONTNEED).ok).toBe(true);
    expect(k.deferredSplit.length).toBe(1);
    expect(k.mthpStats[9 * MTHP_STRIDE + MS.nr_anon_partially_mapped]).toBe(1);
    const free0 = k.phys.freePagesWithPcp;
    expect(k.reclaim(256)).toBe(256);
    expect(k.events[EV.thp_split_page]).toBe(1);
    expect(k.events[EV.thp_swpout]).toBe(0);
    expect(k.events[EV.thp_swpout_fallback]).toBe(0);
    expect(k.events[EV.pswpout]).toBe(256);
    expect(k.deferredSplit.length).toBe(0);
    expect(k.mthpStats[9 * MTHP_STRIDE + MS.nr_anon_partially_mapped]).toBe(0);
    expect(mm.rss[MM_ANONPAGES]).toBe(0);
    expect(mm.rss[MM_SWAPENTS]).toBe(256);
    // All 512 pages came back to the allocator, only half of them written anywhere.
    expect(k.phys.freePagesWithPcp - free0).toBeGreaterThanOrEqual(512);
    k.touch(mm, a, MiB, false);
    for (let i = 0; i < 256; i += 17) expect(k.peek(mm, a + i * 4096)).toBe(mixTag(8, a / 4096 + i));
    k.exit(mm);
  });
});

describe("a lazy-free THP written again before reclaim", () => {
  it("stays, swap-backed, and leaves no page counted isolated", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 2 * MiB, true, 1);
    expect(k.madvise(mm, a, 2 * MiB, MADV.FREE).ok).toBe(true);
    k.touch(mm, a + 4 * KiB, 4 * KiB, true, 2);
    expect(k.madvise(mm, a, 2 * MiB, MADV.PAGEOUT).ok).toBe(true);
    expect(k.events[EV.pglazyfreed]).toBe(0);
    expect(mm.rss[MM_ANONPAGES]).toBe(512);
    expect(k.phys.nodeStats(0)[NS.nr_isolated_anon]).toBe(0);
    expect(k.phys.nodeStats(0)[NS.nr_isolated_file]).toBe(0);
    k.exit(mm);
  });
});
