import { PMD, PTE, SWP_DEVICE_READ, SWP_DEVICE_WRITE, entryRegs, migrationOffset } from "@hugemm/arch";
import {
  EV,
  MEMORY_DEVICE_COHERENT,
  MEMORY_DEVICE_PRIVATE,
  MM_ANONPAGES,
  MS,
  MTHP_STRIDE,
  NS,
  PG_swapbacked,
  VM_IO,
  VM_DONTEXPAND,
  VM_MIXEDMAP,
  VM_PFNMAP,
  splitHugeEntry,
  PG_anon,
  PG_isolated,
  PG_locked,
  PG_swapcache,
  Slot,
  VM_WRITE,
  WALK_OK,
  WALK_SOFTLEAF,
  allocSplitTables,
  anonVmaPrepare,
  depositSplitTables,
  expectedRefs,
  folioPut,
  freeSplitTables,
  isolateForMigration,
  mkHugeEntry,
  moveToNewFolio,
  protIndex,
  putbackFolio,
  removeMigrationPtes,
  rmapWalk,
  splitUnmappedFolio,
  tryToMigrate,
  type Kernel,
  type Mm,
  type Vma,
} from "@hugemm/core";
import { collect } from "./collect";
import { MIGRATE_PFN_COMPOUND, MIGRATE_PFN_MIGRATE, migratePfn, mpfnFlags, mpfnHas, mpfnToPfn, mpfnWith } from "./migrate-pfn";

const R = entryRegs(2);

/** VM_SPECIAL: mappings whose pages the mm does not manage. */
const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

/** What a driver passes to migrate_vma_setup. */
export interface MigrateVmaArgs {
  readonly mm: Mm;
  /** The VMA the range lies in (undefined: none, which is EINVAL). */
  readonly vma: Vma | undefined;
  readonly start: number;
  readonly end: number;
  /** MIGRATE_VMA_SELECT_* bits. */
  readonly flags: number;
  /** Device-private and coherent pages are only selected when their pgmap's owner is this. */
  readonly pgmapOwner: object | null;
  /** The locked device-private page whose CPU fault started the migration (migrate_to_ram), or -1. */
  readonly faultPage?: number;
}

/**
 * struct migrate_vma: src and dst hold one migrate_pfn per page of
 * [start, end); cpages counts the pages collected (holes included) that
 * are still to migrate.
 */
export class MigrateVma {
  readonly src: Float64Array;
  readonly dst: Float64Array;
  readonly npages: number;
  cpages = 0;
  /** Whether the collection cleared a present PTE (a TLB flush is owed). */
  unmapped = false;

  constructor(
    readonly k: Kernel,
    readonly mm: Mm,
    readonly vma: Vma,
    readonly start: number,
    readonly end: number,
    readonly flags: number,
    readonly owner: object | null,
    readonly faultPage: number,
  ) {
    this.npages = (end - start) / k.pageSize;
    this.src = new Float64Array(this.npages);
    this.dst = new Float64Array(this.npages);
  }

  /** The address of entry `i`. */
  addr(i: number): number {
    return this.start + i * this.k.pageSize;
  }
}

/**
 * migrate_vma_setup: check the range (in one VMA that is neither hugetlb,
 * special nor DAX; a fault page must be a locked device-private page), then
 * collect its pages and unmap them behind migration entries. Returns the
 * migration, or EINVAL.
 */
export function migrateVmaSetup(k: Kernel, a: MigrateVmaArgs): MigrateVma | "EINVAL" {
  const ps = k.pageSize;
  const start = a.start - (a.start % ps);
  const end = a.end - (a.end % ps);
  const vma = a.vma;
  // DAX VMAs do not exist in the model yet; hugetlb and VM_SPECIAL ones are refused.
  if (vma === undefined || vma.isHugetlb || (vma.flags & VM_SPECIAL) !== 0) return "EINVAL";
  if (end <= start) return "EINVAL";
  if (start < vma.start || start >= vma.end || end <= vma.start || end > vma.end) return "EINVAL";
  const faultPage = a.faultPage ?? -1;
  if (faultPage >= 0) {
    if (k.phys.pgmapOf(faultPage)?.type !== MEMORY_DEVICE_PRIVATE) return "EINVAL";
    if (!k.folios.test(k.folios.head(faultPage), PG_locked)) return "EINVAL";
  }
  const m = new MigrateVma(k, a.mm, vma, start, end, a.flags, a.pgmapOwner, faultPage);
  collect(k, m);
  if (m.cpages > 0) m.cpages = unmap(k, m);
  return m;
}

