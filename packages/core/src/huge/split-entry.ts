import {
  PMD,
  PTE,
  PUD,
  SWP_DEVICE_READ,
  SWP_DEVICE_WRITE,
  SWP_MIGRATION_READ,
  SWP_MIGRATION_READ_EXCLUSIVE,
  SWP_MIGRATION_WRITE,
  SoftleafType,
  entryRegs,
  migrationDirty,
  migrationOffset,
  migrationYoung,
  softleafPfn,
  softleafTypeOf,
  type Level,
} from "@hugemm/arch";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { protIndex } from "../mm/vm-flags";
import { folioMaybeDmaPinned } from "../mm/fork";
import { PG_anon_exclusive, PG_dirty } from "../phys/page-flags";
import { Slot, WALK_LEAF, WALK_SOFTLEAF } from "../pgtable/walker";
import { EV, ME } from "../stats/counters";
import { ModelBug } from "../util/errors";
import { GFP_PGTABLE_ATOMIC, allocSplitTables, freeSplitTables, prepareSplitTables, tableEntries, withdrawSplitTables, type SplitTables } from "./deposit";

const R = entryRegs(4);

/** What the old huge entry said, carried into the PTEs that replace it. */
interface OldBits {
  write: boolean;
  young: boolean;
  dirty: boolean;
  softDirty: boolean;
  uffdWp: boolean;
  anonExclusive: boolean;
  /** The entry was a migration entry (its PTEs become migration entries too). */
  migration: boolean;
  /** The entry was a device-private entry (so are its PTEs). */
  device: boolean;
}

/**
 * __split_huge_pmd_locked / the RFC's PUD split, for the huge entry at
 * (`table`, `index`) of `level` mapping [haddr, haddr + size) of `vma`:
 * the entry becomes a table of PTEs mapping the same pages — present PTEs
 * with the entry's write, young, dirty, soft-dirty and uffd-wp bits, or
 * migration / device-private entries for the same kind of entry. A PMD uses
 * its deposited PTE table; a PUD its deposited PMD table with PTE tables
 * (allocated now under the "at-split" policy: false when that fails, with
 * nothing changed). With `freeze` the PTEs are migration entries right away
 * unless the folio may be pinned. The huge zero folio becomes zero-page
 * PTEs. The caller holds the entry's page-table lock.
 */
