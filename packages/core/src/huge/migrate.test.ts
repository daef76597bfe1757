import { PMD, PTE, PUD, SoftleafType, migrationDirty, migrationYoung, softleafPfn, softleafTypeOf, type ArchBackend, type Level } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VM_FAULT_MIGRATION_WAIT } from "../fault/codes";
import { mixTag } from "../folio/contents";
import { folioPut } from "../folio/put";
import { FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE } from "../gup/gup";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import type { Mm } from "../mm/mm";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { PG_anon_exclusive, PG_partially_mapped } from "../phys/page-flags";
import { Slot } from "../pgtable/walker";
import { EV, MS, MTHP_STRIDE, NS } from "../stats/counters";
import { entryAt, mappedAt } from "../testing/inspect";
import { mapOk } from "../testing/vma";
import { migrateLongtermUnpinnable } from "../migrate/longterm";
import { removeMigrationPmd, setPmdMigrationEntry } from "./pmd-migration";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const PS = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const X = 0x4000_0000;

const ARCHES: [string, () => ArchBackend][] = [
  ["x86-64", () => createX86_64Backend()],
  ["arm64 4k-48", () => createArm64Backend("4k-48")],
];

/** The non-present entry mapping `va`, decoded, or null when it is present or none. */
function leafAt(k: Kernel, mm: Mm, va: number): { level: Level; type: number; pfn: number; young: boolean; dirty: boolean; softDirty: boolean; tablePa: number } | null {
  const b = k.backend;
  const slot = new Slot();
  mm.walker.find(va, PTE, false, slot);
  const r = new Uint32Array(2);
  b.readEntry(slot.table, slot.index, slot.level, r, 0);
  if (!b.isSoftleaf(r, 0, slot.level)) return null;
  const off = b.swpOffset(r, 0, slot.level);
  return {
    level: slot.level,
    type: softleafTypeOf(b.swpType(r, 0, slot.level)),
    pfn: softleafPfn(b.softleaf, off),
    young: migrationYoung(b.softleaf, off),
    dirty: migrationDirty(b.softleaf, off),
    softDirty: b.capabilities.softDirty && b.swpSoftDirty(r, 0, slot.level),
    tablePa: slot.tablePa,
  };
}

/** The soft-dirty bit of the present entry mapping `va`. */
function softDirtyAt(k: Kernel, mm: Mm, va: number): boolean {
  const b = k.backend;
  const slot = new Slot();
  mm.walker.find(va, PTE, false, slot);
  const r = new Uint32Array(2);
  b.readEntry(slot.table, slot.index, slot.level, r, 0);
  return b.capabilities.softDirty && b.softDirty(r, 0, slot.level);
}

function mthp(k: Kernel, order: number, stat: number): number {
  return k.mthpStats[order * MTHP_STRIDE + stat]!;
}

function migrationEvents(k: Kernel): number[] {
  return [EV.pgmigrate_success, EV.pgmigrate_fail, EV.thp_migration_success, EV.thp_migration_fail, EV.thp_migration_split].map((e) => k.events[e]!);
}

function expectTags(k: Kernel, mm: Mm, start: number, pages: number, seed: number): void {
  for (let i = 0; i < pages; i++) expect(k.peek(mm, start + i * PS), `page ${i}`).toBe(mixTag(seed, start / PS + i));
}

/** A two-node machine with THP on and one process holding a written PMD THP on node 0. */
function thpOnNode0(make: () => ArchBackend, seed = 3): { k: Kernel; mm: Mm; a: number; head: number } {
  const k = new Kernel({ backend: make(), memory: "1G", nodes: 2, check: true });
  const mm = k.createMm();
  const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
  k.touch(mm, a, 2 * MiB, true, seed);
  const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
  expect(mappedAt(k, mm, a)).toEqual({ level: PMD, pfn: head });
  expect(k.phys.nidOf(head)).toBe(0);
  return { k, mm, a, head };
}

