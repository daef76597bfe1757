import { VM_MAYSHARE, type VmaKind } from "@hugemm/core";
import { copyHugetlbPageRange } from "./copy";
import { hugetlbFault, hvOf } from "./fault";
import { evictHugetlbFile } from "./hugetlbfs";
import { hugetlbChangeProtection } from "./mprotect";
import { hugetlbMoved, hugetlbMremapAlign, moveHugetlbPageTables } from "./mremap";
import { acctMemory } from "./pool";
import { hugeIndex } from "./reserve";
import type { HugetlbState } from "./state";
import { subpoolPut } from "./subpool";
import { zapHugetlbRange } from "./zap";

const kinds = new WeakMap<HugetlbState, VmaKind>();

/** hugetlb_vm_ops with the rest of hugetlb's VMA handling: the VMA kind of every hugetlb mapping of one kernel. */
export function hugetlbKind(st: HugetlbState): VmaKind {
  let kind = kinds.get(st);
  if (kind !== undefined) return kind;
  kind = {
    name: "hugetlb",
    // hugetlb_vm_op_split: a VMA boundary only between huge pages.
    maySplit(vma, addr) {
      const h = hvOf(st, vma).h;
      if (addr % h.size === 0) return null;
      return { errno: "EINVAL", reason: `0x${addr.toString(16)} is not aligned to the ${h.size / 1024} kB pages of hugetlb VMA [0x${vma.start.toString(16)}, 0x${vma.end.toString(16)})` };
    },
    // hugetlb_vm_op_open; at fork after hugetlb_dup_vma_private (children get no reservations).
    open(vma, from, fork) {
      const hv = hvOf(st, from);
      const priv = (vma.flags & VM_MAYSHARE) === 0;
      st.vmas.set(vma, fork && priv ? { h: hv.h, file: hv.file, resv: null, owner: false, unmapped: false } : { ...hv });
    },
    // hugetlb_vm_op_close: a private owner gives back the reservations of its range it never used.
    close(vma) {
      const hv = hvOf(st, vma);
      const k = st.k;
      if (hv.owner && hv.resv !== null && (vma.flags & VM_MAYSHARE) === 0) {
        const start = hugeIndex(hv, vma, vma.start, k.pageShift);
        const end = hugeIndex(hv, vma, vma.end, k.pageShift);
        const reserve = end - start - hv.resv.count(start, end);
        if (reserve > 0) acctMemory(st, hv.h, -subpoolPut(hv.file.subpool, reserve));
      }
      const as = vma.file;
      if (hv.file.anon && as !== null && as.iMmap.size === 0) evictHugetlbFile(st, as);
    },
    fault: (_k, mm, vma, addr, flags) => hugetlbFault(st, mm, vma, addr, flags),
    zap: (_k, mm, vma, start, end) => zapHugetlbRange(st, mm, vma, start, end),
    copy: (_k, dst, src, dstVma, srcVma) => copyHugetlbPageRange(st, dst, src, dstVma, srcVma),
    changeProtection: (_k, mm, vma, start, end) => hugetlbChangeProtection(st, mm, vma, start, end),
    mremapAlign: (vma, addr, oldLen, newLen, newAddr) => hugetlbMremapAlign(st, vma, addr, oldLen, newLen, newAddr),
    movePageTables: (_k, mm, oldVma, _newVma, oldAddr, newAddr, len) => moveHugetlbPageTables(st, mm, oldVma, oldAddr, newAddr, len),
    moved: (_k, oldVma) => hugetlbMoved(st, oldVma),
    pagesize: (vma) => hvOf(st, vma).h.size,
    entrySize: (vma) => hvOf(st, vma).h.entry,
  };
  kinds.set(st, kind);
  return kind;
}
