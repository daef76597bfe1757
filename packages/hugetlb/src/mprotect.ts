import { entryRegs, type ProtIndex } from "@hugemm/arch";
import { Slot, type Mm, type Vma } from "@hugemm/core";
import { hvOf } from "./fault";
import { hugePtepGet, hugePtepGetAndClear, hugePteOffset, setHugePteAt, valueLevel } from "./pgtable";
import type { HugetlbState } from "./state";

const E = entryRegs(1);
const SLOT = new Slot();

/**
 * hugetlb_change_protection over [start, end): each present logical entry
 * is taken down (huge_ptep_modify_prot_start), given the VMA's new
 * protection keeping its pfn, young and dirty (huge_pte_modify), made huge
 * again (arch_make_huge_pte) and written back. Unlike change_pte_range
 * there is no write upgrade of private entries. Returns the base pages
 * changed.
 */
export function hugetlbChangeProtection(st: HugetlbState, mm: Mm, vma: Vma, start: number, end: number): number {
  const k = st.k;
  const b = k.backend;
  const hv = hvOf(st, vma);
  const h = hv.h;
  const lvl = valueLevel(h.entry);
  const prot = (vma.flags & 0xf) as ProtIndex;
  let pages = 0;
  for (let addr = start; addr < end; addr += h.size) {
    if (!hugePteOffset(mm, h, addr, SLOT)) continue;
    hugePtepGet(k, h, SLOT, addr, E);
    if (b.none(E, 0, lvl) || !b.present(E, 0, lvl)) continue;
    const ptl = k.tables.ptl(SLOT.tablePa);
    k.locks.acquire(ptl);
    hugePtepGetAndClear(k, h, SLOT, addr, E);
    b.modify(E, 0, lvl, prot);
    b.makeHugeEntry(E, 0, h.entry);
    setHugePteAt(k, h, SLOT, addr, E);
    k.locks.release(ptl);
    pages++;
  }
  if (pages > 0) k.flushTlb(start, end, "mprotect");
  return pages * h.pages;
}
