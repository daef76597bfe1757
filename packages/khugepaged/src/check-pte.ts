import { PTE, type EntryReg } from "@hugemm/arch";
import { EV, MS, PG_anon, PG_swapbacked, PG_swapcache, countMthp, type Kernel, type Vma } from "@hugemm/core";
import { SCAN } from "./scan-result";

export const PTE_CHECK_SUCCEED = 0;
export const PTE_CHECK_FAIL = 1;
export const PTE_CHECK_CONTINUE = 2;

/**
 * struct pte_check_context: the counts and limits one scan or isolation
 * carries from PTE to PTE, reused for every range. `unmapped` is -1 when
 * no non-present PTE is allowed at all (isolation, after swap-in).
 */
export class PteCheck {
  isKhugepaged = true;
  order = 0;
  pmdOrder = 0;
  /** The folio (head pfn) of the PTE just checked, or -1; with its flags and mapcount when it passed. */
  folio = -1;
  flags = 0;
  mapcount = 0;
  refcount = 0;
  noneOrZero = 0;
  shared = 0;
  unmapped = 0;
  result = SCAN.FAIL;
  maxNone = 0;
  maxSwap = 0;
  maxShared = 0;

  /** The arch has uffd-wp bits to look at. */
  uffdWp = false;

  reset(isKhugepaged: boolean, order: number, pmdOrder: number, maxNone: number, maxSwap: number, maxShared: number, swapAllowed: boolean, uffdWp: boolean): void {
    this.uffdWp = uffdWp;
    this.isKhugepaged = isKhugepaged;
    this.order = order;
    this.pmdOrder = pmdOrder;
    this.folio = -1;
    this.noneOrZero = 0;
    this.shared = 0;
    this.unmapped = swapAllowed ? 0 : -1;
    this.result = SCAN.FAIL;
    this.maxNone = maxNone;
    this.maxSwap = maxSwap;
    this.maxShared = maxShared;
  }
}

/** count_collapse_event: the vmstat event only for PMD order, the per-size stat always. */
export function countCollapseEvent(k: Kernel, order: number, vmEvent: number, mthpStat: number): void {
  if (order === k.thp.pmdOrder) k.events[vmEvent]!++;
  countMthp(k, order, mthpStat);
}

/** pte_none_or_zero for the PTE in `r`. */
export function pteNoneOrZero(k: Kernel, r: EntryReg): boolean {
  const b = k.backend;
  if (b.none(r, 0, PTE)) return true;
  return b.present(r, 0, PTE) && b.pfn(r, 0, PTE) === k.zeroPfn;
}

/**
 * collapse_check_pte: whether the PTE in `r` at `addr` may be collapsed,
 * counting it against the limits. None and zero-page PTEs count against
 * max_ptes_none, non-present ones against max_ptes_swap (or fail outright
 * during isolation); a present PTE must map a normal anonymous folio that is
 * not lazily freed (for khugepaged) and not uffd-protected; possibly shared
 * folios count against max_ptes_shared. Returns PTE_CHECK_*; on success
 * `ctx.folio` is the PTE's folio.
 */
export function collapseCheckPte(k: Kernel, vma: Vma, r: EntryReg, ctx: PteCheck): number {
  const b = k.backend;
  ctx.folio = -1;
  // pte_none_or_zero, with the entry decoded once.
  const none = b.none(r, 0, PTE);
  const present = !none && b.present(r, 0, PTE);
  const pfn = present ? b.pfn(r, 0, PTE) : -1;
  if (none || pfn === k.zeroPfn) {
    if (++ctx.noneOrZero > ctx.maxNone) {
      countCollapseEvent(k, ctx.order, EV.thp_scan_exceed_none_pte, MS.collapse_exceed_none_pte);
      return fail(ctx, SCAN.EXCEED_NONE_PTE);
    }
    return PTE_CHECK_CONTINUE;
  }
  if (!present) {
    if (ctx.unmapped === -1) return fail(ctx, SCAN.PTE_NON_PRESENT);
    if (++ctx.unmapped > ctx.maxSwap) {
      countCollapseEvent(k, ctx.order, EV.thp_scan_exceed_swap_pte, MS.collapse_exceed_swap_pte);
      return fail(ctx, SCAN.EXCEED_SWAP_PTE);
    }
    if (ctx.uffdWp && b.isSoftleaf(r, 0, PTE) && b.swpUffdWp(r, 0, PTE)) return fail(ctx, SCAN.PTE_UFFD);
    return PTE_CHECK_CONTINUE;
  }
  // A uffd-wp bit would have to move to the huge entry, and then report faults outside the registered range.
  if (ctx.uffdWp && b.uffdWp(r, 0, PTE)) return fail(ctx, SCAN.PTE_UFFD);
  // vm_normal_folio: special PTEs (PFN maps) have no folio to collapse.
  if (b.special(r, 0, PTE)) return fail(ctx, SCAN.PAGE_NULL);
  const f = k.folios;
  const head = f.head(pfn);
  ctx.folio = head;
  // The folio's words, read once: an order-0 folio's from its memmap section.
  const small = f.lid(head) === 0;
  let flags: number;
  let mapcount: number;
  if (small) {
    const sec = f.section(head);
    const i = head & k.phys.memmap.pbMask;
    flags = sec.flags[i]!;
    mapcount = sec.mapcount[i]!;
    ctx.refcount = sec.refcount[i]!;
  } else {
    flags = f.flags(head);
    mapcount = f.mapcount(head);
    ctx.refcount = f.refcount(head);
  }
  ctx.flags = flags;
  ctx.mapcount = mapcount;
  // folio_test_lazyfree with a clean PTE: MADV_FREE'd memory khugepaged would otherwise resurrect (no VM_DROPPABLE VMAs in the model).
  if (ctx.isKhugepaged && (flags & (PG_anon | PG_swapbacked)) === PG_anon && !b.dirty(r, 0, PTE)) return fail(ctx, SCAN.PAGE_LAZYFREE);
  if ((flags & PG_anon) === 0) return fail(ctx, SCAN.PAGE_ANON);
  // folio_maybe_mapped_shared: for an order-0 folio, more than one mapping.
  const shared = small ? mapcount > 1 : k.rmap.maybeMappedShared(head);
  if (shared && ++ctx.shared > ctx.maxShared) {
    countCollapseEvent(k, ctx.order, EV.thp_scan_exceed_share_pte, MS.collapse_exceed_shared_pte);
    return fail(ctx, SCAN.EXCEED_SHARED_PTE);
  }
  return PTE_CHECK_SUCCEED;
}

/**
 * folio_expected_ref_count of the anonymous folio collapse_check_pte just
 * accepted: its mappings, and its pages' swap cache references.
 */
export function anonExpectedRefs(k: Kernel, ctx: PteCheck): number {
  return ctx.mapcount + (ctx.flags & PG_swapcache ? k.folios.nrPages(ctx.folio) : 0);
}

function fail(ctx: PteCheck, result: number): number {
  ctx.result = result;
  return PTE_CHECK_FAIL;
}