/**
 * migrate_device_coherent_folio's first half (migrate_device_pfns): set up
 * the migration of one device folio, found by pfn rather than by a range
 * of a VMA. The migration is described against one of the folio's mappings
 * (its process's node for the new memory, its PMD for a split); the unmap
 * reaches every mapping. Null when the folio is locked or mapped nowhere.
 */
export function migrateDeviceFolioSetup(k: Kernel, head: number): MigrateVma | null {
  const f = k.folios;
  if (f.test(head, PG_locked)) return null;
  let where: { mm: Mm; vma: Vma; addr: number } | null = null;
  rmapWalk(k, head, (e) => {
    where = { mm: e.mm, vma: e.vma, addr: e.addr };
    return false;
  });
  if (where === null) return null;
  const { mm, vma, addr } = where as { mm: Mm; vma: Vma; addr: number };
  const nr = f.nrPages(head);
  const m = new MigrateVma(k, mm, vma, addr, addr + nr * k.pageSize, 0, null, -1);
  f.ref(head);
  f.set(head, PG_locked);
  m.src[0] = migratePfn(head) + MIGRATE_PFN_MIGRATE + (nr > 1 ? MIGRATE_PFN_COMPOUND : 0);
  m.cpages = unmap(k, m);
  return m;
}

/**
 * migrate_device_unmap: isolate system folios from the LRU, take every
 * mapping down to migration entries (try_to_migrate, which also reaches
 * the other processes mapping them), and give up on any folio still mapped
 * or held by references nobody here accounts for (GUP pins, the swap
 * cache's beyond its share). Given-up folios get their mappings back.
 * Returns the pages still migrating (holes included).
 */
function unmap(k: Kernel, m: MigrateVma): number {
  const f = k.folios;
  let unmapped = 0;
  const restore: number[] = [];
  for (let i = 0; i < m.npages; i++) {
    if (m.src[i] === 0) continue;
    const pfn = mpfnToPfn(m.src[i]!);
    if (pfn < 0) {
      if (mpfnHas(m.src[i]!, MIGRATE_PFN_MIGRATE)) unmapped++;
      continue;
    }
    const head = f.head(pfn);
    if (!k.phys.isZoneDevice(head)) {
      if (!isolateForMigration(k, head)) {
        m.src[i] = mpfnWith(m.src[i]!, MIGRATE_PFN_MIGRATE, false);
        restore.push(i);
        continue;
      }
      // The isolation's reference replaces the one collect took.
      f.unref(head, 1);
    }
    if (f.mapped(head)) tryToMigrate(k, head);
    const extra = 1 + (m.faultPage >= 0 && f.head(m.faultPage) === head ? 1 : 0);
    if (f.mapped(head) || f.refcount(head) !== expectedRefs(k, head) + extra) {
      if (!k.phys.isZoneDevice(head)) {
        f.ref(head, 1);
        putbackFolio(k, head);
      }
      m.src[i] = mpfnWith(m.src[i]!, MIGRATE_PFN_MIGRATE, false);
      restore.push(i);
      continue;
    }
    unmapped++;
  }
  for (const i of restore) {
    const head = f.head(mpfnToPfn(m.src[i]!));
    removeMigrationPtes(k, head, head);
    m.src[i] = 0;
    if (m.faultPage < 0 || f.head(m.faultPage) !== head) f.clear(head, PG_locked);
    folioPut(k, head, 1);
  }
  return unmapped;
}

/**
 * migrate_vma_pages: for every entry still migrating with a destination,
 * move the source's mapping and flags to it (the driver has copied the
 * data), or populate a hole with it. A THP source whose destination is
 * small pages is split first (its PMD migration entry into PTE migration
 * entries, the folio into pages); a THP destination for a small source
 * fails. A file or swap-cache source cannot move to device memory.
 */
