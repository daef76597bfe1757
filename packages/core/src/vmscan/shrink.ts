import { shrinkSlab } from "../huge/shrinker";
import { folioPut } from "../folio/put";
import { LRU_INACTIVE_ANON, LRU_INACTIVE_FILE } from "../folio/lru";
import { VM_EXEC } from "../mm/vm-flags";
import type { Kernel } from "../kernel/kernel";
import { folioMaybeDmaPinned } from "../mm/fork";
import { PG_active, PG_anon, PG_dirty, PG_isolated, PG_locked, PG_referenced, PG_swapbacked, PG_swapcache, PG_unevictable } from "../phys/page-flags";
import { EV, NS } from "../stats/counters";
import { FOLIOREF_ACTIVATE, FOLIOREF_KEEP, FOLIOREF_RECLAIM_CLEAN, folioCheckReferences, folioReferenced } from "./referenced";
import { tryToUnmap } from "./unmap";

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

function isolatedStat(k: Kernel, head: number, d: number): void {
  const st = k.phys.nodeStats(k.phys.nidOf(head));
  st[k.folios.test(head, PG_swapbacked) ? NS.nr_isolated_anon : NS.nr_isolated_file]! += d * k.folios.nrPages(head);
}

/** isolate_lru_folios: take up to `nr` folios from the tail of a list, with references held. */
function isolateLru(k: Kernel, nid: number, lru: number, nr: number, sc: ScanControl): number[] {
  const out: number[] = [];
  for (const head of k.lru.fromTail(nid, lru)) {
    if (out.length >= nr) break;
    if (!k.lru.isolate(head)) continue;
    k.folios.set(head, PG_isolated);
    isolatedStat(k, head, 1);
    out.push(head);
    sc.nrScanned += k.folios.nrPages(head);
  }
  return out;
}

/** move_folios_to_lru: back onto their lists, dropping the isolation references. */
function putbackAll(k: Kernel, heads: readonly number[]): void {
  for (const head of heads) {
    k.folios.clear(head, PG_isolated);
    isolatedStat(k, head, -1);
    k.lru.add(head);
    folioPut(k, head, 1);
  }
}

/**
 * add_to_swap: give an anonymous folio a swap slot and put it in the swap
 * cache (dirty: its contents must be written there). False when swap is
 * full or absent.
 */
function addToSwap(k: Kernel, head: number): boolean {
  const dev = k.swap.device;
  if (dev === null) return false;
  const off = dev.alloc(k.folios.order(head));
  if (off < 0) return false;
  k.swap.addToCache(head, off);
  k.folios.set(head, PG_dirty);
  return true;
}

