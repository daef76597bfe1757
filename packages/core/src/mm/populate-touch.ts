import { PTE, entryRegs } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { WALK_OK } from "../pgtable/walker";
import { folioMarkAccessed } from "../vmscan/mark-accessed";
import type { Mm } from "./mm";

const R = entryRegs(1);

/**
 * FOLL_TOUCH after the faults of a populate (MAP_POPULATE, mlock,
 * MADV_POPULATE_*): follow_page_pte marks each page's folio accessed, once
 * per page, so a large folio mapped by PTEs is activated by its second page.
 * A huge entry is only made young (touch_pmd), which its fault already did;
 * the zero page's flags are not tracked.
 */
export function gupTouchRange(k: Kernel, mm: Mm, start: number, end: number): void {
  const b = k.backend;
  const slot = mm.slot;
  for (let addr = start; addr < end; addr += k.pageSize) {
    if (mm.walker.find(addr, PTE, false, slot) !== WALK_OK) continue;
    b.getEntry(slot.table, slot.index, PTE, R, 0);
    if (!b.present(R, 0, PTE) || b.protnone(R, 0, PTE)) continue;
    const pfn = b.pfn(R, 0, PTE);
    if (b.special(R, 0, PTE) || pfn === k.zeroPfn || !k.folios.isAllocated(pfn)) continue;
    folioMarkAccessed(k, k.folios.head(pfn));
  }
}
