import {
  MAP_FIXED,
  MMAP_MIN_ADDR,
  ModelInputError,
  VM_DONTEXPAND,
  VM_HUGETLB,
  VM_MAYSHARE,
  VM_SHARED,
  VM_WRITE,
  Vma,
  hex,
  sysErr,
  sysOk,
  taskUnmappedBase,
  vmStartGap,
  vmUnmappedArea,
  type AddressSpace,
  type FileMmapOps,
  type Kernel,
  type Mm,
  type SysErr,
  type SysResult,
} from "@hugemm/core";
import { addToPageCache } from "./fault";
import type { Hstate } from "./hstate";
import { hugetlbKind } from "./kind";
import { putHugeFolio, acctMemory } from "./pool";
import { allocHugetlbFolio, reservePages, unreservePages } from "./reserve";
import { ResvMap } from "./resv-map";
import type { HugetlbFile, HugetlbState } from "./state";
import type { Subpool } from "./subpool";
import { zapHugetlbRange } from "./zap";

/** A hugetlbfs mount: the hstate of its pagesize= and its subpool (size=, min_size=). */
export interface HugetlbfsMount {
  readonly h: Hstate;
  readonly subpool: Subpool | null;
}

/**
 * hugetlbfs_fill_super with pagesize=, size= and min_size= (in huge pages,
 * -1 for none): a mount with a minimum reserves it from the pool at once,
 * and fails (ENOMEM) when the pool cannot.
 */
export function mountHugetlbfs(st: HugetlbState, h: Hstate, maxPages: number, minPages: number): HugetlbfsMount | SysErr {
  if (maxPages === -1 && minPages === -1) return { h, subpool: null };
  const min = maxPages !== -1 && minPages > maxPages ? maxPages : minPages;
  if (min !== -1 && !acctMemory(st, h, min)) return sysErr("ENOMEM", `min_size=${min} pages of ${h.name} cannot be reserved from the pool`);
  const subpool: Subpool = { max: maxPages, min, used: 0, rsv: min === -1 ? 0 : min };
  st.subpools.set(subpool, h);
  return { h, subpool };
}

/** A hugetlbfs file of `size` bytes (a multiple of the page size) on `mount`. */
export function createHugetlbFile(st: HugetlbState, name: string, size: number, mount: HugetlbfsMount, anon = false): AddressSpace {
  if (!Number.isInteger(size) || size < 0 || size % mount.h.size !== 0) {
    throw new ModelInputError("hugetlbfs file size", size, `a multiple of the ${mount.h.size / 1024} kB page size of ${mount.h.name}`);
  }
  const as = st.k.createFile(name, size);
  as.mmapOps = hugetlbfsOps(st);
  const hf: HugetlbFile = { id: as.id, h: mount.h, resv: new ResvMap(), subpool: mount.subpool, anon };
  st.files.set(as.id, hf);
  return as;
}

/** The hugetlbfs inode behind `as`, or undefined for another file. */
export function hugetlbFileOf(st: HugetlbState, as: AddressSpace): HugetlbFile | undefined {
  return st.files.get(as.id);
}

const opsByState = new WeakMap<HugetlbState, FileMmapOps>();

/** hugetlbfs's file operations for mmap. */
export function hugetlbfsOps(st: HugetlbState): FileMmapOps {
  let ops = opsByState.get(st);
  if (ops !== undefined) return ops;
  ops = {
    unit: (file) => st.files.get(file.id)!.h.size,
    ownAccounting: true,
    getUnmappedArea: (k, mm, file, addr, len, _pgoff, flags) => hugetlbGetUnmappedArea(k, mm, st.files.get(file.id)!.h, addr, len, flags),
    mmap: (k, mm, vma) => hugetlbfsFileMmap(st, k, mm, vma),
    fallocate: (_k, file, mode, offset, len) => fallocateHugetlbFile(st, file, mode, offset, len),
  };
  opsByState.set(st, ops);
  return ops;
}

/**
 * hugetlb_get_unmapped_area: lengths and fixed addresses must be huge-page
 * aligned (EINVAL); a hint is aligned up and used if it fits; otherwise the
 * top-down search with huge-page alignment, bottom-up as the fallback.
 */
