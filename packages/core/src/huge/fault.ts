import { PMD, PUD, SoftleafType, entryRegs, softleafTypeOf, type Level } from "@hugemm/arch";
import { anonVmaPrepare } from "../fault/anon";
import { FAULT_FLAG_UNSHARE, FAULT_FLAG_WRITE, VM_FAULT_FALLBACK, VM_FAULT_MIGRATION_WAIT, VM_FAULT_OOM } from "../fault/codes";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_ACCESS_FLAGS, protIndex } from "../mm/vm-flags";
import { Slot, WALK_ENOMEM, WALK_LEAF, WALK_OK, WALK_SOFTLEAF } from "../pgtable/walker";
import { EV, ME, MS } from "../stats/counters";
import { ModelBug } from "../util/errors";
import { allocSplitTables, depositSplitTables, freeSplitTables, type SplitTables } from "./deposit";
import { allocHugeFolio, countMthp, levelOrder, mapAnonFolioHugeFault, mkHugeEntry } from "./map";
import { TVA_PAGEFAULT, thpVmaAllowableOrders, thpVmaSuitableOrder, vmaThpGfpMask } from "./orders";
import { doHugeWpPage } from "./wp";

const R = entryRegs(2);
const SLOT = new Slot();

/**
 * The huge levels of __handle_mm_fault: a none PUD or PMD the VMA may map
 * huge is filled by create_huge_pud / create_huge_pmd; a fault on an
 * existing huge entry is a write-protect fault (wp_huge_pmd), a NUMA hint
 * or just an access-flag update; a PMD migration entry makes the fault
 * wait. Returns -1 for the PTE level to handle the fault (VM_FAULT_FALLBACK
 * included), or the fault's result. The caller has found no PTE table for
 * the address (with one, nothing above it is huge).
 */
export function hugeFault(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number): number {
  const s = k.thp;
  if (s.pmdOrder < 0) return -1;
  if (s.pudOrder > 0) {
    const r = faultAt(k, mm, vma, addr, flags, PUD);
    if (r !== -1) return r;
  }
  return faultAt(k, mm, vma, addr, flags, PMD);
}

/** One level of __handle_mm_fault (the PUD block or the PMD block). */
function faultAt(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, level: Level): number {
  const b = k.backend;
  const w = mm.walker;
  const st = w.find(addr, level, true, SLOT, mm.nid);
  if (st === WALK_ENOMEM) return VM_FAULT_OOM;
  if (st === WALK_LEAF || st === WALK_SOFTLEAF) {
    // A huge entry above this level (a PUD leaf met on the way to the PMD): handled there already.
    return -1;
  }
  if (st !== WALK_OK) throw new ModelBug(`fault at 0x${addr.toString(16)}: the walk to level ${level} stopped with status ${st}`);
  b.readEntry(SLOT.table, SLOT.index, level, R, 0);
  const order = levelOrder(k, level);
  if (b.none(R, 0, level)) {
    if (thpVmaAllowableOrders(k, mm, vma, vma.flags, TVA_PAGEFAULT, 1 << order) === 0) return -1;
    const r = createHuge(k, mm, vma, addr, flags, level, SLOT);
    return r & VM_FAULT_FALLBACK ? -1 : r;
  }
  if (b.table(R, 0, level)) return -1;
  if (!b.present(R, 0, level)) {
    if (!b.isSoftleaf(R, 0, level)) return -1;
    const type = softleafTypeOf(b.swpType(R, 0, level));
    if (type === SoftleafType.MIGRATION_READ || type === SoftleafType.MIGRATION_READ_EXCLUSIVE || type === SoftleafType.MIGRATION_WRITE) return VM_FAULT_MIGRATION_WAIT;
    if (type === SoftleafType.DEVICE_PRIVATE_READ || type === SoftleafType.DEVICE_PRIVATE_WRITE) return k.devicePrivateFault(k, mm, vma, addr, flags, SLOT, R);
    throw new ModelBug(`fault on a level-${level} softleaf of type ${type} at 0x${addr.toString(16)}`);
  }
  const size = w.levelSize(level);
  const haddr = addr - (addr % size);
  if (b.protnone(R, 0, level) && vma.flags & VM_ACCESS_FLAGS) {
    // do_huge_pmd_numa_page: NUMA balancing's scanner is not modelled; the hint fault restores the protection.
    const ptl = k.tables.ptl(SLOT.tablePa);
    k.locks.acquire(ptl);
    b.modify(R, 0, level, protIndex(vma.flags));
    b.mkyoung(R, 0, level);
    b.setEntries(k.ptCtx, SLOT.table, SLOT.index, level, haddr, R, 0, 1);
    k.locks.release(ptl);
    return 0;
  }
  if (flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE) && !b.write(R, 0, level)) {
    const r = doHugeWpPage(k, mm, vma, level, SLOT, haddr, flags);
    return r & VM_FAULT_FALLBACK ? -1 : r;
  }
  // huge_pmd_set_accessed / huge_pud_set_accessed.
  const ptl = k.tables.ptl(SLOT.tablePa);
  k.locks.acquire(ptl);
  b.mkyoung(R, 0, level);
  if (flags & FAULT_FLAG_WRITE) b.mkdirty(R, 0, level);
  b.setAccessFlags(k.ptCtx, SLOT.table, SLOT.index, level, haddr, R, 0, (flags & FAULT_FLAG_WRITE) !== 0);
  k.locks.release(ptl);
  return 0;
}

