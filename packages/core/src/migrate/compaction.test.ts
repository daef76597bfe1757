import { PMD, PTE, type ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { mixTag } from "../folio/contents";
import { folioPut } from "../folio/put";
import { FOLL_PIN, FOLL_WRITE } from "../gup/gup";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { EV, MS, MTHP_STRIDE } from "../stats/counters";
import { mappedAt } from "../testing/inspect";
import { mapOk } from "../testing/vma";
import { COMPACT_CLUSTER_MAX, compactZone, isolateMigratepagesBlock, skipIsolationOnOrder } from "./compaction";
import { putbackFolio } from "./migrate";

const MiB = 2 ** 20;
const PS = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
/** Where the test places its THP (2 MiB aligned), its mTHP and its small pages. */
const THP = 0x4000_0000;
const MTHP = THP + 4 * MiB;
const SMALL = THP + 8 * MiB;

const ARCHES: [string, () => ArchBackend][] = [
  ["x86-64", () => createX86_64Backend()],
  ["arm64 4k-48", () => createArm64Backend("4k-48")],
];

function headAt(k: Kernel, mm: Mm, va: number): number {
  const m = mappedAt(k, mm, va);
  if (typeof m === "string") throw new Error(`nothing mapped at 0x${va.toString(16)}`);
  return k.folios.head(m.pfn);
}

function events(k: Kernel, names: (keyof typeof EV)[]): number[] {
  return names.map((n) => k.events[EV[n]]!);
}

/** One process with a PMD THP, a 64 KiB mTHP and 40 small pages, all written. */
function build(make: () => ArchBackend, nodes = 1): { k: Kernel; mm: Mm } {
  const k = new Kernel({ backend: make(), memory: "1G", nodes, check: true });
  k.thp.set("hugepages-64kB/enabled", "always");
  const mm = k.createMm();
  mapOk(k, mm, { addr: THP, len: 2 * MiB, prot: RW, flags: ANON | MAP_FIXED });
  mapOk(k, mm, { addr: MTHP, len: 64 * 1024, prot: RW, flags: ANON | MAP_FIXED });
  mapOk(k, mm, { addr: SMALL, len: 40 * PS, prot: RW, flags: ANON | MAP_FIXED });
  expect(k.madvise(mm, SMALL, 40 * PS, MADV.NOHUGEPAGE).ok).toBe(true);
  k.touch(mm, THP, 2 * MiB, true, 1);
  k.touch(mm, MTHP, 64 * 1024, true, 2);
  k.touch(mm, SMALL, 40 * PS, true, 3);
  expect(k.folios.order(headAt(k, mm, THP))).toBe(9);
  expect(k.folios.order(headAt(k, mm, MTHP))).toBe(4);
  expect(k.folios.order(headAt(k, mm, SMALL))).toBe(0);
  return { k, mm };
}

describe("the compaction migrate scanner and large folios", () => {
  it("skips folios of the target order and up, and pageblock-order folios, whole", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    expect(k.phys.memmap.pbOrder).toBe(9);
    expect([skipIsolationOnOrder(k, 4, 9), skipIsolationOnOrder(k, 4, 4), skipIsolationOnOrder(k, 4, -1), skipIsolationOnOrder(k, 9, -1), skipIsolationOnOrder(k, 10, -1)]).toEqual([false, true, false, true, true]);
  });

  for (const [name, make] of ARCHES) {
    it(`isolates, skips and counts folio by folio as isolate_migratepages_block does (${name})`, () => {
      const { k, mm } = build(make, 2);
      const scan = (head: number, nr: number, target: number, contig = false) => {
        const z = k.phys.zoneOf(head);
        const before = events(k, ["compact_migrate_scanned", "compact_isolated"]);
        const run = k.op("scan", () => {
          const r = isolateMigratepagesBlock(k, z, head, head + nr, target, contig);
          for (const h of r.heads) putbackFolio(k, h);
          return r;
        });
        const after = events(k, ["compact_migrate_scanned", "compact_isolated"]);
        return { heads: run.heads, pages: run.pages, next: run.next, scanned: after[0]! - before[0]!, isolated: after[1]! - before[1]! };
      };
      const thp = headAt(k, mm, THP);
      const mthp = headAt(k, mm, MTHP);
      // A THP is pageblock-sized: never isolated by compaction, but every page is looked at.
      expect(scan(thp, 512, -1)).toEqual({ heads: [], pages: 0, next: thp + 512, scanned: 512, isolated: 0 });
      expect(scan(thp, 512, 10)).toEqual({ heads: [], pages: 0, next: thp + 512, scanned: 512, isolated: 0 });
      // alloc_contig takes it (and, being no compaction, counts no migrate scan).
      expect(scan(thp, 512, -1, true)).toEqual({ heads: [thp], pages: 512, next: thp + 512, scanned: 0, isolated: 512 });
      // An mTHP moves when it is smaller than the block wanted.
      expect(scan(mthp, 16, 9)).toEqual({ heads: [mthp], pages: 16, next: mthp + 16, scanned: 16, isolated: 16 });
      expect(scan(mthp, 16, -1)).toEqual({ heads: [mthp], pages: 16, next: mthp + 16, scanned: 16, isolated: 16 });
      expect(scan(mthp, 16, 4)).toEqual({ heads: [], pages: 0, next: mthp + 16, scanned: 16, isolated: 0 });
      // Pinned: the refcount says so before anything is isolated.
      const pin = k.gup(mm, MTHP, 1, FOLL_PIN | FOLL_WRITE);
      expect(scan(mthp, 16, 9)).toEqual({ heads: [], pages: 0, next: mthp + 16, scanned: 16, isolated: 0 });
      k.unpin(pin, FOLL_PIN);
      // Off the LRU (held by a migration in progress): skipped whole.
      const job = k.migrateRange(mm, MTHP, 64 * 1024, 1, true);
      expect(job.pairs.length).toBe(1);
      expect(scan(mthp, 16, 9)).toEqual({ heads: [], pages: 0, next: mthp + 16, scanned: 16, isolated: 0 });
      k.finishMigration(job);
      k.exit(mm);
    });
  }

  it(`stops isolating at COMPACT_CLUSTER_MAX (${COMPACT_CLUSTER_MAX}) pages`, () => {
    const { k, mm } = build(() => createX86_64Backend());
    const pfns = Array.from({ length: 40 }, (_, i) => headAt(k, mm, SMALL + i * PS));
    const lo = Math.min(...pfns);
    const z = k.phys.zoneOf(lo);
    const run = k.op("scan", () => {
      const r = isolateMigratepagesBlock(k, z, lo, lo + 512 - (lo % 512), -1, false);
      for (const h of r.heads) putbackFolio(k, h);
      return r;
    });
    expect(run.pages).toBe(COMPACT_CLUSTER_MAX);
    expect(run.heads.length).toBe(COMPACT_CLUSTER_MAX);
    expect(run.next).toBe(run.heads[run.heads.length - 1]! + 1);
    k.exit(mm);
  });
});

