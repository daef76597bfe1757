import { __GFP_ZERO } from "../phys/gfp";
import type { FolioContents, LargeFolios, Memmap, MemSection } from "../phys/memmap";
import {
  FOLIO_FLAGS,
  PG_active,
  PG_anon,
  PG_anon_exclusive,
  PG_dirty,
  PG_hwpoison,
  PG_locked,
  PG_mlocked,
  PG_referenced,
  PG_swapbacked,
  PG_swapcache,
  PG_unevictable,
  PG_uptodate,
  PG_workingset,
  ORDER_SHIFT,
  PG_allocated,
  PG_head,
  PG_lru,
  PG_tail,
  PGTY_table,
  PGTY_zero,
  flagOrder,
} from "../phys/page-flags";
import type { PhysMem } from "../phys/phys";
import { ModelBug } from "../util/errors";
import { mixTag } from "./contents";

/** The folio flags a split copies to every new folio (__split_folio_to_order), plus the anon mark of the mapping. */
const SPLIT_COPY_FLAGS = PG_referenced | PG_swapbacked | PG_swapcache | PG_mlocked | PG_uptodate | PG_active | PG_workingset | PG_locked | PG_unevictable | PG_dirty | PG_anon;

/**
 * Folios over the memmap. A folio is named by its head pfn. Order-0 folios
 * keep everything in their section; larger folios keep their folio-wide
 * fields in a large-folio row, and below pageblock order their per-page
 * fields in their section; at pageblock order and above the per-page fields
 * are in the row too, allocated only when a page needs them, so a folio
 * mapped whole costs O(1).
 */
export class Folios {
  readonly memmap: Memmap;
  readonly large: LargeFolios;
  private readonly pbOrder: number;
  private readonly pbMask: number;

  constructor(readonly phys: PhysMem) {
    this.memmap = phys.memmap;
    this.large = phys.large;
    this.pbOrder = this.memmap.pbOrder;
    this.pbMask = this.memmap.pbMask;
    phys.isMovable = (pfn) => this.isOnLru(this.head(pfn));
  }

  // ---- allocation ---------------------------------------------------------

  /**
   * folio_alloc: a folio of 2^order pages with refcount 1 and zeroed contents,
   * or -1. Large folios get a row (and are compound).
   */
  alloc(order: number, gfp: number, nid = 0): number {
    const pfn = this.phys.allocPages(order, gfp, nid);
    if (pfn < 0) return -1;
    this.prep(pfn, order);
    if (gfp & __GFP_ZERO) this.zero(pfn);
    return pfn;
  }

  /** prep_new_page + prep_compound_page on a block just taken from the allocator. */
  prep(pfn: number, order: number): void {
    const m = this.memmap;
    if (order === 0) {
      const s = m.section(pfn);
      const i = pfn & this.pbMask;
      s.flags[i] = PG_allocated;
      s.refcount[i] = 1;
      s.mapcount[i] = 0;
      s.mapping[i] = 0;
      s.index[i] = 0;
      s.tag[i] = 0;
      return;
    }
    const id = this.large.alloc(pfn, order);
    this.large.refcount[id - 1] = 1;
    if (order >= this.pbOrder) {
      const first = m.pageblock(pfn);
      m.pbLarge.fill(id, first, first + (1 << (order - this.pbOrder)));
      return;
    }
    const s = m.section(pfn);
    const i = pfn & this.pbMask;
    const n = 1 << order;
    s.flags[i] = PG_allocated | PG_head | (order << ORDER_SHIFT);
    s.mapping[i] = id;
    for (let j = 1; j < n; j++) {
      s.flags[i + j] = PG_allocated | PG_tail | (order << ORDER_SHIFT);
      s.mapping[i + j] = 0;
    }
    s.refcount.fill(0, i, i + n);
    s.mapcount.fill(0, i, i + n);
    s.tag.fill(0, i, i + n);
  }

  /** Page contents start zeroed (clear_highpage / folio_zero_user). */
  zero(head: number): void {
    const id = this.memmap.largeId(head);
    if (id === 0) {
      this.memmap.section(head).tag[head & this.pbMask] = 0;
      return;
    }
    const order = this.large.order[id - 1]!;
    if (order >= this.pbOrder) {
      this.large.contents[id - 1] = undefined;
      return;
    }
    const s = this.memmap.section(head);
    const i = head & this.pbMask;
    s.tag.fill(0, i, i + (1 << order));
  }

