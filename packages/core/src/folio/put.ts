import type { Kernel } from "../kernel/kernel";
import { PG_anon, PG_lru, PG_reserved } from "../phys/page-flags";
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
