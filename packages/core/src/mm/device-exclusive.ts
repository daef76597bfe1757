import { PTE, SoftleafType, entryRegs, softleafPfn, softleafTypeOf } from "@hugemm/arch";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { PG_anon, PG_anon_exclusive, PG_dirty, PG_locked } from "../phys/page-flags";
import type { Slot } from "../pgtable/walker";
import type { Mm } from "./mm";
import type { Vma } from "./vma";
import { VM_WRITE, protIndex } from "./vm-flags";

const R = entryRegs(2);

/*
 * Device-exclusive entries (make_device_exclusive): a device holds a page
 * for atomic access and the CPU's PTE becomes a softleaf naming it. The
 * mapping stays in the rmap and the mapcount; only the PTE changes. The
 * generic paths put the PTE back when the CPU needs it: a CPU fault
 * (remove_device_exclusive_entry) and fork, which copies it as present.
 */

/**
 * restore_exclusive_pte: the device-exclusive entry at `index` of `table`
 * becomes a present, old PTE of its page with the VMA's protection —
 * soft-dirty and uffd-wp carried, writable (and dirty when the folio is)
 * only where the VMA is writable and the write could be granted without a
 * fault: the page is exclusive to this anon mapping. Returns false when the
 * entry is not device-exclusive. The caller holds the PTE lock.
 */
export function restoreExclusivePte(k: Kernel, vma: Vma, table: Uint32Array, index: number): boolean {
  const b = k.backend;
  const f = k.folios;
  b.readEntry(table, index, PTE, R, 0);
  if (b.present(R, 0, PTE) || b.none(R, 0, PTE) || softleafTypeOf(b.swpType(R, 0, PTE)) !== SoftleafType.DEVICE_EXCLUSIVE) return false;
  const page = softleafPfn(b.softleaf, b.swpOffset(R, 0, PTE));
  const head = f.head(page);
  b.pfnEntry(R, 1, PTE, page, protIndex(vma.flags));
  b.mkold(R, 1, PTE);
  if (b.capabilities.softDirty && b.swpSoftDirty(R, 0, PTE)) b.mksoftDirty(R, 1, PTE);
  const wp = b.capabilities.uffdWp && b.swpUffdWp(R, 0, PTE);
  if (wp) b.mkuffdWp(R, 1, PTE);
  // can_change_pte_writable for a private anonymous page: exclusive, and no uffd-wp to honour.
  if (vma.flags & VM_WRITE && !wp && f.test(head, PG_anon) && f.pageTest(page, PG_anon_exclusive)) {
    if (f.test(head, PG_dirty)) b.mkdirty(R, 1, PTE);
    b.mkwrite(R, 1, PTE);
  }
  b.writeEntry(table, index, PTE, R, 1);
  return true;
}

/**
 * remove_device_exclusive_entry (do_swap_page on a device-exclusive PTE):
 * with a reference and the folio lock, recheck the entry under the PTE
 * lock and restore it; the access then retries on the present PTE. A
 * locked folio (a migration or another restore under way) makes the fault
 * return and retry later. Returns the vm_fault_t (0).
 */
export function removeDeviceExclusiveEntry(k: Kernel, _mm: Mm, vma: Vma, slot: Slot): number {
  const b = k.backend;
  const f = k.folios;
  b.readEntry(slot.table, slot.index, PTE, R, 0);
  const head = f.head(softleafPfn(b.softleaf, b.swpOffset(R, 0, PTE)));
  if (f.test(head, PG_locked)) return 0;
  f.ref(head);
  f.set(head, PG_locked);
  const ptl = k.tables.ptl(slot.tablePa);
  k.locks.acquire(ptl);
  try {
    restoreExclusivePte(k, vma, slot.table, slot.index);
  } finally {
    k.locks.release(ptl);
    f.clear(head, PG_locked);
    folioPut(k, head, 1);
  }
  return 0;
}
