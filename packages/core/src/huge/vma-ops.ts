import { PMD, PTE, PUD, SWP_DEVICE_READ, SWP_MIGRATION_READ, SWP_MIGRATION_READ_EXCLUSIVE, SoftleafType, entryRegs, softleafPfn, softleafTypeOf, type Level } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import type { HugeVmaOps } from "../mm/huge-vma-ops";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_SHARED, VM_SOFTDIRTY, VM_UFFD_WP, VM_WRITE, protIndex } from "../mm/vm-flags";
import { PG_anon, PG_anon_exclusive } from "../phys/page-flags";
import { Slot, WALK_LEAF, WALK_OK, WALK_SOFTLEAF } from "../pgtable/walker";
import { ModelBug } from "../util/errors";
import { moveDeposit } from "./deposit";
import { splitHugeAt, splitHugeSlot } from "./split-entry";

const R = entryRegs(2);
const OLD = new Slot();
const NEW = new Slot();

/** The huge-page layer's part of mprotect, mremap, munmap and VMA splits. */
export const hugeVmaOpsImpl: HugeVmaOps = {
  splitAt(k, mm, vma, addr) {
    if (!splitHugeAt(k, mm, vma, addr)) throw new ModelBug(`a VMA boundary at 0x${addr.toString(16)} needs a PUD split that could not get its page tables (the system call should have prepared the range)`);
  },
  prepareRange(k, mm, start, end) {
    return prepareBoundary(k, mm, start) && prepareBoundary(k, mm, end);
  },
  changeProtection: changeHuge,
  move: moveHuge,
};

/**
 * Split a PUD THP that `addr` falls inside of, before a system call that
 * puts a boundary there changes anything: with the "at-split" deposit
 * policy this is where the split can fail, and the call fails with ENOMEM.
 * (PMD splits use their deposited table and cannot fail.)
 */
function prepareBoundary(k: Kernel, mm: Mm, addr: number): boolean {
  const slot = new Slot();
  const st = mm.walker.find(addr, PTE, false, slot);
  if ((st !== WALK_LEAF && st !== WALK_SOFTLEAF) || slot.level !== PUD) return true;
  if (addr % mm.walker.levelSize(PUD) === 0) return true;
  const vma = mm.vmas.lookup(addr);
  if (vma === undefined) return true;
  return splitHugeAt(k, mm, vma, addr);
}

/**
 * change_huge_pmd / change_huge_pud: the huge entry mapping [addr, end) takes
 * the VMA's new protection whole, or is split (0 returned) when the range
 * covers only part of it. A writable migration entry becomes a read one
 * (read-exclusive for anon), a writable device-private entry a read one.
 * With MM_CP_TRY_CHANGE_WRITABLE an exclusive anonymous (or dirty shared)
 * entry is made writable where the write fault would have done so.
 */
function changeHuge(k: Kernel, mm: Mm, vma: Vma, level: Level, addr: number, end: number, tryWritable: boolean): number {
  const b = k.backend;
  if (mm.walker.find(addr, PTE, false, OLD) === WALK_OK || OLD.level !== level) throw new ModelBug(`change_huge: no level-${level} entry at 0x${addr.toString(16)}`);
  const size = mm.walker.levelSize(level);
  const haddr = addr - (addr % size);
  if (addr !== haddr || end < haddr + size) {
    if (!splitHugeAt(k, mm, vma, haddr)) throw new ModelBug(`mprotect of part of a PUD THP at 0x${haddr.toString(16)} that could not be split`);
    return 0;
  }
  const ptl = k.tables.ptl(OLD.tablePa);
  k.locks.acquire(ptl);
  try {
    b.readEntry(OLD.table, OLD.index, level, R, 0);
    if (!b.present(R, 0, level)) {
      changeNonPresentHuge(k, level, OLD, haddr);
      return size;
    }
    // change_huge_pmd uses pmdp_invalidate_ad (mprotect flushes the range afterwards); change_huge_pud pudp_invalidate.
    if (level === PMD && b.invalidateAd !== undefined) b.invalidateAd(k.ptCtx, OLD.table, OLD.index, level, haddr, R, 0);
    else b.invalidate(k.ptCtx, OLD.table, OLD.index, level, haddr, R, 0);
    b.modify(R, 0, level, protIndex(vma.flags));
    if (tryWritable && !b.write(R, 0, level) && canChangeHugeWritable(k, vma, level)) b.mkwrite(R, 0, level);
    b.setEntries(k.ptCtx, OLD.table, OLD.index, level, haddr, R, 0, 1);
    return size;
  } finally {
    k.locks.release(ptl);
  }
}