export function migrateVmaPages(k: Kernel, m: MigrateVma): void {
  const f = k.folios;
  const nrPmd = 2 ** k.thp.pmdOrder;
  for (let i = 0; i < m.npages; i++) {
    const s = m.src[i]!;
    // The 511 entries after a THP's are zero: most of a range of THPs is skipped here.
    if (s === 0) continue;
    const d = m.dst[i]!;
    const dpfn = mpfnToPfn(d);
    if (!mpfnHas(s, MIGRATE_PFN_MIGRATE)) continue;
    if (dpfn < 0) {
      m.src[i] = mpfnWith(s, MIGRATE_PFN_MIGRATE, false);
      continue;
    }
    const spfn = mpfnToPfn(s);
    const srcCompound = mpfnHas(s, MIGRATE_PFN_COMPOUND);
    const dstCompound = mpfnHas(d, MIGRATE_PFN_COMPOUND);
    if (spfn < 0) {
      if (srcCompound && dstCompound) {
        if (!insertHugePmdPage(k, m, i, dpfn)) m.src[i] = mpfnWith(s, MIGRATE_PFN_MIGRATE, false);
        i += nrPmd - 1;
        continue;
      }
      // A THP hole with small destinations: each page is a hole of its own.
      if (srcCompound) for (let j = 0; j < nrPmd && i + j < m.npages; j++) m.src[i + j] = MIGRATE_PFN_MIGRATE;
      if (!insertPage(k, m, i, dpfn)) m.src[i] = mpfnWith(m.src[i]!, MIGRATE_PFN_MIGRATE, false);
      continue;
    }
    if (srcCompound && !dstCompound) {
      if (!splitUnmappedSource(k, m, i)) {
        m.src[i] = mpfnWith(mpfnWith(s, MIGRATE_PFN_MIGRATE, false), MIGRATE_PFN_COMPOUND, false);
        continue;
      }
    } else if (dstCompound && !srcCompound) {
      m.src[i] = mpfnWith(s, MIGRATE_PFN_MIGRATE, false);
      continue;
    }
    const src = f.head(mpfnToPfn(m.src[i]!));
    const dst = f.head(dpfn);
    const dt = k.phys.pgmapOf(dst)?.type;
    if (dt === MEMORY_DEVICE_PRIVATE || dt === MEMORY_DEVICE_COHERENT) {
      // Only anonymous memory moves to the device; a swap-cache copy must go first.
      if (!f.test(src, PG_anon) || (f.test(src, PG_swapcache) && !k.swap.folioFreeSwap(src))) {
        m.src[i] = mpfnWith(m.src[i]!, MIGRATE_PFN_MIGRATE, false);
        continue;
      }
    } else if (dt !== undefined) {
      m.src[i] = mpfnWith(m.src[i]!, MIGRATE_PFN_MIGRATE, false);
      continue;
    }
    // folio_migrate_mapping: nothing but the migration (and a faulting CPU) may hold the source.
    const extra = 1 + (m.faultPage >= 0 && f.head(m.faultPage) === src ? 1 : 0);
    if (f.mapped(src) || f.refcount(src) !== expectedRefs(k, src) + extra) {
      m.src[i] = mpfnWith(m.src[i]!, MIGRATE_PFN_MIGRATE, false);
      continue;
    }
    moveToNewFolio(k, src, dst);
  }
}

/**
 * migrate_vma_finalize: every source gets its mappings back pointing at its
 * destination (or at itself when it did not migrate), system folios return
 * to the LRU, and both are unlocked and released: a migrated source's last
 * reference goes, freeing it to the allocator or to its device.
 */
export function migrateVmaFinalize(k: Kernel, m: MigrateVma): void {
  const f = k.folios;
  for (let i = 0; i < m.npages; i++) {
    if (m.src[i] === 0 && m.dst[i] === 0) continue;
    const spfn = mpfnToPfn(m.src[i]!);
    const dpfn = mpfnToPfn(m.dst[i]!);
    let dst = dpfn < 0 ? -1 : f.head(dpfn);
    if (spfn < 0) {
      if (dst >= 0) releaseDst(k, dst);
      continue;
    }
    const src = f.head(spfn);
    if (!mpfnHas(m.src[i]!, MIGRATE_PFN_MIGRATE) || dst < 0) {
      if (dst >= 0) releaseDst(k, dst);
      dst = src;
    }
    if (dst !== src && !k.phys.isZoneDevice(dst)) k.lru.add(dst);
    removeMigrationPtes(k, dst, src);
    const faulting = m.faultPage >= 0 && f.head(m.faultPage) === src;
    if (!faulting) f.clear(src, PG_locked);
    if (k.phys.isZoneDevice(src)) folioPut(k, src, 1);
    else if (dst === src) putbackFolio(k, src);
    else {
      f.clear(src, PG_isolated);
      isolatedDone(k, src);
      folioPut(k, src, 1);
    }
    if (dst !== src) {
      f.clear(dst, PG_locked);
      folioPut(k, dst, 1);
    }
  }
}