/** swap_writepage: write the folio's contents to its slots (synchronous in the model). */
function swapWritepage(k: Kernel, head: number): void {
  const f = k.folios;
  const nr = f.nrPages(head);
  const off = k.swap.slotOf.get(head)!;
  for (let i = 0; i < nr; i++) k.swap.device!.contents[off + i] = f.readTag(head + i);
  f.clear(head, PG_dirty);
  k.events[EV.pswpout]! += nr;
  k.events[EV.pgpgout]! += (nr * k.pageSize) / 1024;
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
 * give anonymous folios a swap slot, unmap, write back what is dirty, and
 * drop it from its cache; folios that cannot go are activated or kept.
 * Returns the pages reclaimed.
 */
export function shrinkFolioList(k: Kernel, heads: readonly number[], sc: ScanControl): number {
  const f = k.folios;
  let reclaimed = 0;
  const keep: number[] = [];
  for (const head of heads) {
    const nr = f.nrPages(head);
    // folio_trylock: someone else working on the folio keeps it.
    if (f.test(head, PG_locked) || f.test(head, PG_unevictable)) {
      keep.push(head);
      continue;
    }
    f.set(head, PG_locked);
    const r = shrinkOne(k, head, nr, sc, keep);
    // A kept folio is unlocked before it goes back; a freed one lost its flags with it.
    if (r === 0) f.clear(head, PG_locked);
    reclaimed += r;
  }
  putbackAll(k, keep);
  return reclaimed;
}

/** One folio of shrink_folio_list, locked: returns the pages freed (0 when it went to `keep`). */
function shrinkOne(k: Kernel, head: number, nr: number, sc: ScanControl, keep: number[]): number {
  const f = k.folios;
  const activate = () => {
    f.set(head, PG_active);
    k.events[EV.pgactivate]! += nr;
    keep.push(head);
    return 0;
  };
  const ref = sc.ignoreReferences ? 0 : folioCheckReferences(k, head);
  if (ref === FOLIOREF_ACTIVATE) return activate();
  if (ref === FOLIOREF_KEEP) {
    keep.push(head);
    return 0;
  }
  const anon = f.test(head, PG_anon);
  const lazyfree = anon && !f.test(head, PG_swapbacked);
  if (anon && !lazyfree && !f.test(head, PG_swapcache)) {
    if (folioMaybeDmaPinned(k, head) || f.order(head) > 0 || !addToSwap(k, head)) return activate();
  }
  if (f.mapped(head) && !tryToUnmap(k, head)) return activate();
  if (f.test(head, PG_dirty) && !lazyfree) {
    if (f.test(head, PG_swapcache)) swapWritepage(k, head);
    else if (!anon) {
      const as = k.files.get(f.mapping(head));
      if (as !== undefined && as.shmem) {
        if (!shmemWriteout(k, head)) {
          keep.push(head);
          return 0;
        }
        finishFree(k, head, nr, sc, false);
        return nr;
      }
      if (as !== undefined) k.pagecache.writeback(as, head);
    }
  }
  if (ref === FOLIOREF_RECLAIM_CLEAN && f.test(head, PG_dirty)) {
    keep.push(head);
    return 0;
  }
  // __remove_mapping: only the isolation reference and the cache's may remain.
  if (!removeMapping(k, head)) {
    keep.push(head);
    return 0;
  }
  finishFree(k, head, nr, sc, anon);
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

/** The folio is gone from every cache and mapping: drop the isolation reference (freeing it) and count it. */
function finishFree(k: Kernel, head: number, nr: number, sc: ScanControl, anon: boolean): void {
  const f = k.folios;
  f.clear(head, PG_isolated | PG_locked);
  isolatedStat(k, head, -1);
  folioPut(k, head, 1);
  k.events[sc.kswapd ? EV.pgsteal_kswapd : EV.pgsteal_direct]! += nr;
  k.events[anon ? EV.pgsteal_anon : EV.pgsteal_file]! += nr;
}

/** shrink_inactive_list. */
function shrinkInactiveList(k: Kernel, nid: number, lru: number, nr: number, sc: ScanControl): number {
  const heads = isolateLru(k, nid, lru, nr, sc);
  k.events[sc.kswapd ? EV.pgscan_kswapd : EV.pgscan_direct]! += heads.length;
  k.events[lru === LRU_INACTIVE_ANON ? EV.pgscan_anon : EV.pgscan_file]! += heads.length;
  const r = shrinkFolioList(k, heads, sc);
  sc.nrReclaimed += r;
  return r;
}

/**
 * shrink_active_list: move folios from the active tail to the inactive list,
 * keeping referenced executable file folios active (a rotation).
 */
function shrinkActiveList(k: Kernel, nid: number, lru: number, nr: number, sc: ScanControl): void {
  const f = k.folios;
  const heads = isolateLru(k, nid, lru, nr, sc);
  k.events[EV.pgrefill]! += heads.length;
  for (const head of heads) {
    const { referenced, vmFlags } = folioReferenced(k, head);
    const file = !f.test(head, PG_swapbacked);
    if (referenced > 0 && file && vmFlags & VM_EXEC) continue;
    f.clear(head, PG_active | PG_referenced);
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
 * size (get_scan_count with swappiness; no anon scan without free swap),
 * deactivating when the inactive list runs low, until the goal is met.
 */
export function shrinkNode(k: Kernel, nid: number, sc: ScanControl): number {
  const st = k.phys.nodeStats(nid);
  const canSwap = k.swap.device !== null && k.swap.freePages > 0;
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
  return sc.nrReclaimed;
}

/** kswapd's balance_pgdat: reclaim until every zone of the node is above its high watermark. */
export function kswapd(k: Kernel, nid: number): number {
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

/** try_to_free_pages: direct reclaim of a batch. */
export function directReclaim(k: Kernel, nid: number): number {
  const sc = newScanControl(SWAP_CLUSTER_MAX, false);
  return shrinkNode(k, nid, sc);
}
