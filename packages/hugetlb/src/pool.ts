import { EV, GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE, PG_anon, PG_anon_exclusive, PG_dirty, __GFP_COMP, __GFP_NOWARN, __GFP_RETRY_MAYFAIL, __GFP_THISNODE, allocContig } from "@hugemm/core";
import type { Hstate } from "./hstate";
import type { HugetlbState } from "./state";
import { subpoolPut } from "./subpool";

/**
 * htlb_alloc_mask: movable unless the hstate cannot migrate (gigantic pages
 * are never movable: hugepage_movable_supported).
 */
function allocMask(h: Hstate): number {
  return h.gigantic ? GFP_HIGHUSER : GFP_HIGHUSER_MOVABLE;
}

/**
 * alloc_fresh_hugetlb_folio on node `nid` (only there with `thisNode`):
 * buddy pages for a normal hstate, alloc_contig_pages for a gigantic one.
 * The folio comes back frozen (refcount 0), not yet in the pool; -1 on failure.
 */
function allocFresh(st: HugetlbState, h: Hstate, nid: number, thisNode: boolean): number {
  const k = st.k;
  let head = -1;
  if (h.gigantic) {
    const nodes = k.phys.nodes.length;
    for (let i = 0; i < (thisNode ? 1 : nodes) && head < 0; i++) {
      const n = (nid + i) % nodes;
      const pfn = allocContig(k, h.order, n);
      if (pfn >= 0) {
        k.folios.prep(pfn, h.order);
        head = pfn;
      }
    }
  } else {
    const gfp = allocMask(h) | __GFP_COMP | __GFP_NOWARN | __GFP_RETRY_MAYFAIL | (thisNode ? __GFP_THISNODE : 0);
    head = k.folios.alloc(h.order, gfp, nid);
    k.events[head >= 0 ? EV.htlb_buddy_alloc_success! : EV.htlb_buddy_alloc_fail!]!++;
  }
  if (head < 0) return -1;
  k.folios.unref(head, 1);
  k.folios.zero(head);
  st.folios.set(head, h);
  return head;
}

/** Account a fresh folio in the pool (__prep_account_new_huge_page). */
function accountNew(h: Hstate, nid: number): void {
  h.nr++;
  h.nrNode[nid]!++;
}

/** enqueue_hugetlb_folio: a frozen folio goes on its node's free list. */
export function enqueue(st: HugetlbState, h: Hstate, head: number): void {
  const nid = st.k.phys.nidOf(head);
  h.freelists[nid]!.push(head);
  h.free++;
  h.freeNode[nid]!++;
}

/** dequeue_hugetlb_folio_node_exact: the most recently freed folio of node `nid`, with refcount 1; -1 if none. */
function dequeueNode(st: HugetlbState, h: Hstate, nid: number): number {
  const head = h.freelists[nid]!.pop();
  if (head === undefined) return -1;
  h.free--;
  h.freeNode[nid]!--;
  st.k.folios.ref(head, 1);
  return head;
}

/** dequeue_hugetlb_folio_nodemask: the preferred node first, then the others in zonelist order. */
export function dequeue(st: HugetlbState, h: Hstate, nid: number): number {
  const nodes = st.k.phys.nodes.length;
  for (let i = 0; i < nodes; i++) {
    const head = dequeueNode(st, h, (nid + i) % nodes);
    if (head >= 0) return head;
  }
  return -1;
}

/** remove_hugetlb_folio then update_and_free_hugetlb_folio: a free or frozen folio leaves the pool for the buddy allocator. */
function removeAndFree(st: HugetlbState, h: Hstate, head: number, adjustSurplus: boolean, onFreelist: boolean): void {
  const k = st.k;
  const nid = k.phys.nidOf(head);
  if (onFreelist) {
    const list = h.freelists[nid]!;
    const i = list.lastIndexOf(head);
    list.splice(i, 1);
    h.free--;
    h.freeNode[nid]!--;
  }
  h.nr--;
  h.nrNode[nid]!--;
  if (adjustSurplus) {
    h.surplus--;
    h.surplusNode[nid]!--;
  }
  st.folios.delete(head);
  k.folios.clear(head, PG_anon | PG_dirty);
  k.folios.pageSet(head, PG_anon_exclusive, false);
  k.folios.setMapping(head, 0, 0);
  k.folios.free(head);
}