for (const [name, make] of ARCHES) {
  describe(`PMD migration entries on ${name}`, () => {
    it("holds a PMD THP behind one migration entry, makes faults wait, and maps the copy by a PMD on the target node", () => {
      const { k, mm, a, head } = thpOnNode0(make);
      const yd = k.backend.softleaf.migrationYoungDirty;
      const sd = softDirtyAt(k, mm, a);
      const job = k.migrateRange(mm, a, 2 * MiB, 1, true);
      expect(job.pairs.length).toBe(1);
      const [src, dst] = job.pairs[0]!;
      expect(src).toBe(head);
      expect(k.phys.nidOf(dst)).toBe(1);
      expect(k.folios.order(dst)).toBe(9);
      // One PMD softleaf for the whole folio: writable, young and dirty carried (where the arch can), soft-dirty kept.
      const e = leafAt(k, mm, a)!;
      expect(e).toMatchObject({ level: PMD, type: SoftleafType.MIGRATION_WRITE, pfn: head, young: yd, dirty: yd, softDirty: sd });
      expect(leafAt(k, mm, a + 300 * PS)).toEqual(e);
      // The deposited PTE table stays under the entry; the rss still counts the pages.
      expect(k.tables.depositCount(e.tablePa)).toBe(1);
      expect(mm.rss[MM_ANONPAGES]).toBe(512);
      // The mapping left the rmap and its reference went with it: only the isolation holds the folio.
      expect(k.folios.entireMapcount(head)).toBe(0);
      expect(k.folios.mapcount(head)).toBe(0);
      expect(k.folios.refcount(head)).toBe(1);
      expect(k.folios.pageTest(head, PG_anon_exclusive)).toBe(false);
      expect(k.phys.nodeStats(0)[NS.nr_anon_transparent_hugepages]).toBe(0);
      expect(k.phys.nodeStats(0)[NS.nr_anon_pages]).toBe(0);
      expect(k.phys.nodeStats(0)[NS.nr_isolated_anon]).toBe(512);
      // Faults wait for the migration.
      expect(k.fault(mm, a + 5 * PS, false)).toBe(VM_FAULT_MIGRATION_WAIT);
      expect(k.fault(mm, a + 5 * PS, true)).toBe(VM_FAULT_MIGRATION_WAIT);
      expect(k.touch(mm, a + MiB, PS, false)).toMatchObject({ error: VM_FAULT_MIGRATION_WAIT, errorAddr: a + MiB });
      expect(k.peek(mm, a)).toBe(-1);
      expect(migrationEvents(k)).toEqual([0, 0, 0, 0, 0]);

      expect(k.finishMigration(job)).toBe(1);
      expect(mappedAt(k, mm, a)).toEqual({ level: PMD, pfn: dst });
      expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, write: true, young: yd, dirty: yd });
      expect(softDirtyAt(k, mm, a)).toBe(sd);
      expect(k.folios.pageTest(dst, PG_anon_exclusive)).toBe(true);
      expect(k.folios.isAllocated(head)).toBe(false);
      expectTags(k, mm, a, 512, 3);
      expect(k.phys.nodeStats(1)[NS.nr_anon_transparent_hugepages]).toBe(512);
      expect(k.phys.nodeStats(1)[NS.nr_anon_pages]).toBe(512);
      expect(k.phys.nodeStats(0)[NS.nr_anon_transparent_hugepages]).toBe(0);
      expect(k.phys.nodeStats(0)[NS.nr_isolated_anon]).toBe(0);
      expect(mthp(k, 9, MS.nr_anon)).toBe(1);
      expect(k.tables.depositCount(e.tablePa)).toBe(1);
      expect(migrationEvents(k)).toEqual([512, 0, 1, 0, 0]);
      // Writable and exclusive: stores need no fault.
      expect(k.touch(mm, a, 2 * MiB, true).faults).toBe(0);
      k.exit(mm);
      expect(k.tables.count).toBe(0);
      expect(mthp(k, 9, MS.nr_anon)).toBe(0);
    });

    it("copies a held PMD migration entry at fork as a read entry in both processes", () => {
      const { k, mm, a, head } = thpOnNode0(make);
      const job = k.migrateRange(mm, a, 2 * MiB, 1, true);
      const dst = job.pairs[0]![1];
      const child = k.fork(mm)!;
      expect(leafAt(k, mm, a)).toMatchObject({ level: PMD, type: SoftleafType.MIGRATION_READ, pfn: head });
      expect(leafAt(k, child, a)).toMatchObject({ level: PMD, type: SoftleafType.MIGRATION_READ, pfn: head });
      expect(child.rss[MM_ANONPAGES]).toBe(512);
      expect(k.fault(child, a, false)).toBe(VM_FAULT_MIGRATION_WAIT);
      expect(k.finishMigration(job)).toBe(1);
      for (const p of [mm, child]) {
        expect(mappedAt(k, p, a)).toEqual({ level: PMD, pfn: dst });
        expect(entryAt(k, p, a)).toMatchObject({ write: false });
      }
      // Shared by both: mapped twice whole, exclusive to neither.
      expect(k.folios.entireMapcount(dst)).toBe(2);
      expect(k.folios.refcount(dst)).toBe(2);
      expect(k.folios.pageTest(dst, PG_anon_exclusive)).toBe(false);
      expect(k.rmap.maybeMappedShared(dst)).toBe(true);
      // Each write copies: the other process keeps the migrated data.
      k.touch(child, a + 7 * PS, PS, true, 9);
      expect(k.peek(child, a + 7 * PS)).toBe(mixTag(9, a / PS + 7));
      expect(k.peek(mm, a + 7 * PS)).toBe(mixTag(3, a / PS + 7));
      expectTags(k, child, a, 7, 3);
      k.exit(child);
      k.exit(mm);
    });

    it("mprotect turns a held writable PMD migration entry into a read-exclusive one", () => {
      const { k, mm, a, head } = thpOnNode0(make);
      const job = k.migrateRange(mm, a, 2 * MiB, 1, true);
      const dst = job.pairs[0]![1];
      const before = leafAt(k, mm, a)!;
      expect(k.mprotect(mm, a, 2 * MiB, PROT_READ).ok).toBe(true);
      expect(leafAt(k, mm, a)).toEqual({ ...before, type: SoftleafType.MIGRATION_READ_EXCLUSIVE, pfn: head });
      expect(k.finishMigration(job)).toBe(1);
      expect(entryAt(k, mm, a)).toMatchObject({ level: PMD, write: false });
      // Still exclusive: once writable again, a write fault reuses the THP in place.
      expect(k.folios.pageTest(dst, PG_anon_exclusive)).toBe(true);
      expect(k.mprotect(mm, a, 2 * MiB, RW).ok).toBe(true);
      k.touch(mm, a, PS, true, 4);
      expect(mappedAt(k, mm, a)).toEqual({ level: PMD, pfn: dst });
      expect(entryAt(k, mm, a)).toMatchObject({ write: true });
      k.exit(mm);
    });

    it("munmap zaps a held PMD migration entry; the migration then frees both folios", () => {
      const { k, mm, a, head } = thpOnNode0(make);
      const job = k.migrateRange(mm, a, 2 * MiB, 1, true);
      const dst = job.pairs[0]![1];
      const tablePa = leafAt(k, mm, a)!.tablePa;
      expect(k.munmap(mm, a, 2 * MiB).ok).toBe(true);
      expect(mm.rss[MM_ANONPAGES]).toBe(0);
      expect(mappedAt(k, mm, a)).toBe("none");
      expect(k.tables.has(tablePa) ? k.tables.depositCount(tablePa) : 0).toBe(0);
      // The unmapped folio still migrates (nothing else holds it), and its copy, mapped nowhere, is freed.
      expect(k.finishMigration(job)).toBe(1);
      expect(k.folios.isAllocated(head)).toBe(false);
      expect(k.folios.isAllocated(dst)).toBe(false);
      expect(mthp(k, 9, MS.nr_anon)).toBe(0);
      expect(migrationEvents(k)).toEqual([512, 0, 1, 0, 0]);
      k.exit(mm);
    });

    it("a partial munmap splits a held PMD migration entry into PTE migration entries", () => {
      const { k, mm, a, head } = thpOnNode0(make);
      const job = k.migrateRange(mm, a, 2 * MiB, 1, true);
      const dst = job.pairs[0]![1];
      expect(k.munmap(mm, a + MiB, MiB).ok).toBe(true);
      expect(k.events[EV.thp_split_pmd]).toBe(1);
      expect(leafAt(k, mm, a)).toMatchObject({ level: PTE, type: SoftleafType.MIGRATION_WRITE, pfn: head });
      expect(leafAt(k, mm, a + 100 * PS)).toMatchObject({ level: PTE, type: SoftleafType.MIGRATION_WRITE, pfn: head + 100 });
      expect(mm.rss[MM_ANONPAGES]).toBe(256);
      expect(k.finishMigration(job)).toBe(1);
      // The copy is mapped by the PTEs that are left, writable and exclusive page by page.
      expect(mappedAt(k, mm, a + 7 * PS)).toEqual({ level: PTE, pfn: dst + 7 });
      expect(entryAt(k, mm, a + 7 * PS)).toMatchObject({ write: true });
      expect(k.folios.pageTest(dst + 7, PG_anon_exclusive)).toBe(true);
      expect(mappedAt(k, mm, a + MiB)).toBe("none");
      expectTags(k, mm, a, 256, 3);
      expect(k.folios.order(dst)).toBe(9);
      expect(k.folios.entireMapcount(dst)).toBe(0);
      expect(k.folios.mapcount(dst)).toBe(256);
      expect(k.phys.nodeStats(1)[NS.nr_anon_pages]).toBe(256);
      expect(k.phys.nodeStats(1)[NS.nr_anon_transparent_hugepages]).toBe(0);
      expect(migrationEvents(k)).toEqual([512, 0, 1, 0, 0]);
      k.exit(mm);
    });

    it("fails for a pinned THP, which stays mapped by its PMD", () => {
      const { k, mm, a, head } = thpOnNode0(make);
      const pin = k.gup(mm, a + 3 * PS, 1, FOLL_PIN | FOLL_WRITE);
      expect(pin.pages).toEqual([head + 3]);
      const before = entryAt(k, mm, a);
      const r = k.migrateRange(mm, a, 2 * MiB, 1);
      expect(r.moved).toBe(0);
      expect(r.failed).toEqual([head]);
      expect(mappedAt(k, mm, a)).toEqual({ level: PMD, pfn: head });
      expect(entryAt(k, mm, a)).toEqual(before);
      expect(k.folios.pageTest(head, PG_anon_exclusive)).toBe(true);
      expect(migrationEvents(k)).toEqual([0, 512, 0, 1, 0]);
      expect(k.events[EV.thp_split_page]).toBe(0);
      expect(k.touch(mm, a, 2 * MiB, true).faults).toBe(0);
      // Unpinned, it moves.
      k.unpin(pin, FOLL_PIN);
      expect(k.migrateRange(mm, a, 2 * MiB, 1).moved).toBe(1);
      expect(migrationEvents(k)).toEqual([512, 512, 1, 1, 0]);
      expectTags(k, mm, a, 512, 3);
      k.exit(mm);
    });

    it("migrates a PTE-mapped THP whole", () => {
      const { k, mm, a, head } = thpOnNode0(make);
      // A boundary inside the THP maps it by PTEs.
      expect(k.mprotect(mm, a, PS, PROT_READ).ok).toBe(true);
      expect(mappedAt(k, mm, a + PS)).toEqual({ level: PTE, pfn: head + 1 });
      const r = k.migrateRange(mm, a, 2 * MiB, 1);
      expect(r.moved).toBe(1);
      const dst = (mappedAt(k, mm, a) as { pfn: number }).pfn;
      expect(k.phys.nidOf(dst)).toBe(1);
      expect(k.folios.order(dst)).toBe(9);
      expect(mappedAt(k, mm, a + 511 * PS)).toEqual({ level: PTE, pfn: dst + 511 });
      expect(entryAt(k, mm, a)).toMatchObject({ write: false });
      expect(entryAt(k, mm, a + PS)).toMatchObject({ write: true });
      expectTags(k, mm, a, 512, 3);
      expect(migrationEvents(k)).toEqual([512, 0, 1, 0, 0]);
      // Unmapping one PTE at a time made the source look partially mapped: the copy inherits that state (migrate_folio_move).
      expect(k.deferredSplit.has(dst)).toBe(true);
      expect(k.folios.test(dst, PG_partially_mapped)).toBe(true);
      expect(k.events[EV.thp_deferred_split_page]).toBe(2);
      expect(mthp(k, 9, MS.nr_anon_partially_mapped)).toBe(1);
      k.exit(mm);
    });

    it("migrates an mTHP whole by its PTEs", () => {
      const k = new Kernel({ backend: make(), memory: "1G", nodes: 2, check: true });
      k.thp.set("hugepages-64kB/enabled", "always");
      const mm = k.createMm();
      mapOk(k, mm, { addr: X, len: 64 * 1024, prot: RW, flags: ANON | MAP_FIXED });
      k.touch(mm, X, 64 * 1024, true, 6);
      const head = (mappedAt(k, mm, X) as { pfn: number }).pfn;
      expect(k.folios.order(head)).toBe(4);
      const r = k.migrateRange(mm, X, 64 * 1024, 1);
      expect(r.moved).toBe(1);
      const dst = (mappedAt(k, mm, X) as { pfn: number }).pfn;
      expect(k.phys.nidOf(dst)).toBe(1);
      expect(k.folios.order(dst)).toBe(4);
      for (let i = 0; i < 16; i++) expect(mappedAt(k, mm, X + i * PS)).toEqual({ level: PTE, pfn: dst + i });
      expect(entryAt(k, mm, X + 15 * PS)).toMatchObject({ write: true });
      expectTags(k, mm, X, 16, 6);
      // Pages only: an mTHP is no THP to the thp_migration_* counters.
      expect(migrationEvents(k)).toEqual([16, 0, 0, 0, 0]);
      expect(mthp(k, 4, MS.nr_anon)).toBe(1);
      expect(k.phys.nodeStats(1)[NS.nr_anon_pages]).toBe(16);
      // Marked partially mapped while its PTEs became migration entries one by one, and the copy requeued the same way.
      expect(mthp(k, 4, MS.split_deferred)).toBe(2);
      expect(mthp(k, 4, MS.nr_anon_partially_mapped)).toBe(1);
      expect(k.events[EV.thp_deferred_split_page]).toBe(0);
      k.exit(mm);
    });

    it("splits a partially mapped THP on the deferred split queue and migrates its pages", () => {
      const { k, mm, a } = thpOnNode0(make);
      expect(k.munmap(mm, a + MiB, MiB).ok).toBe(true);
      expect(k.deferredSplit.length).toBe(1);
      const r = k.migrateRange(mm, a, MiB, 1);
      expect(r.moved).toBe(256);
      expect(r.failed).toEqual([]);
      for (const i of [0, 1, 200, 255]) {
        const m = mappedAt(k, mm, a + i * PS) as { level: Level; pfn: number };
        expect(m.level).toBe(PTE);
        expect(k.phys.nidOf(m.pfn)).toBe(1);
        expect(k.folios.order(m.pfn)).toBe(0);
      }
      expectTags(k, mm, a, 256, 3);
      // The unmapped half was freed by the split: counted migrated, as the split list's last references drop.
      expect(migrationEvents(k)).toEqual([512, 0, 0, 1, 1]);
      expect(k.events[EV.thp_split_page]).toBe(1);
      expect(k.deferredSplit.length).toBe(0);
      k.exit(mm);
    });
  });
}