/** can_change_pmd_writable for the entry in R. */
function canChangeHugeWritable(k: Kernel, vma: Vma, level: Level): boolean {
  const b = k.backend;
  const f = k.folios;
  if ((vma.flags & VM_WRITE) === 0) throw new ModelBug(`making a huge entry of read-only VMA #${vma.id} writable`);
  if (b.capabilities.protnone && b.protnone(R, 0, level)) return false;
  if (k.config.memSoftDirty && (vma.flags & VM_SOFTDIRTY) === 0 && !b.softDirty(R, 0, level)) return false;
  if (b.capabilities.uffdWp && vma.flags & VM_UFFD_WP && b.uffdWp(R, 0, level)) return false;
  if ((vma.flags & VM_SHARED) === 0) {
    const pfn = b.pfn(R, 0, level);
    if (k.hugeZero.is(pfn) || b.special(R, 0, level)) return false;
    const head = f.head(pfn);
    return f.test(head, PG_anon) && f.pageTest(pfn, PG_anon_exclusive);
  }
  return b.dirty(R, 0, level);
}

/** change_non_present_huge_pmd. */
function changeNonPresentHuge(k: Kernel, level: Level, slot: Slot, haddr: number): void {
  const b = k.backend;
  const type = softleafTypeOf(b.swpType(R, 0, level));
  const off = b.swpOffset(R, 0, level);
  const sd = k.config.memSoftDirty && b.swpSoftDirty(R, 0, level);
  const wp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, level);
  if (type === SoftleafType.MIGRATION_WRITE) {
    const head = k.folios.head(softleafPfn(b.softleaf, off));
    b.softleafEntry(R, 0, level, k.folios.test(head, PG_anon) ? SWP_MIGRATION_READ_EXCLUSIVE : SWP_MIGRATION_READ, off);
    if (sd) b.swpMkSoftDirty(R, 0, level);
  } else if (type === SoftleafType.DEVICE_PRIVATE_WRITE) {
    b.softleafEntry(R, 0, level, SWP_DEVICE_READ, off);
    if (wp) b.swpMkUffdWp(R, 0, level);
  } else {
    return;
  }
  b.setEntries(k.ptCtx, slot.table, slot.index, level, haddr, R, 0, 1);
}

/**
 * move_huge_pmd / move_huge_pud for mremap: when the move may take the
 * whole entry and the destination is empty, the entry moves (made
 * soft-dirty, as moved pages are) with its deposit; otherwise it is split
 * and 0 returned so the PTEs move instead.
 */
function moveHuge(k: Kernel, mm: Mm, oldVma: Vma, _newVma: Vma, level: Level, oldAddr: number, newAddr: number, extent: number): number {
  const b = k.backend;
  const w = mm.walker;
  const size = w.levelSize(level);
  if (w.find(oldAddr, PTE, false, OLD) === WALK_OK || OLD.level !== level) throw new ModelBug(`move_huge: no level-${level} entry at 0x${oldAddr.toString(16)}`);
  if (extent < size || oldAddr % size !== 0 || newAddr % size !== 0 || w.find(newAddr, level, false, NEW) !== WALK_OK) {
    const ok = splitHugeSlot(k, mm, oldVma, level, OLD.table, OLD.tablePa, OLD.index, oldAddr - (oldAddr % size));
    if (!ok) throw new ModelBug(`mremap of part of a PUD THP at 0x${oldAddr.toString(16)} that could not be split`);
    return 0;
  }
  b.readEntry(NEW.table, NEW.index, level, R, 1);
  if (!b.none(R, 1, level)) throw new ModelBug(`move_huge: the destination entry at 0x${newAddr.toString(16)} is in use`);
  const oldPtl = k.tables.ptl(OLD.tablePa);
  const newPtl = k.tables.ptl(NEW.tablePa);
  k.locks.acquire(oldPtl);
  if (newPtl !== oldPtl) k.locks.acquire(newPtl, false, true);
  try {
    b.getAndClear(k.ptCtx, OLD.table, OLD.index, level, oldAddr, R, 0);
    if (oldVma.isAnonymous) moveDeposit(k, level, OLD.tablePa, OLD.index, NEW.tablePa, NEW.index);
    const present = b.present(R, 0, level);
    if (k.config.memSoftDirty) {
      if (present) b.mksoftDirty(R, 0, level);
      else b.swpMkSoftDirty(R, 0, level);
    }
    if (present) b.setEntries(k.ptCtx, NEW.table, NEW.index, level, newAddr, R, 0, 1);
    else b.writeEntry(NEW.table, NEW.index, level, R, 0);
    k.flushTlb(oldAddr, oldAddr + size, "mremap");
  } finally {
    if (newPtl !== oldPtl) k.locks.release(newPtl);
    k.locks.release(oldPtl);
  }
  return size;
}