/** The driver's destination that was never used: unlock and free it. */
function releaseDst(k: Kernel, dst: number): void {
  k.folios.clear(dst, PG_locked);
  folioPut(k, dst, 1);
}

/** NR_ISOLATED_* for a migrated system folio leaving isolation for good. */
function isolatedDone(k: Kernel, head: number): void {
  const f = k.folios;
  const st = k.phys.nodeStats(k.phys.nidOf(head));
  const idx = f.test(head, PG_swapbacked) ? NS.nr_isolated_anon : NS.nr_isolated_file;
  st[idx]! -= f.nrPages(head);
}


/**
 * migrate_vma_split_unmapped_folio: the THP source of entry `i` becomes
 * pages. Its PMD migration entry in this VMA becomes PTE migration entries
 * (split_huge_pmd_address with freeze), the folio is cut, and the entries
 * of its other pages get their pfns with the same flags. A THP that other
 * processes also hold at PMD level stays whole (false).
 */
function splitUnmappedSource(k: Kernel, m: MigrateVma, i: number): boolean {
  const f = k.folios;
  const head = mpfnToPfn(m.src[i]!);
  let pmdEntries = 0;
  rmapWalk(k, head, (e) => {
    if (e.level !== PTE) pmdEntries++;
    return true;
  });
  if (pmdEntries > 1) return false;
  const addr = m.addr(i);
  if (pmdEntries === 1) {
    // The frozen split drops a reference as if it were the PMD's mapping: take one for it first.
    f.ref(head);
    const slot = new Slot();
    if (m.mm.walker.find(addr, PTE, false, slot) !== WALK_SOFTLEAF || slot.level !== PMD) {
      f.unref(head);
      return false;
    }
    const ptl = k.tables.ptl(slot.tablePa);
    k.locks.acquire(ptl);
    const ok = splitHugeEntryAt(k, m, slot, addr);
    k.locks.release(ptl);
    if (!ok) {
      f.unref(head);
      return false;
    }
  }
  if (splitUnmappedFolio(k, head, 0, m.faultPage) !== 0) return false;
  const flags = mpfnFlags(m.src[i]!) & ~MIGRATE_PFN_COMPOUND;
  const n = 2 ** k.thp.pmdOrder;
  for (let j = 0; j < n && i + j < m.npages; j++) m.src[i + j] = migratePfn(head + j) + (flags & ~1);
  return true;
}

function splitHugeEntryAt(k: Kernel, m: MigrateVma, slot: Slot, addr: number): boolean {
  return splitHugeEntry(k, m.mm, m.vma, PMD, slot.table, slot.tablePa, slot.index, addr, true);
}

/**
 * migrate_vma_insert_page: a hole of an anonymous VMA gets the new page,
 * exclusive, counted in MM_ANONPAGES, as a device-private entry (writable
 * where the VMA is) or a present PTE; a zero-page PTE is replaced. False
 * (the entry fails) when the VMA is not anonymous, a THP sits there, or the
 * PTE is neither none nor the zero page.
 */
