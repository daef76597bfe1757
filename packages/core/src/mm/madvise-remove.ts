import type { AddressSpace } from "../file/address-space";
import type { Kernel } from "../kernel/kernel";
import { hex, sysErr, type SysErr } from "./errno";
import type { Vma } from "./vma";
import { VM_LOCKED, VM_MAYWRITE, VM_SHARED } from "./vm-flags";
import { FALLOC_FL_PUNCH_HOLE_KEEP_SIZE } from "./file-mmap";
import { zapPageRange } from "./zap";

/**
 * madvise_remove: free the backing store of [start, end) of a shared,
 * writable file mapping, as fallocate(FALLOC_FL_PUNCH_HOLE | KEEP_SIZE) on
 * its file does. Only shmem (tmpfs, memfd, shared anonymous memory) is
 * modelled; the model's regular files have no filesystem to punch holes in.
 * Returns null on success (mmap_lock was dropped), or the errno.
 */
export function madviseRemove(k: Kernel, vma: Vma, start: number, end: number): SysErr | null {
  const range = `[${hex(vma.start)}, ${hex(vma.end)})`;
  if (vma.flags & VM_LOCKED) return sysErr("EINVAL", `MADV_REMOVE on ${range}, which is locked`);
  const as = vma.file;
  if (as === null) return sysErr("EINVAL", `MADV_REMOVE on ${range}, which maps no file`);
  if ((vma.flags & (VM_SHARED | VM_MAYWRITE)) !== (VM_SHARED | VM_MAYWRITE)) return sysErr("EACCES", `MADV_REMOVE on ${range}, which is not a shared writable mapping`);
  // A file system with its own fallocate (hugetlbfs) punches the hole itself.
  const fallocate = as.mmapOps?.fallocate;
  if (fallocate !== undefined) {
    const r = fallocate(k, as, FALLOC_FL_PUNCH_HOLE_KEEP_SIZE, start - vma.start + vma.pgoff * k.pageSize, end - start);
    return r.ok ? null : r;
  }
  if (!as.shmem) return sysErr("EOPNOTSUPP", `MADV_REMOVE on ${range}: the model's regular files have no hole punching (only shmem is modelled)`);
  const ps = k.pageSize;
  shmemPunchHole(k, as, vma.pageIndex(start, ps), vma.pageIndex(end, ps));
  return null;
}

/**
 * shmem_fallocate(FALLOC_FL_PUNCH_HOLE) over page indexes [first, last):
 * unmap_mapping_range without even_cows (every mapping of the file's pages
 * goes; private COW copies stay), then shmem_truncate_range: the cached
 * pages leave the page cache and the swapped-out ones free their swap.
 * The range reads as zeroes afterwards.
 */
export function shmemPunchHole(k: Kernel, as: AddressSpace, first: number, last: number): void {
  const ps = k.pageSize;
  for (const v of [...as.iMmap]) {
    const mm = k.mm(v.mmId);
    if (mm === undefined) continue;
    const vFirst = Math.max(first, v.pgoff);
    const vLast = Math.min(last, v.pgoff + (v.end - v.start) / ps);
    if (vFirst >= vLast) continue;
    zapPageRange(k, mm, v, v.start + (vFirst - v.pgoff) * ps, v.start + (vLast - v.pgoff) * ps, k.hugeZap, { mapping: as.id });
  }
  for (let index = first; index < last; index++) {
    const head = as.pages.get(index);
    if (head !== undefined) k.pagecache.remove(as, head);
    const off = as.swapped.get(index);
    if (off !== undefined) {
      k.swap.freeSwapAndCache(off, 1);
      as.swapped.delete(index);
    }
  }
}