/** Take every free page in [start, end) as an order-0 folio held outside the model (so nothing is free there). */
function fillZone(k: Kernel, start: number, end: number): void {
  const phys = k.phys;
  phys.drainPcp();
  const z = phys.zoneOf(start);
  for (let p = start; p < end; ) {
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

function fillNode(k: Kernel, nid: number): void {
  for (const z of k.phys.nodes[nid]!.zones) fillZone(k, z.startPfn, z.endPfn);
}

/** Give back held pages [pfn, pfn + nr). */
function release(k: Kernel, pfn: number, nr: number): void {
  for (let i = 0; i < nr; i++) {
    k.holdRef(pfn + i, -1);
    folioPut(k, pfn + i, 1);
  }
  k.phys.drainPcp();
}

describe("migrating THPs when the destination cannot hold them", () => {
  it("splits a THP whose destination cannot be allocated and migrates its pages", () => {
    const { k, mm, a } = thpOnNode0(() => createX86_64Backend());
    // Node 1 has free pages, but no free block of 512.
    fillNode(k, 1);
    const n1 = k.phys.nodes[1]!;
    for (let p = n1.startPfn; p < n1.endPfn; p += 2) release(k, p, 1);
    // Only the first 100 pages hold data: the rest are zeroes.
    k.madvise(mm, a, 2 * MiB, 4 /* MADV_DONTNEED */);
    k.touch(mm, a, 100 * PS, true, 5);
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    expect(k.folios.order(head)).toBe(9);
    const r = k.migrateRange(mm, a, 2 * MiB, 1);
    expect(r.failed).toEqual([]);
    // The 100 pages with data moved; the 412 pages of zeroes now map the zero page (freed by the split).
    expect(r.moved).toBe(100);
    expect(migrationEvents(k)).toEqual([512, 0, 0, 1, 1]);
    expect(k.events[EV.thp_split_page]).toBe(1);
    expect(k.events[EV.thp_split_pmd]).toBe(1);
    for (const i of [0, 50, 99]) {
      const m = mappedAt(k, mm, a + i * PS) as { level: Level; pfn: number };
      expect(m.level).toBe(PTE);
      expect(k.phys.nidOf(m.pfn)).toBe(1);
    }
    expect(mappedAt(k, mm, a + 300 * PS)).toEqual({ level: PTE, pfn: k.zeroPfn });
    expectTags(k, mm, a, 100, 5);
    expect(mm.rss[MM_ANONPAGES]).toBe(100);
    expect(k.phys.nodeStats(1)[NS.nr_anon_pages]).toBe(100);
    expect(k.phys.nodeStats(0)[NS.nr_isolated_anon]).toBe(0);
    k.exit(mm);
  });

  it("splits THPs on an arch without PMD migration entries", () => {
    const base = createX86_64Backend();
    const noPmdMigration = () => Object.create(base, { capabilities: { value: { ...base.capabilities, pmdSoftleaf: false } } }) as ArchBackend;
    const { k, mm, a, head } = thpOnNode0(noPmdMigration, 8);
    const r = k.migrateRange(mm, a, 2 * MiB, 1);
    expect(r.moved).toBe(512);
    expect(migrationEvents(k)).toEqual([512, 0, 0, 1, 1]);
    expect(k.folios.order(head)).toBe(0);
    const m = mappedAt(k, mm, a + 511 * PS) as { level: Level; pfn: number };
    expect(m.level).toBe(PTE);
    expect(k.phys.nidOf(m.pfn)).toBe(1);
    expectTags(k, mm, a, 512, 8);
    // The PMD path refuses outright on such an arch.
    const k2 = new Kernel({ backend: noPmdMigration(), memory: "1G", check: true });
    const mm2 = k2.createMm();
    const b = mapOk(k2, mm2, { len: 2 * MiB, prot: RW, flags: ANON });
    k2.touch(mm2, b, PS, true, 1);
    const slot = new Slot();
    mm2.walker.find(b, PTE, false, slot);
    const h2 = (mappedAt(k2, mm2, b) as { pfn: number }).pfn;
    const at = { mm: mm2, vma: mm2.vmas.lookup(b)!, addr: b, level: PMD, slot, page: h2, present: true } as const;
    expect(() => setPmdMigrationEntry(k2, h2, at)).toThrow(`${k2.backend.id} has no PMD migration entries: folio ${h2} must be split before it migrates`);
    // A present PMD is no migration entry to remove.
    expect(() => removeMigrationPmd(k2, h2, h2, at)).toThrow(`remove_migration_pmd at 0x${b.toString(16)}: no PMD softleaf`);
    k.exit(mm);
  });

  it("a PUD-mapped THP does not migrate: the failure is counted and its mapping untouched", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "4G", nodes: 2, check: true });
    k.thp.set("hugepages-1048576kB/enabled", "always");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: GiB, prot: RW, flags: ANON });
    k.touch(mm, a + 5 * PS, PS, true, 2);
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    expect(mappedAt(k, mm, a)).toEqual({ level: PUD, pfn: head });
    const before = entryAt(k, mm, a);
    const r = k.migrateRange(mm, a, GiB, 1);
    expect(r.moved).toBe(0);
    expect(r.failed).toEqual([head]);
    expect(mappedAt(k, mm, a)).toEqual({ level: PUD, pfn: head });
    expect(entryAt(k, mm, a)).toEqual(before);
    expect(migrationEvents(k)).toEqual([0, GiB / PS, 0, 1, 0]);
    expect(k.events[EV.thp_split_pud]).toBe(0);
    expect(k.phys.nodeStats(0)[NS.nr_anon_pud_transparent_hugepages]).toBe(GiB / PS);
    expect(k.peek(mm, a + 5 * PS)).toBe(mixTag(2, a / PS + 5));
    expect(k.touch(mm, a, PS, true).faults).toBe(0);
    k.exit(mm);
  });
});

