import { folioPut } from "../folio/put";
import { splitFolio, type SplitError } from "../huge/folio-split";
import type { Kernel } from "../kernel/kernel";
import { GFP_HIGHUSER_MOVABLE, GFP_TRANSHUGE, __GFP_RECLAIM, __GFP_THISNODE } from "../phys/gfp";
import { PG_active, PG_hwpoison, PG_isolated, PG_locked, PG_partially_mapped, PG_swapbacked, PG_unevictable } from "../phys/page-flags";
import { EV, NS } from "../stats/counters";
import { removeMigrationPtes, tryToMigrate } from "./migration-entries";
import { expectedRefs, moveToNewFolio } from "./move";

export { removeMigrationPtes, tryToMigrate, type TtuOpts } from "./migration-entries";

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

/** Where new folios come from: the node and gfp for an ordinary move, or a caller's allocator (compaction's free list). Returns the head pfn or -1. */
export type NewFolio = (src: number, order: number) => number;

/** struct migrate_pages_stats: what migrate_pages adds to the vm events when it returns. */
export interface MigrateStats {
  /** Pages migrated (pgmigrate_success). */
  succeeded: number;
  /** Pages that failed to migrate (pgmigrate_fail); folios left untried are not counted. */
  failedPages: number;
  /** PMD-mappable folios migrated whole (thp_migration_success). */
  thpSucceeded: number;
  /** PMD-mappable folios that did not migrate whole, split ones included (thp_migration_fail). */
  thpFailed: number;
  /** PMD-mappable folios split to migrate their pages (thp_migration_split). */
  thpSplit: number;
  /** Large folios of any size split to migrate their pages. */
  split: number;
}

/** A migration in progress: folios unmapped to migration entries, locked, their copies allocated. */
export interface MigrationJob {
  readonly reason: MigrateReason;
  /** [source head, destination head] pairs whose sources are unmapped and waiting to move. */
  readonly pairs: [number, number][];
  /** Folios that did not migrate: back on the LRU and mapped as before, or never taken off it (not isolated). */
  readonly failed: number[];
  /** The counts so far, added to the vm events when the migration finishes. */
  readonly stats: MigrateStats;
  /** A destination could not be allocated and the folio could not be split: migrate_pages stopped there (-ENOMEM). */
  enomem: boolean;
}

/** What migratePages did. */
export interface MigrateResult {
  /** Folios moved to a new place (the pieces of a split folio count one by one). */
  readonly moved: number;
  /** Folios that did not move, back on the LRU. */
  readonly failed: number[];
  /** It stopped at a destination it could not allocate (-ENOMEM). */
  readonly enomem: boolean;
}

/**
 * alloc_migration_target with `gfp` on node `nid` (the source's node when
 * negative): a folio of the source's order; large folios are allocated as
 * THPs are (GFP_TRANSHUGE: direct reclaim and compaction, no kswapd).
 */
export function migrationTarget(k: Kernel, gfp: number, nid = -1): NewFolio {
  return (src, order) => {
    const g = order > 0 ? (gfp & ~__GFP_RECLAIM) | GFP_TRANSHUGE : gfp;
    return k.folios.alloc(order, g, nid < 0 ? k.phys.nidOf(src) : nid);
  };
}

/** A new folio on node `nid`, for moves between nodes (move_pages: GFP_HIGHUSER_MOVABLE | __GFP_THISNODE). */
export function onNode(k: Kernel, nid: number, thisNode = true): NewFolio {
  return migrationTarget(k, GFP_HIGHUSER_MOVABLE | (thisNode ? __GFP_THISNODE : 0), nid);
}

function isolatedStat(k: Kernel, head: number, d: number): void {
  const st = k.phys.nodeStats(k.phys.nidOf(head));
  st[k.folios.test(head, PG_swapbacked) ? NS.nr_isolated_anon : NS.nr_isolated_file]! += d * k.folios.nrPages(head);
}

/** folio_isolate_lru for migration: off the LRU with a reference, counted in NR_ISOLATED_*. */
export function isolateForMigration(k: Kernel, head: number): boolean {
  if (!k.lru.isolate(head)) return false;
  k.folios.set(head, PG_isolated);
  isolatedStat(k, head, 1);
  return true;
}

