/**
 * ZONE_DEVICE as the core sees it: physical ranges hot-added by
 * memremap_pages, with struct pages but never in the buddy allocator. Each
 * range belongs to one dev_pagemap; the pgmap itself (its driver, its
 * allocator, its references) lives in a feature package and plugs in
 * through DevPagemap.
 */

/** enum memory_type (numbering starts at 1: 0 is an uninitialised pgmap). */
export const MEMORY_DEVICE_PRIVATE = 1;
export const MEMORY_DEVICE_COHERENT = 2;
export const MEMORY_DEVICE_FS_DAX = 3;
export const MEMORY_DEVICE_GENERIC = 4;
export const MEMORY_DEVICE_PCI_P2PDMA = 5;
export type MemoryType = 1 | 2 | 3 | 4 | 5;

/** The part of struct dev_pagemap the core's generic paths consult (folio->pgmap). */
export interface DevPagemap {
  readonly type: MemoryType;
  /** The range memremap_pages added, in pfns. */
  readonly startPfn: number;
  readonly nrPages: number;
  readonly nid: number;
  /** pgmap->owner: migrate_vma and hmm_range_fault match device-private pages against it. */
  readonly owner: object;
  /**
   * The per-type end of free_zone_device_folio, after the core has done the
   * generic part (mapping, anon-exclusive bits and nr_anon dropped): the
   * folio's refcount reached zero and its pages go back to the driver.
   */
  folioFree(head: number): void;
  /**
   * migrate_device_coherent_folio: move a device-coherent folio to system
   * memory (a long-term pin may not hold it). False when it stays (EBUSY).
   * Without it, such folios cannot be long-term pinned at all.
   */
  migrateToSystem?(head: number): boolean;
}

/** folio_is_longterm_pinnable for a ZONE_DEVICE folio: device-coherent and FS-DAX memory may not be held long term. */
export function zoneDeviceLongtermPinnable(p: DevPagemap): boolean {
  return p.type !== MEMORY_DEVICE_COHERENT && p.type !== MEMORY_DEVICE_FS_DAX;
}

/** Why memremap_pages refused a range: the kernel's errno. */
export type MemremapError = "EINVAL" | "ENXIO" | "ENOMEM";

/** pgmap_array: the pgmaps by pfn range, sorted, for get_dev_pagemap / page_pgmap. */
export class PagemapRanges {
  private list: DevPagemap[] = [];

  /** The pgmap whose range holds `pfn`, or undefined. */
  lookup(pfn: number): DevPagemap | undefined {
    const l = this.list;
    let lo = 0;
    let hi = l.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = l[mid]!;
      if (pfn < p.startPfn) hi = mid - 1;
      else if (pfn >= p.startPfn + p.nrPages) lo = mid + 1;
      else return p;
    }
    return undefined;
  }

  /** Whether [start, start + nr) meets a range already added. */
  overlaps(start: number, nr: number): boolean {
    return this.list.some((p) => start < p.startPfn + p.nrPages && p.startPfn < start + nr);
  }

  add(p: DevPagemap): void {
    this.list = [...this.list, p].sort((a, b) => a.startPfn - b.startPfn);
  }

  remove(p: DevPagemap): boolean {
    const n = this.list.length;
    this.list = this.list.filter((x) => x !== p);
    return this.list.length !== n;
  }

  all(): readonly DevPagemap[] {
    return this.list;
  }

  /** The lowest pfn above every range (where the next range may go). */
  get end(): number {
    let e = 0;
    for (const p of this.list) e = Math.max(e, p.startPfn + p.nrPages);
    return e;
  }
}
