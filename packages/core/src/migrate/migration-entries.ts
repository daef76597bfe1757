import {
  PMD,
  PTE,
  SWP_MIGRATION_READ,
  SWP_MIGRATION_READ_EXCLUSIVE,
  SWP_DEVICE_READ,
  SWP_DEVICE_WRITE,
  SWP_MIGRATION_WRITE,
  SoftleafType,
  type Level,
  entryRegs,
  migrationDirty,
  migrationOffset,
  migrationYoung,
  softleafTypeOf,
} from "@hugemm/arch";
import { folioPut } from "../folio/put";
import { removeMigrationPmd, setPmdMigrationEntry } from "../huge/pmd-migration";
import { splitHugeEntry } from "../huge/split-entry";
import type { Kernel } from "../kernel/kernel";
import { folioMaybeDmaPinned } from "../mm/fork";
import { VM_LOCKED, protIndex } from "../mm/vm-flags";
import { mmCounter } from "../mm/zap";
import { PG_anon, PG_anon_exclusive, PG_dirty, PG_hwpoison, PG_mlocked } from "../phys/page-flags";
import { MEMORY_DEVICE_PRIVATE } from "../phys/zone-device";
import { pageVmaMappedWalk, rmapWalk, type MappedAt } from "../rmap/walk";
import { ModelBug } from "../util/errors";

const R = entryRegs(2);

/** What try_to_migrate / try_to_unmap and remove_migration_ptes are asked to do beyond the plain walk. */
export interface TtuOpts {
  /** TTU_SPLIT_HUGE_PMD: split huge mappings on the way (PMDs frozen straight into migration entries). */
  readonly splitHuge?: boolean;
  /** TTU_RMAP_LOCKED: the caller holds the anon_vma / i_mmap lock. */
  readonly rmapLocked?: boolean;
  /** TTU_USE_SHARED_ZEROPAGE (remove_migration_ptes after a split): map pages that hold only zeroes to the shared zero page. */
  readonly zeroRemap?: boolean;
}

/**
 * try_to_migrate: replace every mapping of `src` with a migration entry —
 * writable if the PTE was writable, read-exclusive for an exclusive anon page,
 * read otherwise — carrying young, dirty, soft-dirty and uffd-wp. A PMD
 * mapping becomes one PMD migration entry (set_pmd_migration_entry). An
 * exclusive anon page that may be pinned cannot stop being exclusive, so the
 * walk stops and reports failure. With `splitHuge` a PMD mapping is split
 * and frozen into PTE migration entries, a PUD mapping split into PTEs, and
 * the walk of that VMA restarts. A PUD mapping is not otherwise migrated:
 * there is no PUD migration entry, so the migration fails (as the RFC does).
 */
export function tryToMigrate(k: Kernel, src: number, opts: TtuOpts = {}): boolean {
  const b = k.backend;
  const f = k.folios;
  const anon = f.test(src, PG_anon);
  let ok = true;
  const one = (m: MappedAt): boolean => {
    if (!m.present && !isDevicePrivateEntry(k, m)) return true;
    const { slot } = m;
    if (m.level !== PTE) {
      if (opts.splitHuge) {
        const ptl = k.tables.ptl(slot.tablePa);
        k.locks.acquire(ptl);
        const split = splitHugeEntry(k, m.mm, m.vma, m.level, slot.table, slot.tablePa, slot.index, m.addr, m.level === PMD);
        k.locks.release(ptl);
        if (!split) {
          ok = false;
          return false;
        }
        k.flushTlb(m.addr, m.addr + m.mm.walker.levelSize(m.level), "migrate");
        // page_vma_mapped_walk_restart: whatever the split left mapped is handled PTE by PTE.
        return pageVmaMappedWalk(k, m.mm, m.vma, src, f.index(src), f.nrPages(src), one);
      }
      if (!m.present && deviceEntryToMigration(k, src, m)) return true;
      if (m.present && m.level === PMD && setPmdMigrationEntry(k, src, m)) return true;
      ok = false;
      return false;
    }
    if (!m.present) {
      if (deviceEntryToMigration(k, src, m)) return true;
      ok = false;
      return false;
    }
    const ptl = k.tables.ptl(slot.tablePa);
    k.locks.acquire(ptl);
    try {
      b.getAndClear(k.ptCtx, slot.table, slot.index, PTE, m.addr, R, 0);
      k.flushTlb(m.addr, m.addr + k.pageSize, "migrate");
      if (b.dirty(R, 0, PTE)) f.set(src, PG_dirty);
      const exclusive = anon && f.pageTest(m.page, PG_anon_exclusive);
      if (exclusive) {
        if (folioMaybeDmaPinned(k, src)) {
          b.setEntries(k.ptCtx, slot.table, slot.index, PTE, m.addr, R, 0, 1);
          ok = false;
          return false;
        }
        f.pageSet(m.page, PG_anon_exclusive, false);
      }
      const type = b.write(R, 0, PTE) ? SWP_MIGRATION_WRITE : exclusive ? SWP_MIGRATION_READ_EXCLUSIVE : SWP_MIGRATION_READ;
      const off = migrationOffset(b.softleaf, m.page, b.young(R, 0, PTE), b.dirty(R, 0, PTE));
      const sd = k.config.memSoftDirty && b.softDirty(R, 0, PTE);
      const wp = b.capabilities.uffdWp && b.uffdWp(R, 0, PTE);
      b.softleafEntry(R, 1, PTE, type, off);
      if (sd) b.swpMkSoftDirty(R, 1, PTE);
      if (wp) b.swpMkUffdWp(R, 1, PTE);
      b.writeEntry(slot.table, slot.index, PTE, R, 1);
      k.rmap.remove(src, m.page, 1, PTE, m.mm.id);
      folioPut(k, src, 1);
    } finally {
      k.locks.release(ptl);
    }
    return true;
  };
  rmapWalk(k, src, one, src, opts.rmapLocked);
  return ok;
}

