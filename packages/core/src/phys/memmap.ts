import { ModelBug } from "../util/errors";
import { PG_head, PG_tail, flagOrder } from "./page-flags";

/**
 * Per-page state for one pageblock, materialised the first time a page in it
 * needs page-level state (it holds an order-0 or small large folio, a page
 * table, or a free block below pageblock order). Struct of arrays, indexed by
 * pfn & (pageblock pages - 1).
 *
 * For an order-0 folio every field is its own. For a large folio of a lower
 * order than a pageblock (mTHP) the head's structure bits live here, the
 * folio-wide fields live in its large-folio row, and mapcount/flags/tag stay
 * per page here.
 */
export class MemSection {
  /** Page flags, page type and compound structure (page-flags.ts). */
  readonly flags: Uint32Array;
  /** Folio refcount (order-0 folios and table pages). */
  readonly refcount: Int32Array;
  /** Per-page mapcount: the kernel's page->_mapcount + 1. */
  readonly mapcount: Int32Array;
  /** Folio mapping id: an anon_vma or an address_space (0: none). For a large head: large-folio row id + 1. */
  readonly mapping: Int32Array;
  /** Folio index (page offset in its mapping), modulo 2^32. */
  readonly index: Uint32Array;
  /** LRU list or buddy free-list links, as pfns (-1: none). */
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Page contents: a 32-bit tag writes set. */
  readonly tag: Uint32Array;

  constructor(pages: number) {
    // One buffer for all eight words: one allocation, and one buffer object per section instead of eight.
    const b = new ArrayBuffer(pages * 4 * 8);
    this.flags = new Uint32Array(b, 0, pages);
    this.refcount = new Int32Array(b, pages * 4, pages);
    this.mapcount = new Int32Array(b, pages * 8, pages);
    this.mapping = new Int32Array(b, pages * 12, pages);
    this.index = new Uint32Array(b, pages * 16, pages);
    this.next = new Int32Array(b, pages * 20, pages).fill(-1);
    this.prev = new Int32Array(b, pages * 24, pages).fill(-1);
    this.tag = new Uint32Array(b, pages * 28, pages);
  }
}

/** Bytes of model heap one page of a materialised section costs. */
export const SECTION_BYTES_PER_PAGE = 32;

/**
 * The memmap of the whole machine: a directory of pageblocks, each either
 * unmaterialised or a MemSection, plus per-pageblock arrays sized by the
 * machine (a few bytes per pageblock) that carry what blocks of pageblock
 * order and above need without per-page state: their free-list links and
 * order, their migratetype, and the large folio covering them.
 */
export class Memmap {
  readonly pbOrder: number;
  readonly pbPages: number;
  readonly pbMask: number;
  /** log2(pbPages): pfns stay below 2^32, so a shift finds a pfn's pageblock. */
  readonly pbShift: number;
  /** Pageblocks the memmap covers; grows when ZONE_DEVICE ranges are added above RAM (growTo). */
  nrPageblocks: number;
  readonly startPfn: number;
  endPfn: number;
  private readonly sections: (MemSection | undefined)[];
  /** Free-list links of free blocks of order >= pbOrder, as pfns. */
  pbNext: Int32Array;
  pbPrev: Int32Array;
  /** Order of the free block headed at this pageblock, or -1. */
  pbFreeOrder: Int8Array;
  /** Migratetype of the pageblock. */
  pbMigratetype: Uint8Array;
  /** Zone index of the pageblock. */
  pbZone: Uint8Array;
  /** Large-folio row id + 1 of the folio of order >= pbOrder covering this pageblock (0: none). */
  pbLarge: Int32Array;
  private materialised = 0;
  /**
   * While the incremental checker records an operation: a mark per
   * pageblock whose section was handed out (every write to page state goes
   * through section()), and the pageblocks marked, in order.
   */
  touched: Uint8Array | null = null;
  readonly touchedList: number[] = [];

  constructor(startPfn: number, endPfn: number, pbOrder: number) {
    this.pbOrder = pbOrder;
    this.pbPages = 2 ** pbOrder;
    this.pbMask = this.pbPages - 1;
    this.pbShift = pbOrder;
    if (endPfn > 2 ** 32) throw new ModelBug(`memory up to pfn ${endPfn} is beyond the 2^32 pages the memmap indexes`);
    if (startPfn % this.pbPages !== 0 || endPfn % this.pbPages !== 0) {
      throw new ModelBug(`memory [${startPfn}, ${endPfn}) is not pageblock aligned`);
    }
    this.startPfn = startPfn;
    this.endPfn = endPfn;
    this.nrPageblocks = endPfn / this.pbPages;
    this.sections = new Array<MemSection | undefined>(this.nrPageblocks);
    this.pbNext = new Int32Array(this.nrPageblocks).fill(-1);
    this.pbPrev = new Int32Array(this.nrPageblocks).fill(-1);
    this.pbFreeOrder = new Int8Array(this.nrPageblocks).fill(-1);
    this.pbMigratetype = new Uint8Array(this.nrPageblocks);
    this.pbZone = new Uint8Array(this.nrPageblocks);
    this.pbLarge = new Int32Array(this.nrPageblocks);
  }

