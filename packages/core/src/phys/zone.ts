import { ModelBug } from "../util/errors";
import { type LargeFolios, type Memmap } from "./memmap";
import { FALLBACKS, MIGRATE_MOVABLE, MIGRATE_PCPTYPES, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, type Migratetype } from "./migratetype";
import { ORDER_MASK, ORDER_SHIFT, PGTY_buddy } from "./page-flags";

/** "Device" is ZONE_DEVICE: memory hot-added by memremap_pages, never in the buddy allocator. */
export type ZoneName = "Normal" | "Movable" | "Device";

/** PAGE_ALLOC_COSTLY_ORDER: orders above it are "costly" (no retry loops, no pcp). */
export const PAGE_ALLOC_COSTLY_ORDER = 3;

/**
 * One zone: its buddy free lists (per order and migratetype), free-page
 * counts, watermarks and the per-cpu page lists (one CPU is modelled).
 *
 * Free blocks below pageblock order are linked through their section's
 * next/prev arrays; blocks of pageblock order and above through the
 * per-pageblock arrays, so free memory never forces per-page state.
 */
export class Zone {
  readonly nid: number;
  readonly name: ZoneName;
  /** Global zone index (position in PhysMem.zones). */
  readonly index: number;
  readonly startPfn: number;
  readonly endPfn: number;
  readonly maxOrder: number;
  readonly managedPages: number;
  /** Free list heads and tails, [order * MIGRATE_PCPTYPES + mt], as pfns (-1: empty). */
  private readonly heads: Int32Array;
  private readonly tails: Int32Array;
  /** free_area[order].nr_free per migratetype, [order * MIGRATE_PCPTYPES + mt]. */
  readonly nrFree: Int32Array;
  /** NR_FREE_PAGES: pages in the buddy lists (not the pcp lists). */
  freePages = 0;
  readonly freePagesMt = new Float64Array(MIGRATE_PCPTYPES);
  /** Watermarks in pages. */
  wmarkMin = 0;
  wmarkLow = 0;
  wmarkHigh = 0;
  readonly pcp: PerCpuPages;
  /** Pages currently allocated from this zone to anything (for checks). */
  allocatedPages = 0;

  constructor(
    private readonly memmap: Memmap,
    readonly large: LargeFolios,
    opts: { nid: number; name: ZoneName; index: number; startPfn: number; endPfn: number; maxOrder: number; pageSize: number; managedPages?: number },
  ) {
    this.nid = opts.nid;
    this.name = opts.name;
    this.index = opts.index;
    this.startPfn = opts.startPfn;
    this.endPfn = opts.endPfn;
    this.maxOrder = opts.maxOrder;
    this.managedPages = opts.managedPages ?? opts.endPfn - opts.startPfn;
    const n = (opts.maxOrder + 1) * MIGRATE_PCPTYPES;
    this.heads = new Int32Array(n).fill(-1);
    this.tails = new Int32Array(n).fill(-1);
    this.nrFree = new Int32Array(n);
    // zone_set_pageset_high_and_batch: a zone too small for a batch still gets one.
    this.pcp = new PerCpuPages(Math.max(1, zoneBatchsize(this.managedPages, opts.pageSize)), memmap.pbOrder);
  }

  get spannedPages(): number {
    return this.endPfn - this.startPfn;
  }

  /** Free pages including those cached on the pcp lists (what reclaim heuristics read). */
  get freeIncludingPcp(): number {
    return this.freePages + this.pcp.count;
  }

  // ---- free-list links -------------------------------------------------------

  private next(pfn: number, order: number): number {
    const m = this.memmap;
    return order >= m.pbOrder ? m.pbNext[m.pageblock(pfn)]! : m.section(pfn).next[pfn & m.pbMask]!;
  }

  private setNext(pfn: number, order: number, v: number): void {
    const m = this.memmap;
    if (order >= m.pbOrder) m.pbNext[m.pageblock(pfn)] = v;
    else m.section(pfn).next[pfn & m.pbMask] = v;
  }

  private prev(pfn: number, order: number): number {
    const m = this.memmap;
    return order >= m.pbOrder ? m.pbPrev[m.pageblock(pfn)]! : m.section(pfn).prev[pfn & m.pbMask]!;
  }