describe("long-term pins of THPs in ZONE_MOVABLE", () => {
  for (const [name, make] of ARCHES) {
    it(`migrates the THP out of ZONE_MOVABLE whole before pinning it (${name})`, () => {
      const k = new Kernel({ backend: make(), memory: "1G", movable: "256M", check: true });
      const mm = k.createMm();
      const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
      k.touch(mm, a, 2 * MiB, true, 4);
      const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
      expect(k.phys.zoneOf(head).name).toBe("Movable");
      const pin = k.gup(mm, a, 8, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM);
      expect(pin.error).toBeNull();
      const dst = (mappedAt(k, mm, a) as { pfn: number }).pfn;
      expect(mappedAt(k, mm, a)).toEqual({ level: PMD, pfn: dst });
      expect(k.phys.zoneOf(dst).name).toBe("Normal");
      expect(pin.pages).toEqual(Array.from({ length: 8 }, (_, i) => dst + i));
      expect(k.folios.large.pincount[k.folios.lid(dst) - 1]).toBe(8);
      expect(migrationEvents(k)).toEqual([512, 0, 1, 0, 0]);
      expectTags(k, mm, a, 512, 4);
      k.unpin(pin, FOLL_PIN);
      k.exit(mm);
    });
  }
});

describe("long-term pins when no THP can be had outside ZONE_MOVABLE", () => {
  it("splits the THP and migrates its pages (migrate_longterm_unpinnable_folios)", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", movable: "256M", check: true });
    k.longtermMigrate = migrateLongtermUnpinnable;
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON });
    k.touch(mm, a, 2 * MiB, true, 4);
    const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    expect(k.phys.zoneOf(head).name).toBe("Movable");
    // ZONE_NORMAL keeps half its pages free, none of them in a block of 512.
    const normal = k.phys.nodes[0]!.zones.find((z) => z.name === "Normal")!;
    fillZone(k, normal.startPfn, normal.endPfn);
    for (let p = normal.startPfn; p < normal.endPfn; p += 2) if (k.heldRefs.has(p)) release(k, p, 1);
    const pin = k.gup(mm, a, 8, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM);
    expect(pin.error).toBeNull();
    expect(pin.pages.every((p) => k.phys.zoneOf(p).name === "Normal" && k.folios.order(p) === 0)).toBe(true);
    expect(mappedAt(k, mm, a + 7 * PS)).toEqual({ level: PTE, pfn: pin.pages[7] });
    expect(migrationEvents(k)).toEqual([512, 0, 0, 1, 1]);
    expect(k.events[EV.thp_split_page]).toBe(1);
    expectTags(k, mm, a, 512, 4);
    k.unpin(pin, FOLL_PIN);
    k.exit(mm);
  });
});

