import { PMD } from "@hugemm/arch";
import type { AddressSpace } from "../file/address-space";
import type { Kernel } from "../kernel/kernel";
import { hex, sysErr, sysOk, type SysResult } from "./errno";
import type { Mm } from "./mm";
import type { Vma } from "./vma";
import { MAP_FIXED, MAP_SHARED, VM_GROWSDOWN } from "./vm-flags";

/** vm.mmap_min_addr (CONFIG_DEFAULT_MMAP_MIN_ADDR as distributions set it): nothing maps below. */
export const MMAP_MIN_ADDR = 65536;
/** stack_guard_gap: pages kept free below a VM_GROWSDOWN stack. */
export const STACK_GUARD_GAP_PAGES = 256;

/**
 * How large an alignment a new anonymous private mapping of `len` bytes
 * with mmap `flags` should get (0: none). The kernel aligns mappings whose
 * length is a multiple of the PMD size to the PMD size when the arch has PMD
 * THP; a policy may ask for more (PUD alignment of long mappings).
 */
export type AlignFor = (len: number, flags: number) => number;

/** The kernel's rule: PMD alignment for lengths that are a multiple of the PMD size, on arches with PMD THP. */
export function defaultAlignFor(k: Kernel): AlignFor {
  const pmdSize = 2 ** k.geometry.levels[PMD]!.shift;
  const thp = k.backend.capabilities.pmdThp;
  return (len) => (thp && len % pmdSize === 0 ? pmdSize : 0);
}

/** The alignment policy of `k`: its `alignFor` property when it carries one, the kernel's rule otherwise. */
export function alignForOf(k: Kernel): AlignFor {
  return k.alignFor ?? defaultAlignFor(k);
}

/** struct vm_unmapped_area_info. */
export interface UnmappedAreaInfo {
  readonly topDown: boolean;
  readonly length: number;
  readonly lowLimit: number;
  readonly highLimit: number;
  /** Alignment as a mask (size - 1), 0 for page alignment. */
  readonly alignMask: number;
  readonly alignOffset: number;
  readonly startGap: number;
}

/** vm_start_gap: a stack's start less the guard gap below it. */
export function vmStartGap(k: Kernel, v: Vma): number {
  if ((v.flags & VM_GROWSDOWN) === 0) return v.start;
  return Math.max(0, v.start - STACK_GUARD_GAP_PAGES * k.pageSize);
}

/** vm_end_gap: no modelled arch has upward-growing stacks, so the end. */
export function vmEndGap(v: Vma): number {
  return v.end;
}

/** (x - offset) & mask for masks of the form 2^n - 1 and x of any size. */
function misalign(x: number, offset: number, mask: number): number {
  const m = mask + 1;
  return (((x - offset) % m) + m) % m;
}

/** vm_unmapped_area: an address, or -1 for ENOMEM. */
export function vmUnmappedArea(k: Kernel, mm: Mm, info: UnmappedAreaInfo): number {
  return info.topDown ? unmappedAreaTopdown(k, mm, info) : unmappedArea(k, mm, info);
}

/** unmapped_area: the lowest fit, respecting stack guard gaps. */
function unmappedArea(k: Kernel, mm: Mm, info: UnmappedAreaInfo): number {
  // Search for the worst case of alignment overhead.
  const length = info.length + info.alignMask + info.startGap;
  let low = Math.max(info.lowLimit, MMAP_MIN_ADDR);
  const high = info.highLimit;
  for (;;) {
    const gapStart = mm.vmas.emptyArea(low, high, length);
    if (gapStart < 0) return -1;
    let gap = gapStart + info.startGap;
    gap += misalign(info.alignOffset, gap, info.alignMask);
    const next = mm.vmas.findVma(gapStart);
    if (next !== undefined && next.flags & VM_GROWSDOWN) {
      if (vmStartGap(k, next) < gap + length - 1) {
        low = next.end;
        continue;
      }
    } else {
      const prev = mm.vmas.findVmaPrev(gapStart).prev;
      if (prev !== undefined && vmEndGap(prev) > gap) {
        low = vmEndGap(prev);
        continue;
      }
    }
    return gap;
  }
}

/** unmapped_area_topdown: the highest fit below the high limit, respecting stack guard gaps. */
function unmappedAreaTopdown(k: Kernel, mm: Mm, info: UnmappedAreaInfo): number {
  const length = info.length + info.alignMask + info.startGap;
  const low = Math.max(info.lowLimit, MMAP_MIN_ADDR);
  let high = info.highLimit;
  for (;;) {
    const gapEnd = mm.vmas.emptyAreaRev(low, high, length);
    if (gapEnd < 0) return -1;
    let gap = gapEnd - info.length;
    gap -= misalign(gap, info.alignOffset, info.alignMask);
    const next = mm.vmas.findVma(gapEnd - 1);
    if (next !== undefined && next.start >= gapEnd && next.flags & VM_GROWSDOWN) {
      if (vmStartGap(k, next) < gapEnd) {
        high = vmStartGap(k, next);
        continue;
      }
    } else {
      const prev = mm.vmas.findVmaPrev(gap).prev;
      if (prev !== undefined && prev.end <= gap && vmEndGap(prev) > gap) {
        high = prev.start;
        continue;
      }
    }
    return gap;
  }
}

/** TASK_UNMAPPED_BASE: where the bottom-up fallback search starts (a third of the default map window). */
export function taskUnmappedBase(k: Kernel, mm: Mm): number {
  const third = mm.mapWindow / 3;
  return Math.ceil(third / k.pageSize) * k.pageSize;
}

