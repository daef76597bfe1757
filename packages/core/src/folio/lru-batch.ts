import type { Kernel } from "../kernel/kernel";
import { PG_active, PG_anon, PG_lru, PG_referenced, PG_swapbacked, PG_swapcache, PG_unevictable } from "../phys/page-flags";
import { EV } from "../stats/counters";
import { folioPut } from "./put";

/** PAGEVEC_SIZE / FOLIO_BATCH_SIZE: folios a per-CPU batch holds before it moves them. */
export const FOLIO_BATCH_SIZE = 31;

/**
 * The per-CPU folio batches of mm/swap.c (cpu_fbatches) whose moves the
 * model defers: lru_deactivate (folio_deactivate, MADV_COLD) and
 * lru_lazyfree (folio_mark_lazyfree, MADV_FREE). A batched folio holds a
 * reference and stays where it is on the LRU until the batch moves: when
 * it fills, when a large folio joins (large folios move at once), or at an
 * lru_add_drain. Until then PGDEACTIVATE / PGLAZYFREE and the views that
 * read the LRU and PG_swapbacked (smaps LazyFree, Active/Inactive) do not
 * see the change. The model runs one CPU. Not batched: lru_add (folios join
 * the LRU when added), lru_activate, lru_move_tail, lru_deactivate_file.
 */
class FolioBatches {
  readonly deactivate: number[] = [];
  readonly lazyfree: number[] = [];
}

const batches = new WeakMap<Kernel, FolioBatches>();

function of(k: Kernel): FolioBatches {
  let b = batches.get(k);
  if (b === undefined) {
    b = new FolioBatches();
    batches.set(k, b);
  }
  return b;
}

/** The folios waiting in each batch (tests, views). */
export function folioBatchContents(k: Kernel): { readonly deactivate: readonly number[]; readonly lazyfree: readonly number[] } {
  return of(k);
}

type MoveFn = (k: Kernel, head: number) => void;

/** lru_deactivate: an active folio moves to its inactive list, its references forgotten. */
function lruDeactivate(k: Kernel, head: number): void {
  const f = k.folios;
  if (f.test(head, PG_unevictable) || !f.test(head, PG_active)) return;
  k.lru.del(head);
  f.clear(head, PG_active | PG_referenced);
  k.lru.add(head);
  k.events[EV.pgdeactivate]! += f.nrPages(head);
}

/** lru_lazyfree: a clean anonymous folio loses PG_swapbacked and moves to the inactive file list. */
function lruLazyfree(k: Kernel, head: number): void {
  const f = k.folios;
  if (!f.test(head, PG_anon) || !f.test(head, PG_swapbacked) || f.test(head, PG_swapcache) || f.test(head, PG_unevictable)) return;
  k.lru.del(head);
  f.clear(head, PG_active | PG_referenced | PG_swapbacked);
  k.lru.add(head);
  k.events[EV.pglazyfree]! += f.nrPages(head);
}

/** folio_batch_move_lru: move every folio still on the LRU, then drop the batch's references. */
function moveBatch(k: Kernel, batch: number[], move: MoveFn): void {
  const list = batch.splice(0);
  for (const head of list) if (k.folios.test(head, PG_lru)) move(k, head);
  for (const head of list) {
    k.holdRef(head, -1);
    folioPut(k, head, 1);
  }
}

/** folio_batch_add_and_move: the batch keeps the folio (with a reference) unless it is now full or the folio is large. */
function addAndMove(k: Kernel, batch: number[], head: number, move: MoveFn): void {
  k.folios.ref(head);
  k.holdRef(head, 1);
  batch.push(head);
  if (batch.length >= FOLIO_BATCH_SIZE || k.folios.order(head) > 0) moveBatch(k, batch, move);
}

/** folio_deactivate: queue an active folio on the LRU for lru_deactivate. */
export function folioDeactivate(k: Kernel, head: number): void {
  const f = k.folios;
  if (!f.test(head, PG_lru) || f.test(head, PG_unevictable) || !f.test(head, PG_active)) return;
  addAndMove(k, of(k).deactivate, head, lruDeactivate);
}

/** folio_mark_lazyfree: queue a clean anonymous folio outside the swap cache for lru_lazyfree. */
export function folioMarkLazyfree(k: Kernel, head: number): void {
  const f = k.folios;
  if (!f.test(head, PG_anon) || !f.test(head, PG_swapbacked) || f.test(head, PG_swapcache) || f.test(head, PG_unevictable) || !f.test(head, PG_lru)) return;
  addAndMove(k, of(k).lazyfree, head, lruLazyfree);
}

/**
 * lru_add_drain (lru_add_drain_cpu, and lru_add_drain_all on the one CPU):
 * move every batch, in the kernel's order (deactivate before lazyfree).
 * Called where the kernel drains: at the start of reclaim, compaction,
 * migration, MADV_COLD/PAGEOUT/FREE, and every zap (munmap, exit,
 * MADV_DONTNEED, truncation).
 */
export function lruAddDrain(k: Kernel): void {
  const b = batches.get(k);
  if (b === undefined) return;
  if (b.deactivate.length > 0) moveBatch(k, b.deactivate, lruDeactivate);
  if (b.lazyfree.length > 0) moveBatch(k, b.lazyfree, lruLazyfree);
}
