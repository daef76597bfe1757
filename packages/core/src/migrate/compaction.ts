import { lruAddDrain } from "../folio/lru-batch";
import type { Kernel } from "../kernel/kernel";
import { MIGRATE_MOVABLE } from "../phys/migratetype";
import { PG_anon, PG_lru, PG_swapcache } from "../phys/page-flags";
import type { Zone } from "../phys/zone";
import { EV } from "../stats/counters";
import { MigrateReason, isolateForMigration, migrateIsolated } from "./migrate";

/** COMPACT_CLUSTER_MAX: the migrate scanner stops to migrate once it has isolated this many pages. */
export const COMPACT_CLUSTER_MAX = 32;

/** What one run of the migrate scanner isolated, and where it stopped. */
export interface IsolatedRun {
  /** Heads of the folios isolated, in pfn order. */
  readonly heads: number[];
  /** Pages isolated. */
  pages: number;
  /** The pfn the next run starts at. */
  next: number;
}

/**
 * skip_isolation_on_order: compaction leaves alone a folio as large as the
 * block it is trying to free (unless compacting everything, order -1),
 * and any folio of pageblock order or more (it only frees pageblocks).
 */
export function skipIsolationOnOrder(k: Kernel, order: number, targetOrder: number): boolean {
  if (targetOrder >= 0 && order >= targetOrder) return true;
  return order >= k.phys.memmap.pbOrder;
}

/**
 * isolate_migratepages_block over [low, end) (one pageblock at most):
 * free blocks are skipped; every folio is skipped whole unless it is on the
 * LRU, not possibly pinned (an anonymous folio outside the swap cache with
 * references beyond its mappings) and — except for alloc_contig — smaller
 * than `targetOrder` and than a pageblock. Isolation stops once
 * COMPACT_CLUSTER_MAX pages are isolated. Every page isolated counts in
 * compact_isolated; compaction (not alloc_contig) counts every pfn looked at
 * in compact_migrate_scanned.
 */
export function isolateMigratepagesBlock(k: Kernel, z: Zone, low: number, end: number, targetOrder: number, allocContig: boolean): IsolatedRun {
  const f = k.folios;
  const run: IsolatedRun = { heads: [], pages: 0, next: end };
  let scanned = 0;
  let p = low;
  while (p < end) {
    const o = z.freeOrderAt(p);
    if (o >= 0) {
      const to = Math.min(p + 2 ** o, end);
      scanned += to - p;
      p = to;
      continue;
    }
    if (!f.isAllocated(p)) {
      scanned++;
      p++;
      continue;
    }
    const head = f.head(p);
    const nr = f.nrPages(head);
    // Whatever happens to the folio, the scanner has looked at each of its pages here.
    const to = Math.min(head + nr, end);
    scanned += to - p;
    p = to;
    if (head < low) continue;
    const order = f.order(head);
    if (order > 0 && !allocContig && skipIsolationOnOrder(k, order, targetOrder)) continue;
    if (!f.test(head, PG_lru)) continue;
    // Migration would fail for a pinned anonymous folio: do not bother isolating it.
    if (f.test(head, PG_anon) && !f.test(head, PG_swapcache) && f.refcount(head) > f.mapcount(head)) continue;
    if (!isolateForMigration(k, head)) continue;
    run.heads.push(head);
    run.pages += nr;
    if (run.pages >= COMPACT_CLUSTER_MAX) break;
  }
  run.next = p;
  if (!allocContig) k.events[EV.compact_migrate_scanned]! += scanned;
  k.events[EV.compact_isolated]! += run.pages;
  return run;
}

/**
 * compact_zone: the migrate scanner walks pageblocks up from the zone's start
 * isolating movable folios (COMPACT_CLUSTER_MAX pages at a time); the free
 * scanner walks movable pageblocks down from its end isolating free blocks;
 * folios move into the free pages (compaction_alloc: a free block of at
 * least the folio's order, or nothing — a large folio is then split and its
 * pages moved) until a block of `order` is free or the scanners meet.
 * `order` -1 compacts the whole zone (/proc/sys/vm/compact_memory).
 * Returns whether a block of `order` is free.
 */