describe("held THP migrations under random operations", () => {
  it("keeps every invariant and the data through fork, mprotect, munmap and faults while migration entries are held", () => {
    type Op = { op: "fork" } | { op: "mprotect"; off: number; ro: boolean } | { op: "munmap"; off: number; pages: number } | { op: "fault"; off: number } | { op: "exit-child" };
    const op = fc.oneof(
      fc.constant({ op: "fork" } as Op),
      fc.record({ op: fc.constant("mprotect" as const), off: fc.nat(511), ro: fc.boolean() }),
      fc.record({ op: fc.constant("munmap" as const), off: fc.nat(511), pages: fc.integer({ min: 1, max: 512 }) }),
      fc.record({ op: fc.constant("fault" as const), off: fc.nat(1023) }),
      fc.constant({ op: "exit-child" } as Op),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 6 }), fc.boolean(), (ops, finishFirst) => {
        const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", nodes: 2, check: true });
        const mm = k.createMm();
        const a = mapOk(k, mm, { len: 4 * MiB, prot: RW, flags: ANON });
        k.touch(mm, a, 4 * MiB, true, 7);
        const live = new Set(Array.from({ length: 1024 }, (_, i) => i));
        const job = k.migrateRange(mm, a, 4 * MiB, 1, true);
        expect(job.pairs.length).toBe(2);
        const children: [Mm, Set<number>][] = [];
        for (const o of ops) {
          if (o.op === "fork") children.push([k.fork(mm)!, new Set(live)]);
          else if (o.op === "exit-child") {
            const c = children.pop();
            if (c !== undefined) k.exit(c[0]);
          } else if (o.op === "mprotect") {
            let mapped = true;
            for (let i = o.off; i < 512; i++) if (!live.has(i)) mapped = false;
            // A hole in the range makes it fail with ENOMEM.
            expect(k.mprotect(mm, a + o.off * PS, 2 * MiB - o.off * PS, o.ro ? PROT_READ : RW).ok).toBe(mapped);
          } else if (o.op === "munmap") {
            const n = Math.min(o.pages, 1024 - o.off);
            expect(k.munmap(mm, a + o.off * PS, n * PS).ok).toBe(true);
            for (let i = o.off; i < o.off + n; i++) live.delete(i);
          } else {
            const r = k.fault(mm, a + o.off * PS, false);
            // A page still there waits until the migration ends; an unmapped one is a SIGSEGV.
            if (!live.has(o.off)) expect(r).not.toBe(0);
            else expect(r).toBe(job.pairs.length > 0 ? VM_FAULT_MIGRATION_WAIT : 0);
          }
          if (finishFirst && job.pairs.length > 0) k.finishMigration(job);
        }
        k.finishMigration(job);
        for (const i of live) expect(k.peek(mm, a + i * PS)).toBe(mixTag(7, a / PS + i));
        for (const [c, pages] of children) {
          for (const i of pages) expect(k.peek(c, a + i * PS)).toBe(mixTag(7, a / PS + i));
          k.exit(c);
        }
        k.exit(mm);
        expect(k.tables.count).toBe(0);
      }),
      { seed: 20260701, numRuns: propertyRuns(25) },
    );
  });
});
