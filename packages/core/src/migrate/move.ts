import type { Kernel } from "../kernel/kernel";
import {
  PG_active,
  PG_anon,
  PG_dirty,
  PG_lru,
  PG_partially_mapped,
  PG_referenced,
  PG_swapbacked,
  PG_swapcache,
  PG_unevictable,
  PG_uptodate,
  PG_workingset,
} from "../phys/page-flags";
import { MS, MTHP_STRIDE, NS } from "../stats/counters";

/** The references a folio has when nothing but its mappings and caches hold it (folio_expected_ref_count). */
export function expectedRefs(k: Kernel, head: number): number {
  const f = k.folios;
  const nr = f.nrPages(head);
  let refs = f.mapcount(head);
  if (f.test(head, PG_swapcache)) refs += nr;
  if (!f.test(head, PG_anon)) {
    const as = k.files.get(f.mapping(head));
    if (as !== undefined && as.pages.get(f.index(head)) === head) refs += nr;
  }
  return refs;
}

/**
 * move_to_new_folio for an unmapped, locked `src` whose contents were
 * copied to `dst`: the new folio takes the old one's place in its mapping
 * and caches (folio_migrate_mapping) and its flags (folio_migrate_flags).
 * A source on the deferred split queue leaves it, and the destination
 * joins it in the same state (migrate_folio_move), so an underused THP stays
 * a shrinker candidate and a partially mapped one stays partially mapped.
 */
export function moveToNewFolio(k: Kernel, src: number, dst: number): void {
  const f = k.folios;
  const queued = f.order(src) > 1 && k.deferredSplit.has(src);
  const partially = queued && f.test(src, PG_partially_mapped);
  migrateMapping(k, src, dst);
  migrateFlags(k, src, dst);
  if (queued) k.deferredSplit.queue(dst, partially);
}

/** __folio_migrate_mapping. */
function migrateMapping(k: Kernel, src: number, dst: number): void {
  const f = k.folios;
  const nr = f.nrPages(src);
  const order = f.order(src);
  // Off the deferred split queue while no one else can reach the folio.
  if (order > 1) k.deferredSplit.unqueue(src);
  f.setMapping(dst, f.mapping(src), f.index(src));
  if (f.test(src, PG_anon)) {
    f.set(dst, PG_anon);
    // The new folio counts in the per-size nr_anon now; the old one leaves it when it is freed.
    if (order > 0) k.mthpStats[order * MTHP_STRIDE + MS.nr_anon]!++;
  }
  if (f.test(src, PG_swapcache)) {
    const off = k.swap.slotOf.get(src)!;
    for (let i = 0; i < nr; i++) k.swap.device!.cache.set(off + i, dst);
    k.swap.slotOf.delete(src);
    k.swap.slotOf.set(dst, off);
    f.clear(src, PG_swapcache);
    f.set(dst, PG_swapcache);
    f.ref(dst, nr);
    f.unref(src, nr);
  } else if (!f.test(src, PG_anon)) {
    const as = k.files.get(f.mapping(src));
    if (as !== undefined && as.pages.get(f.index(src)) === src) {
      for (let i = 0; i < nr; i++) as.pages.set(f.index(src) + i, dst);
      f.ref(dst, nr);
      f.unref(src, nr);
    }
  }
  const sn = k.phys.nidOf(src);
  const dn = k.phys.nidOf(dst);
  if (sn !== dn) {
    // Node statistics of the caches follow the folio to its new node; the mapped counts follow its mappings through the rmap.
    const from = k.phys.nodeStats(sn);
    const to = k.phys.nodeStats(dn);
    if (f.test(dst, PG_swapcache)) {
      from[NS.nr_swapcached]! -= nr;
      to[NS.nr_swapcached]! += nr;
      from[NS.nr_file_pages]! -= nr;
      to[NS.nr_file_pages]! += nr;
    }
    if (!f.test(dst, PG_anon) && f.mapping(dst) !== 0) {
      from[NS.nr_file_pages]! -= nr;
      to[NS.nr_file_pages]! += nr;
      if (f.test(src, PG_swapbacked)) {
        from[NS.nr_shmem]! -= nr;
        to[NS.nr_shmem]! += nr;
      }
    }
  }
}

const MIGRATED_FLAGS = [PG_dirty, PG_referenced, PG_uptodate, PG_active, PG_unevictable, PG_workingset, PG_swapbacked];

/** folio_migrate_flags. */
function migrateFlags(k: Kernel, src: number, dst: number): void {
  const f = k.folios;
  for (const flag of MIGRATED_FLAGS) if (f.test(src, flag)) f.set(dst, flag);
  if (f.test(src, PG_dirty) && !f.test(src, PG_swapbacked)) {
    // The dirty page-cache accounting moves with it.
    const st = k.phys.nodeStats(k.phys.nidOf(src));
    const dt = k.phys.nodeStats(k.phys.nidOf(dst));
    st[NS.nr_dirty]! -= f.nrPages(src);
    dt[NS.nr_dirty]! += f.nrPages(src);
  }
  f.clear(src, PG_dirty | PG_active | PG_referenced | PG_lru);
}
