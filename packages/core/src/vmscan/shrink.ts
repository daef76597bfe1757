import { lruAddDrain } from "../folio/lru-batch";
import { shrinkSlab } from "../huge/shrinker";
import { folioPut } from "../folio/put";
import { LRU_INACTIVE_ANON, LRU_INACTIVE_FILE } from "../folio/lru";
import { VM_EXEC } from "../mm/vm-flags";
import type { Kernel } from "../kernel/kernel";
import { folioMaybeDmaPinned } from "../mm/fork";
import { PG_active, PG_anon, PG_dirty, PG_isolated, PG_locked, PG_mlocked, PG_partially_mapped, PG_swapbacked, PG_swapcache, PG_unevictable, PG_workingset } from "../phys/page-flags";
import { EV, MS, MTHP_STRIDE, NS } from "../stats/counters";
import { folioAllocSwap, swapWriteout } from "../swap/swap-out";
import { isolateForReclaim, isolatedStat, putbackLru } from "./isolate";
import { FOLIOREF_ACTIVATE, FOLIOREF_KEEP, FOLIOREF_RECLAIM, FOLIOREF_RECLAIM_CLEAN, folioCheckReferences, folioReferenced } from "./referenced";
import { splitFolioToList } from "./split-list";
import { TTU_SPLIT_HUGE_PMD, TTU_SPLIT_HUGE_PUD, tryToUnmap } from "./unmap";

/** SWAP_CLUSTER_MAX: the batch reclaim works in. */
export const SWAP_CLUSTER_MAX = 32;
/** DEF_PRIORITY: reclaim starts by scanning 1/2^12 of each list. */
export const DEF_PRIORITY = 12;

/** struct scan_control, the parts the model uses. */
export interface ScanControl {
  nrToReclaim: number;
  nrReclaimed: number;
  nrScanned: number;
  priority: number;
  /** kswapd rather than direct reclaim (for the pgsteal/pgscan counters). */
  readonly kswapd: boolean;
  /** MADV_PAGEOUT-style reclaim: skip the reference checks. */
  readonly ignoreReferences: boolean;
  /** vm.swappiness (0..200). */
  readonly swappiness: number;
}

export function newScanControl(nrToReclaim: number, kswapd: boolean, swappiness = 60, ignoreReferences = false): ScanControl {
  return { nrToReclaim, nrReclaimed: 0, nrScanned: 0, priority: DEF_PRIORITY, kswapd, ignoreReferences, swappiness };
}

/**
 * PF_MEMALLOC per kernel: reclaim is running (kswapd, direct reclaim,
 * reclaim_pages), so allocations it makes — page tables for a PUD split —
 * must not recurse into reclaim.
 */
const memalloc = new WeakMap<Kernel, number>();

function noreclaimSave(k: Kernel): void {
  memalloc.set(k, (memalloc.get(k) ?? 0) + 1);
}

function noreclaimRestore(k: Kernel): void {
  memalloc.set(k, memalloc.get(k)! - 1);
}

/** The current task is reclaiming (current->flags & PF_MEMALLOC). */
export function inReclaim(k: Kernel): boolean {
  return (memalloc.get(k) ?? 0) > 0;
}

/**
 * memalloc_noreclaim_save / _restore around `fn`: its allocations may not
 * enter reclaim (nor run kswapd), as for one made under a spinlock.
 */
export function withoutReclaim<T>(k: Kernel, fn: () => T): T {
  noreclaimSave(k);
  try {
    return fn();
  } finally {
    noreclaimRestore(k);
  }
}

/**
 * isolate_lru_folios: take folios from the tail of a list, with references
 * held, until `nr` pages have been scanned or taken (a large folio counts
 * all its pages). Returns the folios and the pages scanned.
 */
function isolateLru(k: Kernel, nid: number, lru: number, nr: number, sc: ScanControl): { heads: number[]; scanned: number } {
  const heads: number[] = [];
  let scanned = 0;
  let taken = 0;
  for (const head of k.lru.fromTail(nid, lru)) {
    if (scanned >= nr || taken >= nr) break;
    const n = k.folios.nrPages(head);
    scanned += n;
    if (!isolateForReclaim(k, head)) continue;
    heads.push(head);
    taken += n;
  }
  sc.nrScanned += scanned;
  return { heads, scanned };
}

/** move_folios_to_lru: back onto their lists, dropping the isolation references. */
function putbackAll(k: Kernel, heads: readonly number[]): void {
  for (const head of heads) putbackLru(k, head);
}

/**
 * shmem_writeout: an unmapped shmem folio leaves the page cache for a swap
 * slot referenced from its file; false when no slot is free.
 */
