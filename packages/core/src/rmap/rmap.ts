import { PMD, PTE, PUD, type Level } from "@hugemm/arch";
import type { Folios } from "../folio/folios";
import type { Vma } from "../mm/vma";
import { PG_anon, PG_anon_exclusive, PG_partially_mapped, PG_swapbacked, PG_uptodate } from "../phys/page-flags";
import type { PhysMem } from "../phys/phys";
import { MS, MTHP_STRIDE, NS } from "../stats/counters";
import { ModelBug } from "../util/errors";

/** Called when a large anon folio becomes partially mapped (deferred_split_folio). */
export type DeferredSplitHook = (head: number) => void;

/**
 * Adding and removing mappings of folios, as mm/rmap.c keeps the counts
 * (CONFIG_PAGE_MAPCOUNT): per-page mapcounts for PTE mappings, the entire
 * mapcount for PMD and PUD mappings, the large mapcount for every mapping,
 * the count of PTE-mapped pages, and the node counters they drive.
 */
export class Rmap {
  deferredSplit: DeferredSplitHook = () => {};

  constructor(
    private readonly f: Folios,
    private readonly phys: PhysMem,
    private readonly pageSize: number,
    /** Per-order mTHP stats, indexed [order * MTHP_STRIDE + stat]. */
    private readonly mthpStats: Float64Array,
  ) {}

  // ---- per-mm mapcounts of large folios (CONFIG_MM_ID) -----------------------

  /** folio_set_large_mapcount: a new folio's first `nr` mappings, all by `mm`. */
  private setLarge(r: number, nr: number, mm: number): void {
    const L = this.f.large;
    L.largeMapcount[r] = nr;
    L.mmId0[r] = mm;
    L.mmMapcount0[r] = nr;
    L.mmId1[r] = 0;
    L.mmMapcount1[r] = 0;
    L.mmShared[r] = 0;
  }

  /** folio_add_return_large_mapcount: `d` more mappings by `mm`, tracked in one of two per-mm slots. */
  private addLarge(r: number, d: number, mm: number): void {
    const L = this.f.large;
    const count = (L.largeMapcount[r]! += d);
    if (L.mmId0[r] === mm) L.mmMapcount0[r]! += d;
    else if (L.mmId1[r] === mm) L.mmMapcount1[r]! += d;
    else if (L.mmId0[r] === 0) {
      L.mmId0[r] = mm;
      L.mmMapcount0[r] = d;
      // Others mapped it before: it is shared now.
      if (count !== d) L.mmShared[r] = 1;
    } else if (L.mmId1[r] === 0) {
      L.mmId1[r] = mm;
      L.mmMapcount1[r] = d;
      L.mmShared[r] = 1;
    }
  }

  /** folio_sub_return_large_mapcount: `d` fewer mappings by `mm`; exclusive again once one slot holds them all. */
  private subLarge(r: number, d: number, mm: number): void {
    const L = this.f.large;
    const count = (L.largeMapcount[r]! -= d);
    if (L.mmId0[r] === mm) {
      L.mmMapcount0[r]! -= d;
      if (L.mmMapcount0[r]! > 0) return;
      L.mmMapcount0[r] = 0;
      L.mmId0[r] = 0;
    } else if (L.mmId1[r] === mm) {
      L.mmMapcount1[r]! -= d;
      if (L.mmMapcount1[r]! > 0) return;
      L.mmMapcount1[r] = 0;
      L.mmId1[r] = 0;
    }
    if (L.mmMapcount0[r] === count || L.mmMapcount1[r] === count) L.mmShared[r] = 0;
  }

  /**
   * folio_maybe_mapped_shared: whether more than one process may map the
   * folio. Exact for small folios; for large ones, any page mapped twice or
   * a PMD/PUD mapping next to others counts as shared, otherwise the per-mm
   * tracking decides.
   */
  maybeMappedShared(head: number): boolean {
    const id = this.f.lid(head);
    const mapcount = this.f.mapcount(head);
    if (id === 0) return mapcount > 1;
    if (mapcount <= 1) return false;
    const r = id - 1;
    const L = this.f.large;
    if (L.entireMapcount[r]! > 0 || mapcount > (1 << L.order[r]!)) return true;
    return L.mmShared[r] !== 0;
  }

  /** __folio_mod_stat: NR_ANON_MAPPED / NR_FILE_MAPPED and the PMD-mapped THP counters. */
  private modStat(head: number, anon: boolean, nr: number, nrPmdmapped: number, level: Level): void {
    if (nr === 0 && nrPmdmapped === 0) return;
    const st = this.phys.nodeStats(this.phys.nidOf(head));
    if (anon) {
      st[NS.nr_anon_pages]! += nr;
      if (nrPmdmapped !== 0) st[level === PUD ? NS.nr_anon_pud_transparent_hugepages : NS.nr_anon_transparent_hugepages]! += nrPmdmapped;
    } else {
      st[NS.nr_mapped]! += nr;
      if (nrPmdmapped !== 0) st[this.f.test(head, PG_swapbacked) ? NS.nr_shmem_pmdmapped : NS.nr_file_pmdmapped]! += nrPmdmapped;
    }
  }