export function splitHugeEntry(k: Kernel, mm: Mm, vma: Vma, level: Level, table: Uint32Array, tablePa: number, index: number, haddr: number, freezeIn: boolean, prealloc: SplitTables | null = null): boolean {
  const b = k.backend;
  const f = k.folios;
  if (level !== PMD && level !== PUD) throw new ModelBug(`splitting a huge entry at level ${level}`);
  b.readEntry(table, index, level, R, 0);
  if (b.none(R, 0, level)) return true;
  if (!vma.isAnonymous) throw new ModelBug(`splitting a level-${level} entry in VMA #${vma.id}, which is not anonymous (the model maps no file THPs)`);
  // Tables first, so a failed allocation leaves the mapping as it was.
  let tables = withdrawSplitTables(k, level, tablePa, index);
  if (tables === null) {
    if (level === PMD) throw new ModelBug(`anonymous huge PMD at 0x${haddr.toString(16)} has no deposited page table`);
    // Under the page-table lock: tables the caller prepared, or whatever comes without reclaim.
    tables = prealloc ?? allocSplitTables(k, mm, PUD, GFP_PGTABLE_ATOMIC);
    if (tables === null) {
      k.modelEvents[ME.thp_split_pud_failed]!++;
      return false;
    }
  }
  k.events[level === PUD ? EV.thp_split_pud : EV.thp_split_pmd]!++;
  const nr = k.pagesAt(level);
  const present = b.present(R, 0, level);
  if (present && k.hugeZero.is(b.pfn(R, 0, level))) {
    splitZeroEntry(k, mm, vma, level, table, index, haddr, tables);
    return true;
  }
  let freeze = freezeIn && level === PMD;
  const old: OldBits = { write: false, young: false, dirty: false, softDirty: false, uffdWp: false, anonExclusive: false, migration: false, device: false };
  let page: number;
  if (present) {
    // pmdp_invalidate: the entry stays huge but invalid, so no CPU can load small and huge TLB entries at once.
    b.invalidate(k.ptCtx, table, index, level, haddr, R, 0);
    page = b.pfn(R, 0, level);
    old.write = b.write(R, 0, level);
    old.young = b.young(R, 0, level);
    old.dirty = b.dirty(R, 0, level);
    old.softDirty = k.config.memSoftDirty && b.softDirty(R, 0, level);
    old.uffdWp = b.capabilities.uffdWp && b.uffdWp(R, 0, level);
    old.anonExclusive = f.pageTest(page, PG_anon_exclusive);
  } else {
    const type = softleafTypeOf(b.swpType(R, 0, level));
    const off = b.swpOffset(R, 0, level);
    page = softleafPfn(b.softleaf, off);
    old.softDirty = k.config.memSoftDirty && b.swpSoftDirty(R, 0, level);
    old.uffdWp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, level);
    if (type === SoftleafType.MIGRATION_READ || type === SoftleafType.MIGRATION_READ_EXCLUSIVE || type === SoftleafType.MIGRATION_WRITE) {
      old.migration = true;
      old.write = type === SoftleafType.MIGRATION_WRITE;
      old.anonExclusive = type === SoftleafType.MIGRATION_READ_EXCLUSIVE;
      old.young = migrationYoung(b.softleaf, off);
      old.dirty = migrationDirty(b.softleaf, off);
    } else if (type === SoftleafType.DEVICE_PRIVATE_READ || type === SoftleafType.DEVICE_PRIVATE_WRITE) {
      old.device = true;
      old.write = type === SoftleafType.DEVICE_PRIVATE_WRITE;
      old.anonExclusive = f.pageTest(page, PG_anon_exclusive);
    } else {
      throw new ModelBug(`splitting a level-${level} softleaf of type ${type} at 0x${haddr.toString(16)}`);
    }
  }
  const head = f.head(page);
  if (old.dirty && present) f.set(head, PG_dirty);
  if (!old.migration) {
    // folio_try_share_anon_rmap_pmd: a possibly pinned exclusive folio cannot be frozen.
    if (freeze && old.anonExclusive) {
      if (folioMaybeDmaPinned(k, head)) freeze = false;
      else f.pageSet(page, PG_anon_exclusive, false);
    }
    if (!freeze) {
      f.ref(head, nr - 1);
      k.rmap.add(head, page, nr, PTE, true, old.anonExclusive, mm.id);
    }
  }
  if (level === PMD) {
    fillPtes(k, vma, tables.pa, haddr, page, nr, old, freeze);
  } else {
    const per = k.pagesAt(PMD);
    const n = tableEntries(k, PMD);
    const pmdTable = k.tables.get(tables.pa);
    for (let i = 0; i < n; i++) {
      const pte = k.tables.withdraw(tables.pa);
      if (pte < 0) throw new ModelBug(`a PUD's deposited PMD table holds ${i} PTE tables, not ${n}`);
      fillPtes(k, vma, pte, haddr + i * per * k.pageSize, page + i * per, per, old, false);
      b.tableEntry(R, 2, PMD, pte, true);
      b.writeEntry(pmdTable, i, PMD, R, 2);
    }
  }
  if (!old.migration) k.rmap.remove(head, page, 1, level, mm.id);
  if (freeze) folioPut(k, head, 1);
  populate(k, mm, level, table, index, tables.pa);
  return true;
}

/** __split_huge_zero_page_pmd: zero-page PTEs in place of the huge zero folio (which keeps no per-mapping reference). */
function splitZeroEntry(k: Kernel, mm: Mm, vma: Vma, level: Level, table: Uint32Array, index: number, haddr: number, tables: SplitTables): void {
  const b = k.backend;
  if (level !== PMD) throw new ModelBug("the huge zero folio is mapped only at PMD level");
  b.getAndClear(k.ptCtx, table, index, PMD, haddr, R, 0);
  const wp = b.capabilities.uffdWp && b.uffdWp(R, 0, PMD);
  b.pfnEntry(R, 2, PTE, k.zeroPfn, protIndex(vma.flags));
  b.mkspecial(R, 2, PTE);
  if (wp) b.mkuffdWp(R, 2, PTE);
  const pte = k.tables.get(tables.pa);
  // Every PTE maps the one zero page, each set with set_pte_at (no pfn advance).
  for (let i = 0; i < k.pagesAt(PMD); i++) b.setEntries(k.ptCtx, pte, i, PTE, haddr + i * k.pageSize, R, 2, 1);
  populate(k, mm, PMD, table, index, tables.pa);
}