function hugetlbGetUnmappedArea(k: Kernel, mm: Mm, h: Hstate, addr: number, len: number, flags: number): SysResult<number> {
  if (len % h.size !== 0) return sysErr("EINVAL", `len ${hex(len)} is not a multiple of the ${h.size / 1024} kB huge page size`);
  if (flags & MAP_FIXED) {
    if (addr % h.size !== 0) return sysErr("EINVAL", `MAP_FIXED address ${hex(addr)} is not aligned to the ${h.size / 1024} kB huge page size`);
    return sysOk(addr);
  }
  const wide = addr > mm.mapWindow;
  const mmapEnd = wide ? mm.taskSize : mm.mapWindow;
  if (len > mmapEnd - MMAP_MIN_ADDR) return sysErr("ENOMEM", `len ${hex(len)} is larger than the address space`);
  if (addr !== 0) {
    const hint = Math.ceil(addr / h.size) * h.size;
    const { vma, prev } = mm.vmas.findVmaPrev(hint);
    if (mmapEnd - len >= hint && hint >= MMAP_MIN_ADDR && (vma === undefined || hint + len <= vmStartGap(k, vma)) && (prev === undefined || hint >= prev.end)) return sysOk(hint);
  }
  // The kernel's align_mask (PAGE_MASK & ~huge_page_mask) as the 2^n - 1 mask vm_unmapped_area takes here.
  const alignMask = h.size - 1;
  const base = wide ? mm.mmapBase + mm.taskSize - mm.mapWindow : mm.mmapBase;
  let a = vmUnmappedArea(k, mm, { topDown: true, length: len, lowLimit: k.pageSize, highLimit: base, alignMask, alignOffset: 0, startGap: 0 });
  if (a < 0) a = vmUnmappedArea(k, mm, { topDown: false, length: len, lowLimit: taskUnmappedBase(k, mm), highLimit: mmapEnd, alignMask, alignOffset: 0, startGap: 0 });
  if (a < 0) return sysErr("ENOMEM", `no free ${h.size / 1024} kB-aligned range of len ${hex(len)}`);
  return sysOk(a);
}

/**
 * hugetlbfs_file_mmap: the VMA becomes VM_HUGETLB | VM_DONTEXPAND of the
 * hugetlb kind; its offset must be huge-page aligned (EINVAL); its pages
 * are reserved (ENOMEM when they cannot be); a writable mapping extends
 * the file to its end.
 */
function hugetlbfsFileMmap(st: HugetlbState, k: Kernel, mm: Mm, vma: Vma): SysErr | null {
  const as = vma.file!;
  const hf = st.files.get(as.id)!;
  const h = hf.h;
  vma.flags |= VM_HUGETLB | VM_DONTEXPAND;
  if (vma.pgoff % h.pages !== 0) return sysErr("EINVAL", `offset ${hex(vma.pgoff * k.pageSize)} is not aligned to the ${h.size / 1024} kB huge page size`);
  const len = vma.size + vma.pgoff * k.pageSize;
  const resv = reservePages(st, hf, vma.pgoff / h.pages, len / h.size, vma.flags, mm.nid);
  if (resv === false) {
    // The MAP_HUGETLB pseudo-file goes with the failed mapping.
    if (hf.anon) {
      st.files.delete(as.id);
      k.files.delete(as.id);
    }
    return sysErr("ENOMEM", `${len / h.size - vma.pgoff / h.pages} pages of ${h.name} cannot be reserved (free ${h.free}, reserved ${h.resv}, surplus ${h.surplus} of ${h.nrOvercommit} overcommit)`);
  }
  st.vmas.set(vma, { h, file: hf, resv, owner: resv !== null, unmapped: false });
  vma.kind = hugetlbKind(st);
  if (vma.flags & VM_WRITE && as.size < len) as.size = len;
  return null;
}

/**
 * Drop the page cache of `as` from huge index `from` on (to `to`):
 * remove_inode_hugepages. Mapped pages were unmapped first. With
 * `truncate` the regions past `from` go with one hugetlb_unreserve_pages;
 * a hole punch removes only the regions of the pages it freed. Returns the
 * pages freed.
 */
function removeInodeHugepages(st: HugetlbState, as: AddressSpace, hf: HugetlbFile, from: number, to: number, truncate: boolean): number {
  const h = hf.h;
  let freed = 0;
  for (const [base, head] of [...as.pages]) {
    const idx = base / h.pages;
    if (idx < from || idx >= to) continue;
    as.pages.delete(base);
    as.nrpages -= h.pages;
    putHugeFolio(st, head, h.pages);
    freed++;
    if (!truncate) unreservePages(st, hf, idx, idx + 1, 1);
  }
  if (truncate) unreservePages(st, hf, from, to, freed);
  return freed;
}

/** hugetlb_vmdelete_list: unmap huge indices [from, to) of `as` from every VMA mapping it, private ones too. */
function vmdeleteList(st: HugetlbState, as: AddressSpace, hf: HugetlbFile, from: number, to: number): void {
  const k = st.k;
  const h = hf.h;
  for (const vma of [...as.iMmap]) {
    const vFrom = vma.pgoff / h.pages;
    const vTo = vFrom + vma.size / h.size;
    const a = Math.max(from, vFrom);
    const b = Math.min(to, vTo);
    if (b <= a) continue;
    const mm = k.mm(vma.mmId);
    if (mm === undefined) continue;
    zapHugetlbRange(st, mm, vma, vma.start + (a - vFrom) * h.size, vma.start + (b - vFrom) * h.size);
    k.flushTlb(vma.start + (a - vFrom) * h.size, vma.start + (b - vFrom) * h.size, "munmap");
  }
}

