import { PTE } from "@hugemm/arch";
import type { AddressSpace } from "../file/address-space";
import type { Kernel } from "../kernel/kernel";
import { WALK_LEAF, WALK_SOFTLEAF, Slot } from "../pgtable/walker";
import type { AnonVma } from "../rmap/anon-vma";
import { ModelBug } from "../util/errors";
import { hex, sysErr, type SysErr } from "./errno";
import { hugeVmaOps } from "./huge-vma-ops";
import type { Mm } from "./mm";
import { Vma, type VmaKind } from "./vma";
import { VM_DONTEXPAND, VM_IGNORE_MERGE, VM_IO, VM_MIXEDMAP, VM_PFNMAP } from "./vm-flags";

/** VMAs with these flags never merge (VM_SPECIAL). */
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
/** Flags a merged VMA keeps if any of its parts had them (VM_STICKY). */
export const VM_STICKY = VM_IGNORE_MERGE;
/** vm.max_map_count (DEFAULT_MAX_MAP_COUNT). */
export const MAX_MAP_COUNT = 65530;

const SLOT = new Slot();

/** The shmem files shmem_zero_setup made for anonymous shared mappings: released with their last mapping. */
const anonShmem = new WeakSet<AddressSpace>();

/** Mark a file made by shmem_zero_setup. */
export function markAnonShmem(as: AddressSpace): void {
  anonShmem.add(as);
}

/** Whether `as` backs an anonymous shared mapping (it lives only as long as a VMA maps it). */
export function isAnonShmem(as: AddressSpace): boolean {
  return anonShmem.has(as);
}

/**
 * The last mapping of an anonymous shared mapping's shmem file went: the
 * file is released (its last fput), truncating its page cache and freeing
 * the swap slots of its swapped-out pages.
 */
export function releaseAnonShmem(k: Kernel, as: AddressSpace): void {
  if (!anonShmem.has(as) || as.iMmap.size > 0) return;
  const heads = new Set(as.pages.values());
  for (const head of heads) k.pagecache.remove(as, head);
  for (const off of as.swapped.values()) k.swap.freeSwapAndCache(off, 1);
  as.swapped.clear();
  anonShmem.delete(as);
  k.files.delete(as.id);
}

/**
 * A proposed VMA range and the VMAs around it (struct vma_merge_struct). For
 * a new range (mmap, mremap's copy, expansion) `middle` is undefined; for a
 * change to part of an existing VMA (mprotect, madvise) `middle` is that VMA.
 */
export interface VmaMerge {
  readonly mm: Mm;
  prev: Vma | undefined;
  middle: Vma | undefined;
  next: Vma | undefined;
  start: number;
  end: number;
  pgoff: number;
  flags: number;
  readonly file: AddressSpace | null;
  readonly anonVma: AnonVma | null;
  readonly name: string;
  readonly kind: VmaKind | null;
  /** The VMA mremap copies from (vma_merge_copied_range). */
  copiedFrom?: Vma;
  /** Only expand `prev`, never merge with `next`. */
  justExpand?: boolean;
  target?: Vma;
  removeMiddle?: boolean;
  removeNext?: boolean;
  adjustMiddleStart?: boolean;
  adjustNextStart?: boolean;
}

/** vma_is_fork_child: the VMA has chains to anon_vmas beyond its own, so merging would mix fork trees. */
export function vmaIsForkChild(v: Vma | undefined): boolean {
  return v !== undefined && v.anonVma !== null && v.chains.length !== 1;
}

/** is_mergeable_vma: the same flags (but for sticky ones), file, name and kind. */
function isMergeableVma(vmg: VmaMerge, v: Vma): boolean {
  return ((v.flags ^ vmg.flags) & ~VM_IGNORE_MERGE) === 0 && v.file === vmg.file && v.name === vmg.name && v.kind === vmg.kind;
}

/** is_mergeable_anon_vma: the anon_vmas of the merged parts can become one. */
function isMergeableAnonVma(vmg: VmaMerge, tgt: Vma): boolean {
  const tgtAnon = tgt.anonVma;
  const srcAnon = vmg.anonVma;
  if (tgtAnon === null && srcAnon !== null) return !vmaIsForkChild(vmg.middle) && !vmaIsForkChild(vmg.copiedFrom);
  if (tgtAnon !== null && srcAnon === null) return !vmaIsForkChild(tgt);
  return srcAnon === tgtAnon;
}