/** folio_putback_lru: back on its list, dropping the isolation reference. */
export function putbackFolio(k: Kernel, head: number): void {
  const f = k.folios;
  f.clear(head, PG_isolated);
  isolatedStat(k, head, -1);
  k.lru.add(head);
  folioPut(k, head, 1);
}

function newJob(reason: MigrateReason): MigrationJob {
  return { reason, pairs: [], failed: [], stats: { succeeded: 0, failedPages: 0, thpSucceeded: 0, thpFailed: 0, thpSplit: 0, split: 0 }, enomem: false };
}

/**
 * The first half of migrate_pages (folio_isolate_lru by the caller, then
 * migrate_folio_unmap for each folio): isolate the folios from the LRU,
 * allocate their destinations, lock them and unmap them with
 * try_to_migrate, so that every mapping becomes a migration entry. Faults
 * on those entries wait (VM_FAULT_MIGRATION_WAIT) until finishMigration.
 * Folios that cannot be isolated are left alone (failed, not counted).
 */
export function startMigration(k: Kernel, heads: readonly number[], newFolio: NewFolio, reason: MigrateReason): MigrationJob {
  const job = newJob(reason);
  const isolated: number[] = [];
  for (const head of heads) {
    if (isolateForMigration(k, head)) isolated.push(head);
    else job.failed.push(head);
  }
  unmapIsolated(k, job, isolated, newFolio);
  return job;
}

/** NR_MAX_BATCHED_MIGRATION: migrate_pages takes its list a PMD's worth of pages at a time. */
function batchPages(k: Kernel): number {
  return k.thp.pmdOrder > 0 ? 2 ** k.thp.pmdOrder : 512;
}

/**
 * migrate_pages over folios already isolated, up to the unmap: batch by
 * batch, each folio unmapped or failed; folios split on the way
 * (try_split_folio) are migrated after their batch, one attempt each and
 * never split again. A destination that cannot be had for a folio that
 * cannot be split stops everything (-ENOMEM): what was not tried yet goes
 * back to the LRU uncounted. The kernel's retries (-EAGAIN passes, the
 * synchronous pass after the asynchronous one) are not repeated: nothing
 * changes between them in the model, and each failure is counted once, as
 * the kernel counts it after its last pass. Every unmap happens before the
 * first move (so that a migration can be held open), where the kernel moves
 * each batch before it unmaps the pieces of the folios it split; only the
 * placement of the destinations can differ.
 */
export function unmapIsolated(k: Kernel, job: MigrationJob, list: readonly number[], newFolio: NewFolio): void {
  const f = k.folios;
  const max = batchPages(k);
  let i = 0;
  while (i < list.length) {
    const from = i;
    let pages = 0;
    while (i < list.length) {
      pages += f.nrPages(list[i]!);
      i++;
      if (pages >= max) break;
    }
    const pieces: Pieces = { heads: [], freed: 0 };
    const stop = unmapBatch(k, job, list, from, i, newFolio, pieces);
    if (stop >= 0) {
      for (let j = stop + 1; j < list.length; j++) fail(k, job, list[j]!);
      for (const p of pieces.heads) fail(k, job, p);
      job.enomem = true;
      return;
    }
    if (pieces.heads.length > 0 || pieces.freed > 0) {
      // Pieces freed by the split (pages of zeroes now mapped to the zero page) were the last holders of their pages.
      job.stats.succeeded += pieces.freed;
      const s = unmapBatch(k, job, pieces.heads, 0, pieces.heads.length, newFolio, null);
      if (s >= 0) for (let j = s + 1; j < pieces.heads.length; j++) fail(k, job, pieces.heads[j]!);
    }
  }
}

/** The folios a split put on migrate_pages' split list, and the pages it freed outright. */
interface Pieces {
  readonly heads: number[];
  freed: number;
}

/**
 * migrate_pages_batch up to the unmap, for list[from, to): returns -1, or
 * the index of the folio at which it stopped for want of memory.
 */