/**
 * remove_pool_hugetlb_folio: take a free folio off the pool, from the nodes
 * in next_nid_to_free order — with `acctSurplus` only from a node that has
 * surplus pages, counting one surplus page fewer. Returns whether one went.
 */
function removePoolFolio(st: HugetlbState, h: Hstate, acctSurplus: boolean): boolean {
  const nodes = st.k.phys.nodes.length;
  for (let i = 0; i < nodes; i++) {
    const nid = h.nextNidToFree;
    h.nextNidToFree = (nid + 1) % nodes;
    if ((!acctSurplus || h.surplusNode[nid]! > 0) && h.freelists[nid]!.length > 0) {
      removeAndFree(st, h, h.freelists[nid]![h.freelists[nid]!.length - 1]!, acctSurplus, true);
      return true;
    }
  }
  return false;
}

/**
 * alloc_pool_huge_folio: one fresh folio for the persistent pool, trying
 * each node once from next_nid_to_alloc; it is counted and enqueued.
 */
function allocPoolFolio(st: HugetlbState, h: Hstate, onlyNid: number): boolean {
  const nodes = st.k.phys.nodes.length;
  for (let i = 0; i < (onlyNid >= 0 ? 1 : nodes); i++) {
    let nid = onlyNid;
    if (nid < 0) {
      nid = h.nextNidToAlloc;
      h.nextNidToAlloc = (nid + 1) % nodes;
    }
    const head = allocFresh(st, h, nid, true);
    if (head >= 0) {
      accountNew(h, st.k.phys.nidOf(head));
      enqueue(st, h, head);
      return true;
    }
  }
  return false;
}

/**
 * set_max_huge_pages: resize the persistent pool of `h` to `count` pages,
 * on one node when `nid` >= 0. Growing turns surplus pages persistent
 * first, then allocates until a fresh allocation fails (silently, as the
 * kernel does: the caller reads the count back). Shrinking frees free pages
 * down to the floor the reservations and in-use pages need, then marks
 * in-use pages surplus.
 */
export function setMaxHugePages(st: HugetlbState, h: Hstate, countIn: number, nid: number): void {
  let count = countIn;
  if (nid >= 0) {
    // A node's count is turned into the global count it implies.
    count += h.persistent - (h.nrNode[nid]! - h.surplusNode[nid]!);
  }
  const nodes = st.k.phys.nodes.length;
  while (h.surplus > 0 && count > h.persistent) {
    // adjust_pool_surplus(-1): a node that has surplus pages, round robin from next_nid_to_alloc.
    let done = false;
    for (let i = 0; i < nodes && !done; i++) {
      const n = (h.nextNidToAlloc + i) % nodes;
      if ((nid < 0 || n === nid) && h.surplusNode[n]! > 0) {
        h.surplusNode[n]!--;
        h.surplus--;
        done = true;
      }
    }
    if (!done) break;
  }
  while (count > h.persistent) {
    if (!allocPoolFolio(st, h, nid)) break;
  }
  // The floor: reserved pages and in-use persistent pages stay; free surplus pages are not counted twice.
  const persistent = h.persistent;
  let pfree: number;
  if (h.free <= persistent) pfree = h.free;
  else pfree = h.free > h.surplus ? h.free - h.surplus : 0;
  const floor = h.resv + persistent - pfree;
  const minCount = Math.max(count, floor);
  while (minCount < h.persistent) {
    if (!removePoolFolio(st, h, false)) break;
  }
  while (count < h.persistent) {
    // adjust_pool_surplus(+1): a node where not every page is already surplus.
    let done = false;
    for (let i = 0; i < nodes && !done; i++) {
      const n = (h.nextNidToFree + i) % nodes;
      if ((nid < 0 || n === nid) && h.surplusNode[n]! < h.nrNode[n]!) {
        h.surplusNode[n]!++;
        h.surplus++;
        done = true;
      }
    }
    if (!done) break;
  }
  h.maxHugePages = h.persistent;
}

