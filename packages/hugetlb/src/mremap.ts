import { entryRegs } from "@hugemm/arch";
import { Slot, type Mm, type Vma } from "@hugemm/core";
import { hvOf } from "./fault";
import { hugePtepGet, hugePtepGetAndClear, hugePteAlloc, hugePteOffset, setHugePteAt, valueLevel } from "./pgtable";
import type { HugetlbState } from "./state";

const E = entryRegs(1);
const SRC = new Slot();
const DST = new Slot();

/**
 * align_hugetlb: mremap of a hugetlb VMA rounds both lengths up to the huge
 * page size, wants both addresses aligned to it, and never grows the
 * mapping (the reservation map cannot be split that way): null for EINVAL.
 */
export function hugetlbMremapAlign(st: HugetlbState, vma: Vma, addr: number, oldLen: number, newLen: number, newAddr: number): { oldLen: number; newLen: number } | null {
  const size = hvOf(st, vma).h.size;
  const o = Math.ceil(oldLen / size) * size;
  const n = Math.ceil(newLen / size) * size;
  if (addr % size !== 0 || newAddr % size !== 0 || n > o) return null;
  return { oldLen: o, newLen: n };
}

/**
 * move_hugetlb_page_tables: each logical entry of [oldAddr, oldAddr + len)
 * moves to the same offset from `newAddr` (move_huge_pte), its mapping and
 * counts unchanged. Stops where a table cannot be allocated; returns the
 * bytes moved.
 */
export function moveHugetlbPageTables(st: HugetlbState, mm: Mm, oldVma: Vma, oldAddr: number, newAddr: number, len: number): number {
  const k = st.k;
  const h = hvOf(st, oldVma).h;
  const lvl = valueLevel(h.entry);
  let done = 0;
  for (; done < len; done += h.size) {
    if (!hugePteOffset(mm, h, oldAddr + done, SRC)) continue;
    hugePtepGet(k, h, SRC, oldAddr + done, E);
    if (k.backend.none(E, 0, lvl)) continue;
    if (!hugePteAlloc(k, mm, h, newAddr + done, DST)) break;
    // The allocation may have refreshed the walker's cached tables.
    hugePteOffset(mm, h, oldAddr + done, SRC);
    hugePtepGetAndClear(k, h, SRC, oldAddr + done, E);
    setHugePteAt(k, h, DST, newAddr + done, E);
  }
  if (done > 0) k.flushTlb(oldAddr, oldAddr + done, "mremap");
  return done;
}

/** fixup_hugetlb_reservations: the old VMA's private reservation went with the new one; the old VMA keeps none. */
export function hugetlbMoved(st: HugetlbState, oldVma: Vma): void {
  const hv = hvOf(st, oldVma);
  hv.resv = null;
  hv.owner = false;
}