  /** Return a folio whose refcount reached zero to the allocator (free_frozen_pages). */
  free(head: number): void {
    const order = this.unprep(head);
    this.phys.freePages(head, order);
  }

  /**
   * The memmap half of freeing: the pages of the unreferenced, unmapped
   * folio at `head` stop being a folio (its large row goes). Returns its
   * order. ZONE_DEVICE drivers use it alone: their pages go back to the
   * driver, not to the buddy allocator.
   */
  unprep(head: number): number {
    const m = this.memmap;
    const id = m.largeId(head);
    if (id === 0) {
      const s = m.section(head);
      const i = head & this.pbMask;
      if (s.refcount[i] !== 0 || s.mapcount[i] !== 0 || (s.flags[i]! & PG_lru) !== 0) {
        throw new ModelBug(`freeing pfn ${head} with refcount ${s.refcount[i]}, mapcount ${s.mapcount[i]}, flags 0x${s.flags[i]!.toString(16)}`);
      }
      s.flags[i] = 0;
      s.mapping[i] = 0;
      return 0;
    }
    const order = this.large.order[id - 1]!;
    if (order >= this.pbOrder) {
      const first = m.pageblock(head);
      m.pbLarge.fill(0, first, first + (1 << (order - this.pbOrder)));
    } else {
      const s = m.section(head);
      const i = head & this.pbMask;
      const n = 1 << order;
      s.flags.fill(0, i, i + n);
      s.mapping.fill(0, i, i + n);
      s.mapcount.fill(0, i, i + n);
    }
    this.large.free(id);
    return order;
  }