/** can_vma_merge_before: the proposed range can join `next` from below (its page offsets continue into next's). */
function canVmaMergeBefore(k: Kernel, vmg: VmaMerge): boolean {
  const next = vmg.next!;
  const pglen = (vmg.end - vmg.start) / k.pageSize;
  return isMergeableVma(vmg, next) && isMergeableAnonVma(vmg, next) && next.pgoff === vmg.pgoff + pglen;
}

/** can_vma_merge_after: the proposed range can join `prev` from above. */
function canVmaMergeAfter(k: Kernel, vmg: VmaMerge): boolean {
  const prev = vmg.prev!;
  return isMergeableVma(vmg, prev) && isMergeableAnonVma(vmg, prev) && prev.pgoff + prev.size / k.pageSize === vmg.pgoff;
}

function canVmaMergeLeft(k: Kernel, vmg: VmaMerge): boolean {
  return vmg.prev !== undefined && vmg.prev.end === vmg.start && canVmaMergeAfter(k, vmg);
}

/** can_vma_merge_right; merging both ways also needs prev's and next's anon_vmas to agree. */
function canVmaMergeRight(k: Kernel, vmg: VmaMerge, canMergeLeft: boolean): boolean {
  const next = vmg.next;
  if (next === undefined || vmg.end !== next.start || !canVmaMergeBefore(k, vmg)) return false;
  if (!canMergeLeft) return true;
  const prev = vmg.prev!;
  return prev.anonVma === null || next.anonVma === null || prev.anonVma === next.anonVma;
}

/** can_merge_remove_vma: a VMA whose kind must see it close cannot vanish into a merge. */
function canMergeRemoveVma(v: Vma): boolean {
  return v.kind?.close === undefined;
}

/** vm_area_dup: a copy of `v` with the same range, flags, offset, file, name and kind (no anon_vma chains). */
export function dupVma(v: Vma): Vma {
  const n = new Vma(v.mmId, v.start, v.end, v.flags, v.pgoff);
  n.file = v.file;
  n.name = v.name;
  n.kind = v.kind;
  return n;
}

/**
 * dup_anon_vma: when `dst` has no anon_vma and `src` does, `dst` joins
 * src's anon_vmas so the merged range still reaches src's folios.
 */
function dupAnonVma(k: Kernel, dst: Vma, src: Vma): void {
  if (src.anonVma !== null && dst.anonVma === null) k.anonVmas.clone(dst, src);
}

/**
 * vma_prepare / vma_complete: the rmap locks held while VMA bounds change
 * (the file's i_mmap_rwsem, then the anon_vma's root lock). Returns the
 * release.
 */
function lockRmap(k: Kernel, vma: Vma, adjust?: Vma): () => void {
  const file = vma.file;
  const av = vma.anonVma ?? adjust?.anonVma ?? null;
  if (file !== null) k.locks.acquire(file.iMmapLock);
  if (av !== null) k.locks.acquire(av.root.lock);
  return () => {
    if (av !== null) k.locks.release(av.root.lock);
    if (file !== null) k.locks.release(file.iMmapLock);
  };
}

/**
 * vma_adjust_trans_huge for one boundary: if `addr` lies strictly inside
 * `vma` and inside a huge mapping, the huge-page layer splits that mapping.
 */
export function adjustTransHuge(k: Kernel, mm: Mm, vma: Vma, addr: number): void {
  if (addr <= vma.start || addr >= vma.end) return;
  const st = mm.walker.find(addr, PTE, false, SLOT);
  if (st !== WALK_LEAF && st !== WALK_SOFTLEAF) return;
  if (addr % mm.walker.levelSize(SLOT.level) === 0) return;
  hugeVmaOps(k).splitAt(k, mm, vma, addr);
}

/** Link a new VMA into its file's i_mmap (vma_link_file). */
export function vmaLinkFile(k: Kernel, vma: Vma): void {
  const file = vma.file;
  if (file === null) return;
  k.locks.acquire(file.iMmapLock);
  file.iMmap.add(vma);
  k.locks.release(file.iMmapLock);
}

/**
 * Take a VMA out of its mm and the reverse maps (remove_vma after
 * unlink_anon_vmas and unlink_file_vma). Its page tables must already be
 * empty over its range.
 */