  private setPrev(pfn: number, order: number, v: number): void {
    const m = this.memmap;
    if (order >= m.pbOrder) m.pbPrev[m.pageblock(pfn)] = v;
    else m.section(pfn).prev[pfn & m.pbMask] = v;
  }

  /** set_buddy_order + __SetPageBuddy. */
  private markBuddy(pfn: number, order: number): void {
    const m = this.memmap;
    if (order >= m.pbOrder) {
      m.pbFreeOrder[m.pageblock(pfn)] = order;
    } else {
      const s = m.section(pfn);
      s.flags[pfn & m.pbMask] = PGTY_buddy | (order << ORDER_SHIFT);
    }
  }

  private clearBuddy(pfn: number, order: number): void {
    const m = this.memmap;
    if (order >= m.pbOrder) m.pbFreeOrder[m.pageblock(pfn)] = -1;
    else m.section(pfn).flags[pfn & m.pbMask] = 0;
  }

  /** The order of the free block headed at `pfn`, or -1 (page_is_buddy + buddy_order). */
  freeOrderAt(pfn: number): number {
    const m = this.memmap;
    if ((pfn & m.pbMask) === 0) {
      const o = m.pbFreeOrder[m.pageblock(pfn)]!;
      if (o >= 0) return o;
    }
    const s = m.sectionIfAny(pfn);
    if (s === undefined) return -1;
    const f = s.flags[pfn & m.pbMask]!;
    return (f & PGTY_buddy) !== 0 ? (f & ORDER_MASK) >>> ORDER_SHIFT : -1;
  }

  private addToFreeList(pfn: number, order: number, mt: number, toTail: boolean): void {
    const slot = order * MIGRATE_PCPTYPES + mt;
    this.markBuddy(pfn, order);
    if (toTail) {
      const t = this.tails[slot]!;
      this.setNext(pfn, order, -1);
      this.setPrev(pfn, order, t);
      if (t >= 0) this.setNext(t, order, pfn);
      else this.heads[slot] = pfn;
      this.tails[slot] = pfn;
    } else {
      const h = this.heads[slot]!;
      this.setPrev(pfn, order, -1);
      this.setNext(pfn, order, h);
      if (h >= 0) this.setPrev(h, order, pfn);
      else this.tails[slot] = pfn;
      this.heads[slot] = pfn;
    }
    this.nrFree[slot]!++;
  }

  private delFromFreeList(pfn: number, order: number, mt: number): void {
    const slot = order * MIGRATE_PCPTYPES + mt;
    const n = this.next(pfn, order);
    const p = this.prev(pfn, order);
    if (p >= 0) this.setNext(p, order, n);
    else this.heads[slot] = n;
    if (n >= 0) this.setPrev(n, order, p);
    else this.tails[slot] = p;
    this.setNext(pfn, order, -1);
    this.setPrev(pfn, order, -1);
    this.clearBuddy(pfn, order);
    this.nrFree[slot]!--;
  }

  private accountFree(nr: number, mt: number): void {
    this.freePages += nr;
    this.freePagesMt[mt]! += nr;
  }

  migratetypeOf(pfn: number): Migratetype {
    return this.memmap.pbMigratetype[this.memmap.pageblock(pfn)]! as Migratetype;
  }

  private setPageblockMigratetype(pfn: number, order: number, mt: number): void {
    const m = this.memmap;
    const first = m.pageblock(pfn);
    const n = order >= m.pbOrder ? 2 ** (order - m.pbOrder) : 1;
    m.pbMigratetype.fill(mt, first, first + n);
  }

  // ---- freeing ------------------------------------------------------------------