function shmemWriteout(k: Kernel, head: number): boolean {
  const f = k.folios;
  const dev = k.swap.device;
  if (dev === null || f.order(head) > 0) return false;
  const as = k.files.get(f.mapping(head));
  if (as === undefined) return false;
  const off = dev.alloc(0);
  if (off < 0) return false;
  dev.claim(off);
  dev.contents[off] = f.readTag(head);
  as.swapped.set(f.index(head), off);
  k.events[EV.pswpout]!++;
  f.clear(head, PG_dirty);
  k.pagecache.remove(as, head);
  return true;
}

/**
 * shrink_folio_list: try to free each isolated folio — check references,
 * give anonymous folios swap (a large folio all at once, or split into
 * pages that make their own pass when it cannot get a contiguous run),
 * unmap, write back what is dirty, and drop it from its cache; folios that
 * cannot go are activated or kept. Returns the pages reclaimed.
 */
export function shrinkFolioList(k: Kernel, heads: readonly number[], sc: ScanControl): number {
  const f = k.folios;
  // Splits append the new folios; they are handled after the rest.
  const list = heads.slice();
  const keep: number[] = [];
  let reclaimed = 0;
  noreclaimSave(k);
  try {
    for (let i = 0; i < list.length; i++) {
      const head = list[i]!;
      // folio_trylock: someone else working on the folio keeps it.
      if (f.test(head, PG_locked) || f.test(head, PG_unevictable)) {
        keep.push(head);
        continue;
      }
      f.set(head, PG_locked);
      const r = shrinkOne(k, head, sc, list, keep);
      // A kept folio is unlocked before it goes back; a freed one lost its flags with it.
      if (r === 0) f.clear(head, PG_locked);
      reclaimed += r;
    }
  } finally {
    noreclaimRestore(k);
  }
  putbackAll(k, keep);
  return reclaimed;
}

/** folio_expected_ref_count of an anonymous folio: its mappings and the swap cache's references. */
function expectedRefCount(k: Kernel, head: number): number {
  const f = k.folios;
  return f.mapcount(head) + (f.test(head, PG_swapcache) ? f.nrPages(head) : 0);
}

/**
 * One folio of shrink_folio_list, locked: returns the pages freed (0 when
 * it went to `keep`). Splits push their other new folios onto `list`.
 */
function shrinkOne(k: Kernel, head: number, sc: ScanControl, list: number[], keep: number[]): number {
  const f = k.folios;
  const activate = (): number => {
    // Not a candidate for swapping, so give its swap space back when swap runs short.
    if (f.test(head, PG_swapcache) && (k.swap.full || f.test(head, PG_mlocked))) k.swap.folioFreeSwap(head);
    if (!f.test(head, PG_mlocked)) {
      f.set(head, PG_active);
      k.events[EV.pgactivate]! += f.nrPages(head);
    }
    keep.push(head);
    return 0;
  };
  const ref = sc.ignoreReferences ? FOLIOREF_RECLAIM : folioCheckReferences(k, head);
  if (ref === FOLIOREF_ACTIVATE) return activate();
  if (ref === FOLIOREF_KEEP) {
    keep.push(head);
    return 0;
  }
  const anon = f.test(head, PG_anon);
  const lazyfree = anon && !f.test(head, PG_swapbacked);
  if (anon && !lazyfree && !f.test(head, PG_swapcache)) {
    if (folioMaybeDmaPinned(k, head)) {
      keep.push(head);
      return 0;
    }
    const nr = f.nrPages(head);
    if (nr > 1) {
      // A folio someone else holds cannot be split: skip it.
      if (f.refcount(head) !== expectedRefCount(k, head) + 1) return activate();
      // A partially mapped folio is split first: its unmapped pages go without I/O.
      if (k.deferredSplit.has(head) && f.test(head, PG_partially_mapped) && splitFolioToList(k, head, list) !== 0) return activate();
    }
    if (!folioAllocSwap(k, head)) {
      const order = f.order(head);
      if (order === 0) return activate();
      // No contiguous run for the whole folio: fall back to swapping its pages one by one.
      if (splitFolioToList(k, head, list) !== 0) return activate();
      const pmdOrder = k.thp.pmdOrder;
      if (pmdOrder > 0 && nr >= 2 ** pmdOrder) k.events[EV.thp_swpout_fallback]!++;
      k.mthpStats[order * MTHP_STRIDE + MS.swpout_fallback]!++;
      if (!folioAllocSwap(k, head)) return activate();
    }
    // Dirty, so it is written out even if its PTEs were cleaned (a racing MADV_FREE).
    f.set(head, PG_dirty);
  }
  const nr = f.nrPages(head);
  if (f.mapped(head)) {
    const order = f.order(head);
    let flags = 0;
    if (k.thp.pmdOrder > 0 && order >= k.thp.pmdOrder) flags |= TTU_SPLIT_HUGE_PMD;
    if (k.thp.pudOrder > 0 && order >= k.thp.pudOrder) flags |= TTU_SPLIT_HUGE_PUD;
    tryToUnmap(k, head, flags);
    if (f.mapped(head)) return activate();
  }
  // Unmapped, it cannot be newly pinned; one that is pinned stays.
  if (folioMaybeDmaPinned(k, head)) return activate();
  if (f.test(head, PG_dirty) && !lazyfree) {
    if (f.test(head, PG_swapcache)) {
      if (!swapWriteout(k, head)) {
        keep.push(head);
        return 0;
      }
    } else if (!anon) {
      const as = k.files.get(f.mapping(head));
      if (as !== undefined && as.shmem) {
        if (!shmemWriteout(k, head)) {
          keep.push(head);
          return 0;
        }
        finishFree(k, head);
        return nr;
      }
      if (as !== undefined) k.pagecache.writeback(as, head);
    }
  }
  if (ref === FOLIOREF_RECLAIM_CLEAN && f.test(head, PG_dirty)) {
    keep.push(head);
    return 0;
  }
  // __remove_mapping, or for a lazy-free folio just the isolation reference left.
  if (!removeMapping(k, head)) {
    keep.push(head);
    return 0;
  }
  if (lazyfree) k.events[EV.pglazyfreed]! += nr;
  finishFree(k, head);
  return nr;
}

