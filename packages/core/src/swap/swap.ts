import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { PG_dirty, PG_swapcache } from "../phys/page-flags";
import { NS } from "../stats/counters";
import { ModelBug } from "../util/errors";
import { SwapDevice } from "./device";

/**
 * Swap: one device (type 0) and the swap cache's folio side. A folio in the
 * swap cache has PG_swapcache, its first slot recorded as folio->swap, and one
 * reference per page held by the cache.
 */
export class Swap {
  readonly device: SwapDevice | null;
  /** folio->swap: the first slot of each swap-cache folio, by head pfn. */
  readonly slotOf = new Map<number, number>();

  constructor(
    private readonly k: Kernel,
    pages: number,
  ) {
    this.device = pages > 1 ? new SwapDevice(0, pages, 2 ** k.config.pbOrder, k.config.pbOrder, k.config.swapKind === "zram") : null;
  }

  get totalPages(): number {
    return this.device === null ? 0 : this.device.pages - 1;
  }

  get freePages(): number {
    return this.device === null ? 0 : this.device.free;
  }

  /** add_to_swap_cache: put the folio in the cache at slots starting `off`. */
  addToCache(head: number, off: number): void {
    const dev = this.must();
    const f = this.k.folios;
    const nr = f.nrPages(head);
    dev.addToCache(off, nr, head);
    f.ref(head, nr);
    f.set(head, PG_swapcache);
    this.slotOf.set(head, off);
    // NR_FILE_PAGES counts the swap cache too (meminfo's Cached subtracts it again).
    const st = this.k.phys.nodeStats(this.k.phys.nidOf(head));
    st[NS.nr_swapcached]! += nr;
    st[NS.nr_file_pages]! += nr;
  }

  /** delete_from_swap_cache: the folio leaves the cache and drops the cache's references. */
  deleteFromCache(head: number): void {
    const dev = this.must();
    const f = this.k.folios;
    const off = this.slotOf.get(head);
    if (off === undefined) throw new ModelBug(`folio ${head} is not in the swap cache`);
    const nr = f.nrPages(head);
    dev.deleteFromCache(off, nr);
    this.slotOf.delete(head);
    f.clear(head, PG_swapcache);
    const st = this.k.phys.nodeStats(this.k.phys.nidOf(head));
    st[NS.nr_swapcached]! -= nr;
    st[NS.nr_file_pages]! -= nr;
    folioPut(this.k, head, nr);
  }

  /**
   * folio_free_swap: if no swap entry references the folio's slots any more,
   * take it out of the swap cache (it keeps its contents in memory and
   * becomes dirty, as its swap copy is gone).
   */
  folioFreeSwap(head: number): boolean {
    const f = this.k.folios;
    if (!f.test(head, PG_swapcache)) return false;
    const off = this.slotOf.get(head)!;
    const nr = f.nrPages(head);
    const dev = this.must();
    for (let j = 0; j < nr; j++) if (dev.count(off + j) > 0) return false;
    f.set(head, PG_dirty);
    this.deleteFromCache(head);
    return true;
  }

  /** vm_swap_full: more than half the swap space is in use. */
  get full(): boolean {
    const dev = this.device;
    return dev !== null && dev.free * 2 < dev.pages - 1;
  }

  /**
   * free_swap_and_cache_nr: drop one entry reference from each slot; a folio
   * left caching slots nobody references is let go when it is unmapped or
   * swap is getting full (__try_to_reclaim_swap with TTRS_UNMAPPED | TTRS_FULL).
   */
  freeSwapAndCache(off: number, nr: number): void {
    const dev = this.must();
    dev.put(off, nr);
    for (let j = 0; j < nr; j++) {
      if (dev.count(off + j) !== 0 || !dev.hasCache(off + j)) continue;
      const head = dev.lookup(off + j);
      if (head >= 0 && (!this.k.folios.mapped(head) || this.full)) this.folioFreeSwap(head);
    }
  }

  private must(): SwapDevice {
    if (this.device === null) throw new ModelBug("no swap device");
    return this.device;
  }
}
