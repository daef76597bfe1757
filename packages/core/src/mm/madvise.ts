import { gupTouchRange } from "./populate-touch";
import { PTE, SoftleafType, entryRegs, softleafTypeOf } from "@hugemm/arch";
import { VM_FAULT_HWPOISON, VM_FAULT_OOM } from "../fault/codes";
import { swapinSlot } from "../fault/swapin";
import { RA_PAGES_BYTES } from "../file/filemap";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { Slot, WALK_OK } from "../pgtable/walker";
import { ModelBug, ModelInputError } from "../util/errors";
import { hex, sysErr, sysOk, type Errno, type SysErr, type SysResult } from "./errno";
import type { Mm } from "./mm";
import { pageAlign } from "./munmap";
import { touchRange } from "./touch";
import type { Vma } from "./vma";
import { VM_SPECIAL, vmaModifyFlags } from "./vma-ops";
import {
  MADV,
  VM_DONTCOPY,
  VM_DONTDUMP,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_IO,
  VM_LOCKED,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
  VM_RAND_READ,
  VM_READ,
  VM_SEQ_READ,
  VM_SHARED,
  VM_WIPEONFORK,
  VM_WRITE,
  isCowMapping,
} from "./vm-flags";
import { zapPageRange } from "./zap";
import { madviseRemove } from "./madvise-remove";

/** madvise(2) advice values the kernel knows but MADV does not list (uapi). */
export const MADV_HWPOISON = 100;
export const MADV_SOFT_OFFLINE = 101;
export const MADV_GUARD_INSTALL = 102;
export const MADV_GUARD_REMOVE = 103;

/**
 * The page advice that works through reclaim and khugepaged, provided by
 * those layers. Each gets one VMA and the part of the madvise range inside
 * it, after madvise has made the kernel's checks of the VMA, and returns 0
 * or the errno madvise should fail with.
 */
export interface MadviseReclaimOps {
  /** MADV_FREE on an anonymous VMA (madvise_free_single_vma): clean pages become lazily freeable. */
  free(k: Kernel, mm: Mm, vma: Vma, start: number, end: number): 0 | Errno;
  /** MADV_PAGEOUT (madvise_pageout_page_range): reclaim the pages now. */
  pageout(k: Kernel, mm: Mm, vma: Vma, start: number, end: number): 0 | Errno;
  /** MADV_COLD (madvise_cold_page_range): deactivate the pages. */
  cold(k: Kernel, mm: Mm, vma: Vma, start: number, end: number): 0 | Errno;
  /** MADV_COLLAPSE (madvise_collapse): collapse the range into huge pages now. */
  collapse(k: Kernel, mm: Mm, vma: Vma, start: number, end: number): 0 | Errno;
}

/** Which lock madvise takes for an advice (get_lock_mode): a VMA read lock when the range lies in one VMA. */
export type MadviseLockMode = "write" | "read" | "vma";

export function madviseLockMode(advice: number): MadviseLockMode {
  switch (advice) {
    case MADV.WILLNEED:
    case MADV.COLD:
    case MADV.PAGEOUT:
    case MADV.POPULATE_READ:
    case MADV.POPULATE_WRITE:
    case MADV.COLLAPSE:
    case MADV.REMOVE:
      return "read";
    case MADV.DONTNEED:
    case MADV.DONTNEED_LOCKED:
    case MADV.FREE:
    case MADV_GUARD_INSTALL:
    case MADV_GUARD_REMOVE:
      return "vma";
    default:
      return "write";
  }
}

const NAMES = new Map<number, string>([...Object.entries(MADV).map(([n, v]) => [v, `MADV_${n}`] as [number, string]), [MADV_HWPOISON, "MADV_HWPOISON"], [MADV_SOFT_OFFLINE, "MADV_SOFT_OFFLINE"], [MADV_GUARD_INSTALL, "MADV_GUARD_INSTALL"], [MADV_GUARD_REMOVE, "MADV_GUARD_REMOVE"]]);

/** The advice values the kernel accepts but the model does not act on yet. */
const NOT_MODELLED = new Set<number>([MADV.MERGEABLE, MADV.UNMERGEABLE, MADV_HWPOISON, MADV_SOFT_OFFLINE, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE]);

/**
 * madvise_behavior_valid: the advice values this kernel accepts.
 * MADV_HUGEPAGE, MADV_NOHUGEPAGE and MADV_COLLAPSE exist only with
 * transparent huge pages, which need an arch with PMD THP.
 */
function behaviorValid(k: Kernel, advice: number): boolean {
  if (!NAMES.has(advice)) return false;
  if (advice === MADV.HUGEPAGE || advice === MADV.NOHUGEPAGE || advice === MADV.COLLAPSE) return k.backend.capabilities.pmdThp;
  return true;
}