/** The `nr` PTEs of the table at `ptePa` replacing a huge mapping of pages from `page`. */
function fillPtes(k: Kernel, vma: Vma, ptePa: number, addr: number, page: number, nr: number, old: OldBits, freeze: boolean): void {
  const b = k.backend;
  const pte = k.tables.get(ptePa);
  if (freeze || old.migration || old.device) {
    for (let i = 0; i < nr; i++) {
      let type: number;
      let off: number;
      // Frozen, a device-private PMD becomes migration entries like any other (the device's access bits are not tracked).
      if (old.device && !freeze) {
        type = old.write ? SWP_DEVICE_WRITE : SWP_DEVICE_READ;
        off = migrationOffset(b.softleaf, page + i, false, false);
      } else {
        type = old.write ? SWP_MIGRATION_WRITE : old.anonExclusive ? SWP_MIGRATION_READ_EXCLUSIVE : SWP_MIGRATION_READ;
        off = migrationOffset(b.softleaf, page + i, old.young, old.dirty);
      }
      b.softleafEntry(R, 2, PTE, type, off);
      if (old.softDirty) b.swpMkSoftDirty(R, 2, PTE);
      if (old.uffdWp) b.swpMkUffdWp(R, 2, PTE);
      b.writeEntry(pte, i, PTE, R, 2);
    }
    return;
  }
  b.pfnEntry(R, 2, PTE, page, protIndex(vma.flags));
  if (old.write) b.mkwrite(R, 2, PTE);
  if (!old.young) b.mkold(R, 2, PTE);
  if (old.dirty) b.mkdirty(R, 2, PTE);
  if (old.softDirty) b.mksoftDirty(R, 2, PTE);
  if (old.uffdWp) b.mkuffdWp(R, 2, PTE);
  b.setEntries(k.ptCtx, pte, 0, PTE, addr, R, 2, nr);
}

/** pmd_populate / pud_populate: the entry now points to the table that replaces the mapping. */
function populate(k: Kernel, mm: Mm, level: Level, table: Uint32Array, index: number, childPa: number): void {
  const b = k.backend;
  b.tableEntry(R, 2, level, childPa, true);
  b.writeEntry(table, index, level, R, 2);
  mm.walker.invalidate();
}

/**
 * A split from outside the page-table lock: the tables an at-split PUD
 * needs are allocated first (reclaim may run), then the entry is split under
 * its lock, and the TLB flush recorded. False when the tables cannot be had.
 */
export function splitHugeSlot(k: Kernel, mm: Mm, vma: Vma, level: Level, table: Uint32Array, tablePa: number, index: number, haddr: number, freeze = false): boolean {
  const pre = prepareSplitTables(k, mm, vma.isAnonymous, level, tablePa, index);
  if (pre === "enomem") {
    k.modelEvents[ME.thp_split_pud_failed]!++;
    return false;
  }
  const ptl = k.tables.ptl(tablePa);
  k.locks.acquire(ptl);
  let ok: boolean;
  try {
    ok = splitHugeEntry(k, mm, vma, level, table, tablePa, index, haddr, freeze, pre);
  } finally {
    k.locks.release(ptl);
  }
  if (!ok && pre !== null) freeSplitTables(k, mm, PUD, pre);
  if (ok) k.flushTlb(haddr, haddr + mm.walker.levelSize(level), "split");
  return ok;
}

/**
 * split_huge_pmd_address / __split_huge_pud for the huge entry (or PMD
 * migration entry) mapping `addr` in `vma`, if there is one. False when a
 * PUD split could not get its tables.
 */
export function splitHugeAt(k: Kernel, mm: Mm, vma: Vma, addr: number, freeze = false): boolean {
  const slot = new Slot();
  const st = mm.walker.find(addr, PTE, false, slot);
  if (st !== WALK_LEAF && st !== WALK_SOFTLEAF) return true;
  if (slot.level !== PMD && slot.level !== PUD) return true;
  const size = mm.walker.levelSize(slot.level);
  return splitHugeSlot(k, mm, vma, slot.level, slot.table, slot.tablePa, slot.index, addr - (addr % size), freeze);
}
