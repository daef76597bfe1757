import { PMD, PTE, SWP_DEVICE_EXCLUSIVE, entryRegs, migrationOffset } from "@hugemm/arch";
import { PG_anon, PG_dirty, PG_locked, Slot, VM_FAULT_ERROR, VM_HUGETLB, VM_WRITE, WALK_LEAF, WALK_OK, splitHugeEntry, type Kernel, type Mm } from "@hugemm/core";

const R = entryRegs(1);

/** Why make_device_exclusive failed: the kernel's errno. */
export type ExclusiveError = "EFAULT" | "EOPNOTSUPP" | "EBUSY";

/**
 * make_device_exclusive: get the page at `addr` writable in this process
 * (a write fault breaks COW; a PMD mapping is split, as FOLL_SPLIT_PMD
 * does), then replace its PTE with a device-exclusive entry, the PTE's
 * dirty bit going to the folio and soft-dirty kept. The mapping stays in
 * the rmap and the mapcount. Only anonymous memory can be made exclusive.
 * Returns the page, or the errno.
 */
export function makeDeviceExclusive(k: Kernel, mm: Mm, addr: number): number | ExclusiveError {
  const b = k.backend;
  const f = k.folios;
  const slot = new Slot();
  for (let tries = 0; tries < 4; tries++) {
    const vma = mm.vmas.lookup(addr);
    if (vma === undefined || (vma.flags & VM_WRITE) === 0) return "EFAULT";
    if (vma.flags & VM_HUGETLB) return "EOPNOTSUPP";
    const st = mm.walker.find(addr, PTE, false, slot);
    if (st === WALK_LEAF && slot.level === PMD) {
      const ptl = k.tables.ptl(slot.tablePa);
      const size = mm.walker.levelSize(PMD);
      k.locks.acquire(ptl);
      const ok = splitHugeEntry(k, mm, vma, PMD, slot.table, slot.tablePa, slot.index, addr - (addr % size), false);
      k.locks.release(ptl);
      if (!ok) return "EBUSY";
      continue;
    }
    if (st === WALK_OK) b.readEntry(slot.table, slot.index, PTE, R, 0);
    if (st !== WALK_OK || !b.present(R, 0, PTE) || !b.write(R, 0, PTE)) {
      if (k.fault(mm, addr, true) & VM_FAULT_ERROR) return "EFAULT";
      continue;
    }
    const page = b.pfn(R, 0, PTE);
    const head = f.head(page);
    if (page === k.zeroPfn || b.special(R, 0, PTE) || !f.test(head, PG_anon)) return "EOPNOTSUPP";
    if (f.test(head, PG_locked)) return "EBUSY";
    const ptl = k.tables.ptl(slot.tablePa);
    k.locks.acquire(ptl);
    try {
      b.getAndClear(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0);
      k.flushTlb(addr, addr + k.pageSize, "migrate");
      if (b.dirty(R, 0, PTE)) f.set(head, PG_dirty);
      const sd = b.capabilities.softDirty && b.softDirty(R, 0, PTE);
      b.softleafEntry(R, 0, PTE, SWP_DEVICE_EXCLUSIVE, migrationOffset(b.softleaf, page, false, false));
      if (sd) b.swpMkSoftDirty(R, 0, PTE);
      b.writeEntry(slot.table, slot.index, PTE, R, 0);
    } finally {
      k.locks.release(ptl);
    }
    return page;
  }
  return "EBUSY";
}
