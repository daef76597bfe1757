import { PTE, entryRegs } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_HUGEPAGE } from "../mm/vm-flags";
import { GFP_HIGHUSER_MOVABLE } from "../phys/gfp";
import type { Slot } from "../pgtable/walker";
import { MS } from "../stats/counters";
import { countMthp } from "./map";
import { TVA_PAGEFAULT, highestOrder, nextOrder, thpVmaAllowableOrders, thpVmaSuitableOrders, vmaThpGfpMask } from "./orders";

const R = entryRegs(1);

/** pte_range_none: `nr` PTEs from `index` are all none. */
export function pteRangeNone(k: Kernel, table: Uint32Array, index: number, nr: number): boolean {
  const b = k.backend;
  for (let i = 0; i < nr; i++) {
    b.readEntry(table, index + i, PTE, R, 0);
    if (!b.none(R, 0, PTE)) return false;
  }
  return true;
}

/**
 * alloc_anon_folio: the folio a write fault on a none PTE maps. Of the
 * orders below PMD order the VMA allows and that fit around `addr`, the
 * highest whose aligned range of PTEs is all none is tried first, then each
 * lower one (counting anon_fault_fallback per size), and finally a single
 * page. Returns the head pfn, or -1 when not even a page could be had.
 */
export function allocAnonFolio(k: Kernel, mm: Mm, vma: Vma, addr: number, slot: Slot): number {
  const s = k.thp;
  const below = s.pmdOrder > 0 ? (1 << s.pmdOrder) - 1 : 0;
  // Cheap test first: no small THP size is enabled for this VMA at all.
  if ((s.enabledOrders((vma.flags & VM_HUGEPAGE) !== 0) & below & s.anonOrders) !== 0) {
    let orders = thpVmaAllowableOrders(k, mm, vma, vma.flags, TVA_PAGEFAULT, below);
    orders = thpVmaSuitableOrders(k, vma, addr, orders);
    const m = { mask: orders };
    let order = orders === 0 ? -1 : highestOrder(orders);
    const ps = k.pageSize;
    while (order >= 0) {
      const aligned = addr - (addr % (ps * (1 << order)));
      if (pteRangeNone(k, slot.table, slot.index - (addr - aligned) / ps, (1 << order))) break;
      order = nextOrder(m, order);
    }
    if (order >= 0) {
      const gfp = vmaThpGfpMask(k, vma);
      while (order >= 0) {
        const folio = k.folios.alloc(order, gfp, mm.nid);
        if (folio >= 0) return folio;
        countMthp(k, order, MS.anon_fault_fallback);
        order = nextOrder(m, order);
      }
    }
  }
  return k.folios.alloc(0, GFP_HIGHUSER_MOVABLE, mm.nid);
}