function unmapBatch(k: Kernel, job: MigrationJob, list: readonly number[], from: number, to: number, newFolio: NewFolio, pieces: Pieces | null): number {
  const f = k.folios;
  const b = k.backend;
  const st = job.stats;
  const pmdOrder = k.thp.pmdOrder;
  for (let i = from; i < to; i++) {
    const src = list[i]!;
    const order = f.order(src);
    const nr = 2 ** order;
    const isThp = pmdOrder > 0 && order >= pmdOrder ? 1 : 0;
    // A partially mapped folio is split now rather than migrated with its unmapped pages.
    if (pieces !== null && nr > 2 && k.deferredSplit.has(src) && f.test(src, PG_partially_mapped) && trySplit(k, src, pieces) === 0) {
      st.thpFailed += isThp;
      st.thpSplit += isThp;
      st.split++;
      continue;
    }
    if (isPudMapped(k, src)) {
      // No PUD migration entries: the folio stays where it is, mapped as it was.
      st.thpFailed++;
      st.failedPages += nr;
      fail(k, job, src);
      continue;
    }
    if (isThp && !b.capabilities.pmdSoftleaf) {
      // !thp_migration_supported(): migrate the pages of the THP instead.
      st.thpFailed++;
      if (pieces !== null && trySplit(k, src, pieces) === 0) {
        st.thpSplit++;
        st.split++;
        continue;
      }
      st.failedPages += nr;
      fail(k, job, src);
      continue;
    }
    if (f.refcount(src) === 1) {
      // Only the isolation holds it: it was freed under us, and migrating it is done.
      f.clear(src, PG_active | PG_unevictable | PG_isolated);
      isolatedStat(k, src, -1);
      folioPut(k, src, 1);
      st.succeeded += nr;
      st.thpSucceeded += isThp;
      continue;
    }
    if (containsHwpoison(k, src, nr)) {
      // -EHWPOISON: the copy would spread corrupted data with no poison mark.
      st.thpFailed += isThp;
      st.failedPages += nr;
      fail(k, job, src);
      continue;
    }
    const dst = order > k.phys.maxOrder ? -1 : newFolio(src, order);
    if (dst < 0) {
      st.thpFailed += isThp;
      // Large folio NUMA hinting faults do not split to retry.
      if (order > 0 && job.reason !== MigrateReason.NUMA_MISPLACED && pieces !== null) {
        const r = trySplit(k, src, pieces);
        if (r === 0) {
          st.thpSplit += isThp;
          st.split++;
          continue;
        }
        if (job.reason === MigrateReason.LONGTERM_PIN && r === "EAGAIN") {
          // Retried in the kernel rather than ending the whole migration; it fails all the same.
          st.failedPages += nr;
          fail(k, job, src);
          continue;
        }
      }
      st.failedPages += nr;
      fail(k, job, src);
      return i;
    }
    if (f.test(src, PG_locked)) {
      folioPut(k, dst, 1);
      st.thpFailed += isThp;
      st.failedPages += nr;
      fail(k, job, src);
      continue;
    }
    f.set(src, PG_locked);
    f.set(dst, PG_locked);
    k.migrating.set(src, "src");
    k.migrating.set(dst, "dst");
    if (f.mapped(src) && !tryToMigrate(k, src)) {
      // Some mapping could not be given up (a possibly pinned exclusive page, a PUD): back out.
      removeMigrationPtes(k, src, src);
      abandon(k, src, dst);
      st.thpFailed += isThp;
      st.failedPages += nr;
      job.failed.push(src);
      continue;
    }
    job.pairs.push([src, dst]);
  }
  return -1;
}

/** Mapped whole by a PUD: there is no PUD migration entry to unmap it to. */
function isPudMapped(k: Kernel, head: number): boolean {
  const f = k.folios;
  return k.thp.pudOrder > 0 && f.order(head) === k.thp.pudOrder && f.entireMapcount(head) > 0;
}

/** folio_contain_hwpoisoned_page. */
function containsHwpoison(k: Kernel, head: number, nr: number): boolean {
  for (let i = 0; i < nr; i++) if (k.folios.pageTest(head + i, PG_hwpoison)) return true;
  return false;
}

/**
 * try_split_folio with migrate_pages' split list: split the isolated folio
 * at `head` to single pages; each new folio joins the list isolated, with a
 * reference of its own (the isolation reference stays on `head`). Pages the
 * split freed (mapped to the shared zero page now) are counted as done.
 */
