import { gupTouchRange } from "./populate-touch";
import { mapHugetlbSetupOf } from "./file-mmap";
import type { AddressSpace } from "../file/address-space";
import type { Kernel } from "../kernel/kernel";
import { ModelInputError } from "../util/errors";
import { hex, sysErr, sysOk, type SysResult } from "./errno";
import type { Mm } from "./mm";
import { clearMunmapPtes, completeMunmap, gatherMunmapVmas, pageAlign, type MunmapGather } from "./munmap";
import { touchRange, type TouchResult } from "./touch";
import { getUnmappedArea, MMAP_MIN_ADDR } from "./unmapped-area";
import { Vma } from "./vma";
import { MAX_MAP_COUNT, markAnonShmem, vmaLinkFile, vmaMergeNewRange } from "./vma-ops";
import {
  VM_ACCESS_FLAGS,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_TYPE,
  PROT_WRITE,
  VM_ACCOUNT,
  VM_GROWSDOWN,
  VM_IO,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NOHUGEPAGE,
  VM_NORESERVE,
  VM_PFNMAP,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_WRITE,
  vmFlagsFor,
} from "./vm-flags";

/** mmap(2) flags beyond those vm-flags.ts names (uapi values). */
export const MAP_DROPPABLE = 0x08;
export const MAP_GROWSDOWN = 0x0100;
export const MAP_DENYWRITE = 0x0800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_UNINITIALIZED = 0x4000000;
/** The flags MAP_SHARED_VALIDATE accepts without a file system's say (LEGACY_MAP_MASK). */
export const LEGACY_MAP_MASK =
  MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB;

/** What a caller of mmap(2) passes. */
export interface MmapArgs {
  /** The hint, or with MAP_FIXED the address (default 0). */
  readonly addr?: number;
  readonly len: number;
  readonly prot: number;
  readonly flags: number;
  /** The file mapped (the fd's inode); absent for MAP_ANONYMOUS. */
  readonly file?: AddressSpace | null;
  /** Byte offset into the file, page-aligned (default 0). */
  readonly offset?: number;
  /** The file was opened read-only (no FMODE_WRITE): shared mappings may never become writable. */
  readonly readOnly?: boolean;
}

/** What do_mmap did: the address, and how many bytes the caller should populate (MAP_POPULATE). */
export interface MmapDone {
  readonly addr: number;
  readonly populate: number;
}

/** ULONG_MAX + 1 of the arch (32-bit on 8xx). */
function ulongLimit(k: Kernel): number {
  return 2 ** (k.geometry.entryBytes * 8);
}

/** round_hint_to_min: a hint below mmap_min_addr is raised to it. */
function roundHintToMin(k: Kernel, hint: number): number {
  const h = hint - (hint % k.pageSize);
  if (h !== 0 && h < MMAP_MIN_ADDR) return pageAlign(k, MMAP_MIN_ADDR);
  return h;
}

/** file_mmap_ok: the mapping's end stays below MAX_LFS_FILESIZE. */
function fileMmapOk(k: Kernel, pgoff: number, len: number): boolean {
  const ps = k.pageSize;
  // (MAX_LFS_FILESIZE - len) >> PAGE_SHIFT, with MAX_LFS_FILESIZE LLONG_MAX on 64-bit and ULONG_MAX pages on 32-bit.
  const lastPgoff = k.geometry.entryBytes === 8 ? 2 ** 63 / ps - 1 : 2 ** 32 - 1;
  return pgoff <= lastPgoff - len / ps;
}

