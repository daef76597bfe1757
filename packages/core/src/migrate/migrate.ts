import {
  PMD,
  PTE,
  SWP_MIGRATION_READ,
  SWP_MIGRATION_READ_EXCLUSIVE,
  SWP_MIGRATION_WRITE,
  entryRegs,
  migrationDirty,
  migrationOffset,
  migrationYoung,
  softleafTypeOf,
  SoftleafType,
} from "@hugemm/arch";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { folioMaybeDmaPinned } from "../mm/fork";
import { GFP_HIGHUSER_MOVABLE, __GFP_THISNODE } from "../phys/gfp";
import {
  PG_active,
  PG_anon,
  PG_anon_exclusive,
  PG_dirty,
  PG_hwpoison,
  PG_isolated,
  PG_locked,
  PG_lru,
  PG_mlocked,
  PG_referenced,
  PG_swapbacked,
  PG_swapcache,
  PG_unevictable,
  PG_uptodate,
  PG_workingset,
} from "../phys/page-flags";
import { pageVmaMappedWalk, rmapWalk, type MappedAt } from "../rmap/walk";
import { splitHugeEntry } from "../huge/split-entry";
import { mmCounter } from "../mm/zap";
import { VM_LOCKED, protIndex } from "../mm/vm-flags";
import { EV, NS } from "../stats/counters";
import { ModelBug } from "../util/errors";

const R = entryRegs(2);

/** enum migrate_reason. */
export const MigrateReason = {
  COMPACTION: "compaction",
  MEMORY_FAILURE: "memory_failure",
  SYSCALL: "syscall",
  NUMA_MISPLACED: "numa_misplaced",
  CONTIG_RANGE: "contig_range",
  LONGTERM_PIN: "longterm_pin",
} as const;
export type MigrateReason = (typeof MigrateReason)[keyof typeof MigrateReason];

/** Where new folios come from: the node and gfp for an ordinary move, or a caller's allocator (compaction's free list). */
export type NewFolio = (src: number, order: number) => number;

/** A migration in progress: folios unmapped to migration entries, locked, their copies allocated. */
export interface MigrationJob {
  readonly reason: MigrateReason;
  /** [source head, destination head] pairs whose sources are unmapped and waiting to move. */
  readonly pairs: [number, number][];
  /** Sources that could not be migrated (and are back on the LRU, mapped as before). */
  readonly failed: number[];
}

/** A new folio on node `nid`, for moves between nodes (alloc_migration_target). */
export function onNode(k: Kernel, nid: number, thisNode = true): NewFolio {
  return (_src, order) => k.folios.alloc(order, GFP_HIGHUSER_MOVABLE | (thisNode ? __GFP_THISNODE : 0), nid);
}

function isolatedStat(k: Kernel, head: number, d: number): void {
  const st = k.phys.nodeStats(k.phys.nidOf(head));
  st[k.folios.test(head, PG_swapbacked) ? NS.nr_isolated_anon : NS.nr_isolated_file]! += d * k.folios.nrPages(head);
}

/**
 * The first half of migrate_pages for each folio: isolate it from the LRU,
 * lock it, allocate its destination, and unmap it with try_to_migrate, so
 * that every mapping becomes a migration entry. Faults on those entries wait
 * (VM_FAULT_MIGRATION_WAIT) until finishMigration.
 */
export function startMigration(k: Kernel, heads: readonly number[], newFolio: NewFolio, reason: MigrateReason): MigrationJob {
  const job: MigrationJob = { reason, pairs: [], failed: [] };
  const f = k.folios;
  for (const src of heads) {
    if (!k.lru.isolate(src)) {
      job.failed.push(src);
      continue;
    }
    f.set(src, PG_isolated);
    isolatedStat(k, src, 1);
    if (f.test(src, PG_locked)) {
      putback(k, src);
      job.failed.push(src);
      continue;
    }
    const order = f.order(src);
    const dst = newFolio(src, order);
    if (dst < 0) {
      putback(k, src);
      job.failed.push(src);
      continue;
    }
    f.set(src, PG_locked);
    f.set(dst, PG_locked);
    k.migrating.set(src, "src");
    k.migrating.set(dst, "dst");
    if (f.mapped(src) && !tryToMigrate(k, src)) {
      // Some mapping could not be given up (a possibly pinned exclusive page): back out.
      removeMigrationPtes(k, src, src);
      abandon(k, src, dst);
      job.failed.push(src);
      continue;
    }
    job.pairs.push([src, dst]);
  }
  return job;
}

/**
 * The second half: for each unmapped folio, check no one else holds it
 * (folio_migrate_mapping's refcount test — a pinned page fails here), copy it,
 * move its mapping and flags, and turn the migration entries into mappings of
 * the new folio (remove_migration_ptes). Returns how many folios moved.
 */