/** Take every free page of node `nid` as an order-0 folio held outside the model. */
function fillNode(k: Kernel, nid: number): void {
  const phys = k.phys;
  phys.drainPcp();
  for (const z of phys.nodes[nid]!.zones) {
    for (let p = z.startPfn; p < z.endPfn; ) {
      const o = z.freeOrderAt(p);
      if (o < 0 || !phys.takeFreeRange(p, o)) {
        p++;
        continue;
      }
      for (let i = 0; i < 2 ** o; i++) {
        k.folios.prep(p + i, 0);
        k.holdRef(p + i, 1);
      }
      p += 2 ** o;
    }
  }
}

/** Give back held pages [pfn, pfn + nr). */
function release(k: Kernel, pfn: number, nr: number): void {
  for (let i = 0; i < nr; i++) {
    k.holdRef(pfn + i, -1);
    folioPut(k, pfn + i, 1);
  }
  k.phys.drainPcp();
}

/**
 * Node 1 of a two-node machine, every page held except: pageblock 2, where
 * the process's THP is migrated, and a 16-page hole in pageblock 1, where
 * its mTHP is faulted. Returns the pfn of pageblock `i` of the node.
 */
function layout(make: () => ArchBackend): { k: Kernel; mm: Mm; block: (i: number) => number } {
  const { k, mm } = build(make, 2);
  fillNode(k, 1);
  const z = k.phys.nodes[1]!.zones[0]!;
  const block = (i: number) => z.startPfn + 512 * i;
  // The mTHP is faulted again on node 1 (its page table stays); the THP moves there.
  expect(k.madvise(mm, MTHP, 64 * 1024, MADV.DONTNEED).ok).toBe(true);
  release(k, block(2), 512);
  release(k, block(1) + 64, 16);
  // Scattered free pages lift the node above its watermarks for these allocations, and are taken back after.
  for (let b = 128; b < 132; b++) for (let p = block(b); p < block(b + 1); p += 2) release(k, p, 1);
  expect(k.migrateRange(mm, THP, 2 * MiB, 1).moved).toBe(1);
  mm.nid = 1;
  k.touch(mm, MTHP, 64 * 1024, true, 2);
  fillNode(k, 1);
  expect(mappedAt(k, mm, THP)).toEqual({ level: PMD, pfn: block(2) });
  expect(mappedAt(k, mm, MTHP)).toEqual({ level: PTE, pfn: block(1) + 64 });
  return { k, mm, block };
}