/** __remove_mapping: take the folio out of the swap cache or page cache if nothing else holds it. */
function removeMapping(k: Kernel, head: number): boolean {
  const f = k.folios;
  const nr = f.nrPages(head);
  let cacheRefs = 0;
  const inSwapcache = f.test(head, PG_swapcache);
  const as = f.test(head, PG_anon) ? undefined : k.files.get(f.mapping(head));
  const inPagecache = as !== undefined && as.pages.get(f.index(head)) === head;
  if (inSwapcache || inPagecache) cacheRefs = nr;
  if (f.refcount(head) !== 1 + cacheRefs) return false;
  if (inSwapcache) k.swap.deleteFromCache(head);
  else if (inPagecache) k.pagecache.remove(as, head);
  return true;
}

/** The folio is gone from every cache and mapping: drop the isolation reference, freeing it (off the deferred split queue with it). */
function finishFree(k: Kernel, head: number): void {
  const f = k.folios;
  isolatedStat(k, head, -1);
  f.clear(head, PG_isolated | PG_locked);
  folioPut(k, head, 1);
}

/**
 * reclaim_pages (MADV_PAGEOUT): reclaim isolated folios now, deactivated
 * and ignoring their references, as the PF_MEMALLOC task that asked; those
 * that stay go back to the LRU. Returns the pages reclaimed.
 */
export function reclaimPages(k: Kernel, heads: readonly number[]): number {
  let pages = 0;
  for (const h of heads) {
    k.folios.clear(h, PG_active);
    pages += k.folios.nrPages(h);
  }
  return shrinkFolioList(k, heads, newScanControl(pages, false, 60, true));
}

/** shrink_inactive_list: pgsteal counts what was reclaimed from this list. */
function shrinkInactiveList(k: Kernel, nid: number, lru: number, nr: number, sc: ScanControl): number {
  const { heads, scanned } = isolateLru(k, nid, lru, nr, sc);
  const anonList = lru === LRU_INACTIVE_ANON;
  k.events[sc.kswapd ? EV.pgscan_kswapd : EV.pgscan_direct]! += scanned;
  k.events[anonList ? EV.pgscan_anon : EV.pgscan_file]! += scanned;
  const r = shrinkFolioList(k, heads, sc);
  k.events[sc.kswapd ? EV.pgsteal_kswapd : EV.pgsteal_direct]! += r;
  k.events[anonList ? EV.pgsteal_anon : EV.pgsteal_file]! += r;
  sc.nrReclaimed += r;
  return r;
}

/**
 * shrink_active_list: move folios from the active tail to the inactive list
 * (PG_workingset: they were active), keeping referenced executable file
 * folios active (a rotation). Their young bits are cleared on the way;
 * PG_referenced stays.
 */