function adviceName(advice: number): string {
  return NAMES.get(advice) ?? String(advice);
}

const R = entryRegs(1);
const SLOT = new Slot();

/** can_madv_lru_vma: COLD and PAGEOUT leave locked, PFN-mapped and hugetlb VMAs alone. */
function canMadvLruVma(vma: Vma): boolean {
  return (vma.flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB)) === 0;
}

/**
 * swapin_walk_pmd_entry over [start, end): every swap entry's page is read
 * into the swap cache (read_swap_cache_async), left unmapped.
 */
function swapinRange(k: Kernel, mm: Mm, start: number, end: number): void {
  const b = k.backend;
  const w = mm.walker;
  const ps = k.pageSize;
  for (let addr = start; addr < end; ) {
    const st = w.find(addr, PTE, false, SLOT);
    if (st !== WALK_OK) {
      const skip = w.levelSize(SLOT.level);
      addr = Math.min(end, addr - (addr % skip) + skip);
      continue;
    }
    b.readEntry(SLOT.table, SLOT.index, PTE, R, 0);
    if (!b.none(R, 0, PTE) && !b.present(R, 0, PTE) && b.isSoftleaf(R, 0, PTE) && softleafTypeOf(b.swpType(R, 0, PTE)) === SoftleafType.SWAP) {
      const got = swapinSlot(k, b.swpOffset(R, 0, PTE), mm.nid);
      if (got !== null) folioPut(k, got.head);
    }
    addr += ps;
  }
}

/**
 * madvise_willneed: start reading what the range will need — swapped-out
 * anonymous pages into the swap cache, swapped-out shmem pages likewise,
 * and uncached pages of a regular file into the page cache
 * (force_page_cache_ra, which reads at most the read-ahead window).
 * Returns whether mmap_lock was dropped (file read-ahead drops it).
 */
function madviseWillneed(k: Kernel, mm: Mm, vma: Vma, start: number, end: number): boolean {
  const ps = k.pageSize;
  if (isCowMapping(vma.flags) && vma.anonVma !== null && k.swap.device !== null) swapinRange(k, mm, start, end);
  const as = vma.file;
  if (as === null) return false;
  const first = vma.pageIndex(start, ps);
  const last = vma.pageIndex(end, ps) - 1;
  if (as.shmem) {
    for (const [index, off] of as.swapped) {
      if (index < first || index > last) continue;
      const got = swapinSlot(k, off, mm.nid);
      if (got !== null) folioPut(k, got.head);
    }
    return false;
  }
  const raPages = Math.max(1, RA_PAGES_BYTES / ps);
  const lastIndex = as.nrPages(ps) - 1;
  const stop = Math.min(last, first + raPages - 1, lastIndex);
  for (let index = first; index <= stop; index++) {
    if (as.pages.has(index)) continue;
    if (k.pagecache.readPage(as, index, mm.nid) < 0) break;
  }
  return true;
}

/**
 * madvise_populate: fault the range in for read or write as GUP with
 * FOLL_MADV_POPULATE does: a hole is ENOMEM, a VMA that does not allow the
 * access (or maps I/O or PFNs) is EINVAL, and fault errors map to ENOMEM
 * (OOM), EHWPOISON, or EFAULT (SIGBUS, SIGSEGV).
 */
function madvisePopulate(k: Kernel, mm: Mm, start: number, end: number, write: boolean): SysResult<0> {
  let addr = start;
  const name = write ? "MADV_POPULATE_WRITE" : "MADV_POPULATE_READ";
  while (addr < end) {
    const vma = mm.vmas.lookup(addr);
    if (vma === undefined) return sysErr("ENOMEM", `${name}: ${hex(addr)} is not mapped`);
    if (vma.flags & (VM_IO | VM_PFNMAP)) return sysErr("EINVAL", `${name} on [${hex(vma.start)}, ${hex(vma.end)}), which maps I/O or PFNs`);
    if (write && (vma.flags & VM_WRITE) === 0) return sysErr("EINVAL", `${name} on [${hex(vma.start)}, ${hex(vma.end)}), which is not writable`);
    if (!write && (vma.flags & VM_READ) === 0) return sysErr("EINVAL", `${name} on [${hex(vma.start)}, ${hex(vma.end)}), which is not readable`);
    const stop = Math.min(end, vma.end);
    const r = touchRange(k, mm, addr, stop - addr, write, k.faultHandlers);
    gupTouchRange(k, mm, addr, r.error === 0 ? stop : r.errorAddr);
    if (r.error !== 0) {
      const at = hex(r.errorAddr);
      if (r.error & VM_FAULT_OOM) return sysErr("ENOMEM", `${name}: out of memory faulting in ${at}`);
      if (r.error & VM_FAULT_HWPOISON) return sysErr("EHWPOISON", `${name}: ${at} maps a poisoned page`);
      return sysErr("EFAULT", `${name}: the fault at ${at} failed`);
    }
    addr = stop;
  }
  return sysOk(0);
}

