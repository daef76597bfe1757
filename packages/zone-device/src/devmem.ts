import { PG_anon, PG_locked, PG_dirty, type Kernel } from "@hugemm/core";
import type { Pagemap } from "./pgmap";

/**
 * A device's own memory allocator over its pgmap (test_hmm's free page and
 * free folio lists): free PMD-sized blocks and free single pages, each a
 * LIFO stack. A single page is taken from the free pages, or else by
 * breaking a free block; a THP takes a whole free block. Freed THPs go
 * back as blocks, freed pages as pages (the driver does not coalesce).
 */
export class DeviceMemory {
  private readonly blocks: number[] = [];
  private readonly pages: number[] = [];
  /** HMM_DMIRROR_FLAG_FAIL_ALLOC: the next allocation fails, once. */
  failNext = false;
  /** Pages allocated to folios now. */
  allocated = 0;
  /** The folios allocated now, by head pfn (what eviction must move out). */
  readonly folios = new Set<number>();

  constructor(
    readonly k: Kernel,
    readonly pgmap: Pagemap,
    readonly thpOrder: number,
  ) {
    const n = 2 ** thpOrder;
    // Highest blocks first, so that the lowest block is handed out first.
    for (let pfn = pgmap.startPfn + pgmap.nrPages - n; pfn >= pgmap.startPfn; pfn -= n) this.blocks.push(pfn);
  }

  get freePages(): number {
    return this.blocks.length * 2 ** this.thpOrder + this.pages.length;
  }

  /**
   * dmirror_devmem_alloc_page + zone_device_folio_init: a locked folio of
   * `order` (0 or the THP order) with refcount 1, holding one pgmap
   * reference per page; -1 when the device has none free or fails on purpose.
   */
  alloc(order: number): number {
    if (this.failNext) {
      this.failNext = false;
      return -1;
    }
    if (this.pgmap.dead) return -1;
    let pfn: number;
    if (order === 0) {
      if (this.pages.length === 0) {
        const b = this.blocks.pop();
        if (b === undefined) return -1;
        for (let i = 2 ** this.thpOrder - 1; i >= 0; i--) this.pages.push(b + i);
      }
      pfn = this.pages.pop()!;
    } else {
      const b = this.blocks.pop();
      if (b === undefined) return -1;
      pfn = b;
    }
    const f = this.k.folios;
    f.prep(pfn, order);
    f.set(pfn, PG_locked);
    this.pgmap.refs += 2 ** order;
    this.allocated += 2 ** order;
    this.folios.add(pfn);
    return pfn;
  }

  /** ops->folio_free: the pages come back to the lists and drop their pgmap references. */
  free(head: number): void {
    const f = this.k.folios;
    f.clear(head, PG_anon | PG_dirty | PG_locked);
    this.folios.delete(head);
    const order = f.unprep(head);
    const n = 2 ** order;
    if (order === this.thpOrder) this.blocks.push(head);
    else for (let i = n - 1; i >= 0; i--) this.pages.push(head + i);
    this.pgmap.refs -= n;
    this.allocated -= n;
  }

  /** Whether `pfn` is on a free list (for the checker). */
  isFree(pfn: number): boolean {
    const n = 2 ** this.thpOrder;
    return this.blocks.includes(pfn - ((pfn - this.pgmap.startPfn) % n)) || this.pages.includes(pfn);
  }
}