export function removeVma(k: Kernel, mm: Mm, vma: Vma): void {
  mm.vmas.remove(vma);
  k.anonVmas.unlink(vma);
  const file = vma.file;
  if (file !== null) {
    k.locks.acquire(file.iMmapLock);
    file.iMmap.delete(vma);
    k.locks.release(file.iMmapLock);
    releaseAnonShmem(k, file);
  }
  vma.kind?.close?.(vma);
}

/**
 * __split_vma: cut `vma` at `addr`. A new VMA takes the part below `addr`
 * (`newBelow`) or above it; `vma` keeps the other part. The new VMA shares
 * the file and every anon_vma (anon_vma_clone), and a huge mapping across
 * `addr` is split first.
 */
export function splitVmaUnchecked(k: Kernel, mm: Mm, vma: Vma, addr: number, newBelow: boolean): SysErr | null {
  if (!(addr > vma.start && addr < vma.end)) throw new ModelBug(`split of VMA [${hex(vma.start)}, ${hex(vma.end)}) at ${hex(addr)}, outside it`);
  const refused = vma.kind?.maySplit?.(vma, addr) ?? null;
  if (refused !== null) return sysErr(refused.errno, refused.reason);
  const ps = k.pageSize;
  const nv = dupVma(vma);
  if (newBelow) {
    nv.end = addr;
  } else {
    nv.start = addr;
    nv.pgoff += (addr - vma.start) / ps;
  }
  k.anonVmas.clone(nv, vma);
  nv.kind?.open?.(nv, vma, false);
  const unlock = lockRmap(k, vma);
  try {
    nv.file?.iMmap.add(nv);
    adjustTransHuge(k, mm, vma, addr);
    if (newBelow) {
      vma.pgoff += (addr - vma.start) / ps;
      vma.start = addr;
    } else {
      vma.end = addr;
    }
    mm.vmas.insert(nv);
  } finally {
    unlock();
  }
  return null;
}

/** split_vma: __split_vma unless the mm already has vm.max_map_count VMAs. */
export function splitVma(k: Kernel, mm: Mm, vma: Vma, addr: number, newBelow: boolean): SysErr | null {
  if (mm.vmas.count >= MAX_MAP_COUNT) return sysErr("ENOMEM", `splitting the VMA at ${hex(addr)} would exceed vm.max_map_count (${MAX_MAP_COUNT} mappings)`);
  return splitVmaUnchecked(k, mm, vma, addr, newBelow);
}

/**
 * commit_merge: the target takes [start, end) and pgoff, a VMA whose start
 * moves up is adjusted, and the VMAs merged away are removed.
 */
function commitMerge(k: Kernel, vmg: VmaMerge): void {
  const mm = vmg.mm;
  const ps = k.pageSize;
  const vma = vmg.adjustNextStart ? vmg.middle! : vmg.target!;
  const adjust = vmg.adjustMiddleStart ? vmg.middle : vmg.adjustNextStart ? vmg.next : undefined;
  const removed: Vma[] = [];
  if (vmg.removeMiddle) removed.push(vmg.middle!);
  if (vmg.removeNext) removed.push(vmg.next!);
  const unlock = lockRmap(k, vma, adjust);
  try {
    adjustTransHuge(k, mm, vma, vmg.start);
    adjustTransHuge(k, mm, vma, vmg.end);
    if (vmg.adjustMiddleStart) adjustTransHuge(k, mm, vmg.middle!, vmg.end);
    vma.start = vmg.start;
    vma.end = vmg.end;
    vma.pgoff = vmg.pgoff;
    if (vmg.adjustMiddleStart) {
      const m = vmg.middle!;
      m.pgoff += (vmg.end - m.start) / ps;
      m.start = vmg.end;
    } else if (vmg.adjustNextStart) {
      const n = vmg.next!;
      n.pgoff -= (n.start - vmg.end) / ps;
      n.start = vmg.end;
    }
    for (const r of removed) r.file?.iMmap.delete(r);
  } finally {
    unlock();
  }
  for (const r of removed) {
    mm.vmas.remove(r);
    k.anonVmas.unlink(r);
  }
  mm.vmas.invalidate();
}

/**
 * vma_expand: grow vmg.target over [start, end), swallowing vmg.next when the
 * range ends where next ends.
 */