export function compactZone(k: Kernel, z: Zone, order: number): boolean {
  lruAddDrain(k);
  const phys = k.phys;
  phys.drainPcp();
  if (order >= 0 && z.largestFreeOrder() >= order) return true;
  const pb = phys.memmap.pbPages;
  const f = k.folios;
  const blockOf = (pfn: number) => Math.floor(pfn / pb);
  let migratePfn = z.startPfn;
  let freePfn = z.endPfn - pb;
  /** Isolated free blocks waiting to receive folios (cc->freepages): [pfn, order]. */
  const pool: [number, number][] = [];
  /** cc->nr_freepages and cc->nr_migratepages. */
  let freePages = 0;
  let migratePages = 0;
  // A block already free at the order wanted (a pageblock when compacting everything) is no target.
  const targetMin = order > 0 ? order : phys.memmap.pbOrder;
  /** isolate_freepages: movable pageblocks from the free scanner down, until their free pages cover what waits to move. */
  const isolateFreepages = (): void => {
    while (freePfn >= (blockOf(migratePfn) + 1) * pb) {
      const start = freePfn;
      freePfn -= pb;
      if (z.freeOrderAt(start) >= targetMin || z.migratetypeOf(start) !== MIGRATE_MOVABLE) continue;
      for (let p = start; p < start + pb && p < z.endPfn; ) {
        const o = z.freeOrderAt(p);
        if (o >= 0 && phys.takeFreeRange(p, o)) {
          pool.push([p, o]);
          freePages += 2 ** o;
          k.events[EV.compact_free_scanned]! += 2 ** o;
          k.events[EV.compact_isolated]! += 2 ** o;
          p += 2 ** o;
        } else {
          k.events[EV.compact_free_scanned]!++;
          p++;
        }
      }
      if (freePages >= migratePages) return;
    }
  };
  /** The pool entry of the smallest order that can hold `o`, or -1. */
  const smallestFit = (o: number): number => {
    let best = -1;
    for (let i = 0; i < pool.length; i++) {
      const po = pool[i]![1];
      if (po >= o && (best < 0 || po < pool[best]![1])) best = i;
    }
    return best;
  };
  const compactionAlloc = (_src: number, o: number): number => {
    let i = smallestFit(o);
    if (i < 0) {
      isolateFreepages();
      i = smallestFit(o);
      if (i < 0) return -1;
    }
    const [pfn, po] = pool.splice(i, 1)[0]!;
    // The unused upper halves go back to the front of the pool.
    for (let s = po; s > o; s--) pool.unshift([pfn + 2 ** (s - 1), s - 1]);
    freePages -= 2 ** o;
    migratePages -= 2 ** o;
    f.prep(pfn, o);
    return pfn;
  };
  while (blockOf(migratePfn) < blockOf(freePfn)) {
    const blockEnd = Math.min((blockOf(migratePfn) + 1) * pb, z.endPfn);
    const run = isolateMigratepagesBlock(k, z, migratePfn, blockEnd, order, false);
    migratePfn = run.next;
    if (run.heads.length > 0) {
      migratePages += run.pages;
      migrateIsolated(k, run.heads, compactionAlloc, MigrateReason.COMPACTION);
      // Whatever was isolated has moved or gone back.
      migratePages = 0;
    }
    if (order >= 0) {
      phys.drainPcp();
      if (z.largestFreeOrder() >= order) break;
    }
  }
  // Free pages isolated but not used go back.
  for (const [pfn, o] of pool) phys.freePages(pfn, o);
  phys.drainPcp();
  return order < 0 || z.largestFreeOrder() >= order;
}

/** Compact every zone of a node for an allocation of `order` (try_to_compact_pages); true once one succeeds. */
export function compactNode(k: Kernel, nid: number, order: number): boolean {
  let ok = false;
  for (const z of [...k.phys.nodes[nid]!.zones].reverse()) {
    if (compactZone(k, z, order)) {
      ok = true;
      if (order >= 0) break;
    }
  }
  return ok;
}