function trySplit(k: Kernel, head: number, pieces: Pieces): 0 | SplitError {
  const f = k.folios;
  const nr = f.nrPages(head);
  const anon = f.test(head, PG_swapbacked);
  const nid = k.phys.nidOf(head);
  const r = splitFolio(k, head, 0);
  if (r !== 0) return r;
  const st = k.phys.nodeStats(nid);
  for (let p = head; p < head + nr; ) {
    if (p !== head && !f.isAllocated(p)) {
      st[anon ? NS.nr_isolated_anon : NS.nr_isolated_file]!--;
      pieces.freed++;
      p++;
      continue;
    }
    if (p !== head) f.ref(p);
    f.set(p, PG_isolated);
    pieces.heads.push(p);
    p += f.nrPages(p);
  }
  return 0;
}

/** The folio goes back where it was, and counts among the failed. */
function fail(k: Kernel, job: MigrationJob, head: number): void {
  putbackFolio(k, head);
  job.failed.push(head);
}

/**
 * The second half (migrate_folio_move): for each unmapped folio, check no
 * one else holds it (folio_migrate_mapping's refcount test — a folio someone
 * got a reference to fails here), copy it, move its mapping, flags and
 * deferred-split state, put the new folio on the LRU and turn the migration
 * entries into mappings of it (remove_migration_ptes). The counts go to the
 * vm events (pgmigrate_*, thp_migration_*). Returns how many folios moved.
 */
export function finishMigration(k: Kernel, job: MigrationJob): number {
  const f = k.folios;
  const st = job.stats;
  const pmdOrder = k.thp.pmdOrder;
  let moved = 0;
  for (const [src, dst] of job.pairs) {
    const nr = f.nrPages(src);
    const isThp = pmdOrder > 0 && f.order(src) >= pmdOrder ? 1 : 0;
    if (f.refcount(src) !== expectedRefs(k, src) + 1) {
      removeMigrationPtes(k, src, src);
      abandon(k, src, dst);
      job.failed.push(src);
      st.thpFailed += isThp;
      st.failedPages += nr;
      continue;
    }
    f.copyContents(dst, src, nr);
    moveToNewFolio(k, src, dst);
    k.lru.add(dst);
    removeMigrationPtes(k, dst, src);
    k.migrating.delete(src);
    k.migrating.delete(dst);
    f.clear(src, PG_locked);
    f.clear(dst, PG_locked);
    f.clear(src, PG_isolated);
    isolatedStat(k, src, -1);
    // The isolation reference was the last one the old folio had.
    folioPut(k, src, 1);
    folioPut(k, dst, 1);
    st.succeeded += nr;
    st.thpSucceeded += isThp;
    moved++;
  }
  job.pairs.length = 0;
  countStats(k, st);
  return moved;
}

/** The vm events migrate_pages counts on its way out; the stats start over. */
function countStats(k: Kernel, st: MigrateStats): void {
  const ev = k.events;
  ev[EV.pgmigrate_success]! += st.succeeded;
  ev[EV.pgmigrate_fail]! += st.failedPages;
  ev[EV.thp_migration_success]! += st.thpSucceeded;
  ev[EV.thp_migration_fail]! += st.thpFailed;
  ev[EV.thp_migration_split]! += st.thpSplit;
  st.succeeded = st.failedPages = st.thpSucceeded = st.thpFailed = st.thpSplit = st.split = 0;
}

/** migrate_pages: isolate the folios, then both halves at once. */
export function migratePages(k: Kernel, heads: readonly number[], newFolio: NewFolio, reason: MigrateReason): MigrateResult {
  const job = startMigration(k, heads, newFolio, reason);
  const moved = finishMigration(k, job);
  return { moved, failed: job.failed, enomem: job.enomem };
}

/** migrate_pages on folios the caller already isolated (compaction, alloc_contig): failures go back to the LRU. */
export function migrateIsolated(k: Kernel, heads: readonly number[], newFolio: NewFolio, reason: MigrateReason): MigrateResult {
  const job = newJob(reason);
  unmapIsolated(k, job, heads, newFolio);
  const moved = finishMigration(k, job);
  return { moved, failed: job.failed, enomem: job.enomem };
}

/** Give up on `src`: free its destination and put it back on the LRU, unlocked. */
function abandon(k: Kernel, src: number, dst: number): void {
  const f = k.folios;
  k.migrating.delete(src);
  k.migrating.delete(dst);
  f.clear(src, PG_locked);
  f.clear(dst, PG_locked);
  folioPut(k, dst, 1);
  putbackFolio(k, src);
}