/**
 * generic_get_unmapped_area_topdown (every modelled mm is MMF_TOPDOWN): a
 * MAP_FIXED address as given, a hint where it fits, else the highest free
 * range below mmap_base, else the lowest above TASK_UNMAPPED_BASE. Only a
 * hint above DEFAULT_MAP_WINDOW opens the space above it (arch_get_mmap_end,
 * arch_get_mmap_base).
 */
export function mmGetUnmappedArea(k: Kernel, mm: Mm, addr: number, len: number, flags: number): SysResult<number> {
  const ps = k.pageSize;
  const wide = addr > mm.mapWindow;
  const mmapEnd = wide ? mm.taskSize : mm.mapWindow;
  if (len > mmapEnd - MMAP_MIN_ADDR) return sysErr("ENOMEM", `len ${hex(len)} is larger than the address space above mmap_min_addr (${hex(mmapEnd - MMAP_MIN_ADDR)} bytes)`);
  if (flags & MAP_FIXED) return sysOk(addr);
  if (addr !== 0) {
    const hint = Math.ceil(addr / ps) * ps;
    const { vma, prev } = mm.vmas.findVmaPrev(hint);
    if (mmapEnd - len >= hint && hint >= MMAP_MIN_ADDR && (vma === undefined || hint + len <= vmStartGap(k, vma)) && (prev === undefined || hint >= vmEndGap(prev))) {
      return sysOk(hint);
    }
  }
  const base = wide ? mm.mmapBase + mm.taskSize - mm.mapWindow : mm.mmapBase;
  let a = vmUnmappedArea(k, mm, { topDown: true, length: len, lowLimit: ps, highLimit: base, alignMask: 0, alignOffset: 0, startGap: 0 });
  // A failed top-down search falls back to bottom-up above TASK_UNMAPPED_BASE.
  if (a < 0) a = vmUnmappedArea(k, mm, { topDown: false, length: len, lowLimit: taskUnmappedBase(k, mm), highLimit: mmapEnd, alignMask: 0, alignOffset: 0, startGap: 0 });
  if (a < 0) return sysErr("ENOMEM", `no free range of len ${hex(len)} bytes in the address space`);
  return sysOk(a);
}

/**
 * __thp_get_unmapped_area: search for `len + size` bytes and place the
 * mapping at the first `size`-aligned address inside (top-down searches keep
 * an already aligned result at the top); 0 when the padded search fails.
 */
function thpGetUnmappedArea(k: Kernel, mm: Mm, addr: number, len: number, off: number, flags: number, size: number): number {
  if (k.geometry.entryBytes !== 8) return 0;
  const offEnd = off + len;
  const offAlign = Math.ceil(off / size) * size;
  if (offEnd <= offAlign || offEnd - offAlign < size) return 0;
  const lenPad = len + size;
  const r = mmGetUnmappedArea(k, mm, addr, lenPad, flags);
  if (!r.ok) return 0;
  const ret = r.value;
  if (ret === addr) return addr;
  const offSub = misalign(off, ret, size - 1);
  if (offSub === 0) return ret + size;
  return ret + offSub;
}

/**
 * __get_unmapped_area: where a new mapping of `len` bytes goes. Anonymous
 * private mappings without a hint get the THP alignment `alignFor` asks for;
 * shmem (anonymous shared) and file mappings use the generic search, as
 * shmem_get_unmapped_area does under the default huge=never policy and a
 * file system without its own get_unmapped_area does.
 */
export function getUnmappedArea(k: Kernel, mm: Mm, file: AddressSpace | null, addr: number, len: number, pgoff: number, flags: number): SysResult<number> {
  const taskSize = mm.taskSize;
  if (len > taskSize) return sysErr("ENOMEM", `len ${hex(len)} exceeds TASK_SIZE ${hex(taskSize)}`);
  const off = file === null ? 0 : pgoff * k.pageSize;
  let r: SysResult<number>;
  const own = file?.mmapOps?.getUnmappedArea;
  if (file !== null && own !== undefined) {
    r = own(k, mm, file, addr, len, pgoff, flags);
    if (!r.ok) return r;
    return checkArea(k, mm, r.value, len);
  }
  const align = file === null && (flags & MAP_SHARED) === 0 && addr === 0 ? alignForOf(k)(len, flags) : 0;
  if (align > 0) {
    const a = thpGetUnmappedArea(k, mm, addr, len, off, flags, align);
    r = a !== 0 ? sysOk(a) : mmGetUnmappedArea(k, mm, addr, len, flags);
  } else {
    r = mmGetUnmappedArea(k, mm, addr, len, flags);
  }
  if (!r.ok) return r;
  return checkArea(k, mm, r.value, len);
}

/** The checks __get_unmapped_area makes of any file system's answer. */
function checkArea(k: Kernel, mm: Mm, a: number, len: number): SysResult<number> {
  const taskSize = mm.taskSize;
  if (a > taskSize - len) return sysErr("ENOMEM", `addr ${hex(a)} + len ${hex(len)} ends above TASK_SIZE ${hex(taskSize)}`);
  if (a % k.pageSize !== 0) return sysErr("EINVAL", `addr ${hex(a)} is not aligned to the page size (${k.pageSize} bytes)`);
  if (a < MMAP_MIN_ADDR) return sysErr("EPERM", `addr ${hex(a)} is below mmap_min_addr (${hex(MMAP_MIN_ADDR)})`);
  return sysOk(a);
}