  /**
   * Extend the memmap to `endPfn` (memory hotplug's sparse_add_section for a
   * ZONE_DEVICE range): the per-pageblock arrays are reallocated, so no hot
   * path may hold on to them across an operation that adds device memory.
   */
  growTo(endPfn: number): void {
    if (endPfn <= this.endPfn) return;
    if (endPfn > 2 ** 32) throw new ModelBug(`memory up to pfn ${endPfn} is beyond the 2^32 pages the memmap indexes`);
    if (endPfn % this.pbPages !== 0) throw new ModelBug(`memmap end ${endPfn} is not pageblock aligned`);
    const n = endPfn / this.pbPages;
    const grow = <T extends Int32Array | Int8Array | Uint8Array>(a: T, fill: number): T => {
      const b = new (a.constructor as new (len: number) => T)(n);
      b.set(a);
      if (fill !== 0) b.fill(fill, a.length);
      return b;
    };
    this.pbNext = grow(this.pbNext, -1);
    this.pbPrev = grow(this.pbPrev, -1);
    this.pbFreeOrder = grow(this.pbFreeOrder, -1);
    this.pbMigratetype = grow(this.pbMigratetype, 0);
    this.pbZone = grow(this.pbZone, 0);
    this.pbLarge = grow(this.pbLarge, 0);
    // The incremental checker's record of touched pageblocks covers the new ones too.
    if (this.touched !== null) this.touched = grow(this.touched, 0);
    this.sections.length = n;
    this.nrPageblocks = n;
    this.endPfn = endPfn;
  }

  /** The section of `pfn`, materialising it. */
  section(pfn: number): MemSection {
    const pb = pfn >>> this.pbShift;
    const t = this.touched;
    if (t !== null && t[pb] === 0) {
      t[pb] = 1;
      this.touchedList.push(pb);
    }
    let s = this.sections[pb];
    if (s === undefined) {
      s = new MemSection(this.pbPages);
      this.sections[pb] = s;
      this.materialised++;
    }
    return s;
  }

  /** The section of `pfn` if it has been materialised. */
  sectionIfAny(pfn: number): MemSection | undefined {
    return this.sections[pfn >>> this.pbShift];
  }

  /** Visit every materialised section with its first pfn. */
  forEachSection(fn: (s: MemSection, firstPfn: number) => void): void {
    for (let pb = 0; pb < this.sections.length; pb++) {
      const s = this.sections[pb];
      if (s !== undefined) fn(s, pb * this.pbPages);
    }
  }

  /** Number of materialised sections (for footprint figures). */
  get materialisedSections(): number {
    return this.materialised;
  }

  pageblock(pfn: number): number {
    return pfn >>> this.pbShift;
  }

  /** The page flags of `pfn` (0 when its section was never materialised). */
  pageFlags(pfn: number): number {
    const s = this.sections[pfn >>> this.pbShift];
    return s === undefined ? 0 : s.flags[pfn & this.pbMask]!;
  }

  /**
   * The head pfn of the folio containing `pfn`, for an allocated page.
   * Large folios of pageblock order and above are found through their pageblock;
   * smaller ones through the order recorded in each tail page.
   */
  folioHead(pfn: number, large: LargeFolios): number {
    const id = this.pbLarge[pfn >>> this.pbShift]!;
    if (id !== 0) return large.head[id - 1]!;
    const f = this.pageFlags(pfn);
    if ((f & PG_tail) === 0) return pfn;
    const size = 2 ** flagOrder(f);
    return pfn - (pfn % size);
  }

  /** Row id + 1 of the large folio headed at `head`, or 0 for an order-0 folio. */
  largeId(head: number): number {
    const id = this.pbLarge[head >>> this.pbShift]!;
    if (id !== 0) return id;
    const s = this.sections[head >>> this.pbShift];
    if (s === undefined) return 0;
    const i = head & this.pbMask;
    return (s.flags[i]! & PG_head) !== 0 ? s.mapping[i]! : 0;
  }
}

/** How a large folio's page contents are held without a word per page until pages diverge. */
export type FolioContents =
  /** Page i holds mixTag(seed, baseIndex + i). */
  | { readonly kind: "pattern"; readonly seed: number; readonly base: number }
  /** One tag per page. */
  | { readonly kind: "pages"; readonly tags: Uint32Array };