/** The hugetlbfs inode of `as`; a ModelInputError for any other file. */
function inodeOf(st: HugetlbState, as: AddressSpace, what: string): HugetlbFile {
  const hf = st.files.get(as.id);
  if (hf === undefined || st.k.files.get(as.id) !== as) throw new ModelInputError(`${what} file`, as.name, "a hugetlbfs file of this kernel");
  return hf;
}

/**
 * ftruncate of a hugetlbfs file (hugetlbfs_setattr): the size must be huge
 * aligned (EINVAL); shrinking unmaps and frees the pages past it and drops
 * their reservations, after which faults there SIGBUS.
 */
export function truncateHugetlbFile(st: HugetlbState, as: AddressSpace, size: number): SysResult<0> {
  const hf = inodeOf(st, as, "truncate");
  const h = hf.h;
  if (!Number.isInteger(size) || size < 0) throw new ModelInputError("truncate size", size, "a non-negative byte count");
  if (size % h.size !== 0) return sysErr("EINVAL", `size ${hex(size)} is not a multiple of the ${h.size / 1024} kB huge page size`);
  const old = as.size;
  as.size = size;
  if (size < old) {
    const from = size / h.size;
    vmdeleteList(st, as, hf, from, Number.MAX_SAFE_INTEGER);
    removeInodeHugepages(st, as, hf, from, Number.MAX_SAFE_INTEGER, true);
  }
  return sysOk(0);
}

/** fallocate(2) modes hugetlbfs takes. */
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;

/**
 * hugetlbfs_fallocate: allocate [offset, offset + len) into the page cache
 * (each missing page as a shared fault would, using the offset's
 * reservation if it has one; ENOSPC when the pool has none, keeping the
 * pages already added), growing the file unless FALLOC_FL_KEEP_SIZE; or
 * with FALLOC_FL_PUNCH_HOLE free the whole huge pages inside the range.
 * Other modes: EOPNOTSUPP.
 */
export function fallocateHugetlbFile(st: HugetlbState, as: AddressSpace, mode: number, offset: number, len: number): SysResult<0> {
  const hf = inodeOf(st, as, "fallocate");
  const h = hf.h;
  if (!Number.isInteger(offset) || offset < 0) throw new ModelInputError("fallocate offset", offset, "a non-negative byte offset");
  if (!Number.isInteger(len) || len <= 0) throw new ModelInputError("fallocate len", len, "a positive byte count");
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return sysErr("EOPNOTSUPP", `fallocate mode ${hex(mode)}: hugetlbfs takes only FALLOC_FL_KEEP_SIZE and FALLOC_FL_PUNCH_HOLE`);
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    const from = Math.ceil(offset / h.size);
    const to = Math.floor((offset + len) / h.size);
    if (to > from) {
      vmdeleteList(st, as, hf, from, to);
      removeInodeHugepages(st, as, hf, from, to, false);
    }
    return sysOk(0);
  }
  const from = Math.floor(offset / h.size);
  const to = Math.ceil((offset + len) / h.size);
  // The pseudo VMA of hugetlbfs_fallocate: a shared mapping of the whole file.
  const pseudo = new Vma(0, 0, to * h.size, VM_HUGETLB | VM_MAYSHARE | VM_SHARED, 0);
  const hv = { h, file: hf, resv: null, owner: false, unmapped: false };
  for (let idx = from; idx < to; idx++) {
    const base = idx * h.pages;
    if (as.pages.has(base)) continue;
    const r = allocHugetlbFolio(st, hv, pseudo, idx, false, 0);
    if (r === "ENOSPC") return sysErr("ENOSPC", `no free ${h.name} page for offset ${hex(idx * h.size)}`);
    st.k.folios.zero(r);
    addToPageCache(st, as, r, base);
    // The allocation's reference goes: the page cache holds the folio now.
    putHugeFolio(st, r);
  }
  if ((mode & FALLOC_FL_KEEP_SIZE) === 0 && offset + len > as.size) as.size = offset + len;
  return sysOk(0);
}

/** hugetlbfs_evict_inode: the file's last user went; its pages and regions go. */
export function evictHugetlbFile(st: HugetlbState, as: AddressSpace): void {
  const hf = st.files.get(as.id);
  if (hf === undefined) return;
  removeInodeHugepages(st, as, hf, 0, Number.MAX_SAFE_INTEGER, true);
  st.files.delete(as.id);
  st.k.files.delete(as.id);
}
