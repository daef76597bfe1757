import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { removeMigrationPtes, tryToMigrate } from "../migrate/migrate";
import { PG_anon, PG_isolated, PG_locked, PG_lru, PG_swapcache, PG_writeback } from "../phys/page-flags";
import { rmapLockOf } from "../rmap/walk";
import { EV, MS, MTHP_STRIDE } from "../stats/counters";
import { ModelBug, ModelInputError } from "../util/errors";

/** Why a folio split failed: the kernel's errno. */
export type SplitError = "EAGAIN" | "EBUSY" | "EINVAL";

export interface SplitOptions {
  /**
   * folio_split (non-uniform, buddy-like): only the part containing this
   * page is split down to the new order; the rest stays as large as it can.
   * Without it the split is uniform (split_huge_page_to_list_to_order).
   */
  readonly at?: number;
}

/**
 * __folio_split for an anonymous large folio: check it can be split, take
 * every mapping down to migration entries (try_to_migrate with
 * TTU_SPLIT_HUGE_PMD, freezing PMD mappings), and — if nothing else holds
 * it — cut it into folios of `newOrder` (uniformly, or around `at`), each
 * taking its share of the flags, index, swap slots and LRU position; then
 * map every page back (pages of zeroes to the shared zero page when split
 * to single pages) and free the new folios nobody maps. Returns 0 or the
 * errno; counts thp_split_page(_failed) and the per-size split stats.
 * The caller holds a reference, which afterwards is on the new folio that
 * holds `at` (the head page by default), as in the kernel.
 */
export function splitFolio(k: Kernel, head: number, newOrder: number, opts: SplitOptions = {}): 0 | SplitError {
  const f = k.folios;
  if (!f.isAllocated(head) || f.head(head) !== head) throw new ModelInputError("folio", head, "the head pfn of an allocated folio");
  const oldOrder = f.order(head);
  const r = splitChecked(k, head, oldOrder, newOrder, opts);
  if (oldOrder > 0) {
    if (oldOrder === k.thp.pmdOrder) k.events[r === 0 ? EV.thp_split_page : EV.thp_split_page_failed]!++;
    k.mthpStats[oldOrder * MTHP_STRIDE + (r === 0 ? MS.split : MS.split_failed)]!++;
  }
  return r;
}

/** folio_check_splittable and the rest of __folio_split. */
function splitChecked(k: Kernel, head: number, oldOrder: number, newOrder: number, opts: SplitOptions): 0 | SplitError {
  const f = k.folios;
  const at = opts.at ?? head;
  if (oldOrder === 0 || !Number.isInteger(newOrder) || newOrder < 0 || newOrder >= oldOrder) return "EINVAL";
  if (at < head || at >= head + 2 ** oldOrder) return "EINVAL";
  const anon = f.test(head, PG_anon);
  if (!anon) {
    if (f.mapping(head) === 0) return "EBUSY";
    throw new ModelBug(`splitting file folio ${head}: the model's page cache holds no large folios`);
  }
  if (newOrder === 1) return "EINVAL";
  if (f.test(head, PG_swapcache) && (opts.at !== undefined || newOrder > 0)) return "EINVAL";
  if (k.hugeZero.is(head)) return "EINVAL";
  if (f.test(head, PG_writeback)) return "EBUSY";
  const lock = rmapLockOf(k, head);
  if (lock === null) return "EBUSY";
  f.set(head, PG_locked);
  k.locks.acquire(lock);
  try {
    const cacheRefs = f.test(head, PG_swapcache) ? 2 ** oldOrder : 0;
    if (f.refcount(head) !== f.mapcount(head) + cacheRefs + 1) return unlock(k, head, "EAGAIN");
    tryToMigrate(k, head, { splitHuge: true, rmapLocked: true });
    // folio_ref_freeze: only the caches and the caller may hold it now.
    if (f.mapped(head) || f.refcount(head) !== cacheRefs + 1) {
      removeMigrationPtes(k, head, head, { rmapLocked: true });
      return unlock(k, head, "EAGAIN");
    }
    const pieces = piecesOf(head, oldOrder, newOrder, opts.at, true);
    cut(k, head, oldOrder, pieces);
    for (const [p] of pieces) removeMigrationPtes(k, p, p, { rmapLocked: true, zeroRemap: true });
    // Unlock the new folios and drop the split's reference on all but the one the caller's reference moves to.
    const keep = f.head(at);
    for (const [p] of pieces) {
      f.clear(p, PG_locked);
      if (p === keep) continue;
      if (f.test(p, PG_swapcache) && !f.mapped(p)) k.swap.folioFreeSwap(p);
      folioPut(k, p, 1);
    }
    return 0;
  } finally {
    k.locks.release(lock);
  }
}