  /** __folio_set_anon: the folio's mapping is `anonVmaId` and its index the page index at `addr`. */
  setAnon(head: number, vma: Vma, addr: number, anonVmaId: number): void {
    this.f.setMapping(head, anonVmaId, vma.pageIndex(addr, this.pageSize));
    this.f.set(head, PG_anon);
  }

  /** folio_move_anon_rmap: an anon folio now exclusive to `vma` belongs to its anon_vma. */
  moveAnon(head: number, vma: Vma): void {
    if (vma.anonVma !== null) this.f.setMapping(head, vma.anonVma.id, this.f.index(head));
  }

  /**
   * folio_add_new_anon_rmap: the first mapping of a new anonymous folio, at
   * PTE level (every page mapped once) or PMD/PUD level (mapped whole).
   */
  addNewAnon(head: number, vma: Vma, addr: number, level: Level, exclusive: boolean): void {
    const mm = vma.mmId;
    const av = vma.anonVma;
    if (av === null) throw new ModelBug(`folio_add_new_anon_rmap on VMA #${vma.id} without an anon_vma`);
    // Every new anon folio was zeroed, copied or read in before it is mapped (__folio_mark_uptodate).
    this.f.set(head, PG_swapbacked | PG_uptodate);
    // A folio that may be mapped elsewhere too (swap-in of a shared swap entry) must point to the
    // oldest anon_vma, the root, whose walks reach every VMA of the fork tree.
    this.setAnon(head, vma, addr, exclusive ? av.id : av.root.id);
    const id = this.f.lid(head);
    if (id === 0) {
      this.f.addPageMapcount(head, 1, 1);
      if (exclusive) this.f.pageSet(head, PG_anon_exclusive, true);
      this.modStat(head, true, 1, 0, PTE);
      return;
    }
    const r = id - 1;
    const L = this.f.large;
    const nr = 1 << L.order[r]!;
    if (level === PTE) {
      this.f.addPageMapcount(head, nr, 1);
      if (exclusive) for (let i = 0; i < nr; i++) this.f.pageSet(head + i, PG_anon_exclusive, true);
      this.setLarge(r, nr, mm);
      L.nrPagesMapped[r] = nr;
      this.modStat(head, true, nr, 0, PTE);
    } else {
      this.setLarge(r, 1, mm);
      L.entireMapcount[r] = 1;
      if (exclusive) this.f.pageSet(head, PG_anon_exclusive, true);
      this.modStat(head, true, nr, level === PMD || level === PUD ? nr : 0, level);
    }
    this.mthp(L.order[r]!, MS.nr_anon, 1);
  }

  /**
   * folio_add_anon_rmap_{ptes,pmd,pud} / folio_add_file_rmap_*: `nr` more
   * mappings starting at page `page` (PTE level), or one mapping of the whole
   * folio (PMD/PUD level). Exclusive anon mappings set PageAnonExclusive.
   */
  add(head: number, page: number, nr: number, level: Level, anon: boolean, exclusive: boolean, mm: number): void {
    const id = this.f.lid(head);
    if (id === 0) {
      if (level !== PTE || nr !== 1) throw new ModelBug(`mapping an order-0 folio ${nr} times at level ${level}`);
      const first = this.f.pageMapcount(head) === 0;
      this.f.addPageMapcount(head, 1, 1);
      if (anon && exclusive) this.f.pageSet(head, PG_anon_exclusive, true);
      if (first) this.modStat(head, anon, 1, 0, PTE);
      return;
    }
    const r = id - 1;
    const L = this.f.large;
    const nrPages = 1 << L.order[r]!;
    if (level === PTE) {
      let first = 0;
      for (let i = 0; i < nr; i++) {
        if (this.f.pageMapcount(page + i) === 0) first++;
        if (anon && exclusive) this.f.pageSet(page + i, PG_anon_exclusive, true);
      }
      this.f.addPageMapcount(page, nr, 1);
      L.nrPagesMapped[r]! += first;
      this.addLarge(r, nr, mm);
      this.modStat(head, anon, L.entireMapcount[r]! > 0 ? 0 : first, 0, PTE);
    } else {
      const firstEntire = L.entireMapcount[r] === 0;
      L.entireMapcount[r]!++;
      this.addLarge(r, 1, mm);
      if (anon && exclusive) this.f.pageSet(head, PG_anon_exclusive, true);
      if (firstEntire) this.modStat(head, anon, nrPages - L.nrPagesMapped[r]!, nrPages, level);
    }
  }

