import { PTE, entryRegs } from "@hugemm/arch";
import { MM_ANONPAGES, PG_hwpoison, PG_locked, PG_swapcache, folioPut, putbackLru, type Kernel, type Mm } from "@hugemm/core";
import { releasePteFolio, releasePtePages } from "./isolate";
import { SCAN } from "./scan-result";

const R = entryRegs(2);

/** free_swap_cache: an unmapped folio in the swap cache gives its slots back (a locked folio is left alone). */
function freeSwapCache(k: Kernel, head: number): void {
  const f = k.folios;
  if (f.test(head, PG_swapcache) && !f.mapped(head) && !f.test(head, PG_locked)) k.swap.folioFreeSwap(head);
}

/** Where the window's old PTEs are: the detached table and the first index. */
export interface Window {
  readonly pte: Uint32Array;
  readonly ptePa: number;
  readonly index: number;
  readonly addr: number;
  readonly order: number;
}

/**
 * The page copy of __collapse_huge_page_copy: the window's pages into the
 * new folio, none and zero-page PTEs as zeroed pages. Returns COPY_MC at a
 * poisoned source page (the machine check copy_mc_user_highpage reports),
 * with nothing released yet: the caller puts the table back first.
 */
export function copyPages(k: Kernel, w: Window, folio: number): number {
  const b = k.backend;
  const f = k.folios;
  const nr = 1 << w.order;
  for (let i = 0; i < nr; i++) {
    b.readEntry(w.pte, w.index + i, PTE, R, 0);
    if (b.none(R, 0, PTE) || (b.present(R, 0, PTE) && b.pfn(R, 0, PTE) === k.zeroPfn)) {
      f.writeTag(folio + i, 0);
      continue;
    }
    const src = b.pfn(R, 0, PTE);
    if (f.pageTest(src, PG_hwpoison)) return SCAN.COPY_MC;
    f.copyContents(folio + i, src, 1);
  }
  return SCAN.SUCCEED;
}

/** __collapse_huge_page_copy_failed, after the table is back: release every isolated folio. */
export function copyFailed(k: Kernel, w: Window, compound: number[]): void {
  releasePtePages(k, w.pte, w.index, w.index + (1 << w.order), compound);
}

/**
 * __collapse_huge_page_copy_succeeded: the old PTEs are cleared (the table
 * is detached, so no TLB holds them), small folios go back to the LRU before
 * their last mapping goes, rmap and references are dropped, and large
 * folios are put back after all their PTEs are gone. Each none or zero-page
 * PTE becomes a page of the new folio: one more anonymous page of rss.
 */
export function copySucceeded(k: Kernel, mm: Mm, w: Window, compound: number[]): void {
  const b = k.backend;
  const f = k.folios;
  const nr = 1 << w.order;
  const ptl = k.tables.ptl(w.ptePa);
  R[2] = 0;
  R[3] = 0;
  for (let i = 0; i < nr; i++) {
    const at = w.index + i;
    b.readEntry(w.pte, at, PTE, R, 0);
    if (b.none(R, 0, PTE)) {
      mm.addRss(MM_ANONPAGES, 1);
      continue;
    }
    const pfn = b.pfn(R, 0, PTE);
    if (pfn === k.zeroPfn) {
      mm.addRss(MM_ANONPAGES, 1);
      k.locks.acquire(ptl);
      b.writeEntry(w.pte, at, PTE, R, 2);
      k.locks.release(ptl);
      continue;
    }
    const head = f.head(pfn);
    if (f.order(head) === 0) releasePteFolio(k, head);
    k.locks.acquire(ptl);
    b.writeEntry(w.pte, at, PTE, R, 2);
    k.rmap.remove(head, pfn, 1, PTE, mm.id);
    k.locks.release(ptl);
    freeSwapCache(k, head);
    folioPut(k, head, 1);
  }
  for (const head of compound) {
    f.clear(head, PG_locked);
    freeSwapCache(k, head);
    putbackLru(k, head);
  }
  compound.length = 0;
}