  /** __free_one_page: merge with free buddies up to maxOrder and put the block on its list. */
  freeOne(pfn: number, order: number, mt: number, toTailHint = false): void {
    const m = this.memmap;
    this.accountFree(1 << order, mt);
    let buddyPfn = 0;
    while (order < this.maxOrder) {
      buddyPfn = pfn ^ (1 << order);
      if (buddyPfn < this.startPfn || buddyPfn >= this.endPfn) break;
      if (this.freeOrderAt(buddyPfn) !== order) break;
      let buddyMt = mt;
      if (order >= m.pbOrder) buddyMt = this.migratetypeOf(buddyPfn);
      this.delFromFreeList(buddyPfn, order, buddyMt);
      if (buddyMt !== mt) {
        // The block's sub-blocks go back on this free list: make the buddy's pageblocks match.
        this.freePagesMt[buddyMt]! -= 1 << order;
        this.freePagesMt[mt]! += 1 << order;
        this.setPageblockMigratetype(buddyPfn, order, mt);
      }
      pfn = Math.min(pfn, buddyPfn);
      order++;
    }
    const toTail = toTailHint || this.buddyMergeLikely(pfn, buddyPfn, order);
    this.addToFreeList(pfn, order, mt, toTail);
  }

  /** buddy_merge_likely: the next-higher buddy is free, so keep this block for merging. */
  private buddyMergeLikely(pfn: number, buddyPfn: number, order: number): boolean {
    if (order >= this.maxOrder - 1) return false;
    const higher = Math.min(pfn, buddyPfn);
    const higherBuddy = higher ^ (1 << (order + 1));
    if (higherBuddy < this.startPfn || higherBuddy >= this.endPfn) return false;
    return this.freeOrderAt(higherBuddy) === order + 1;
  }

  // ---- allocating ------------------------------------------------------------------

  /** expand: split a block of `high` down to `low`, returning the upper halves to the free lists. */
  private expand(pfn: number, low: number, high: number, mt: number): void {
    while (high > low) {
      high--;
      this.addToFreeList(pfn + (1 << high), high, mt, false);
    }
  }

  /** __rmqueue_smallest: the smallest free block of `order` or above on `mt`'s lists. */
  private rmqueueSmallest(order: number, mt: number): number {
    for (let o = order; o <= this.maxOrder; o++) {
      const pfn = this.heads[o * MIGRATE_PCPTYPES + mt]!;
      if (pfn < 0) continue;
      this.delFromFreeList(pfn, o, mt);
      this.expand(pfn, order, o, mt);
      this.accountFree(-(1 << order), mt);
      return pfn;
    }
    return -1;
  }

  /** should_try_claim_block. */
  private shouldTryClaim(order: number, mt: number): boolean {
    const pb = this.memmap.pbOrder;
    return order >= pb || order >= pb / 2 || mt === MIGRATE_RECLAIMABLE || mt === MIGRATE_UNMOVABLE;
  }

  private fallbackMt(order: number, mt: number): number {
    for (const f of FALLBACKS[mt]!) if (this.heads[order * MIGRATE_PCPTYPES + f]! >= 0) return f;
    return -1;
  }

  /** __rmqueue_claim: take the largest block of another type and claim its pageblock when enough of it is free or alike. */
  private rmqueueClaim(order: number, mt: number): number {
    const pb = this.memmap.pbOrder;
    for (let o = this.maxOrder; o >= order; o--) {
      if (!this.shouldTryClaim(order, mt)) break;
      const fmt = this.fallbackMt(o, mt);
      if (fmt < 0) continue;
      const pfn = this.heads[o * MIGRATE_PCPTYPES + fmt]!;
      if (o >= pb) {
        this.delFromFreeList(pfn, o, fmt);
        this.accountFree(-(1 << o), fmt);
        this.setPageblockMigratetype(pfn, o, mt);
        this.accountFree(1 << o, mt);
        this.expand(pfn, order, o, mt);
        this.accountFree(-(1 << order), mt);
        return pfn;
      }
      const start = pfn - (pfn % this.memmap.pbPages);
      const { free, movable } = this.countPageblock(start);
      const alike = mt === MIGRATE_MOVABLE ? movable : fmt === MIGRATE_MOVABLE ? this.memmap.pbPages - (free + movable) : 0;
      if (free + alike >= this.memmap.pbPages / 2) {
        this.moveFreepagesBlock(start, fmt, mt);
        return this.rmqueueSmallest(order, mt);
      }
    }
    return -1;
  }

  /** __rmqueue_steal: take a block of another type without claiming its pageblock. */
  private rmqueueSteal(order: number, mt: number): number {
    for (let o = order; o <= this.maxOrder; o++) {
      const fmt = this.fallbackMt(o, mt);
      if (fmt < 0) continue;
      const pfn = this.heads[o * MIGRATE_PCPTYPES + fmt]!;
      this.delFromFreeList(pfn, o, fmt);
      this.expand(pfn, order, o, fmt);
      this.accountFree(-(1 << order), fmt);
      return pfn;
    }
    return -1;
  }