/** Whether the non-present entry of `m` is a device-private entry (the only non-present mapping try_to_migrate takes). */
function isDevicePrivateEntry(k: Kernel, m: MappedAt): boolean {
  const b = k.backend;
  b.readEntry(m.slot.table, m.slot.index, m.level, R, 0);
  const type = softleafTypeOf(b.swpType(R, 0, m.level));
  return type === SoftleafType.DEVICE_PRIVATE_READ || type === SoftleafType.DEVICE_PRIVATE_WRITE;
}

/**
 * try_to_migrate_one on a non-present entry: a device-private entry (PTE or
 * PMD) naming `src` becomes a migration entry — writable for a writable one,
 * read-exclusive for an exclusive anon page, read otherwise; neither young
 * nor dirty (the device's accesses are not tracked in the entry), soft-dirty
 * and uffd-wp carried. Other softleaves (migration entries already there)
 * are left. Returns false when an exclusive page may be pinned.
 */
function deviceEntryToMigration(k: Kernel, src: number, m: MappedAt): boolean {
  const b = k.backend;
  const f = k.folios;
  const { slot, level } = m;
  b.readEntry(slot.table, slot.index, level, R, 0);
  const type = softleafTypeOf(b.swpType(R, 0, level));
  if (type !== SoftleafType.DEVICE_PRIVATE_READ && type !== SoftleafType.DEVICE_PRIVATE_WRITE) return true;
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  try {
    const exclusive = f.test(src, PG_anon) && f.pageTest(m.page, PG_anon_exclusive);
    if (exclusive) {
      if (folioMaybeDmaPinned(k, src)) return false;
      f.pageSet(m.page, PG_anon_exclusive, false);
    }
    const sd = b.capabilities.softDirty && b.swpSoftDirty(R, 0, level);
    const wp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, level);
    const mtype = type === SoftleafType.DEVICE_PRIVATE_WRITE ? SWP_MIGRATION_WRITE : exclusive ? SWP_MIGRATION_READ_EXCLUSIVE : SWP_MIGRATION_READ;
    b.softleafEntry(R, 1, level, mtype, migrationOffset(b.softleaf, m.page, false, false));
    if (sd) b.swpMkSoftDirty(R, 1, level);
    if (wp) b.swpMkUffdWp(R, 1, level);
    b.writeEntry(slot.table, slot.index, level, R, 1);
    k.rmap.remove(src, m.page, 1, level, m.mm.id);
    folioPut(k, src, 1);
    return true;
  } finally {
    k.locks.release(ptl);
  }
}

/**
 * The entry a migration entry becomes when the new folio is device-private
 * (remove_migration_pte): a device-private entry of the same page, writable
 * iff the restored mapping would be, soft-dirty and uffd-wp kept. Written in
 * register R[o] at `level`, replacing the present entry built there.
 */
export function mkDevicePrivateFromPresent(k: Kernel, v: Uint32Array, o: number, level: Level, page: number): void {
  const b = k.backend;
  const write = b.write(v, o, level);
  const sd = b.capabilities.softDirty && b.softDirty(v, o, level);
  const wp = b.capabilities.uffdWp && b.uffdWp(v, o, level);
  b.softleafEntry(v, o, level, write ? SWP_DEVICE_WRITE : SWP_DEVICE_READ, migrationOffset(b.softleaf, page, false, false));
  if (sd) b.swpMkSoftDirty(v, o, level);
  if (wp) b.swpMkUffdWp(v, o, level);
}

