import { PTE, entryRegs } from "@hugemm/arch";
import { highestOrder, nextOrder, thpVmaAllowableOrders, thpVmaSuitableOrders, TVA_PAGEFAULT, vmaThpGfpMask } from "../huge/orders";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { GFP_HIGHUSER_MOVABLE } from "../phys/gfp";
import { PG_swapbacked, PG_uptodate } from "../phys/page-flags";
import type { Slot } from "../pgtable/walker";
import { EV, MS, MTHP_STRIDE } from "../stats/counters";

const R = entryRegs(2);

/** A folio read straight from a synchronous device, bypassing the swap cache. */
export interface DirectSwapin {
  readonly head: number;
  /** Pages it holds: the PTEs from `index` (at `start`) it replaces, for slots from `firstOff`. */
  readonly nr: number;
  readonly index: number;
  readonly start: number;
  readonly firstOff: number;
}

/**
 * can_swapin_thp: the `nr` PTEs from `index` are swap entries for
 * consecutive slots from `firstOff` with the faulting entry's bits, and
 * none of those slots is in the swap cache.
 */
function canSwapinThp(k: Kernel, table: Uint32Array, index: number, nr: number, orig: Uint32Array, firstOff: number): boolean {
  const b = k.backend;
  const dev = k.swap.device!;
  const type = b.swpType(orig, 0, PTE);
  const excl = b.swpExclusive(orig, 0, PTE);
  const sd = b.capabilities.softDirty && b.swpSoftDirty(orig, 0, PTE);
  const wp = b.capabilities.uffdWp && b.swpUffdWp(orig, 0, PTE);
  for (let i = 0; i < nr; i++) {
    b.readEntry(table, index + i, PTE, R, 0);
    if (b.none(R, 0, PTE) || b.present(R, 0, PTE) || !b.isSoftleaf(R, 0, PTE)) return false;
    if (b.swpType(R, 0, PTE) !== type || b.swpOffset(R, 0, PTE) !== firstOff + i) return false;
    if (b.swpExclusive(R, 0, PTE) !== excl) return false;
    if (sd !== (b.capabilities.softDirty && b.swpSoftDirty(R, 0, PTE))) return false;
    if (wp !== (b.capabilities.uffdWp && b.swpUffdWp(R, 0, PTE))) return false;
    if (dev.lookup(firstOff + i) >= 0) return false;
  }
  return true;
}

/**
 * do_swap_page on a SWP_SYNCHRONOUS_IO device (zram) for a slot only this
 * entry references and no swap-cache folio holds: alloc_swap_folio picks
 * the highest enabled mTHP order whose aligned PTEs are all swap entries of
 * consecutive, uncached slots aligned as the address is (falling back order
 * by order, counting swpin_fallback), allocates it, and swap_read_folio
 * fills it synchronously. The folio joins the LRU but never the swap cache.
 * Null when not even a page could be allocated.
 */
export function swapinDirect(k: Kernel, mm: Mm, vma: Vma, addr: number, slot: Slot, orig: Uint32Array, off: number): DirectSwapin | null {
  const s = k.thp;
  const f = k.folios;
  const dev = k.swap.device!;
  const ps = k.pageSize;
  const below = s.pmdOrder > 0 ? (1 << s.pmdOrder) - 1 : 0;
  let head = -1;
  let order = 0;
  if (below !== 0) {
    let orders = thpVmaSuitableOrders(k, vma, addr, thpVmaAllowableOrders(k, mm, vma, vma.flags, TVA_PAGEFAULT, below));
    // thp_swap_suitable_orders: the slot must sit in its folio as the address does.
    for (let o = 1; o < s.pmdOrder; o++) if (orders & (1 << o) && (off - addr / ps) % (1 << o) !== 0) orders &= ~(1 << o);
    const m = { mask: orders };
    for (order = orders === 0 ? -1 : highestOrder(orders); order > 0; order = nextOrder(m, order)) {
      const nr = 1 << order;
      const idx = (addr / ps) % nr;
      if (canSwapinThp(k, slot.table, slot.index - idx, nr, orig, off - idx)) break;
    }
    const gfp = vmaThpGfpMask(k, vma);
    while (order > 0) {
      head = f.alloc(order, gfp, mm.nid);
      if (head >= 0) break;
      k.mthpStats[order * MTHP_STRIDE + MS.swpin_fallback]!++;
      order = nextOrder(m, order);
    }
  }
  if (head < 0) {
    order = 0;
    head = f.alloc(0, GFP_HIGHUSER_MOVABLE, mm.nid);
    if (head < 0) return null;
  }
  const nr = 1 << order;
  const idx = (addr / ps) % nr;
  const firstOff = off - idx;
  for (let i = 0; i < nr; i++) f.writeTag(head + i, dev.contents[firstOff + i]!);
  f.set(head, PG_uptodate | PG_swapbacked);
  k.lru.add(head);
  // count_swpin_event.
  if (order > 0) k.mthpStats[order * MTHP_STRIDE + MS.swpin]!++;
  k.events[EV.pswpin]! += nr;
  k.events[EV.pgpgin]! += (nr * ps) / 1024;
  return { head, nr, index: slot.index - idx, start: addr - idx * ps, firstOff };
}