function insertPage(k: Kernel, m: MigrateVma, i: number, dst: number): boolean {
  const b = k.backend;
  const f = k.folios;
  const { mm, vma } = m;
  if (!vma.isAnonymous) return false;
  const addr = m.addr(i);
  const slot = new Slot();
  if (mm.walker.find(addr, PTE, true, slot, mm.nid) !== WALK_OK) return false;
  anonVmaPrepare(k, mm, vma);
  const devicePrivate = k.phys.pgmapOf(dst)?.type === MEMORY_DEVICE_PRIVATE;
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  try {
    b.getEntry(slot.table, slot.index, PTE, R, 0);
    let flush = false;
    if (b.present(R, 0, PTE)) {
      if (b.pfn(R, 0, PTE) !== k.zeroPfn) return false;
      flush = true;
    } else if (!b.none(R, 0, PTE)) return false;
    mm.addRss(MM_ANONPAGES, 1);
    k.rmap.addNewAnon(dst, vma, addr, PTE, true);
    if (!k.phys.isZoneDevice(dst)) k.lru.add(dst);
    f.ref(dst);
    if (flush) {
      b.getAndClear(k.ptCtx, slot.table, slot.index, PTE, addr, R, 1);
      k.flushTlb(addr, addr + k.pageSize, "migrate");
    }
    if (devicePrivate) {
      b.softleafEntry(R, 0, PTE, vma.flags & VM_WRITE ? SWP_DEVICE_WRITE : SWP_DEVICE_READ, migrationOffset(b.softleaf, dst, false, false));
      b.writeEntry(slot.table, slot.index, PTE, R, 0);
    } else {
      b.pfnEntry(R, 0, PTE, dst, protIndex(vma.flags));
      if (vma.flags & VM_WRITE) {
        b.mkdirty(R, 0, PTE);
        b.mkwrite(R, 0, PTE);
      }
      b.setEntries(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0, 1);
    }
    return true;
  } finally {
    k.locks.release(ptl);
  }
}

/**
 * migrate_vma_insert_huge_pmd_page: a PMD-sized hole (a none PMD, or the
 * huge zero folio) gets the new THP whole: a PTE table deposited, 512
 * pages of MM_ANONPAGES, an exclusive anon rmap at PMD level, and the fault
 * counters a THP fault counts — for a device THP too.
 */
function insertHugePmdPage(k: Kernel, m: MigrateVma, i: number, dst: number): boolean {
  const b = k.backend;
  const f = k.folios;
  const { mm, vma } = m;
  if (!vma.isAnonymous) return false;
  const addr = m.addr(i);
  const slot = new Slot();
  if (mm.walker.find(addr, PMD, true, slot, mm.nid) !== WALK_OK) return false;
  anonVmaPrepare(k, mm, vma);
  const order = k.thp.pmdOrder;
  const devicePrivate = k.phys.pgmapOf(dst)?.type === MEMORY_DEVICE_PRIVATE;
  b.readEntry(slot.table, slot.index, PMD, R, 1);
  const zero = b.present(R, 1, PMD) && b.leaf(R, 1, PMD) && k.hugeZero.is(b.pfn(R, 1, PMD));
  if (!zero && !b.none(R, 1, PMD)) return false;
  // The huge zero folio's PMD already has its deposited table.
  const tables = zero ? null : allocSplitTables(k, mm, PMD);
  if (!zero && tables === null) return false;
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  try {
    if (zero) {
      b.getAndClear(k.ptCtx, slot.table, slot.index, PMD, addr, R, 1);
      k.flushTlb(addr, addr + k.pageSize * 2 ** order, "migrate");
    } else depositSplitTables(k, PMD, slot.tablePa, slot.index, tables!);
    mm.addRss(MM_ANONPAGES, 2 ** order);
    k.rmap.addNewAnon(dst, vma, addr, PMD, true);
    if (!k.phys.isZoneDevice(dst)) k.lru.add(dst);
    f.ref(dst);
    k.events[EV.thp_fault_alloc]!++;
    k.mthpStats[order * MTHP_STRIDE + MS.anon_fault_alloc]!++;
    if (devicePrivate) {
      b.softleafEntry(R, 0, PMD, vma.flags & VM_WRITE ? SWP_DEVICE_WRITE : SWP_DEVICE_READ, migrationOffset(b.softleaf, dst, false, false));
      b.writeEntry(slot.table, slot.index, PMD, R, 0);
    } else {
      mkHugeEntry(k, R, 0, PMD, dst, vma);
      if (vma.flags & VM_WRITE) {
        b.mkdirty(R, 0, PMD);
        b.mkwrite(R, 0, PMD);
      }
      b.setEntries(k.ptCtx, slot.table, slot.index, PMD, addr, R, 0, 1);
    }
    return true;
  } catch (e) {
    if (tables !== null) freeSplitTables(k, mm, PMD, tables);
    throw e;
  } finally {
    k.locks.release(ptl);
  }
}
