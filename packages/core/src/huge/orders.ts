import type { Kernel } from "../kernel/kernel";
import { MMF_DISABLE_THP, MMF_DISABLE_THP_EXCEPT_ADVISED, type Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_HUGEPAGE, VM_HUGETLB, VM_IO, VM_MIXEDMAP, VM_NOHUGEPAGE, VM_PFNMAP } from "../mm/vm-flags";
import { GFP_TRANSHUGE, GFP_TRANSHUGE_LIGHT, __GFP_DIRECT_RECLAIM, __GFP_KSWAPD_RECLAIM, __GFP_NORETRY } from "../phys/gfp";

/** enum tva_type: who asks which orders a VMA allows. */
export const TVA_SMAPS = 0;
export const TVA_PAGEFAULT = 1;
export const TVA_KHUGEPAGED = 2;
export const TVA_FORCED_COLLAPSE = 3;
export type TvaType = 0 | 1 | 2 | 3;

/** VM_NO_KHUGEPAGED: special and hugetlb VMAs khugepaged leaves alone. */
const VM_NO_KHUGEPAGED = VM_IO | VM_PFNMAP | VM_MIXEDMAP | VM_HUGETLB;

/** highest_order: the highest set bit of a non-empty order mask. */
export function highestOrder(orders: number): number {
  return 31 - Math.clz32(orders);
}

/** next_order: drop `order` from the mask and return the next highest, or -1 when none is left. */
export function nextOrder(orders: { mask: number }, order: number): number {
  orders.mask &= ~(1 << order);
  return orders.mask === 0 ? -1 : highestOrder(orders.mask);
}

/** vma_thp_disabled: VM_NOHUGEPAGE, or the process disabled THP (prctl PR_SET_THP_DISABLE). */
export function vmaThpDisabled(mm: Mm, vmFlags: number, forcedCollapse: boolean): boolean {
  if (vmFlags & VM_NOHUGEPAGE) return true;
  if (mm.flags & MMF_DISABLE_THP) return true;
  if (mm.flags & MMF_DISABLE_THP_EXCEPT_ADVISED) return !forcedCollapse && (vmFlags & VM_HUGEPAGE) === 0;
  return false;
}

/**
 * thp_vma_suitable_order: the naturally aligned block of `order` around
 * `addr` lies inside the VMA (and, for a file, lines up with the file's
 * offsets).
 */
export function thpVmaSuitableOrder(k: Kernel, vma: Vma, addr: number, order: number): boolean {
  const ps = k.pageSize;
  const size = ps * 2 ** order;
  if (!vma.isAnonymous) {
    const pages = 2 ** order;
    if ((((vma.start / ps - vma.pgoff) % pages) + pages) % pages !== 0) return false;
  }
  const haddr = addr - (addr % size);
  return haddr >= vma.start && haddr + size <= vma.end;
}

/** thp_vma_suitable_orders: the orders of the mask suitable at `addr`. */
export function thpVmaSuitableOrders(k: Kernel, vma: Vma, addr: number, orders: number): number {
  let out = 0;
  for (let m = orders; m !== 0; ) {
    const o = highestOrder(m);
    m &= ~(1 << o);
    if (thpVmaSuitableOrder(k, vma, addr, o)) out |= 1 << o;
  }
  return out;
}

/**
 * thp_vma_allowable_orders: of `orders`, the ones the sysfs modes, the VMA's
 * flags and the process allow for an anonymous VMA. File VMAs have no huge
 * fault handler in the model (no file THP), so they allow none. Page faults
 * skip the size check (the fault handlers check suitability themselves) and
 * need no anon_vma yet; smaps reports eligibility the same way.
 */
export function thpVmaAllowableOrders(k: Kernel, mm: Mm, vma: Vma, vmFlags: number, type: TvaType, ordersIn: number): number {
  const s = k.thp;
  let orders = ordersIn & s.anonOrders;
  if (orders === 0 || !vma.isAnonymous) return 0;
  if (type !== TVA_FORCED_COLLAPSE) {
    orders &= s.enabledOrders((vmFlags & VM_HUGEPAGE) !== 0);
    if (orders === 0) return 0;
  }
  if (vmaThpDisabled(mm, vmFlags, type === TVA_FORCED_COLLAPSE)) return 0;
  const inPf = type === TVA_PAGEFAULT;
  const smaps = type === TVA_SMAPS;
  if (!inPf && !smaps && vmFlags & VM_NO_KHUGEPAGED) return 0;
  if (!inPf) {
    // The VMA must be able to hold one block of some order (tested at its end).
    const m = { mask: orders };
    let order = highestOrder(orders);
    while (order >= 0) {
      if (thpVmaSuitableOrder(k, vma, vma.end - k.pageSize * 2 ** order, order)) break;
      order = nextOrder(m, order);
    }
    orders = m.mask;
    if (orders === 0) return 0;
  }
  if (vma.anonVma === null) return smaps || inPf ? orders : 0;
  return orders;
}

/**
 * vma_thp_gfp_mask: how hard a THP allocation tries, by the defrag mode
 * (always: stall; defer: wake kswapd and fail fast; defer+madvise and
 * madvise: stall only for MADV_HUGEPAGE regions; never: never stall).
 */
export function vmaThpGfpMask(k: Kernel, vma: Vma): number {
  const madvised = (vma.flags & VM_HUGEPAGE) !== 0;
  switch (k.thp.defrag) {
    case "always":
      return GFP_TRANSHUGE | (madvised ? 0 : __GFP_NORETRY);
    case "defer":
      return GFP_TRANSHUGE_LIGHT | __GFP_KSWAPD_RECLAIM;
    case "defer+madvise":
      return GFP_TRANSHUGE_LIGHT | (madvised ? __GFP_DIRECT_RECLAIM : __GFP_KSWAPD_RECLAIM);
    case "madvise":
      return GFP_TRANSHUGE_LIGHT | (madvised ? __GFP_DIRECT_RECLAIM : 0);
    default:
      return GFP_TRANSHUGE_LIGHT;
  }
}
