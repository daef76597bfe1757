import { entryRegs } from "@hugemm/arch";
import { PG_anon, PG_dirty, Slot, VM_MAYSHARE, type Mm, type Vma } from "@hugemm/core";
import { hugePtepGet, hugePtepGetAndClear, hugePteOffset, valueLevel } from "./pgtable";
import { putHugeFolio } from "./pool";
import { addReservation, hugeIndex, needsReservation } from "./reserve";
import type { HugetlbState } from "./state";

const E = entryRegs(1);
const SLOT = new Slot();

/**
 * __unmap_hugepage_range over [start, end) of a hugetlb VMA (huge-page
 * aligned): clear each logical entry, drop its mapping and reference. An
 * anonymous page of a private owner VMA gets its reservation back while the
 * pool has no surplus pages (otherwise the page could be stolen). With
 * `refFolio` only that folio's entries go, and the VMA is marked
 * HPAGE_RESV_UNMAPPED (the owner's COW taking the page from a child).
 */
export function zapHugetlbRange(st: HugetlbState, mm: Mm, vma: Vma, start: number, end: number, refFolio = -1): void {
  const k = st.k;
  const b = k.backend;
  const f = k.folios;
  const hv = st.vmas.get(vma);
  if (hv === undefined) return;
  const h = hv.h;
  const lvl = valueLevel(h.entry);
  const slot = SLOT;
  for (let addr = start; addr < end; addr += h.size) {
    if (!hugePteOffset(mm, h, addr, slot)) continue;
    hugePtepGet(k, h, slot, addr, E);
    if (b.none(E, 0, lvl)) continue;
    const head = b.pfn(E, 0, lvl);
    if (refFolio >= 0) {
      if (head !== refFolio) continue;
      hv.unmapped = true;
    }
    const ptl = k.tables.ptl(slot.tablePa);
    k.locks.acquire(ptl);
    hugePtepGetAndClear(k, h, slot, addr, E);
    st.countAdd(mm.id, -h.pages);
    if (b.dirty(E, 0, lvl)) f.set(head, PG_dirty);
    const adjust = h.surplus === 0 && (vma.flags & VM_MAYSHARE) === 0 && hv.owner && hv.resv !== null && f.test(head, PG_anon) && (st.config.zapRestore === "kernel" || f.mapcount(head) === 1);
    if (adjust) st.restoreReserve.add(head);
    k.rmap.removeWhole(head, mm.id);
    k.locks.release(ptl);
    if (adjust) {
      const idx = hugeIndex(hv, vma, addr, k.pageShift);
      if (needsReservation(hv, vma, idx) === 1) addReservation(hv, vma, idx);
    }
    putHugeFolio(st, head);
  }
}