  /** __rmqueue: own lists first, then claim, then steal. */
  rmqueueBuddy(order: number, mt: number): number {
    let pfn = this.rmqueueSmallest(order, mt);
    if (pfn < 0) pfn = this.rmqueueClaim(order, mt);
    if (pfn < 0) pfn = this.rmqueueSteal(order, mt);
    return pfn;
  }

  /** Free and movable pages of a pageblock (prep_move_freepages_block). */
  private countPageblock(start: number): { free: number; movable: number } {
    let free = 0;
    let movable = 0;
    const s = this.memmap.sectionIfAny(start);
    for (let i = 0; i < this.memmap.pbPages; ) {
      const o = this.freeOrderAt(start + i);
      if (o >= 0) {
        free += 2 ** o;
        i += 2 ** o;
        continue;
      }
      if (s !== undefined && this.isMovablePage(start + i)) movable++;
      i++;
    }
    return { free, movable };
  }

  /** Set by PhysMem: whether an allocated page is movable (on the LRU). */
  isMovablePage: (pfn: number) => boolean = () => false;

  /** __move_freepages_block: move a pageblock's free blocks to another type's lists and retag it. */
  private moveFreepagesBlock(start: number, from: number, to: number): void {
    for (let i = 0; i < this.memmap.pbPages; ) {
      const pfn = start + i;
      const o = this.freeOrderAt(pfn);
      if (o >= 0) {
        this.delFromFreeList(pfn, o, from);
        this.addToFreeList(pfn, o, to, false);
        this.freePagesMt[from]! -= 2 ** o;
        this.freePagesMt[to]! += 2 ** o;
        i += 2 ** o;
      } else i++;
    }
    this.setPageblockMigratetype(start, this.memmap.pbOrder, to);
  }

  /** Take a specific free block off the lists, splitting any larger free block containing it (for contiguous allocation). */
  takeFreeRange(pfn: number, order: number): boolean {
    // Find the free block that contains [pfn, pfn + 2^order).
    for (let o = order; o <= this.maxOrder; o++) {
      const head = pfn - (pfn % 2 ** o);
      if (head < this.startPfn) return false;
      const fo = this.freeOrderAt(head);
      if (fo < 0) continue;
      if (fo < order) return false;
      if (head + 2 ** fo < pfn + (1 << order)) return false;
      const mt = this.migratetypeOf(head);
      this.delFromFreeList(head, fo, mt);
      this.accountFree(-(2 ** fo), mt);
      // Give back everything but [pfn, pfn + 2^order).
      let cur = head;
      let co = fo;
      while (co > order) {
        co--;
        const half = 2 ** co;
        if (pfn >= cur + half) {
          this.addToFreeList(cur, co, mt, false);
          this.accountFree(half, mt);
          cur += half;
        } else {
          this.addToFreeList(cur + half, co, mt, false);
          this.accountFree(half, mt);
        }
      }
      return true;
    }
    return false;
  }

  /** Free blocks per order (all migratetypes), as /proc/buddyinfo shows them. */
  buddyinfo(): number[] {
    const out: number[] = [];
    for (let o = 0; o <= this.maxOrder; o++) {
      let n = 0;
      for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) n += this.nrFree[o * MIGRATE_PCPTYPES + mt]!;
      out.push(n);
    }
    return out;
  }

  /** Iterate the free blocks of one list (for checks and pictures). */
  *freeBlocks(order: number, mt: number): Generator<number> {
    for (let p = this.heads[order * MIGRATE_PCPTYPES + mt]!; p >= 0; p = this.next(p, order)) yield p;
  }

  /** __zone_watermark_ok for an allocation of `order` against `mark` pages. */
  watermarkOk(order: number, mark: number): boolean {
    const free = this.freePages - ((1 << order) - 1);
    if (free <= mark) return false;
    if (order === 0) return true;
    for (let o = order; o <= this.maxOrder; o++) {
      for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) if (this.heads[o * MIGRATE_PCPTYPES + mt]! >= 0) return true;
    }
    return false;
  }

  /** The highest order with a free block, or -1. */
  largestFreeOrder(): number {
    for (let o = this.maxOrder; o >= 0; o--) {
      for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) if (this.heads[o * MIGRATE_PCPTYPES + mt]! >= 0) return o;
    }
    return -1;
  }

  /** Check that a pfn lies in the zone. */
  contains(pfn: number): boolean {
    return pfn >= this.startPfn && pfn < this.endPfn;
  }

  assertIn(pfn: number): void {
    if (!this.contains(pfn)) throw new ModelBug(`pfn ${pfn} is not in zone ${this.nid}/${this.name}`);
  }
}