export function vmaExpand(k: Kernel, vmg: VmaMerge): void {
  const target = vmg.target!;
  const next = vmg.next;
  const removeNext = next !== undefined && target !== next && vmg.end === next.end;
  if (target.start < vmg.start || target.end > vmg.end) throw new ModelBug(`vma_expand of [${hex(target.start)}, ${hex(target.end)}) to [${hex(vmg.start)}, ${hex(vmg.end)}) shrinks it`);
  let sticky = (vmg.flags | target.flags) & VM_STICKY;
  if (removeNext) {
    sticky |= next.flags & VM_STICKY;
    dupAnonVma(k, target, next);
  }
  if (vmg.copiedFrom !== undefined) dupAnonVma(k, target, vmg.copiedFrom);
  vmg.removeNext = removeNext;
  commitMerge(k, vmg);
  target.flags |= sticky;
}

/**
 * vma_shrink: cut `vma` down to [start, end) with page offset `pgoff`
 * (one end must stay where it is). The pages in the part given up must
 * already be gone.
 */
export function vmaShrink(k: Kernel, mm: Mm, vma: Vma, start: number, end: number, pgoff: number): void {
  if (vma.start !== start && vma.end !== end) throw new ModelBug(`vma_shrink of [${hex(vma.start)}, ${hex(vma.end)}) to [${hex(start)}, ${hex(end)}) moves both ends`);
  if (start < vma.start || end > vma.end || start >= end) throw new ModelBug(`vma_shrink of [${hex(vma.start)}, ${hex(vma.end)}) to [${hex(start)}, ${hex(end)}) does not shrink it`);
  const unlock = lockRmap(k, vma);
  try {
    adjustTransHuge(k, mm, vma, start);
    adjustTransHuge(k, mm, vma, end);
    vma.start = start;
    vma.end = end;
    vma.pgoff = pgoff;
  } finally {
    unlock();
  }
  mm.vmas.invalidate();
}

/**
 * vma_merge_new_range: a new range [start, end) next to vmg.prev and
 * vmg.next joins whichever of them it can (both when it can join both).
 * Returns the expanded VMA, or null when nothing merges.
 */
export function vmaMergeNewRange(k: Kernel, vmg: VmaMerge): Vma | null {
  const prev = vmg.prev;
  const next = vmg.next;
  const end = vmg.end;
  if (vmg.flags & VM_SPECIAL || (prev === undefined && next === undefined)) return null;
  const canLeft = canVmaMergeLeft(k, vmg);
  const canRight = !vmg.justExpand && canVmaMergeRight(k, vmg, canLeft);
  if (canRight) {
    vmg.end = next!.end;
    vmg.target = next;
  }
  if (canLeft) {
    vmg.start = prev!.start;
    vmg.target = prev;
    vmg.pgoff = prev!.pgoff;
    // A next VMA that may not vanish reduces this to merging with prev only.
    if (canRight && !canMergeRemoveVma(next!)) vmg.end = end;
  }
  if (vmg.target === undefined) return null;
  vmaExpand(k, vmg);
  k.features.vmaChanged(k, vmg.mm, vmg.target, vmg.flags);
  return vmg.target;
}

/**
 * vma_merge_existing_range: [start, end) of vmg.middle is getting new
 * attributes (vmg.flags); when it touches an end of middle and a neighbour
 * beyond that end already has them, the range joins that neighbour (or
 * both). Returns the VMA now holding the range, or null when nothing merges.
 */
