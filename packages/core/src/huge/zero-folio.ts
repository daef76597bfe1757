import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { MMF_HUGE_ZERO_FOLIO, type Mm } from "../mm/mm";
import { GFP_TRANSHUGE, __GFP_MOVABLE, __GFP_ZERO } from "../phys/gfp";
import { EV } from "../stats/counters";
import { ModelBug } from "../util/errors";

/**
 * The huge zero folio: one PMD-order folio of zeroes that read faults map
 * (special, read-only) instead of allocating. It is allocated on first use;
 * every mm that maps it holds one reference until it exits, and a shrinker
 * frees it when only its own reference is left (huge_zero_refcount).
 */
export class HugeZeroFolio {
  /** Its head pfn, or -1 when not allocated. */
  pfn = -1;
  /** huge_zero_refcount: the shrinker's reference plus one per mm. */
  refcount = 0;

  /** mm_get_huge_zero_folio: the folio's pfn, or -1 when it cannot be allocated (thp_zero_page_alloc_failed). */
  get(k: Kernel, mm: Mm): number {
    if (mm.flags & MMF_HUGE_ZERO_FOLIO) return this.pfn;
    if (this.refcount === 0) {
      const order = k.thp.pmdOrder;
      const pfn = k.folios.alloc(order, (GFP_TRANSHUGE | __GFP_ZERO) & ~__GFP_MOVABLE, mm.nid);
      if (pfn < 0) {
        k.events[EV.thp_zero_page_alloc_failed]!++;
        return -1;
      }
      this.pfn = pfn;
      this.refcount = 1;
      k.events[EV.thp_zero_page_alloc]!++;
    }
    this.refcount++;
    mm.flags |= MMF_HUGE_ZERO_FOLIO;
    return this.pfn;
  }

  /** mm_put_huge_zero_folio at exit. */
  put(mm: Mm): void {
    if ((mm.flags & MMF_HUGE_ZERO_FOLIO) === 0) return;
    mm.flags &= ~MMF_HUGE_ZERO_FOLIO;
    if (--this.refcount < 1) throw new ModelBug("huge zero folio reference count dropped below the shrinker's own");
  }

  /** The shrinker: free the folio when nobody maps it. Returns the pages freed. */
  shrink(k: Kernel): number {
    if (this.refcount !== 1) return 0;
    const pfn = this.pfn;
    this.pfn = -1;
    this.refcount = 0;
    const nr = k.folios.nrPages(pfn);
    folioPut(k, pfn);
    return nr;
  }

  is(pfn: number): boolean {
    return this.pfn >= 0 && pfn === this.pfn;
  }
}