function shrinkActiveList(k: Kernel, nid: number, lru: number, nr: number, sc: ScanControl): void {
  const f = k.folios;
  const { heads, scanned } = isolateLru(k, nid, lru, nr, sc);
  k.events[EV.pgrefill]! += scanned;
  for (const head of heads) {
    const { referenced, vmFlags } = folioReferenced(k, head);
    const file = !f.test(head, PG_swapbacked);
    if (referenced > 0 && file && vmFlags & VM_EXEC) continue;
    f.clear(head, PG_active);
    f.set(head, PG_workingset);
    k.events[EV.pgdeactivate]! += f.nrPages(head);
  }
  putbackAll(k, heads);
}

/** inactive_is_low: the inactive list is small next to the active one (inactive_ratio = sqrt(10 x GiB)). */
function inactiveIsLow(k: Kernel, nid: number, inactiveLru: number): boolean {
  const st = k.phys.nodeStats(nid);
  const statOf = [NS.nr_inactive_anon, NS.nr_active_anon, NS.nr_inactive_file, NS.nr_active_file];
  const inactive = st[statOf[inactiveLru]!]!;
  const active = st[statOf[inactiveLru + 1]!]!;
  const gb = Math.floor(((inactive + active) * k.pageSize) / 2 ** 30);
  const ratio = gb > 0 ? Math.floor(Math.sqrt(10 * gb)) : 1;
  return inactive * ratio < active;
}

/**
 * shrink_node: priority by priority, scan each evictable list a share of its
 * size in pages (get_scan_count with swappiness; no anon scan without free
 * swap), deactivating when the inactive list runs low, until the goal is met.
 */
export function shrinkNode(k: Kernel, nid: number, sc: ScanControl): number {
  // shrink_{in,}active_list: lru_add_drain first.
  lruAddDrain(k);
  const st = k.phys.nodeStats(nid);
  const canSwap = k.swap.device !== null && k.swap.freePages > 0;
  noreclaimSave(k);
  try {
    for (sc.priority = DEF_PRIORITY; sc.priority >= 0 && sc.nrReclaimed < sc.nrToReclaim; sc.priority--) {
      const anonSize = st[NS.nr_inactive_anon]! + st[NS.nr_active_anon]!;
      const fileSize = st[NS.nr_inactive_file]! + st[NS.nr_active_file]!;
      const ap = canSwap ? sc.swappiness : 0;
      const fp = 200 - sc.swappiness;
      const total = ap + fp || 1;
      // Close to OOM (priority 0) with swappiness: SCAN_EQUAL, every list in full.
      const equal = sc.priority === 0 && ap > 0;
      for (const [inactive, size, weight] of [
        [LRU_INACTIVE_ANON, anonSize, ap],
        [LRU_INACTIVE_FILE, fileSize, fp],
      ] as const) {
        if (weight === 0) continue;
        let scan = equal ? size : Math.floor((Math.floor(size / 2 ** sc.priority) * weight) / total);
        if (scan === 0 && sc.priority === 0 && size > 0) scan = Math.min(size, SWAP_CLUSTER_MAX);
        while (scan > 0 && sc.nrReclaimed < sc.nrToReclaim) {
          const batch = Math.min(scan, SWAP_CLUSTER_MAX);
          if (inactiveIsLow(k, nid, inactive)) shrinkActiveList(k, nid, inactive + 1, batch, sc);
          shrinkInactiveList(k, nid, inactive, batch, sc);
          scan -= batch;
        }
      }
      // shrink_slab: the THP shrinkers (deferred split, huge zero folio) at this priority.
      shrinkSlab(k, nid, sc.priority);
    }
  } finally {
    noreclaimRestore(k);
  }
  return sc.nrReclaimed;
}

/** kswapd's balance_pgdat: reclaim until every zone of the node is above its high watermark. */
export function kswapd(k: Kernel, nid: number): number {
  // Woken from inside reclaim: it is already running.
  if (inReclaim(k)) return 0;
  let total = 0;
  for (let round = 0; round < 8; round++) {
    const zones = k.phys.nodes[nid]!.zones;
    const short = zones.reduce((n, z) => n + Math.max(0, z.wmarkHigh - z.freePages), 0);
    if (short === 0) break;
    const sc = newScanControl(Math.max(SWAP_CLUSTER_MAX, short), true);
    const r = shrinkNode(k, nid, sc);
    total += r;
    if (r === 0) break;
  }
  return total;
}

/** try_to_free_pages: direct reclaim of a batch; none from a task already reclaiming (PF_MEMALLOC). */
export function directReclaim(k: Kernel, nid: number): number {
  if (inReclaim(k)) return 0;
  const sc = newScanControl(SWAP_CLUSTER_MAX, false);
  return shrinkNode(k, nid, sc);
}