/**
 * alloc_surplus_hugetlb_folio: a fresh folio beyond the persistent pool,
 * if nr_overcommit_hugepages allows one more; counted surplus, not
 * enqueued, with refcount 1. -1 when overcommit or memory says no.
 */
export function allocSurplus(st: HugetlbState, h: Hstate, nid: number): number {
  if (h.surplus >= h.nrOvercommit) return -1;
  const head = allocFresh(st, h, nid, false);
  if (head < 0) return -1;
  const n = st.k.phys.nidOf(head);
  accountNew(h, n);
  h.surplus++;
  h.surplusNode[n]!++;
  st.k.folios.ref(head, 1);
  return head;
}

/**
 * free_huge_folio, on the last reference: give back the reservation the
 * allocation consumed (or the subpool's minimum asks for), then release the
 * folio to the buddy allocator if its node has surplus pages, else back to
 * the free list.
 */
export function freeHugeFolio(st: HugetlbState, head: number): void {
  const k = st.k;
  const h = st.folios.get(head)!;
  const spool = st.subpoolOf.get(head) ?? null;
  st.subpoolOf.delete(head);
  k.folios.pageSet(head, PG_anon_exclusive, false);
  k.folios.clear(head, PG_anon | PG_dirty);
  k.folios.setMapping(head, 0, 0);
  let restore = st.restoreReserve.delete(head);
  // A folio that consumed no global reservation returns one if its subpool falls below its minimum.
  if (!restore && subpoolPut(spool, 1) === 0) restore = true;
  if (restore) h.resv++;
  const nid = k.phys.nidOf(head);
  if (h.surplusNode[nid]! > 0) removeAndFree(st, h, head, true, false);
  else enqueue(st, h, head);
}

/** folio_put for a hugetlb folio: drop `n` references, freeing it on the last. */
export function putHugeFolio(st: HugetlbState, head: number, n = 1): void {
  if (st.k.folios.unref(head, n) === 0) freeHugeFolio(st, head);
}

/**
 * gather_surplus_pages: make the pool hold `delta` more reservations,
 * allocating surplus pages for what free pages do not cover. False (and
 * nothing changed) when overcommit or memory cannot provide them.
 */
function gatherSurplus(st: HugetlbState, h: Hstate, delta: number, nid: number): boolean {
  let needed = h.resv + delta - h.free;
  if (needed <= 0) {
    h.resv += delta;
    return true;
  }
  const got: number[] = [];
  while (needed > 0) {
    const head = allocSurplus(st, h, nid);
    if (head < 0) {
      // Nothing is lost: the pages allocated so far go back (free_huge_folio: their node has surplus).
      for (const g of got) putHugeFolio(st, g);
      return false;
    }
    got.push(head);
    needed--;
  }
  h.resv += delta;
  for (const g of got) {
    st.k.folios.unref(g, 1);
    enqueue(st, h, g);
  }
  return true;
}

/**
 * return_unused_surplus_pages: drop `n` reservations and free up to that
 * many free surplus pages (they were only there for the reservations).
 */
function returnUnusedSurplus(st: HugetlbState, h: Hstate, n: number): void {
  h.resv -= n;
  let nr = Math.min(n, h.surplus);
  while (nr-- > 0) if (!removePoolFolio(st, h, true)) break;
}

/** hugetlb_acct_memory: reserve `delta` more pages (false if impossible), or give back -delta. */
export function acctMemory(st: HugetlbState, h: Hstate, delta: number, nid = 0): boolean {
  if (delta > 0) return gatherSurplus(st, h, delta, nid);
  if (delta < 0) returnUnusedSurplus(st, h, -delta);
  return true;
}

/** nr_overcommit_hugepages: the most surplus pages reservations and faults may allocate. */
export function setOvercommit(h: Hstate, n: number): void {
  h.nrOvercommit = n;
}