/**
 * remove_migration_ptes: every migration entry naming `src` becomes a
 * mapping of the corresponding page of `dst` (which may be `src` itself when
 * a migration is backed out): a PTE with the VMA's protection, writable for
 * writable entries, exclusive unless the entry was a plain read entry; a PMD
 * migration entry becomes a PMD mapping of the whole folio
 * (remove_migration_pmd). With `zeroRemap` (after a split to single pages),
 * a page that holds only zeroes is mapped to the shared zero page instead
 * and dropped from the rss.
 */
export function removeMigrationPtes(k: Kernel, dst: number, src: number, opts: TtuOpts = {}): void {
  const b = k.backend;
  const f = k.folios;
  const anon = f.test(dst, PG_anon);
  // ZONE_DEVICE pages are never replaced by the shared zero page.
  const zeroRemap = opts.zeroRemap === true && anon && f.order(dst) === 0 && !f.test(dst, PG_mlocked) && !k.phys.isZoneDevice(dst);
  // A device-private folio is mapped back by device-private entries: the CPU cannot reach it.
  const devicePrivate = k.phys.pgmapOf(dst)?.type === MEMORY_DEVICE_PRIVATE;
  if (opts.zeroRemap === true && dst !== src) throw new ModelBug(`remove_migration_ptes with the shared zero page from folio ${src} to another folio ${dst}`);
  rmapWalk(
    k,
    dst,
    (m) => {
      if (m.present) return true;
      if (m.level === PMD) {
        removeMigrationPmd(k, dst, src, m);
        return true;
      }
      if (m.level !== PTE) throw new ModelBug(`a level-${m.level} softleaf at 0x${m.addr.toString(16)} names folio ${src}: there are no migration entries at that level`);
      const { slot } = m;
      b.readEntry(slot.table, slot.index, PTE, R, 0);
      const type = softleafTypeOf(b.swpType(R, 0, PTE));
      if (type !== SoftleafType.MIGRATION_READ && type !== SoftleafType.MIGRATION_READ_EXCLUSIVE && type !== SoftleafType.MIGRATION_WRITE) return true;
      const off = b.swpOffset(R, 0, PTE);
      const page = dst + (m.page - src);
      const sd = k.config.memSoftDirty && b.swpSoftDirty(R, 0, PTE);
      const wp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, PTE);
      if (zeroRemap && (m.vma.flags & VM_LOCKED) === 0 && f.readTag(page) === 0 && !f.pageTest(page, PG_hwpoison)) {
        // try_to_map_unused_to_zeropage.
        b.pfnEntry(R, 1, PTE, k.zeroPfn, protIndex(m.vma.flags));
        b.mkspecial(R, 1, PTE);
        if (sd) b.mksoftDirty(R, 1, PTE);
        if (wp) b.mkuffdWp(R, 1, PTE);
        b.setEntries(k.ptCtx, slot.table, slot.index, PTE, m.addr, R, 1, 1);
        m.mm.addRss(mmCounter(k, dst), -1);
        return true;
      }
      f.ref(dst);
      b.pfnEntry(R, 1, PTE, page, protIndex(m.vma.flags));
      if (sd) b.mksoftDirty(R, 1, PTE);
      if (type === SoftleafType.MIGRATION_WRITE) b.mkwrite(R, 1, PTE);
      else if (wp) b.mkuffdWp(R, 1, PTE);
      if (!migrationYoung(b.softleaf, off)) b.mkold(R, 1, PTE);
      if (f.test(dst, PG_dirty) && migrationDirty(b.softleaf, off)) b.mkdirty(R, 1, PTE);
      const exclusive = anon && type !== SoftleafType.MIGRATION_READ;
      k.rmap.add(dst, page, 1, PTE, anon, exclusive, m.mm.id);
      if (devicePrivate) {
        // A device-private entry is not present: nothing to fold.
        mkDevicePrivateFromPresent(k, R, 1, PTE, page);
        b.writeEntry(slot.table, slot.index, PTE, R, 1);
      } else {
        // set_pte_at: through set_ptes, so arm64 refolds a block once its last entry is back.
        b.setEntries(k.ptCtx, slot.table, slot.index, PTE, m.addr, R, 1, 1);
      }
      return true;
    },
    src,
    opts.rmapLocked,
  );
}