export function vmaMergeExistingRange(k: Kernel, vmg: VmaMerge): Vma | null {
  const mm = vmg.mm;
  const middle = vmg.middle!;
  const prev = vmg.prev;
  const start = vmg.start;
  const end = vmg.end;
  const leftSide = start === middle.start;
  const rightSide = end === middle.end;
  if (vmg.flags & VM_SPECIAL || (!leftSide && !rightSide)) return null;
  const mergeLeft = leftSide && canVmaMergeLeft(k, vmg);
  let next: Vma | undefined;
  let mergeRight = false;
  if (rightSide) {
    next = mm.vmas.next(middle);
    vmg.next = next;
    mergeRight = canVmaMergeRight(k, vmg, mergeLeft);
  }
  if (!mergeLeft && !mergeRight) return null;
  let mergeBoth = mergeLeft && mergeRight;
  vmg.removeMiddle = leftSide && rightSide;
  if (vmg.removeMiddle && !canMergeRemoveVma(middle)) return null;
  vmg.removeNext = mergeBoth;
  if (vmg.removeNext && !canMergeRemoveVma(next!)) {
    vmg.removeNext = false;
    mergeRight = false;
    mergeBoth = false;
  }
  let sticky = vmg.flags & VM_STICKY;
  if (mergeRight) {
    vmg.target = next;
    sticky |= next!.flags & VM_STICKY;
  }
  if (mergeLeft) {
    vmg.target = prev;
    sticky |= prev!.flags & VM_STICKY;
  }
  if (mergeBoth) {
    // prev grows over middle and next; both go.
    vmg.start = prev!.start;
    vmg.end = next!.end;
    vmg.pgoff = prev!.pgoff;
    dupAnonVma(k, prev!, next!.anonVma !== null ? next! : middle);
  } else if (mergeLeft) {
    // prev grows over [start, end); middle shrinks from below or goes.
    vmg.start = prev!.start;
    vmg.pgoff = prev!.pgoff;
    if (!vmg.removeMiddle) vmg.adjustMiddleStart = true;
    dupAnonVma(k, prev!, middle);
  } else {
    // next grows down over [start, end); middle shrinks from above or goes.
    const pglen = (end - start) / k.pageSize;
    if (vmg.removeMiddle) {
      vmg.end = next!.end;
      vmg.pgoff = next!.pgoff - pglen;
    } else {
      vmg.adjustNextStart = true;
      vmg.start = middle.start;
      vmg.end = start;
      vmg.pgoff = middle.pgoff;
    }
    dupAnonVma(k, next!, middle);
  }
  commitMerge(k, vmg);
  vmg.target!.flags |= sticky;
  // A merge may make a VMA khugepaged can collapse (khugepaged_enter_vma, with the new flags).
  k.features.vmaChanged(k, mm, vmg.target!, vmg.flags | sticky);
  return vmg.target!;
}

/**
 * vma_modify: give [start, end) of `vma` new attributes by merging it into
 * a neighbour, else by splitting it off. Returns the VMA covering exactly
 * [start, end) (or the merged one containing it).
 */
export function vmaModify(k: Kernel, vmg: VmaMerge): Vma | SysErr {
  const vma = vmg.middle!;
  const start = vmg.start;
  const end = vmg.end;
  const merged = vmaMergeExistingRange(k, vmg);
  if (merged !== null) return merged;
  if (vma.start < start) {
    const err = splitVma(k, vmg.mm, vma, start, true);
    if (err !== null) return err;
  }
  if (vma.end > end) {
    const err = splitVma(k, vmg.mm, vma, end, false);
    if (err !== null) return err;
  }
  return vma;
}

/**
 * vma_modify_flags: [start, end) of `vma` is to get `flags`. Returns the VMA
 * that now covers the range and the flags it must carry (the requested ones
 * plus sticky flags kept by a merge); the caller stores them.
 */
export function vmaModifyFlags(k: Kernel, mm: Mm, prev: Vma | undefined, vma: Vma, start: number, end: number, flags: number): { vma: Vma; flags: number } | SysErr {
  const vmg: VmaMerge = {
    mm,
    prev,
    middle: vma,
    next: undefined,
    start,
    end,
    pgoff: vma.pgoff + (start - vma.start) / k.pageSize,
    flags,
    file: vma.file,
    anonVma: vma.anonVma,
    name: vma.name,
    kind: vma.kind,
  };
  const r = vmaModify(k, vmg);
  if (!(r instanceof Vma)) return r;
  return { vma: r, flags: vmg.target !== undefined ? r.flags : flags };
}

/**
 * vma_merge_extend: grow `vma` by `delta` bytes at its end, joining the next
 * VMA when they then touch and match. Returns the grown VMA, or null when the
 * extension cannot merge (a VM_SPECIAL mapping).
 */
export function vmaMergeExtend(k: Kernel, mm: Mm, vma: Vma, delta: number): Vma | null {
  const vmg: VmaMerge = {
    mm,
    prev: vma,
    middle: undefined,
    next: mm.vmas.findVma(vma.end),
    start: vma.end,
    end: vma.end + delta,
    pgoff: vma.pgoff + vma.size / k.pageSize,
    flags: vma.flags,
    file: vma.file,
    anonVma: vma.anonVma,
    name: vma.name,
    kind: vma.kind,
  };
  return vmaMergeNewRange(k, vmg);
}