/** What madvise did to one VMA: an error, or the VMA now covering the range and whether the lock was dropped. */
type VmaBehaviorResult = SysErr | { readonly vma: Vma; readonly lockDropped: boolean };

function hookResult(name: string, errno: 0 | Errno, vma: Vma, start: number, end: number, lockDropped = false): VmaBehaviorResult {
  if (errno === 0) return { vma, lockDropped };
  return sysErr(errno, `${name} on [${hex(start)}, ${hex(end)}) failed`);
}

/**
 * madvise_vma_behavior: apply the advice to [start, end) of `vma`. Flag
 * advice splits or merges the VMA (an ENOMEM there becomes EAGAIN); page
 * advice works on the pages.
 */
function madviseVmaBehavior(k: Kernel, mm: Mm, prev: Vma | undefined, vma: Vma, start: number, end: number, advice: number, ops: MadviseReclaimOps): VmaBehaviorResult {
  const name = adviceName(advice);
  const range = `[${hex(vma.start)}, ${hex(vma.end)})`;
  let f = vma.flags;
  switch (advice) {
    case MADV.WILLNEED:
      return { vma, lockDropped: madviseWillneed(k, mm, vma, start, end) };
    case MADV.COLD:
    case MADV.PAGEOUT:
      if (!canMadvLruVma(vma)) return sysErr("EINVAL", `${name} on ${range}, which is locked, PFN-mapped or hugetlb`);
      return hookResult(name, advice === MADV.COLD ? ops.cold(k, mm, vma, start, end) : ops.pageout(k, mm, vma, start, end), vma, start, end);
    case MADV.FREE:
    case MADV.DONTNEED:
    case MADV.DONTNEED_LOCKED: {
      if (vma.flags & VM_HUGETLB && advice === MADV.FREE) return sysErr("EINVAL", `${name} on hugetlb mapping ${range}`);
      // madvise_dontneed_free_valid_vma: a VMA mapped in larger units takes whole units from an aligned start.
      const unit = vma.kind?.pagesize?.(vma) ?? k.pageSize;
      if (unit > k.pageSize) {
        if (start % unit !== 0) return sysErr("EINVAL", `${name} at ${hex(start)}, not aligned to the ${unit}-byte pages of ${range}`);
        end -= end % unit;
      }
      const forbidden = VM_PFNMAP | (advice === MADV.DONTNEED_LOCKED ? 0 : VM_LOCKED);
      if (vma.flags & forbidden) return sysErr("EINVAL", `${name} on ${range}, which is ${vma.flags & VM_PFNMAP ? "PFN-mapped" : "locked"}`);
      if (start === end) return { vma, lockDropped: false };
      if (advice === MADV.FREE) {
        if (!vma.isAnonymous) return sysErr("EINVAL", `${name} on ${range}, which is not anonymous memory`);
        return hookResult(name, ops.free(k, mm, vma, start, end), vma, start, end);
      }
      // madvise_dontneed_single_vma: empty PTE tables go too (CONFIG_PT_RECLAIM).
      zapPageRange(k, mm, vma, start, end, k.hugeZap, { reclaimPt: true });
      return { vma, lockDropped: false };
    }
    case MADV.REMOVE: {
      const err = madviseRemove(k, vma, start, end);
      // madvise_remove drops mmap_lock around the fallocate.
      return err ?? { vma, lockDropped: true };
    }
    case MADV.COLLAPSE:
      // A collapse gives mmap_lock up while it works.
      return hookResult(name, ops.collapse(k, mm, vma, start, end), vma, start, end, true);
    case MADV.NORMAL:
      f &= ~(VM_RAND_READ | VM_SEQ_READ);
      break;
    case MADV.SEQUENTIAL:
      f = (f & ~VM_RAND_READ) | VM_SEQ_READ;
      break;
    case MADV.RANDOM:
      f = (f & ~VM_SEQ_READ) | VM_RAND_READ;
      break;
    case MADV.DONTFORK:
      f |= VM_DONTCOPY;
      break;
    case MADV.DOFORK:
      if (f & VM_SPECIAL) return sysErr("EINVAL", `${name} on ${range}, a VM_SPECIAL mapping that must not be copied`);
      f &= ~VM_DONTCOPY;
      break;
    case MADV.WIPEONFORK:
      if (vma.file !== null || f & VM_SHARED) return sysErr("EINVAL", `${name} on ${range}, which is not private anonymous memory`);
      f |= VM_WIPEONFORK;
      break;
    case MADV.KEEPONFORK:
      f &= ~VM_WIPEONFORK;
      break;
    case MADV.DONTDUMP:
      f |= VM_DONTDUMP;
      break;
    case MADV.DODUMP:
      if ((f & VM_HUGETLB) === 0 && f & VM_SPECIAL) return sysErr("EINVAL", `${name} on ${range}, a VM_SPECIAL mapping that is never dumped`);
      f &= ~VM_DONTDUMP;
      break;
    case MADV.HUGEPAGE:
      f = (f & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
      break;
    case MADV.NOHUGEPAGE:
      f = (f & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
      break;
    default:
      throw new ModelBug(`madvise reached ${name} per VMA`);
  }
  if (f === vma.flags) {
    if (advice === MADV.HUGEPAGE) k.features.vmaChanged(k, mm, vma);
    return { vma, lockDropped: false };
  }
  const r = vmaModifyFlags(k, mm, prev, vma, start, end, f);
  if ("ok" in r) return r.errno === "ENOMEM" ? sysErr("EAGAIN", `${name} on [${hex(start)}, ${hex(end)}): ${r.reason}`) : r;
  r.vma.flags = r.flags;
  // hugepage_madvise: a VMA now eligible for khugepaged registers its mm without waiting for a fault.
  if (advice === MADV.HUGEPAGE) k.features.vmaChanged(k, mm, r.vma);
  return { vma: r.vma, lockDropped: false };
}

/**
 * madvise_walk_vmas: apply the advice to each VMA in [start, end). Holes
 * do not stop the walk: the advice still reaches every mapped part and the
 * call then fails with ENOMEM. An error from a VMA stops it at once.
 */
function madviseWalkVmas(k: Kernel, mm: Mm, start: number, end: number, advice: number, ops: MadviseReclaimOps): SysResult<0> {
  const found = mm.vmas.findVmaPrev(start);
  let vma = found.vma;
  let prev = vma !== undefined && start > vma.start ? vma : found.prev;
  let rs = start;
  let re: number;
  let hole: SysErr | null = null;
  for (;;) {
    if (vma === undefined) return sysErr("ENOMEM", `[${hex(rs)}, ${hex(end)}) is not mapped`);
    if (rs < vma.start) {
      hole = sysErr("ENOMEM", `[${hex(rs)}, ${hex(vma.start)}) is not mapped`);
      rs = vma.start;
      if (rs >= end) break;
    }
    re = Math.min(vma.end, end);
    const r = madviseVmaBehavior(k, mm, prev, vma, rs, re, advice, ops);
    if ("ok" in r) return r;
    let cur: Vma | undefined;
    if (r.lockDropped) {
      prev = undefined;
      cur = undefined;
    } else {
      cur = r.vma;
      prev = cur;
    }
    if (cur !== undefined && re < cur.end) re = cur.end;
    if (re >= end) break;
    vma = mm.vmas.findVma(cur !== undefined ? cur.end : re);
    rs = re;
  }
  return hole ?? sysOk(0);
}

/**
 * do_madvise: check the advice and range as the kernel does, then apply
 * the advice (MADV_POPULATE_* over the whole range, everything else VMA by
 * VMA). The caller holds the lock madviseLockMode names.
 */
export function doMadvise(k: Kernel, mm: Mm, start: number, lenIn: number, advice: number, ops: MadviseReclaimOps): SysResult<0> {
  const ps = k.pageSize;
  if (!Number.isInteger(advice)) throw new ModelInputError("madvise advice", advice, "an integer");
  if (!behaviorValid(k, advice)) return sysErr("EINVAL", `advice ${advice} is not one this kernel accepts`);
  if (NOT_MODELLED.has(advice)) throw new ModelInputError("madvise advice", adviceName(advice), "an advice the model provides (not KSM, memory-failure or guard-page advice)");
  if (start % ps !== 0) return sysErr("EINVAL", `start ${hex(start)} is not aligned to the page size (${ps} bytes)`);
  const ulong = 2 ** (k.geometry.entryBytes * 8);
  const len = pageAlign(k, lenIn);
  if (lenIn !== 0 && len >= ulong) return sysErr("EINVAL", `len ${hex(lenIn)} overflows when rounded up to the page size`);
  if (start + len >= ulong) return sysErr("EINVAL", `start ${hex(start)} + len ${hex(len)} wraps around the address space`);
  if (lenIn === 0) return sysOk(0);
  const end = start + len;
  if (advice === MADV.POPULATE_READ || advice === MADV.POPULATE_WRITE) return madvisePopulate(k, mm, start, end, advice === MADV.POPULATE_WRITE);
  return madviseWalkVmas(k, mm, start, end, advice, ops);
}
