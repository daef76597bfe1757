import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { PG_locked, PG_mlocked, PG_partially_mapped } from "../phys/page-flags";
import { EV } from "../stats/counters";
import { splitFolio } from "./folio-split";

/** DEFAULT_SEEKS: how costly a shrinker's objects are to recreate. */
const DEFAULT_SEEKS = 2;
/** SHRINK_BATCH. */
const SHRINK_BATCH = 128;

/**
 * thp_underused: a THP with more than max_ptes_none pages of zeroes is worth
 * splitting (the zero pages then map the shared zero page). Off while
 * max_ptes_none is at its maximum, the default.
 */
export function thpUnderused(k: Kernel, head: number): boolean {
  const s = k.thp;
  const pmdNr = 2 ** s.pmdOrder;
  if (s.maxPtesNone === pmdNr - 1) return false;
  const f = k.folios;
  const nr = f.nrPages(head);
  let zero = 0;
  let filled = 0;
  for (let i = 0; i < nr; i++) {
    if (f.readTag(head + i) === 0) {
      if (++zero > s.maxPtesNone) return true;
    } else if (++filled >= pmdNr - s.maxPtesNone) {
      return false;
    }
  }
  return false;
}

/**
 * deferred_split_scan: take up to `nrToScan` folios of node `nid` (all
 * nodes when -1) off the queue. A partially mapped one is split; one that
 * is only queued as a THP candidate is split when thp_underused says so,
 * and otherwise dropped from the queue. A partially mapped folio that could
 * not be split goes back. Returns the folios split.
 */
export function deferredSplitScan(k: Kernel, nid: number, nrToScan: number): number {
  const f = k.folios;
  const q = k.deferredSplit;
  const dispose: number[] = [];
  for (const head of q.heads()) {
    if (dispose.length >= nrToScan) break;
    if (nid >= 0 && k.phys.nidOf(head) !== nid) continue;
    // folio_try_get: a folio on its way to being freed stays.
    if (f.refcount(head) === 0) continue;
    f.ref(head);
    q.isolate(head);
    dispose.push(head);
  }
  let split = 0;
  for (const head of dispose) {
    let didSplit = false;
    const partially = f.test(head, PG_partially_mapped);
    let underused = false;
    if (!partially) {
      if (f.test(head, PG_mlocked) || !(underused = thpUnderused(k, head))) {
        folioPut(k, head, 1);
        continue;
      }
    }
    if (f.test(head, PG_locked)) {
      q.requeue(head);
      folioPut(k, head, 1);
      continue;
    }
    if (splitFolio(k, head, 0) === 0) {
      didSplit = true;
      if (underused) k.events[EV.thp_underused_split_page]!++;
      split++;
    }
    // After a split `head` is the first page, holding the scan's reference.
    if (!didSplit && f.test(head, PG_partially_mapped)) q.requeue(head);
    folioPut(k, head, 1);
  }
  return split;
}

/**
 * shrink_slab at `priority` for node `nid`: the deferred split shrinker and
 * the huge zero folio's, each scanning its share of what it holds
 * (do_shrink_slab: (count >> priority) * 4 / seeks, at most twice the
 * count, in batches). Returns the objects freed.
 */
export function shrinkSlab(k: Kernel, nid: number, priority: number): number {
  let freed = 0;
  const count = k.deferredSplit.countOn(nid);
  if (count > 0) {
    let total = Math.min(Math.floor(((count >> priority) * 4) / DEFAULT_SEEKS), 2 * count);
    while (total >= SHRINK_BATCH || total >= count) {
      const n = Math.min(SHRINK_BATCH, total);
      if (n === 0) break;
      freed += deferredSplitScan(k, nid, n);
      total -= n;
    }
  }
  if (k.hugeZero.refcount === 1 && k.hugeZero.pfn >= 0 && k.phys.nidOf(k.hugeZero.pfn) === nid) {
    const zeroCount = 2 ** k.thp.pmdOrder;
    if (((zeroCount >> priority) * 4) / DEFAULT_SEEKS >= 1) freed += k.hugeZero.shrink(k);
  }
  return freed;
}

/** drop_slab (/proc/sys/vm/drop_caches = 2): shrink every node at priority 0 until little more comes free. */
export function dropSlab(k: Kernel): number {
  let total = 0;
  for (;;) {
    let freed = 0;
    for (const n of k.phys.nodes) freed += shrinkSlab(k, n.nid, 0);
    total += freed;
    if (freed <= 10) return total;
  }
}
