import type { Kernel } from "../kernel/kernel";
import { PG_dirty } from "../phys/page-flags";
import { EV, MS, MTHP_STRIDE } from "../stats/counters";

/**
 * folio_alloc_swap: 2^order contiguous, naturally aligned slots for the
 * whole folio — the cluster allocator gives a large folio a run inside one
 * cluster of its order or a free cluster, so a folio larger than a cluster
 * never gets one — and the folio into the swap cache at them. False when
 * there is no swap or no such run (the caller may split the folio and try
 * its pages one by one).
 */
export function folioAllocSwap(k: Kernel, head: number): boolean {
  const dev = k.swap.device;
  if (dev === null) return false;
  const order = k.folios.order(head);
  if (2 ** order > dev.clusterPages) return false;
  const off = dev.alloc(order);
  if (off < 0) return false;
  k.swap.addToCache(head, off);
  return true;
}

/**
 * swap_writeout for a dirty folio in the swap cache: when no swap entry
 * references its slots any more, nothing needs writing and it just leaves
 * the swap cache, still dirty (folio_free_swap), and false is returned.
 * Otherwise its contents go to its slots (synchronously in the model) and
 * it is clean; count_swpout_vm_event counts the folio (thp_swpout for a
 * PMD-sized one, the per-size swpout) and pswpout its pages.
 */
export function swapWriteout(k: Kernel, head: number): boolean {
  if (k.swap.folioFreeSwap(head)) return false;
  const f = k.folios;
  const order = f.order(head);
  const nr = 2 ** order;
  const off = k.swap.slotOf.get(head)!;
  const contents = k.swap.device!.contents;
  for (let i = 0; i < nr; i++) contents[off + i] = f.readTag(head + i);
  f.clear(head, PG_dirty);
  const pmdOrder = k.thp.pmdOrder;
  if (pmdOrder > 0 && order >= pmdOrder) k.events[EV.thp_swpout]!++;
  if (order > 0) k.mthpStats[order * MTHP_STRIDE + MS.swpout]!++;
  k.events[EV.pswpout]! += nr;
  k.events[EV.pgpgout]! += (nr * k.pageSize) / 1024;
  return true;
}
