import { entryRegs, type Level } from "@hugemm/arch";
import { FAULT_FLAG_UNSHARE, VM_FAULT_FALLBACK, VM_FAULT_OOM } from "../fault/codes";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_WRITE } from "../mm/vm-flags";
import { PG_anon, PG_anon_exclusive, PG_swapcache } from "../phys/page-flags";
import type { Slot } from "../pgtable/walker";
import { EV, MS } from "../stats/counters";
import { allocHugeFolio, countMthp, levelOrder, mapAnonFolioHugeFault } from "./map";
import { vmaThpGfpMask } from "./orders";
import { splitHugeSlot } from "./split-entry";

const R = entryRegs(2);

/**
 * do_huge_pmd_wp_page (and the same at PUD level): a write, or a GUP
 * unshare, hitting a read-only huge anonymous mapping. The huge zero folio
 * is replaced by a new THP. A folio exclusive to this mapping — its head
 * page marked exclusive, or no reference but this mapping's (a swap-cache
 * copy is dropped first) — is reused in place. Anything else is split so
 * the PTE-level fault copies just the page written. Returns
 * VM_FAULT_FALLBACK after splitting (VM_FAULT_OOM when a PUD split could
 * not get its page tables).
 */
export function doHugeWpPage(k: Kernel, mm: Mm, vma: Vma, level: Level, slot: Slot, haddr: number, flags: number): number {
  const b = k.backend;
  const f = k.folios;
  const unshare = (flags & FAULT_FLAG_UNSHARE) !== 0;
  const ptl = k.tables.ptl(slot.tablePa);
  b.readEntry(slot.table, slot.index, level, R, 0);
  const page = b.pfn(R, 0, level);
  if (k.hugeZero.is(page)) {
    const r = doHugeZeroWp(k, mm, vma, level, slot, haddr);
    if ((r & VM_FAULT_FALLBACK) === 0) return r;
    return splitFallback(k, mm, vma, level, slot, haddr);
  }
  const head = f.head(page);
  k.locks.acquire(ptl);
  let reuse = f.pageTest(page, PG_anon_exclusive);
  if (!reuse && f.test(head, PG_anon)) {
    const nr = f.nrPages(head);
    if (f.refcount(head) <= 1 + (f.test(head, PG_swapcache) ? nr : 0)) {
      if (f.test(head, PG_swapcache)) k.swap.folioFreeSwap(head);
      if (f.refcount(head) === 1) {
        k.rmap.moveAnon(head, vma);
        f.pageSet(page, PG_anon_exclusive, true);
        reuse = true;
      }
    }
  }
  if (reuse) {
    if (!unshare) {
      b.mkyoung(R, 0, level);
      b.mkdirty(R, 0, level);
      if (vma.flags & VM_WRITE) b.mkwrite(R, 0, level);
      // No pgreuse: the kernel counts it in wp_page_reuse, the PTE-level path only.
      b.setAccessFlags(k.ptCtx, slot.table, slot.index, level, haddr, R, 0, true);
    }
    k.locks.release(ptl);
    return 0;
  }
  k.locks.release(ptl);
  return splitFallback(k, mm, vma, level, slot, haddr);
}

/** __split_huge_pmd from the fault path, then VM_FAULT_FALLBACK for the PTE-level fault. */
function splitFallback(k: Kernel, mm: Mm, vma: Vma, level: Level, slot: Slot, haddr: number): number {
  return splitHugeSlot(k, mm, vma, level, slot.table, slot.tablePa, slot.index, haddr) ? VM_FAULT_FALLBACK : VM_FAULT_OOM;
}

/**
 * do_huge_zero_wp_pmd: a write to the huge zero folio allocates a THP and
 * maps it in its place (the deposited table stays). Falls back when no THP
 * can be had.
 */
function doHugeZeroWp(k: Kernel, mm: Mm, vma: Vma, level: Level, slot: Slot, haddr: number): number {
  const b = k.backend;
  const order = levelOrder(k, level);
  const folio = allocHugeFolio(k, order, vmaThpGfpMask(k, vma), mm.nid);
  if (folio < 0) {
    k.events[EV.thp_fault_fallback]!++;
    countMthp(k, order, MS.anon_fault_fallback);
    return VM_FAULT_FALLBACK;
  }
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  b.readEntry(slot.table, slot.index, level, R, 1);
  if (!k.hugeZero.is(b.pfn(R, 1, level)) || !b.present(R, 1, level)) {
    k.locks.release(ptl);
    folioPut(k, folio);
    return 0;
  }
  b.getAndClear(k.ptCtx, slot.table, slot.index, level, haddr, R, 1);
  k.flushTlb(haddr, haddr + mm.walker.levelSize(level), "cow");
  mapAnonFolioHugeFault(k, mm, vma, level, slot.table, slot.index, haddr, folio, R);
  k.locks.release(ptl);
  return 0;
}