/**
 * zone_batchsize: about 0.1% of the zone or 1MiB, whichever is smaller,
 * divided by four and clamped to 2^n - 1.
 */
export function zoneBatchsize(managedPages: number, pageSize: number): number {
  let batch = Math.min(Math.floor(managedPages / 1024), Math.floor(2 ** 20 / pageSize));
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  return 2 ** Math.floor(Math.log2(batch + Math.floor(batch / 2))) - 1;
}

/**
 * The per-cpu page lists of a zone for one CPU: order-0..3 and pageblock-order
 * pages per migratetype, freed to the head, refilled at the tail by
 * rmqueue_bulk, drained from the tail in batches when over `high`.
 * The kernel's dynamic pcp->high tuning is not modelled: `high` is fixed at
 * the value zone_highsize() gives a one-CPU node.
 */
export class PerCpuPages {
  /** Lists indexed by order_to_pindex: [mt * (costly+2) + (order <= 3 ? order : costly+1)]. */
  readonly lists: PcpList[];
  count = 0;
  high: number;
  constructor(
    readonly batch: number,
    readonly pbOrder: number,
  ) {
    this.lists = Array.from({ length: MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 2) }, () => new PcpList());
    this.high = batch * 4;
  }

  /** Whether an order is cached on the pcp lists (pcp_allowed_order). */
  allowed(order: number): boolean {
    return order <= PAGE_ALLOC_COSTLY_ORDER || order === this.pbOrder;
  }

  pindex(order: number, mt: number): number {
    const o = order <= PAGE_ALLOC_COSTLY_ORDER ? order : PAGE_ALLOC_COSTLY_ORDER + 1;
    return mt * (PAGE_ALLOC_COSTLY_ORDER + 2) + o;
  }

  orderOf(pindex: number): number {
    const o = pindex % (PAGE_ALLOC_COSTLY_ORDER + 2);
    return o <= PAGE_ALLOC_COSTLY_ORDER ? o : this.pbOrder;
  }
}

/**
 * One pcp list as a ring of pfns, iterated from its tail (the oldest: bulk
 * frees take from here) to its head (the hottest: allocations take from
 * and frees go to here), so that both ends cost O(1).
 */
export class PcpList implements Iterable<number> {
  private buf = new Uint32Array(64);
  /** Index in `buf` of the tail. */
  private tail = 0;
  length = 0;

  /** list_add: onto the head. */
  pushHead(pfn: number): void {
    if (this.length === this.buf.length) this.grow();
    this.buf[(this.tail + this.length) & (this.buf.length - 1)] = pfn;
    this.length++;
  }

  /** The head's pfn, taken off (-1 when empty). */
  popHead(): number {
    if (this.length === 0) return -1;
    this.length--;
    return this.buf[(this.tail + this.length) & (this.buf.length - 1)]!;
  }

  /** The tail's pfn, left on (-1 when empty). */
  peekTail(): number {
    return this.length === 0 ? -1 : this.buf[this.tail]!;
  }

  /** The tail's pfn, taken off (-1 when empty). */
  popTail(): number {
    if (this.length === 0) return -1;
    const pfn = this.buf[this.tail]!;
    this.tail = (this.tail + 1) & (this.buf.length - 1);
    this.length--;
    return pfn;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.length; i++) yield this.buf[(this.tail + i) & (this.buf.length - 1)]!;
  }

  private grow(): void {
    const next = new Uint32Array(this.buf.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.buf[(this.tail + i) & (this.buf.length - 1)]!;
    this.buf = next;
    this.tail = 0;
  }
}
