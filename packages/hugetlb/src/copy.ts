import { entryRegs } from "@hugemm/arch";
import { PG_anon, Slot, VM_MAYWRITE, VM_SHARED, VM_WRITE, folioNeedsCowForDma, type Mm, type Vma } from "@hugemm/core";
import { hvOf } from "./fault";
import { hugePtepGet, hugePteAlloc, hugePteOffset, makeHugePte, setHugePteAt, valueLevel } from "./pgtable";
import { allocHugetlbFolio, hugeIndex } from "./reserve";
import type { HugetlbState } from "./state";

const E = entryRegs(1);
const N = entryRegs(1);
const SRC = new Slot();
const DST = new Slot();

/**
 * copy_hugetlb_page_range at fork: every logical entry of `srcVma` is
 * copied into `dstVma`. File folios gain a mapping; anonymous ones are
 * shared with the child write-protected on both sides (COW mappings),
 * except a folio that may be pinned for DMA: the child gets its own copy
 * now, from an allocation without reservation (fork fails if there is no
 * page). False when memory ran out.
 */
export function copyHugetlbPageRange(st: HugetlbState, dst: Mm, src: Mm, dstVma: Vma, srcVma: Vma): boolean {
  const k = st.k;
  const b = k.backend;
  const f = k.folios;
  const hv = hvOf(st, srcVma);
  const dhv = hvOf(st, dstVma);
  const h = hv.h;
  const lvl = valueLevel(h.entry);
  const cow = (srcVma.flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
  for (let addr = srcVma.start; addr < srcVma.end; addr += h.size) {
    if (!hugePteOffset(src, h, addr, SRC)) continue;
    hugePtepGet(k, h, SRC, addr, E);
    if (b.none(E, 0, lvl)) continue;
    if (!hugePteAlloc(k, dst, h, addr, DST)) return false;
    // The source slot may have moved if the walker's cache was refreshed.
    hugePteOffset(src, h, addr, SRC);
    const head = b.pfn(E, 0, lvl);
    if (!f.test(head, PG_anon)) {
      f.ref(head, 1);
      k.rmap.addWhole(head, false, false, dst.id);
    } else if (!k.rmap.tryDupWhole(head, folioNeedsCowForDma(k, srcVma, src, head), dst.id)) {
      // hugetlb_install_folio: a pinned page is copied for the child right away.
      const r = allocHugetlbFolio(st, dhv, dstVma, hugeIndex(dhv, dstVma, addr, k.pageShift), false, dst.nid);
      if (r === "ENOSPC") return false;
      f.copyContents(r, head, h.pages);
      k.rmap.setAnon(r, dstVma, addr, dstVma.anonVma!.id);
      k.rmap.addWhole(r, true, true, dst.id);
      st.restoreReserve.delete(r);
      makeHugePte(k, dstVma, h, r, (dstVma.flags & VM_WRITE) !== 0, N);
      setHugePteAt(k, h, DST, addr, N);
      st.countAdd(dst.id, h.pages);
      continue;
    } else {
      f.ref(head, 1);
    }
    if (cow) {
      b.wrprotectHugeEntry(k.ptCtx, k.tables, SRC.table, SRC.index, addr, h.entry);
      b.wrprotect(E, 0, lvl);
    }
    setHugePteAt(k, h, DST, addr, E);
    st.countAdd(dst.id, h.pages);
  }
  return true;
}