/**
 * do_huge_pmd_anonymous_page (and the RFC's PUD counterpart): a read fault
 * at PMD level maps the huge zero folio when use_zero_page allows; anything
 * else allocates a THP of the level's order, with the page tables its split
 * will need deposited (at PUD level only under the pre-deposit policy), and
 * maps it whole. Falls back (VM_FAULT_FALLBACK) when the block does not fit
 * the VMA or no folio can be had.
 */
function createHuge(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, level: Level, slot: Slot): number {
  const b = k.backend;
  const order = levelOrder(k, level);
  const size = k.pageSize * 2 ** order;
  const haddr = addr - (addr % size);
  if (!thpVmaSuitableOrder(k, vma, haddr, order)) return VM_FAULT_FALLBACK;
  anonVmaPrepare(k, mm, vma);
  // do_huge_pmd_anonymous_page registers the mm with khugepaged once the VMA has its anon_vma.
  if (level === PMD) k.features.vmaChanged(k, mm, vma);
  const ptl = k.tables.ptl(slot.tablePa);
  if (level === PMD && (flags & FAULT_FLAG_WRITE) === 0 && k.thp.useZeroPage) {
    const tables = allocSplitTables(k, mm, PMD);
    if (tables === null) return VM_FAULT_OOM;
    const zero = k.hugeZero.get(k, mm);
    if (zero < 0) {
      freeSplitTables(k, mm, PMD, tables);
      k.events[EV.thp_fault_fallback]!++;
      return VM_FAULT_FALLBACK;
    }
    k.locks.acquire(ptl);
    b.readEntry(slot.table, slot.index, PMD, R, 1);
    if (!b.none(R, 1, PMD)) {
      k.locks.release(ptl);
      freeSplitTables(k, mm, PMD, tables);
      return 0;
    }
    // set_huge_zero_folio: special, read-only (the VMA's protection without write on a private mapping).
    mkHugeEntry(k, R, 0, PMD, zero, vma);
    b.mkspecial(R, 0, PMD);
    b.wrprotect(R, 0, PMD);
    depositSplitTables(k, PMD, slot.tablePa, slot.index, tables);
    b.setEntries(k.ptCtx, slot.table, slot.index, PMD, haddr, R, 0, 1);
    k.locks.release(ptl);
    return 0;
  }
  const folio = allocHugeFolio(k, order, vmaThpGfpMask(k, vma), mm.nid);
  if (folio < 0) {
    if (level === PMD) k.events[EV.thp_fault_fallback]!++;
    else k.modelEvents[ME.thp_fault_fallback_pud]!++;
    countMthp(k, order, MS.anon_fault_fallback);
    return VM_FAULT_FALLBACK;
  }
  let tables: SplitTables | null = null;
  if (level === PMD || k.thp.pudDeposit === "pre-deposit") {
    tables = allocSplitTables(k, mm, level);
    if (tables === null) {
      folioPut(k, folio);
      return VM_FAULT_OOM;
    }
  }
  k.locks.acquire(ptl);
  b.readEntry(slot.table, slot.index, level, R, 1);
  if (!b.none(R, 1, level)) {
    k.locks.release(ptl);
    if (tables !== null) freeSplitTables(k, mm, level, tables);
    folioPut(k, folio);
    return 0;
  }
  if (tables !== null) depositSplitTables(k, level, slot.tablePa, slot.index, tables);
  mapAnonFolioHugeFault(k, mm, vma, level, slot.table, slot.index, haddr, folio, R);
  if (level === PUD) k.modelEvents[ME.thp_fault_alloc_pud]!++;
  k.locks.release(ptl);
  return 0;
}