  /**
   * __split_folio_to_order on the memmap: the pages of the (unmapped, frozen)
   * large folio at `head` become the folios `pieces` ([head pfn, order],
   * naturally aligned, covering it in order). Each new folio takes the
   * folio-wide flags the kernel copies, the mapping, and its own index;
   * per-page flags, mapcounts and contents stay with their pages. Refcounts
   * start at zero (the caller unfreezes them).
   */
  splitInto(head: number, pieces: readonly (readonly [number, number])[]): void {
    const m = this.memmap;
    const L = this.large;
    const id = m.largeId(head);
    if (id === 0) throw new ModelBug(`splitting order-0 folio ${head}`);
    const r = id - 1;
    const oldOrder = L.order[r]!;
    const n = 1 << oldOrder;
    const flags = L.flags[r]! & SPLIT_COPY_FLAGS;
    const mapping = L.mapping[r]!;
    const index = L.index[r]!;
    const perFlags = new Uint32Array(n);
    const perMap = new Int32Array(n);
    const tags = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      perFlags[i] = this.pageTest(head + i, PG_anon_exclusive) ? PG_anon_exclusive : 0;
      if (this.pageTest(head + i, PG_hwpoison)) perFlags[i]! |= PG_hwpoison;
      perMap[i] = this.pageMapcount(head + i);
      tags[i] = this.readTag(head + i);
    }
    const oldContents = L.contents[r];
    if (oldOrder >= this.pbOrder) m.pbLarge.fill(0, m.pageblock(head), m.pageblock(head) + (1 << (oldOrder - this.pbOrder)));
    L.free(id);
    for (const [p, o] of pieces) {
      const off = p - head;
      if (o === 0) {
        const s0 = m.section(p);
        const i = p & this.pbMask;
        s0.flags[i] = PG_allocated | flags | perFlags[off]!;
        s0.refcount[i] = 0;
        s0.mapcount[i] = perMap[off]!;
        s0.mapping[i] = mapping;
        s0.index[i] = (index + off) >>> 0;
        s0.tag[i] = tags[off]!;
        s0.next[i] = -1;
        s0.prev[i] = -1;
        continue;
      }
      const nid = L.alloc(p, o);
      const nr = L.order[nid - 1]! === o ? (1 << o) : 0;
      L.flags[nid - 1] = flags;
      L.mapping[nid - 1] = mapping;
      L.index[nid - 1] = (index + off) >>> 0;
      if (o >= this.pbOrder) {
        const first = m.pageblock(p);
        m.pbLarge.fill(nid, first, first + (1 << (o - this.pbOrder)));
        L.headPageFlags[nid - 1] = perFlags[off]!;
        const fl = perFlags.subarray(off, off + nr);
        if (fl.some((x, j) => j > 0 && x !== 0)) L.pageFlags[nid - 1] = fl.slice();
        const mc = perMap.subarray(off, off + nr);
        if (mc.some((x) => x !== 0)) L.pageMapcount[nid - 1] = mc.slice();
        if (oldContents?.kind === "pattern") L.contents[nid - 1] = { kind: "pattern", seed: oldContents.seed, base: oldContents.base + off };
        else {
          const t = tags.subarray(off, off + nr);
          if (t.some((x) => x !== 0)) L.contents[nid - 1] = { kind: "pages", tags: t.slice() };
        }
        continue;
      }
      const s0 = m.section(p);
      const i = p & this.pbMask;
      for (let j = 0; j < nr; j++) {
        s0.flags[i + j] = PG_allocated | (j === 0 ? PG_head : PG_tail) | (o << ORDER_SHIFT) | perFlags[off + j]!;
        s0.mapping[i + j] = j === 0 ? nid : 0;
        s0.refcount[i + j] = 0;
        s0.mapcount[i + j] = perMap[off + j]!;
        s0.tag[i + j] = tags[off + j]!;
      }
    }
  }

  // ---- structure ---------------------------------------------------------------

  /** The head pfn of the folio containing `pfn`. */
  head(pfn: number): number {
    const m = this.memmap;
    const id = m.pbLarge[pfn >>> m.pbShift]!;
    if (id !== 0) return this.large.head[id - 1]!;
    const s = m.sectionIfAny(pfn);
    if (s === undefined) return pfn;
    const f = s.flags[pfn & this.pbMask]!;
    if ((f & PG_tail) === 0) return pfn;
    const size = 1 << flagOrder(f);
    return pfn - (pfn % size);
  }

  /** Large-folio row id + 1, or 0 for an order-0 folio. */
  lid(head: number): number {
    return this.memmap.largeId(head);
  }

  order(head: number): number {
    const id = this.memmap.largeId(head);
    return id === 0 ? 0 : this.large.order[id - 1]!;
  }

  nrPages(head: number): number {
    return 1 << this.order(head);
  }

  /** Whether `pfn` is an allocated page of some folio or table (not free). */
  isAllocated(pfn: number): boolean {
    const m = this.memmap;
    if (m.pbLarge[pfn >>> m.pbShift] !== 0) return true;
    const s = m.sectionIfAny(pfn);
    return s !== undefined && (s.flags[pfn & this.pbMask]! & (PG_allocated | PGTY_table)) !== 0;
  }

  // ---- refcount -------------------------------------------------------------------

  refcount(head: number): number {
    const id = this.memmap.largeId(head);
    return id === 0 ? this.memmap.section(head).refcount[head & this.pbMask]! : this.large.refcount[id - 1]!;
  }

  /** folio_ref_add. */
  ref(head: number, n = 1): void {
    const id = this.memmap.largeId(head);
    if (id === 0) this.memmap.section(head).refcount[head & this.pbMask]! += n;
    else this.large.refcount[id - 1]! += n;
  }

  /** folio_ref_sub without freeing; returns the new count. */
  unref(head: number, n = 1): number {
    const id = this.memmap.largeId(head);
    if (id === 0) {
      const s = this.memmap.section(head);
      return (s.refcount[head & this.pbMask]! -= n);
    }
    return (this.large.refcount[id - 1]! -= n);
  }

  // ---- flags ------------------------------------------------------------------------

  /** Folio-wide flags (from the head page, or the row of a large folio). */
  flags(head: number): number {
    const id = this.memmap.largeId(head);
    return id === 0 ? this.memmap.section(head).flags[head & this.pbMask]! : this.large.flags[id - 1]!;
  }

  test(head: number, flag: number): boolean {
    return (this.flags(head) & flag) !== 0;
  }

  set(head: number, flag: number): void {
    const id = this.memmap.largeId(head);
    if (id === 0) this.memmap.section(head).flags[head & this.pbMask]! |= flag & FOLIO_FLAGS;
    else this.large.flags[id - 1]! |= flag & FOLIO_FLAGS;
  }

  clear(head: number, flag: number): void {
    const id = this.memmap.largeId(head);
    if (id === 0) this.memmap.section(head).flags[head & this.pbMask]! &= ~(flag & FOLIO_FLAGS);
    else this.large.flags[id - 1]! &= ~(flag & FOLIO_FLAGS);
  }

  isOnLru(head: number): boolean {
    return this.isAllocated(head) && this.test(head, PG_lru);
  }

  /** Per-page flag (PG_anon_exclusive, PG_hwpoison) of page `pfn`. */
  pageTest(pfn: number, flag: number): boolean {
    const m = this.memmap;
    const id = m.pbLarge[pfn >>> m.pbShift]!;
    if (id === 0) return (m.section(pfn).flags[pfn & this.pbMask]! & flag) !== 0;
    const r = id - 1;
    const i = pfn - this.large.head[r]!;
    if (i === 0) return (this.large.headPageFlags[r]! & flag) !== 0;
    const arr = this.large.pageFlags[r];
    return arr !== undefined && (arr[i]! & flag) !== 0;
  }

  pageSet(pfn: number, flag: number, on: boolean): void {
    const m = this.memmap;
    const id = m.pbLarge[pfn >>> m.pbShift]!;
    if (id === 0) {
      const s = m.section(pfn);
      if (on) s.flags[pfn & this.pbMask]! |= flag;
      else s.flags[pfn & this.pbMask]! &= ~flag;
      return;
    }
    const r = id - 1;
    const i = pfn - this.large.head[r]!;
    if (i === 0) {
      if (on) this.large.headPageFlags[r]! |= flag;
      else this.large.headPageFlags[r]! &= ~flag;
      return;
    }
    let arr = this.large.pageFlags[r];
    if (arr === undefined) {
      if (!on) return;
      arr = new Uint32Array(1 << this.large.order[r]!);
      this.large.pageFlags[r] = arr;
    }
    if (on) arr[i]! |= flag;
    else arr[i]! &= ~flag;
  }

  // ---- mapping / index ------------------------------------------------------------------

  mapping(head: number): number {
    const id = this.memmap.largeId(head);
    return id === 0 ? this.memmap.section(head).mapping[head & this.pbMask]! : this.large.mapping[id - 1]!;
  }

  index(head: number): number {
    const id = this.memmap.largeId(head);
    return id === 0 ? this.memmap.section(head).index[head & this.pbMask]! : this.large.index[id - 1]!;
  }

  setMapping(head: number, mapping: number, index: number): void {
    const id = this.memmap.largeId(head);
    if (id === 0) {
      const s = this.memmap.section(head);
      s.mapping[head & this.pbMask] = mapping;
      s.index[head & this.pbMask] = index >>> 0;
    } else {
      this.large.mapping[id - 1] = mapping;
      this.large.index[id - 1] = index >>> 0;
    }
  }

  // ---- mapcounts ----------------------------------------------------------------------

  /** Per-page mapcount (PTE mappings of this page): page->_mapcount + 1. */
  pageMapcount(pfn: number): number {
    const m = this.memmap;
    const id = m.pbLarge[pfn >>> m.pbShift]!;
    if (id === 0) return m.section(pfn).mapcount[pfn & this.pbMask]!;
    const arr = this.large.pageMapcount[id - 1];
    return arr === undefined ? 0 : arr[pfn - this.large.head[id - 1]!]!;
  }

  /** Add `d` to the per-page mapcount of `nr` pages from `pfn` (all in one folio). */
  addPageMapcount(pfn: number, nr: number, d: number): void {
    const m = this.memmap;
    const id = m.pbLarge[pfn >>> m.pbShift]!;
    if (id === 0) {
      const s = m.section(pfn);
      const i = pfn & this.pbMask;
      if (nr === 1) s.mapcount[i]! += d;
      else for (let j = 0; j < nr; j++) s.mapcount[i + j]! += d;
      return;
    }
    const r = id - 1;
    let arr = this.large.pageMapcount[r];
    if (arr === undefined) {
      arr = new Int32Array(1 << this.large.order[r]!);
      this.large.pageMapcount[r] = arr;
    }
    const off = pfn - this.large.head[r]!;
    for (let j = 0; j < nr; j++) arr[off + j]! += d;
  }

  /** folio_mapcount: total mappings (order 0: the page's; large: _large_mapcount). */
  mapcount(head: number): number {
    const id = this.memmap.largeId(head);
    return id === 0 ? this.memmap.section(head).mapcount[head & this.pbMask]! : this.large.largeMapcount[id - 1]!;
  }

  entireMapcount(head: number): number {
    const id = this.memmap.largeId(head);
    return id === 0 ? 0 : this.large.entireMapcount[id - 1]!;
  }

  /** folio_mapped. */
  mapped(head: number): boolean {
    return this.mapcount(head) > 0;
  }

  // ---- contents -------------------------------------------------------------------------

  /** The 32-bit contents tag of page `pfn`. */
  readTag(pfn: number): number {
    const m = this.memmap;
    const id = m.pbLarge[pfn >>> m.pbShift]!;
    if (id === 0) return m.section(pfn).tag[pfn & this.pbMask]!;
    const r = id - 1;
    const c = this.large.contents[r];
    if (c === undefined) return 0;
    const i = pfn - this.large.head[r]!;
    return c.kind === "pages" ? c.tags[i]! : mixTag(c.seed, c.base + i);
  }

  writeTag(pfn: number, tag: number): void {
    const m = this.memmap;
    const id = m.pbLarge[pfn >>> m.pbShift]!;
    if (id === 0) {
      m.section(pfn).tag[pfn & this.pbMask] = tag >>> 0;
      return;
    }
    this.pagesContents(id - 1)[pfn - this.large.head[id - 1]!] = tag >>> 0;
  }

  /**
   * Fill a whole folio of pageblock order or above with a pattern in O(1):
   * page i gets mixTag(seed, base + i).
   */
  writePattern(head: number, seed: number, base: number): boolean {
    const id = this.memmap.largeId(head);
    if (id === 0 || this.large.order[id - 1]! < this.pbOrder) return false;
    this.large.contents[id - 1] = { kind: "pattern", seed: seed >>> 0, base };
    return true;
  }

  /** The per-page tag array of a large row, materialising it from a pattern if needed. */
  private pagesContents(r: number): Uint32Array {
    const c: FolioContents | undefined = this.large.contents[r];
    if (c !== undefined && c.kind === "pages") return c.tags;
    const n = 1 << this.large.order[r]!;
    const tags = new Uint32Array(n);
    if (c !== undefined) for (let i = 0; i < n; i++) tags[i] = mixTag(c.seed, c.base + i);
    this.large.contents[r] = { kind: "pages", tags };
    return tags;
  }

  /** Copy the contents of `nr` pages (copy_page for COW and migration). */
  copyContents(dst: number, src: number, nr: number): void {
    const did = this.memmap.largeId(this.head(dst));
    const sid = this.memmap.largeId(this.head(src));
    if (nr > 1 && did !== 0 && sid !== 0 && this.large.order[did - 1]! >= this.pbOrder && dst === this.large.head[did - 1] && src === this.large.head[sid - 1]) {
      const c = this.large.contents[sid - 1];
      this.large.contents[did - 1] = c === undefined ? undefined : c.kind === "pattern" ? c : { kind: "pages", tags: c.tags.slice() };
      return;
    }
    for (let i = 0; i < nr; i++) this.writeTag(dst + i, this.readTag(src + i));
  }

  /** Every allocated folio's head pfn (not page tables, not the zero page): for checks and reports. */
  heads(): number[] {
    const out: number[] = [];
    const m = this.memmap;
    m.forEachSection((s, first) => {
      if (m.pbLarge[first >>> m.pbShift] !== 0) return;
      for (let i = 0; i < m.pbPages; i++) {
        const fl = s.flags[i]!;
        if ((fl & PG_allocated) === 0 || fl & (PG_tail | PGTY_table | PGTY_zero)) continue;
        out.push(first + i);
      }
    });
    const L = this.large;
    for (let r = 0; r < L.head.length; r++) {
      const h = L.head[r]!;
      if (h >= 0 && L.order[r]! >= this.pbOrder) out.push(h);
    }
    return out.sort((a, b) => a - b);
  }

  /** The section of an order-0 folio (hot paths use it directly). */
  section(pfn: number): MemSection {
    return this.memmap.section(pfn);
  }
}