const COMPACT_EVENTS: (keyof typeof EV)[] = ["pgmigrate_success", "pgmigrate_fail", "thp_migration_success", "thp_migration_fail", "thp_migration_split", "compact_migrate_scanned", "compact_free_scanned", "compact_isolated"];

describe("compaction meeting large folios", () => {
  for (const [name, make] of ARCHES) {
    it(`moves an mTHP whole into a free block of its order and leaves the THP alone (${name})`, () => {
      const { k, mm, block } = layout(make);
      const z = k.phys.nodes[1]!.zones[0]!;
      release(k, block(255) + 128, 16);
      const before = events(k, COMPACT_EVENTS);
      k.op("compact", () => compactZone(k, z, -1));
      const d = events(k, COMPACT_EVENTS).map((v, i) => v - before[i]!);
      // The migrate scanner walks blocks 0..253 (the free scanner took block 255): the mTHP's 16 pages and 16 free pages isolated.
      expect(d).toEqual([16, 0, 0, 0, 0, 254 * 512, 512, 32]);
      expect(mappedAt(k, mm, MTHP)).toEqual({ level: PTE, pfn: block(255) + 128 });
      expect(k.folios.order(block(255) + 128)).toBe(4);
      expect(mappedAt(k, mm, THP)).toEqual({ level: PMD, pfn: block(2) });
      for (let i = 0; i < 16; i++) expect(k.peek(mm, MTHP + i * PS)).toBe(mixTag(2, MTHP / PS + i));
      expect(k.peek(mm, THP + 77 * PS)).toBe(mixTag(1, THP / PS + 77));
      k.exit(mm);
    });
  }

  it("splits an mTHP for which no free block is large enough, moving the pages it can", () => {
    const { k, mm, block } = layout(() => createX86_64Backend());
    const z = k.phys.nodes[1]!.zones[0]!;
    const mthp = block(1) + 64;
    release(k, block(255) + 128, 8);
    const before = events(k, COMPACT_EVENTS);
    k.op("compact", () => compactZone(k, z, -1));
    const d = events(k, COMPACT_EVENTS).map((v, i) => v - before[i]!);
    // compaction_alloc finds no order-4 block even after the free scanner reaches the migrate scanner: the mTHP
    // is split, 8 pages fill the 8 free ones, the 9th finds nothing (-ENOMEM) and the rest go back untried.
    expect(d).toEqual([8, 1, 0, 0, 0, 2 * 512, 253 * 512, 16 + 8]);
    expect(k.mthpStats[4 * MTHP_STRIDE + MS.split]).toBe(1);
    const moved = Array.from({ length: 16 }, (_, i) => (mappedAt(k, mm, MTHP + i * PS) as { pfn: number }).pfn);
    expect(moved.slice(0, 8).every((p) => p >= block(255) + 128 && p < block(255) + 136)).toBe(true);
    expect(moved.slice(8)).toEqual(Array.from({ length: 8 }, (_, i) => mthp + 8 + i));
    for (let i = 0; i < 16; i++) expect(k.peek(mm, MTHP + i * PS)).toBe(mixTag(2, MTHP / PS + i));
    k.exit(mm);
  });
});
