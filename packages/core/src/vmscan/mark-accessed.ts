import type { Kernel } from "../kernel/kernel";
import { PG_active, PG_lru, PG_referenced, PG_unevictable } from "../phys/page-flags";
import { EV } from "../stats/counters";

/**
 * folio_mark_accessed (mm/swap.c, without MGLRU): a first access sets
 * PG_referenced; a second on an inactive folio activates it and forgets the
 * reference; an active or unevictable folio keeps its state. The kernel
 * activates a folio still in a per-CPU batch in the batch; the model's
 * folios are on their LRU list from the start, so it moves the folio.
 */
export function folioMarkAccessed(k: Kernel, head: number): void {
  const f = k.folios;
  if (!f.test(head, PG_referenced)) {
    f.set(head, PG_referenced);
    return;
  }
  if (f.test(head, PG_unevictable) || f.test(head, PG_active)) return;
  if (f.test(head, PG_lru)) {
    k.lru.del(head);
    f.set(head, PG_active);
    k.lru.add(head);
    k.events[EV.pgactivate]! += f.nrPages(head);
  }
  f.clear(head, PG_referenced);
}