export function finishMigration(k: Kernel, job: MigrationJob): number {
  const f = k.folios;
  let moved = 0;
  for (const [src, dst] of job.pairs) {
    const nr = f.nrPages(src);
    if (f.refcount(src) !== expectedRefs(k, src) + 1) {
      removeMigrationPtes(k, src, src);
      abandon(k, src, dst);
      job.failed.push(src);
      count(k, src, false);
      continue;
    }
    f.copyContents(dst, src, nr);
    migrateMapping(k, src, dst);
    migrateFlags(k, src, dst);
    removeMigrationPtes(k, dst, src);
    k.migrating.delete(src);
    k.migrating.delete(dst);
    f.clear(src, PG_locked);
    f.clear(dst, PG_locked);
    f.clear(src, PG_isolated);
    isolatedStat(k, src, -1);
    // The isolation reference was the last one the old folio had.
    folioPut(k, src, 1);
    k.lru.add(dst);
    folioPut(k, dst, 1);
    count(k, dst, true);
    moved++;
  }
  for (const src of job.failed) if (!k.migrating.has(src)) count(k, src, false);
  job.pairs.length = 0;
  return moved;
}

/** migrate_pages: both halves at once. Returns the folios moved and the ones that failed. */
export function migratePages(k: Kernel, heads: readonly number[], newFolio: NewFolio, reason: MigrateReason): { moved: number; failed: number[] } {
  const job = startMigration(k, heads, newFolio, reason);
  const moved = finishMigration(k, job);
  return { moved, failed: job.failed };
}

function count(k: Kernel, head: number, ok: boolean): void {
  const nr = k.folios.isAllocated(head) ? k.folios.nrPages(head) : 1;
  k.events[ok ? EV.pgmigrate_success : EV.pgmigrate_fail]! += nr;
  if (nr > 1) k.events[ok ? EV.thp_migration_success : EV.thp_migration_fail]!++;
}

/** The references a folio has when nothing but its caches and the isolation hold it (folio_expected_ref_count). */
function expectedRefs(k: Kernel, head: number): number {
  const f = k.folios;
  const nr = f.nrPages(head);
  let refs = f.mapcount(head);
  if (f.test(head, PG_swapcache)) refs += nr;
  if (!f.test(head, PG_anon)) {
    const as = k.files.get(f.mapping(head));
    if (as !== undefined && as.pages.get(f.index(head)) === head) refs += nr;
  }
  return refs;
}

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
 * read otherwise — carrying young, dirty, soft-dirty and uffd-wp. An
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
    if (!m.present) return true;
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
      if (m.level === PMD && setPmdMigrationEntry(k, src, m)) return true;
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
      const sd = b.capabilities.softDirty && b.softDirty(R, 0, PTE);
      const wp = b.capabilities.uffdWp && b.uffdWp(R, 0, PTE);
      b.softleafEntry(R, 2, PTE, type, off);
      if (sd) b.swpMkSoftDirty(R, 2, PTE);
      if (wp) b.swpMkUffdWp(R, 2, PTE);
      b.writeEntry(slot.table, slot.index, PTE, R, 2);
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

/** set_pmd_migration_entry: provided with PMD migration entries; until then a PMD-mapped folio does not migrate whole. */
function setPmdMigrationEntry(_k: Kernel, src: number, m: MappedAt): boolean {
  throw new ModelBug(`migrating folio ${src} mapped by a PMD at 0x${m.addr.toString(16)} needs PMD migration entries`);
}

/**
 * remove_migration_ptes: every migration entry naming `src` becomes a PTE
 * mapping the corresponding page of `dst` (which may be `src` itself when a
 * migration is backed out), with the VMA's protection, writable for writable
 * entries, exclusive unless the entry was a plain read entry. With
 * `zeroRemap` (after a split to single pages), a page that holds only zeroes
 * is mapped to the shared zero page instead and dropped from the rss.
 */