/** A split that did not happen: unlock; the caller keeps its reference. */
function unlock(k: Kernel, head: number, err: SplitError): SplitError {
  k.folios.clear(head, PG_locked);
  return err;
}

/**
 * The folios a split makes, as [head pfn, order] in address order: uniform
 * pieces of `newOrder`, or (non-uniform) halves of each order down from
 * `oldOrder - 1` with only the half holding `at` split further. Anonymous
 * folios never become order 1: that step is skipped.
 */
export function piecesOf(head: number, oldOrder: number, newOrder: number, at: number | undefined, anon: boolean): [number, number][] {
  if (at === undefined) {
    const n = 2 ** (oldOrder - newOrder);
    return Array.from({ length: n }, (_, i) => [head + i * 2 ** newOrder, newOrder] as [number, number]);
  }
  const out: [number, number][] = [];
  let cur = head;
  let order = oldOrder;
  for (let split = oldOrder - 1; split >= newOrder; split--) {
    if (anon && split === 1) continue;
    // Cut the folio holding `at` (order `order`) into 2^(order - split) pieces; keep all but the one holding `at`.
    const size = 2 ** split;
    for (let p = cur; p < cur + 2 ** order; p += size) if (!(at >= p && at < p + size)) out.push([p, split]);
    cur = at - ((at - cur) % size);
    order = split;
  }
  out.push([cur, order]);
  return out.sort((a, b) => a[0] - b[0]);
}

/**
 * __folio_freeze_and_split_unmapped: off the deferred split queue, the
 * memmap cut into the new folios, each unfrozen with one reference plus its
 * swap-cache pages, the swap cache pointing at them, the per-size counts
 * moved, and the LRU place of the old folio taken by the new ones.
 */
function cut(k: Kernel, head: number, oldOrder: number, pieces: readonly [number, number][]): void {
  const f = k.folios;
  k.deferredSplit.unqueue(head);
  const swapOff = f.test(head, PG_swapcache) ? k.swap.slotOf.get(head)! : -1;
  const place = f.test(head, PG_lru) ? k.lru.detach(head) : null;
  f.splitInto(head, pieces);
  k.mthpStats[oldOrder * MTHP_STRIDE + MS.nr_anon]!--;
  for (const [p, o] of pieces) {
    if (o > 0) k.mthpStats[o * MTHP_STRIDE + MS.nr_anon]!++;
    f.ref(p, 1);
    if (swapOff >= 0) {
      const off = swapOff + (p - head);
      const nr = 2 ** o;
      f.ref(p, nr);
      if (p !== head) k.swap.slotOf.set(p, off);
      for (let i = 0; i < nr; i++) k.swap.device!.cache.set(off + i, p);
    }
  }
  if (place !== null) {
    // lru_add_split_folio: the new folios just in front of the first one.
    const heads = pieces.map(([p]) => p);
    k.lru.attach(place, [...heads.slice(1), heads[0]!]);
  }
}

/**
 * folio_split_unmapped (migrate_vma's split of a THP it already holds): the
 * anonymous folio at `head` is locked, mapped by no entry (only migration
 * entries name it) and referenced by the caller alone. It is cut into
 * folios of `newOrder`, each locked with one reference; an isolated folio's
 * pieces stay isolated. `faultPage` (a page whose fault started the
 * migration) holds one more reference, which goes with its new folio. Returns 0, or EBUSY when other references exist.
 */
export function splitUnmappedFolio(k: Kernel, head: number, newOrder: number, faultPage = -1): 0 | SplitError {
  const f = k.folios;
  const oldOrder = f.order(head);
  if (oldOrder === 0 || newOrder >= oldOrder || newOrder === 1 || !f.test(head, PG_anon)) return "EINVAL";
  // A page the caller faulted on holds one more reference, which stays with that page's new folio.
  const hold = faultPage >= head && faultPage < head + 2 ** oldOrder ? 1 : 0;
  if (f.mapped(head) || f.refcount(head) !== 1 + hold || f.test(head, PG_swapcache)) return "EBUSY";
  const isolated = f.test(head, PG_isolated);
  const pieces = piecesOf(head, oldOrder, newOrder, undefined, true);
  f.unref(head, 1 + hold);
  cut(k, head, oldOrder, pieces);
  for (const [p] of pieces) {
    f.set(p, PG_locked);
    if (isolated) f.set(p, PG_isolated);
  }
  if (hold) f.ref(f.head(faultPage), 1);
  return 0;
}