  /** folio_remove_rmap_{ptes,pmd,pud}. Queues a partially mapped anon folio for deferred split. */
  remove(head: number, page: number, nr: number, level: Level, mm: number): void {
    const anon = this.f.test(head, PG_anon);
    const id = this.f.lid(head);
    if (id === 0) {
      if (this.f.pageMapcount(head) <= 0) throw new ModelBug(`unmapping pfn ${head}, which has no mappings`);
      this.f.addPageMapcount(head, 1, -1);
      if (this.f.pageMapcount(head) === 0) this.modStat(head, anon, -1, 0, PTE);
      return;
    }
    const r = id - 1;
    const L = this.f.large;
    const nrPages = 1 << L.order[r]!;
    let partially = false;
    if (level === PTE) {
      let last = 0;
      for (let i = 0; i < nr; i++) {
        const mc = this.f.pageMapcount(page + i);
        if (mc <= 0) throw new ModelBug(`unmapping page ${page + i} of folio ${head}, which is not PTE-mapped`);
        if (mc === 1) last++;
      }
      this.f.addPageMapcount(page, nr, -1);
      this.subLarge(r, nr, mm);
      L.nrPagesMapped[r]! -= last;
      const counted = L.entireMapcount[r]! > 0 ? 0 : last;
      this.modStat(head, anon, -counted, 0, PTE);
      partially = counted > 0 && L.nrPagesMapped[r]! > 0;
    } else {
      if (L.entireMapcount[r]! <= 0) throw new ModelBug(`unmapping folio ${head} at level ${level}, which is not mapped whole`);
      L.entireMapcount[r]!--;
      this.subLarge(r, 1, mm);
      if (L.entireMapcount[r] === 0) {
        const nrUnmapped = nrPages - L.nrPagesMapped[r]!;
        this.modStat(head, anon, -nrUnmapped, -nrPages, level);
        partially = nrUnmapped > 0 && nrUnmapped < nrPages;
      }
    }
    if (partially && anon && !this.f.test(head, PG_partially_mapped)) this.deferredSplit(head);
  }

  /**
   * folio_try_dup_anon_rmap_{ptes,pmd,pud} at fork: fails (the child must get
   * a copy) when a page is exclusive and the folio may be pinned; otherwise the
   * pages stop being exclusive and gain a mapping each.
   */
  tryDupAnon(head: number, page: number, nr: number, level: Level, mayBePinned: boolean, mm: number): boolean {
    const pages = level === PTE ? nr : 1;
    for (let i = 0; i < pages; i++) {
      if (this.f.pageTest(page + i, PG_anon_exclusive) && mayBePinned) return false;
    }
    for (let i = 0; i < pages; i++) this.f.pageSet(page + i, PG_anon_exclusive, false);
    this.add(head, page, nr, level, true, false, mm);
    return true;
  }

  // ---- folio-level mappings (one logical entry maps the whole folio) ---------

  /**
   * hugetlb_add_file_rmap / hugetlb_add_new_anon_rmap: one more mapping of
   * the whole folio by one logical entry, whatever its physical slots. Only
   * the entire and large mapcounts change: no per-page mapcounts, no node
   * statistics (a kind mapping this way keeps its own counters).
   */
  addWhole(head: number, anon: boolean, exclusive: boolean, mm: number): void {
    const id = this.f.lid(head);
    if (id === 0) throw new ModelBug(`a whole-folio mapping of order-0 folio ${head}`);
    const r = id - 1;
    this.f.large.entireMapcount[r]!++;
    if (this.f.large.largeMapcount[r] === 0) this.setLarge(r, 1, mm);
    else this.addLarge(r, 1, mm);
    if (anon && exclusive) this.f.pageSet(head, PG_anon_exclusive, true);
  }

  /** hugetlb_remove_rmap: one whole-folio mapping fewer. */
  removeWhole(head: number, mm: number): void {
    const id = this.f.lid(head);
    const r = id - 1;
    if (id === 0 || this.f.large.entireMapcount[r]! <= 0) throw new ModelBug(`removing a whole-folio mapping of folio ${head}, which has none`);
    this.f.large.entireMapcount[r]!--;
    this.subLarge(r, 1, mm);
  }

  /** hugetlb_try_dup_anon_rmap at fork: false when the folio's exclusive page may be pinned (the child needs a copy). */
  tryDupWhole(head: number, mayBePinned: boolean, mm: number): boolean {
    if (this.f.pageTest(head, PG_anon_exclusive)) {
      if (mayBePinned) return false;
      this.f.pageSet(head, PG_anon_exclusive, false);
    }
    this.addWhole(head, true, false, mm);
    return true;
  }

  private mthp(order: number, stat: number, d: number): void {
    this.mthpStats[order * MTHP_STRIDE + stat]! += d;
  }
}