export function removeMigrationPtes(k: Kernel, dst: number, src: number, opts: TtuOpts = {}): void {
  const b = k.backend;
  const f = k.folios;
  const anon = f.test(dst, PG_anon);
  const zeroRemap = opts.zeroRemap === true && anon && f.order(dst) === 0 && !f.test(dst, PG_mlocked);
  rmapWalk(
    k,
    dst,
    (m) => {
      if (m.present) return true;
      if (m.level !== PTE) throw new ModelBug(`restoring a level-${m.level} migration entry at 0x${m.addr.toString(16)} needs PMD migration entries`);
      const { slot } = m;
      b.readEntry(slot.table, slot.index, PTE, R, 0);
      const type = softleafTypeOf(b.swpType(R, 0, PTE));
      if (type !== SoftleafType.MIGRATION_READ && type !== SoftleafType.MIGRATION_READ_EXCLUSIVE && type !== SoftleafType.MIGRATION_WRITE) return true;
      const off = b.swpOffset(R, 0, PTE);
      const page = dst + (m.page - src);
      const sd = b.capabilities.softDirty && b.swpSoftDirty(R, 0, PTE);
      const wp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, PTE);
      if (zeroRemap && (m.vma.flags & VM_LOCKED) === 0 && f.readTag(page) === 0 && !f.pageTest(page, PG_hwpoison)) {
        // try_to_map_unused_to_zeropage.
        b.pfnEntry(R, 2, PTE, k.zeroPfn, protIndex(m.vma.flags));
        b.mkspecial(R, 2, PTE);
        if (sd) b.mksoftDirty(R, 2, PTE);
        if (wp) b.mkuffdWp(R, 2, PTE);
        b.writeEntry(slot.table, slot.index, PTE, R, 2);
        m.mm.addRss(mmCounter(k, dst), -1);
        return true;
      }
      f.ref(dst);
      b.pfnEntry(R, 2, PTE, page, protIndex(m.vma.flags));
      if (sd) b.mksoftDirty(R, 2, PTE);
      if (type === SoftleafType.MIGRATION_WRITE) b.mkwrite(R, 2, PTE);
      else if (wp) b.mkuffdWp(R, 2, PTE);
      if (!migrationYoung(b.softleaf, off)) b.mkold(R, 2, PTE);
      if (f.test(dst, PG_dirty) && migrationDirty(b.softleaf, off)) b.mkdirty(R, 2, PTE);
      const exclusive = anon && type !== SoftleafType.MIGRATION_READ;
      if (anon) k.rmap.add(dst, page, 1, PTE, true, exclusive, m.mm.id);
      else k.rmap.add(dst, page, 1, PTE, false, false, m.mm.id);
      b.writeEntry(slot.table, slot.index, PTE, R, 2);
      return true;
    },
    src,
    opts.rmapLocked,
  );
}

/** Give up on `src`: free its destination and put it back on the LRU, unlocked. */
function abandon(k: Kernel, src: number, dst: number): void {
  const f = k.folios;
  k.migrating.delete(src);
  k.migrating.delete(dst);
  f.clear(src, PG_locked);
  f.clear(dst, PG_locked);
  folioPut(k, dst, 1);
  putback(k, src);
}

/** folio_putback_lru: back on its list, dropping the isolation reference. */
function putback(k: Kernel, src: number): void {
  const f = k.folios;
  f.clear(src, PG_isolated);
  isolatedStat(k, src, -1);
  k.lru.add(src);
  folioPut(k, src, 1);
}

/** folio_migrate_mapping: the new folio takes the old one's place in its mapping and caches. */
function migrateMapping(k: Kernel, src: number, dst: number): void {
  const f = k.folios;
  const nr = f.nrPages(src);
  f.setMapping(dst, f.mapping(src), f.index(src));
  if (f.test(src, PG_anon)) f.set(dst, PG_anon);
  if (f.test(src, PG_swapcache)) {
    const off = k.swap.slotOf.get(src)!;
    for (let i = 0; i < nr; i++) k.swap.device!.cache.set(off + i, dst);
    k.swap.slotOf.delete(src);
    k.swap.slotOf.set(dst, off);
    f.clear(src, PG_swapcache);
    f.set(dst, PG_swapcache);
    f.ref(dst, nr);
    f.unref(src, nr);
  } else if (!f.test(src, PG_anon)) {
    const as = k.files.get(f.mapping(src));
    if (as !== undefined && as.pages.get(f.index(src)) === src) {
      for (let i = 0; i < nr; i++) as.pages.set(f.index(src) + i, dst);
      f.ref(dst, nr);
      f.unref(src, nr);
    }
  }
  const sn = k.phys.nidOf(src);
  const dn = k.phys.nidOf(dst);
  if (sn !== dn) {
    // Node statistics of the caches follow the page to its new node.
    const from = k.phys.nodeStats(sn);
    const to = k.phys.nodeStats(dn);
    if (f.test(dst, PG_swapcache)) {
      from[NS.nr_swapcached]! -= nr;
      to[NS.nr_swapcached]! += nr;
      from[NS.nr_file_pages]! -= nr;
      to[NS.nr_file_pages]! += nr;
    }
    if (!f.test(dst, PG_anon) && f.mapping(dst) !== 0) {
      from[NS.nr_file_pages]! -= nr;
      to[NS.nr_file_pages]! += nr;
      if (f.test(src, PG_swapbacked)) {
        from[NS.nr_shmem]! -= nr;
        to[NS.nr_shmem]! += nr;
      }
    }
  }
}

/** folio_migrate_flags. */
function migrateFlags(k: Kernel, src: number, dst: number): void {
  const f = k.folios;
  for (const flag of [PG_dirty, PG_referenced, PG_uptodate, PG_active, PG_unevictable, PG_workingset, PG_swapbacked]) {
    if (f.test(src, flag)) f.set(dst, flag);
  }
  if (f.test(src, PG_dirty) && !f.test(src, PG_swapbacked)) {
    // The dirty page-cache accounting moves with it.
    const st = k.phys.nodeStats(k.phys.nidOf(src));
    const dt = k.phys.nodeStats(k.phys.nidOf(dst));
    st[NS.nr_dirty]! -= f.nrPages(src);
    dt[NS.nr_dirty]! += f.nrPages(src);
  }
  f.clear(src, PG_dirty | PG_active | PG_referenced | PG_lru);
}
