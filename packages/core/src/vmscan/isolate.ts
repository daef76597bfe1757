import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { PG_isolated, PG_swapbacked } from "../phys/page-flags";
import { NS } from "../stats/counters";

/** NR_ISOLATED_ANON / NR_ISOLATED_FILE by the folio's pages, `d` = +1 on isolation, -1 when it goes back or is freed. */
export function isolatedStat(k: Kernel, head: number, d: number): void {
  const st = k.phys.nodeStats(k.phys.nidOf(head));
  st[k.folios.test(head, PG_swapbacked) ? NS.nr_isolated_anon : NS.nr_isolated_file]! += d * k.folios.nrPages(head);
}

/**
 * folio_set_swapbacked on a lazy-free folio found written again since
 * MADV_FREE. If reclaim holds it isolated, its pages move from the isolated
 * file count to the anon one, the count its putback will decrement. (The
 * kernel adds and removes a whole isolated list under the type of the LRU
 * it came from, so its counts balance however the folios changed.)
 */
export function setSwapbacked(k: Kernel, head: number): void {
  const isolated = k.folios.test(head, PG_isolated);
  if (isolated) isolatedStat(k, head, -1);
  k.folios.set(head, PG_swapbacked);
  if (isolated) isolatedStat(k, head, 1);
}

/** folio_isolate_lru for reclaim: off its list with a reference for the reclaimer. False if it was on none. */
export function isolateForReclaim(k: Kernel, head: number): boolean {
  if (!k.lru.isolate(head)) return false;
  k.folios.set(head, PG_isolated);
  isolatedStat(k, head, 1);
  return true;
}

/** folio_putback_lru / move_folios_to_lru: back onto its list, dropping the isolation reference (freeing it if that was the last). */
export function putbackLru(k: Kernel, head: number): void {
  k.folios.clear(head, PG_isolated);
  isolatedStat(k, head, -1);
  k.lru.add(head);
  folioPut(k, head, 1);
}