/** accountable_mapping: private writable mappings charge the commit limit. */
function accountableMapping(flags: number): boolean {
  return (flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE;
}

/**
 * __vm_enough_memory under the default heuristic overcommit: a single
 * request fails only when it exceeds all of RAM and swap.
 */
export function vmEnoughMemory(k: Kernel, pages: number): boolean {
  return pages <= k.phys.totalPages + k.swap.totalPages;
}

/** calc_vm_flag_bits beyond what vmFlagsFor covers. */
function calcVmFlagBits(flags: number): number {
  let f = 0;
  if (flags & MAP_GROWSDOWN) f |= VM_GROWSDOWN;
  if (flags & MAP_STACK) f |= VM_NOHUGEPAGE;
  return f;
}

/**
 * mmap_region: replace whatever is mapped in [addr, addr + len) with a new
 * mapping — merged into a matching neighbour when possible, else a new VMA
 * (anonymous shared memory gets a shmem file of its own, shmem_zero_setup).
 */
export function mmapRegion(k: Kernel, mm: Mm, file: AddressSpace | null, addr: number, len: number, vmFlags: number, pgoff: number): SysResult<number> {
  const ps = k.pageSize;
  const end = addr + len;
  let flags = vmFlags;
  let g: MunmapGather | null = null;
  const first = mm.vmas.intersection(addr, end);
  if (first !== undefined) {
    const r = gatherMunmapVmas(k, mm, first, addr, end);
    if ("ok" in r) return r;
    g = r;
  }
  if (accountableMapping(flags) && file?.mmapOps?.ownAccounting !== true) {
    let accounted = 0;
    for (const v of g?.vmas ?? []) if (v.flags & VM_ACCOUNT) accounted += v.size / ps;
    const charged = len / ps - accounted;
    if (charged > 0 && !vmEnoughMemory(k, charged)) return sysErr("ENOMEM", `len ${hex(len)} commits more than the memory and swap of the machine`);
    flags |= VM_ACCOUNT;
  }
  if (g !== null) {
    clearMunmapPtes(k, mm, g);
    completeMunmap(k, mm, g);
  }
  const { vma: next, prev } = mm.vmas.findVmaPrev(addr);
  const name = file !== null ? file.name : "";
  let vma: Vma | null = null;
  if (prev !== undefined || next !== undefined) {
    vma = vmaMergeNewRange(k, { mm, prev, middle: undefined, next, start: addr, end, pgoff, flags, file, anonVma: null, name, kind: null });
  }
  if (vma === null) {
    vma = new Vma(mm.id, addr, end, flags, pgoff);
    vma.name = name;
    if (file !== null) {
      vma.file = file;
    } else if (flags & VM_SHARED) {
      const shm = k.createFile("dev/zero", len, { shmem: true });
      markAnonShmem(shm);
      vma.file = shm;
      vma.name = "/dev/zero (deleted)";
    }
    mm.vmas.insert(vma);
    vmaLinkFile(k, vma);
    const err = file?.mmapOps?.mmap(k, mm, vma) ?? null;
    if (err !== null) {
      // The file system refused the mapping: it goes away again (the range stays unmapped).
      mm.vmas.remove(vma);
      k.unlinkFileVma(vma);
      return err;
    }
  }
  // New or expanded VMAs always start soft-dirty.
  if (k.config.memSoftDirty) vma.flags |= VM_SOFTDIRTY;
  return sysOk(addr);
}

/**
 * do_mmap with the arch's mmap entry: check the arguments as the kernel
 * does, pick the address, derive vm_flags and the page offset, and map.
 * The caller holds mmap_lock for writing and populates afterwards.
 */
export function doMmap(k: Kernel, mm: Mm, a: MmapArgs): SysResult<MmapDone> {
  const ps = k.pageSize;
  let file = a.file ?? null;
  let flags = a.flags;
  let lenIn = a.len;
  let addr = a.addr ?? 0;
  const off = a.offset ?? 0;
  const prot = a.prot;
  if (flags & MAP_LOCKED) throw new ModelInputError("mmap flags", hex(flags), "flags without MAP_LOCKED, which the model does not provide yet");
  // ksys_mmap_pgoff: a file mapped in larger units gets its length rounded to them; MAP_HUGETLB needs such a file or makes one.
  if (file !== null) {
    if (file.mmapOps !== null) lenIn = Math.ceil(lenIn / file.mmapOps.unit(file)) * file.mmapOps.unit(file);
    else if (flags & MAP_HUGETLB) return sysErr("EINVAL", `MAP_HUGETLB with ${file.name}, which is not a hugetlbfs file`);
  } else if (flags & MAP_HUGETLB && flags & MAP_ANONYMOUS) {
    const setup = mapHugetlbSetupOf(k);
    if (setup === undefined) throw new ModelInputError("mmap flags", hex(flags), "MAP_HUGETLB on a kernel with the hugetlb feature installed");
    const s = setup(k, lenIn, flags);
    if (!s.ok) return s;
    file = s.value.file;
    lenIn = s.value.len;
    flags &= ~MAP_ANONYMOUS;
  }
  if ((flags & MAP_TYPE) === MAP_DROPPABLE) throw new ModelInputError("mmap flags", hex(flags), "a mapping type other than MAP_DROPPABLE, which the model does not provide");
  if (file !== null && flags & MAP_ANONYMOUS) throw new ModelInputError("mmap file", file.name, "no file with MAP_ANONYMOUS");
  // The arch's sys_mmap takes a byte offset and wants it page-aligned.
  if (off % ps !== 0) return sysErr("EINVAL", `offset ${hex(off)} is not aligned to the page size (${ps} bytes)`);
  let pgoff = off / ps;
  if ((flags & MAP_ANONYMOUS) === 0 && file === null) return sysErr("EBADF", "a mapping without MAP_ANONYMOUS needs a file");
  if (lenIn === 0) return sysErr("EINVAL", "len is 0: the mapping is empty");
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  if ((flags & MAP_FIXED) === 0) addr = roundHintToMin(k, addr);
  const len = pageAlign(k, lenIn);
  if (len >= ulongLimit(k)) return sysErr("ENOMEM", `len ${hex(a.len)} overflows when rounded up to the page size`);
  if (pgoff + len / ps >= ulongLimit(k)) return sysErr("EOVERFLOW", `offset ${hex(off)} + len ${hex(len)} overflows the page offset`);
  if (mm.vmas.count > MAX_MAP_COUNT) return sysErr("ENOMEM", `the process already has more than vm.max_map_count (${MAX_MAP_COUNT}) mappings`);
  let vmFlags = vmFlagsFor(prot, flags) | calcVmFlagBits(flags);
  const where = getUnmappedArea(k, mm, file, addr, len, pgoff, flags);
  if (!where.ok) return where;
  addr = where.value;
  if (flags & MAP_FIXED_NOREPLACE && mm.vmas.intersection(addr, addr + len) !== undefined) {
    return sysErr("EEXIST", `MAP_FIXED_NOREPLACE range [${hex(addr)}, ${hex(addr + len)}) overlaps an existing mapping`);
  }
  const type = flags & MAP_TYPE;
  if (file !== null) {
    if (!fileMmapOk(k, pgoff, len)) return sysErr("EOVERFLOW", `offset ${hex(off)} + len ${hex(len)} goes beyond the largest file size`);
    if (type === MAP_SHARED || type === MAP_SHARED_VALIDATE) {
      // Plain MAP_SHARED ignores unknown flags; MAP_SHARED_VALIDATE refuses them.
      if (type === MAP_SHARED) flags &= LEGACY_MAP_MASK;
      if (flags & ~LEGACY_MAP_MASK) return sysErr("EOPNOTSUPP", `MAP_SHARED_VALIDATE with flags ${hex(flags & ~LEGACY_MAP_MASK)} that ${file.name} does not support`);
      if (prot & PROT_WRITE && a.readOnly) return sysErr("EACCES", `PROT_WRITE on a shared mapping of ${file.name}, which was opened read-only`);
      vmFlags |= VM_SHARED | VM_MAYSHARE;
      if (a.readOnly) vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
    } else if (type !== MAP_PRIVATE) {
      return sysErr("EINVAL", `flags ${hex(a.flags)} have mapping type ${hex(type)}: expected MAP_SHARED, MAP_SHARED_VALIDATE or MAP_PRIVATE`);
    }
    if (vmFlags & VM_GROWSDOWN) return sysErr("EINVAL", "MAP_GROWSDOWN is for anonymous mappings only");
  } else if (type === MAP_SHARED) {
    if (vmFlags & VM_GROWSDOWN) return sysErr("EINVAL", "MAP_GROWSDOWN cannot be shared");
    pgoff = 0;
    vmFlags |= VM_SHARED | VM_MAYSHARE;
  } else if (type === MAP_PRIVATE) {
    // Anonymous memory's page offset is its address, so splits and merges keep rmap linear.
    pgoff = addr / ps;
  } else {
    return sysErr("EINVAL", `flags ${hex(a.flags)} have mapping type ${hex(type)}: expected MAP_SHARED or MAP_PRIVATE for anonymous memory`);
  }
  if (flags & MAP_NORESERVE) vmFlags |= VM_NORESERVE;
  const r = mmapRegion(k, mm, file, addr, len, vmFlags, pgoff);
  if (!r.ok) return r;
  const populate = (flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE ? len : 0;
  return sysOk({ addr: r.value, populate });
}

/**
 * __mm_populate with errors ignored (MAP_POPULATE): fault in every VMA of
 * [start, start + len) but I/O and PFN maps. The caller holds mmap_lock for
 * reading.
 */
export function mmPopulate(k: Kernel, mm: Mm, start: number, len: number): void {
  const end = start + len;
  let nstart = start;
  while (nstart < end) {
    const vma = mm.vmas.intersection(nstart, end);
    if (vma === undefined) break;
    const nend = Math.min(end, vma.end);
    nstart = Math.max(nstart, vma.start);
    if ((vma.flags & (VM_IO | VM_PFNMAP)) === 0) populateVmaPageRange(k, mm, vma, nstart, nend);
    nstart = nend;
  }
}

/**
 * populate_vma_page_range: fault in [start, end) of `vma` as GUP with
 * FOLL_TOUCH does — writes for private writable VMAs (breaking COW now, but
 * not dirtying shared pages for nothing), reads otherwise; FOLL_FORCE lets
 * any accessible VMA through, so only PROT_NONE is refused (null).
 */
export function populateVmaPageRange(k: Kernel, mm: Mm, vma: Vma, start: number, end: number): TouchResult | null {
  if ((vma.flags & VM_ACCESS_FLAGS) === 0) return null;
  const write = (vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
  const r = touchRange(k, mm, start, end - start, write, k.faultHandlers);
  gupTouchRange(k, mm, start, r.error === 0 ? end : r.errorAddr);
  return r;
}
