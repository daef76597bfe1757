import {
  PMD,
  SWP_MIGRATION_READ,
  SWP_MIGRATION_READ_EXCLUSIVE,
  SWP_MIGRATION_WRITE,
  SoftleafType,
  entryRegs,
  migrationDirty,
  migrationOffset,
  migrationYoung,
  softleafTypeOf,
} from "@hugemm/arch";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { folioMaybeDmaPinned } from "../mm/fork";
import { PG_anon, PG_anon_exclusive, PG_dirty } from "../phys/page-flags";
import type { MappedAt } from "../rmap/walk";
import { ModelBug } from "../util/errors";
import { mkHugeEntry } from "./map";
import { MEMORY_DEVICE_PRIVATE } from "../phys/zone-device";
import { mkDevicePrivateFromPresent } from "../migrate/migration-entries";

const R = entryRegs(2);

/*
 * PMD migration entries (ARCH_ENABLE_THP_MIGRATION): a PMD-mapped THP is
 * unmapped for migration by one softleaf in its PMD, and mapped back by one
 * PMD. The deposited PTE table stays on its PMD table's stack all along, so
 * a split of the entry while the migration is held still finds it.
 */

/**
 * set_pmd_migration_entry for the PMD mapping `m` of the folio at `src`:
 * invalidate the PMD and replace it with a migration entry — writable if the
 * PMD was, read-exclusive for an exclusive anon folio, read otherwise — with
 * young, dirty, soft-dirty and uffd-wp carried over. The mapping leaves the
 * rmap (the entire mapcount) and drops its reference. An exclusive folio
 * that may be pinned cannot stop being exclusive: the PMD is put back and
 * false returned. The caller holds the rmap lock.
 */
export function setPmdMigrationEntry(k: Kernel, src: number, m: MappedAt): boolean {
  const b = k.backend;
  const f = k.folios;
  if (!b.capabilities.pmdSoftleaf) throw new ModelBug(`${b.id} has no PMD migration entries: folio ${src} must be split before it migrates`);
  if (m.level !== PMD || !m.present) throw new ModelBug(`set_pmd_migration_entry at 0x${m.addr.toString(16)}: no present PMD mapping`);
  const { slot } = m;
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  try {
    // pmdp_invalidate: no CPU may keep writing through a stale TLB entry once the entry is read.
    b.invalidate(k.ptCtx, slot.table, slot.index, PMD, m.addr, R, 0);
    const exclusive = f.test(src, PG_anon) && f.pageTest(m.page, PG_anon_exclusive);
    if (exclusive) {
      // folio_try_share_anon_rmap_pmd.
      if (folioMaybeDmaPinned(k, src)) {
        b.setEntries(k.ptCtx, slot.table, slot.index, PMD, m.addr, R, 0, 1);
        return false;
      }
      f.pageSet(m.page, PG_anon_exclusive, false);
    }
    const write = b.write(R, 0, PMD);
    const young = b.young(R, 0, PMD);
    const dirty = b.dirty(R, 0, PMD);
    const sd = k.config.memSoftDirty && b.softDirty(R, 0, PMD);
    const wp = b.capabilities.uffdWp && b.uffdWp(R, 0, PMD);
    if (dirty) f.set(src, PG_dirty);
    const type = write ? SWP_MIGRATION_WRITE : exclusive ? SWP_MIGRATION_READ_EXCLUSIVE : SWP_MIGRATION_READ;
    b.softleafEntry(R, 1, PMD, type, migrationOffset(b.softleaf, m.page, young, dirty));
    if (sd) b.swpMkSoftDirty(R, 1, PMD);
    if (wp) b.swpMkUffdWp(R, 1, PMD);
    b.writeEntry(slot.table, slot.index, PMD, R, 1);
    k.rmap.remove(src, m.page, 1, PMD, m.mm.id);
    folioPut(k, src, 1);
    return true;
  } finally {
    k.locks.release(ptl);
  }
}

/**
 * remove_migration_pmd: the PMD migration entry `m` (naming `src`) becomes a
 * PMD mapping the folio at `dst` with the VMA's protection — soft-dirty and
 * uffd-wp as the entry was, writable for a write entry, old unless the entry
 * was young, dirty when both the entry and the folio are — and the folio
 * gains a PMD-level rmap, exclusive unless the entry was a plain read entry.
 * Returns false when the entry is not a migration entry.
 */
export function removeMigrationPmd(k: Kernel, dst: number, src: number, m: MappedAt): boolean {
  const b = k.backend;
  const f = k.folios;
  if (m.level !== PMD || m.present) throw new ModelBug(`remove_migration_pmd at 0x${m.addr.toString(16)}: no PMD softleaf`);
  if (m.page !== src) throw new ModelBug(`PMD migration entry at 0x${m.addr.toString(16)} names page ${m.page}, not the head of folio ${src}`);
  const { slot } = m;
  b.readEntry(slot.table, slot.index, PMD, R, 0);
  const type = softleafTypeOf(b.swpType(R, 0, PMD));
  if (type !== SoftleafType.MIGRATION_READ && type !== SoftleafType.MIGRATION_READ_EXCLUSIVE && type !== SoftleafType.MIGRATION_WRITE) return false;
  const off = b.swpOffset(R, 0, PMD);
  const sd = k.config.memSoftDirty && b.swpSoftDirty(R, 0, PMD);
  const wp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, PMD);
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  try {
    f.ref(dst);
    mkHugeEntry(k, R, 1, PMD, dst, m.vma);
    if (sd) b.mksoftDirty(R, 1, PMD);
    if (type === SoftleafType.MIGRATION_WRITE) b.mkwrite(R, 1, PMD);
    if (wp) b.mkuffdWp(R, 1, PMD);
    if (!migrationYoung(b.softleaf, off)) b.mkold(R, 1, PMD);
    if (f.test(dst, PG_dirty) && migrationDirty(b.softleaf, off)) b.mkdirty(R, 1, PMD);
    const anon = f.test(dst, PG_anon);
    k.rmap.add(dst, dst, 1, PMD, anon, anon && type !== SoftleafType.MIGRATION_READ, m.mm.id);
    if (k.phys.pgmapOf(dst)?.type === MEMORY_DEVICE_PRIVATE) {
      // A device-private THP is mapped back by a device-private PMD entry.
      mkDevicePrivateFromPresent(k, R, 1, PMD, dst);
      b.writeEntry(slot.table, slot.index, PMD, R, 1);
      return true;
    }
    b.setEntries(k.ptCtx, slot.table, slot.index, PMD, m.addr, R, 1, 1);
    return true;
  } finally {
    k.locks.release(ptl);
  }
}