/**
 * Rows for every folio of order >= 1: the folio-wide fields the kernel keeps
 * in a large folio's head and first tail pages. Growable struct of arrays;
 * freed rows are reused.
 */
export class LargeFolios {
  private cap = 0;
  private used = 0;
  private live = 0;
  private freeIds: number[] = [];
  head = new Int32Array(0);
  order = new Uint8Array(0);
  flags = new Uint32Array(0);
  refcount = new Int32Array(0);
  mapping = new Int32Array(0);
  index = new Uint32Array(0);
  lruNext = new Int32Array(0);
  lruPrev = new Int32Array(0);
  /** _entire_mapcount + 1: PMD/PUD mappings of the whole folio. */
  entireMapcount = new Int32Array(0);
  /** _large_mapcount + 1: every mapping (one per PTE, one per PMD/PUD). */
  largeMapcount = new Int32Array(0);
  /** _nr_pages_mapped: pages mapped by PTEs (ENTIRELY_MAPPED is kept separately via entireMapcount). */
  nrPagesMapped = new Int32Array(0);
  /** _pincount. */
  pincount = new Int32Array(0);
  /** CONFIG_MM_ID: the two mm ids tracked and their mapcounts; bit 0 of mmShared: maybe mapped shared. */
  mmId0 = new Int32Array(0);
  mmId1 = new Int32Array(0);
  mmMapcount0 = new Int32Array(0);
  mmMapcount1 = new Int32Array(0);
  mmShared = new Uint8Array(0);
  /** Deferred split queue links (row ids + 1; 0 none). */
  deferredNext = new Int32Array(0);
  deferredPrev = new Int32Array(0);
  /** Per-page state of folios of pageblock order and above, allocated when first needed. */
  pageMapcount: (Int32Array | undefined)[] = [];
  pageFlags: (Uint32Array | undefined)[] = [];
  /** Flags of the head page of such folios (so a PMD-mapped folio needs no per-page array). */
  headPageFlags = new Uint32Array(0);
  contents: (FolioContents | undefined)[] = [];

  get count(): number {
    return this.live;
  }

  /** A new row for a folio of `order` headed at `head`; returns its id + 1. */
  alloc(head: number, order: number): number {
    let id = this.freeIds.pop();
    if (id === undefined) {
      id = this.used++;
      if (id >= this.cap) this.grow();
    }
    this.live++;
    this.head[id] = head;
    this.order[id] = order;
    this.flags[id] = 0;
    this.refcount[id] = 0;
    this.mapping[id] = 0;
    this.index[id] = 0;
    this.lruNext[id] = -1;
    this.lruPrev[id] = -1;
    this.entireMapcount[id] = 0;
    this.largeMapcount[id] = 0;
    this.nrPagesMapped[id] = 0;
    this.pincount[id] = 0;
    this.mmId0[id] = 0;
    this.mmId1[id] = 0;
    this.mmMapcount0[id] = 0;
    this.mmMapcount1[id] = 0;
    this.mmShared[id] = 0;
    this.deferredNext[id] = 0;
    this.deferredPrev[id] = 0;
    this.headPageFlags[id] = 0;
    this.pageMapcount[id] = undefined;
    this.pageFlags[id] = undefined;
    this.contents[id] = undefined;
    return id + 1;
  }

  free(id1: number): void {
    const id = id1 - 1;
    this.head[id] = -1;
    this.pageMapcount[id] = undefined;
    this.pageFlags[id] = undefined;
    this.contents[id] = undefined;
    this.freeIds.push(id);
    this.live--;
  }

  private grow(): void {
    const cap = Math.max(64, this.cap * 2);
    const g = <T extends Int32Array | Uint32Array | Uint8Array>(a: T, fill = 0): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      if (fill !== 0) b.fill(fill, a.length);
      return b;
    };
    this.head = g(this.head, -1);
    this.order = g(this.order);
    this.flags = g(this.flags);
    this.refcount = g(this.refcount);
    this.mapping = g(this.mapping);
    this.index = g(this.index);
    this.lruNext = g(this.lruNext, -1);
    this.lruPrev = g(this.lruPrev, -1);
    this.entireMapcount = g(this.entireMapcount);
    this.largeMapcount = g(this.largeMapcount);
    this.nrPagesMapped = g(this.nrPagesMapped);
    this.pincount = g(this.pincount);
    this.mmId0 = g(this.mmId0);
    this.mmId1 = g(this.mmId1);
    this.mmMapcount0 = g(this.mmMapcount0);
    this.mmMapcount1 = g(this.mmMapcount1);
    this.mmShared = g(this.mmShared);
    this.deferredNext = g(this.deferredNext);
    this.deferredPrev = g(this.deferredPrev);
    this.headPageFlags = g(this.headPageFlags);
    this.cap = cap;
  }
}
