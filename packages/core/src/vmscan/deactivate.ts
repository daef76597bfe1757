import type { Kernel } from "../kernel/kernel";
import { PG_active, PG_anon, PG_lru, PG_referenced, PG_swapbacked, PG_swapcache, PG_unevictable } from "../phys/page-flags";
import { EV } from "../stats/counters";

/** folio_deactivate (lru_deactivate): an active folio moves to the head of its inactive list, its references forgotten. */
export function folioDeactivate(k: Kernel, head: number): void {
  const f = k.folios;
  if (!f.test(head, PG_lru) || f.test(head, PG_unevictable) || !f.test(head, PG_active)) return;
  k.lru.del(head);
  f.clear(head, PG_active | PG_referenced);
  k.lru.add(head);
  k.events[EV.pgdeactivate]! += f.nrPages(head);
}

/**
 * folio_mark_lazyfree (lru_lazyfree): a clean anonymous folio outside the
 * swap cache loses PG_swapbacked — reclaim may now discard it instead of
 * swapping it — and moves to the inactive file list.
 */
export function folioMarkLazyfree(k: Kernel, head: number): void {
  const f = k.folios;
  if (!f.test(head, PG_anon) || !f.test(head, PG_swapbacked) || f.test(head, PG_swapcache) || f.test(head, PG_unevictable) || !f.test(head, PG_lru)) return;
  k.lru.del(head);
  f.clear(head, PG_active | PG_referenced | PG_swapbacked);
  k.lru.add(head);
  k.events[EV.pglazyfree]! += f.nrPages(head);
}
