import { PMD, entryRegs } from "@hugemm/arch";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import type { Mm } from "../mm/mm";
import { PG_dirty } from "../phys/page-flags";
import { setSwapbacked } from "../vmscan/isolate";
import { zapDeposited } from "./deposit";

const R = entryRegs(1);

/**
 * unmap_huge_pmd_locked (__discard_anon_folio_pmd_locked): reclaim meets a
 * lazy-free THP mapped by the PMD at (`table`, `index`). A folio dirtied
 * since MADV_FREE — through this PMD or otherwise — becomes swap-backed
 * again and stays; so does one with references beyond its mappings and the
 * reclaimer's (GUP). Otherwise the PMD is cleared, the folio loses the
 * mapping and its reference, the rss its pages, and the deposited table is
 * freed: the folio is discarded whole, never written anywhere. The caller
 * holds the PMD's page-table lock and the isolated, locked folio. Returns
 * whether the mapping went.
 */
export function unmapHugePmdLocked(k: Kernel, mm: Mm, table: Uint32Array, tablePa: number, index: number, haddr: number, head: number): boolean {
  const b = k.backend;
  const f = k.folios;
  b.readEntry(table, index, PMD, R, 0);
  if (b.dirty(R, 0, PMD)) f.set(head, PG_dirty);
  if (f.test(head, PG_dirty)) {
    setSwapbacked(k, head);
    return false;
  }
  b.getAndClear(k.ptCtx, table, index, PMD, haddr, R, 0);
  k.flushTlb(haddr, haddr + mm.walker.levelSize(PMD), "reclaim");
  // Cleared first, then counted: a GUP-fast that raced in is either seen here or sees no PMD.
  const refs = f.refcount(head);
  const maps = f.mapcount(head);
  if (b.dirty(R, 0, PMD)) f.set(head, PG_dirty);
  if (f.test(head, PG_dirty)) {
    setSwapbacked(k, head);
    b.setEntries(k.ptCtx, table, index, PMD, haddr, R, 0, 1);
    return false;
  }
  if (refs !== maps + 1) {
    b.setEntries(k.ptCtx, table, index, PMD, haddr, R, 0, 1);
    return false;
  }
  k.rmap.remove(head, head, 1, PMD, mm.id);
  zapDeposited(k, mm, PMD, tablePa, index);
  mm.addRss(MM_ANONPAGES, -k.pagesAt(PMD));
  folioPut(k, head, 1);
  return true;
}
