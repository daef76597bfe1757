import type { Kernel } from "../kernel/kernel";
import { PG_anon, PG_anon_exclusive, PG_lru, PG_reserved } from "../phys/page-flags";
import { MEMORY_DEVICE_COHERENT, MEMORY_DEVICE_PRIVATE } from "../phys/zone-device";
import { MS, MTHP_STRIDE } from "../stats/counters";
import { ModelBug } from "../util/errors";

/**
 * folio_put: drop `n` references; at zero, take the folio off its LRU list
 * and any queue, and give its pages back to the allocator.
 */
export function folioPut(k: Kernel, head: number, n = 1): void {
  const f = k.folios;
  const left = f.unref(head, n);
  if (left > 0) return;
  if (left < 0) throw new ModelBug(`folio ${head} refcount went negative (${left})`);
  const flags = f.flags(head);
  if (k.phys.isZoneDevice(head)) {
    freeZoneDeviceFolio(k, head, flags);
    return;
  }
  if (flags & PG_reserved) throw new ModelBug(`freeing reserved page ${head}`);
  if (f.mapped(head)) throw new ModelBug(`freeing folio ${head} that is still mapped ${f.mapcount(head)} times`);
  if (flags & PG_lru) k.lru.del(head);
  const order = f.order(head);
  if (order > 0) {
    // __folio_put: off the deferred split queue first.
    k.largeFolioFreed(head);
    if (flags & PG_anon) k.mthpStats[order * MTHP_STRIDE + MS.nr_anon]!--;
  }
  f.free(head);
}

/**
 * free_zone_device_folio: a ZONE_DEVICE folio never reaches the buddy
 * allocator. The generic part runs here (anon-exclusive bits and the
 * order's nr_anon go; device-private and coherent folios lose their
 * mapping), then its pgmap takes the pages back (the driver's folio_free,
 * or the reset to the type's idle refcount).
 */
function freeZoneDeviceFolio(k: Kernel, head: number, flags: number): void {
  const f = k.folios;
  const pgmap = k.phys.pgmapOf(head);
  if (pgmap === undefined) throw new ModelBug(`freeing ZONE_DEVICE folio ${head} that belongs to no pgmap`);
  if (f.mapped(head)) throw new ModelBug(`freeing device folio ${head} that is still mapped ${f.mapcount(head)} times`);
  const order = f.order(head);
  if (flags & PG_anon) {
    for (let i = 0; i < 1 << order; i++) f.pageSet(head + i, PG_anon_exclusive, false);
    if (order > 0) k.mthpStats[order * MTHP_STRIDE + MS.nr_anon]!--;
    f.clear(head, PG_anon);
  }
  if (pgmap.type === MEMORY_DEVICE_PRIVATE || pgmap.type === MEMORY_DEVICE_COHERENT) f.setMapping(head, 0, 0);
  pgmap.folioFree(head);
}
