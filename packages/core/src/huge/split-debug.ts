import { PTE, entryRegs } from "@hugemm/arch";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { VM_HUGETLB, VM_IO, VM_MIXEDMAP, VM_PFNMAP } from "../mm/vm-flags";
import { PG_anon } from "../phys/page-flags";
import { Slot, WALK_LEAF, WALK_OK } from "../pgtable/walker";
import { splitFolio } from "./folio-split";

const R = entryRegs(1);

/**
 * split_huge_pages_pid: walk [start, end) of `mm` page by page; every
 * anonymous large folio met that is larger than `order` and holds no
 * unexpected references is split (non-uniformly at `inFolioOffset` when
 * that lies inside it). Returns [split, total] as the debugfs file logs.
 */
export function splitHugePagesPid(k: Kernel, mm: Mm, start: number, end: number, order: number, inFolioOffset: number): [number, number] {
  const ps = k.pageSize;
  const f = k.folios;
  const b = k.backend;
  const slot = new Slot();
  let total = 0;
  let split = 0;
  for (let addr = start - (start % ps); addr < end; addr += ps) {
    const vma = mm.vmas.lookup(addr);
    if (vma === undefined) break;
    if (vma.flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP | VM_HUGETLB)) {
      addr = vma.end - ps;
      continue;
    }
    const st = mm.walker.find(addr, PTE, false, slot);
    if (st !== WALK_OK && st !== WALK_LEAF) continue;
    b.readEntry(slot.table, slot.index, slot.level, R, 0);
    if (!b.present(R, 0, slot.level) || b.special(R, 0, slot.level)) continue;
    const pfn = b.pfn(R, 0, slot.level) + Math.floor((addr % mm.walker.levelSize(slot.level)) / ps);
    if (pfn === k.zeroPfn || k.hugeZero.is(f.head(pfn))) continue;
    const head = f.head(pfn);
    if (f.order(head) === 0 || !f.test(head, PG_anon) || order >= f.order(head)) continue;
    total++;
    // folio_expected_ref_count != folio_ref_count: someone holds it (a pin).
    if (f.refcount(head) !== f.mapcount(head) + (k.swap.slotOf.has(head) ? f.nrPages(head) : 0)) continue;
    f.ref(head);
    const at = inFolioOffset >= 0 && inFolioOffset < f.nrPages(head) ? head + inFolioOffset : undefined;
    if (splitFolio(k, head, order, at === undefined ? {} : { at }) === 0) split++;
    folioPut(k, f.head(at ?? head), 1);
  }
  return [split, total];
}
