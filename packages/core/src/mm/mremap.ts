import { PMD, PTE, PUD, entryRegs, type Level } from "@hugemm/arch";
import { normalPage } from "../fault/wp";
import type { Kernel } from "../kernel/kernel";
import { Slot, WALK_ENOMEM, WALK_OK } from "../pgtable/walker";
import { ModelBug } from "../util/errors";
import { hex, sysErr, sysOk, type SysErr, type SysResult } from "./errno";
import { hugeVmaOps } from "./huge-vma-ops";
import type { Mm } from "./mm";
import { vmEnoughMemory } from "./mmap";
import { doVmiMunmap, pageAlign } from "./munmap";
import { getUnmappedArea } from "./unmapped-area";
import type { Vma } from "./vma";
import { MAX_MAP_COUNT, dupVma, vmaLinkFile, vmaMergeExtend, vmaMergeNewRange } from "./vma-ops";
import { pteBatch } from "./zap";
import { MAP_FIXED, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, VM_ACCOUNT, VM_DONTEXPAND, VM_LOCKED, VM_LOCKONFAULT, VM_MAYSHARE, VM_PFNMAP, VM_SHARED } from "./vm-flags";

const R = entryRegs(2);
const OLD = new Slot();
const NEW = new Slot();

/**
 * Whether the arch moves whole page tables on mremap (CONFIG_HAVE_MOVE_PMD
 * and CONFIG_HAVE_MOVE_PUD): x86-64 and arm64 do; 32-bit powerpc does not.
 */
export function archMovesPageTables(k: Kernel): boolean {
  return k.backend.arch === "x86-64" || k.backend.arch === "arm64";
}

/** The state of one move_page_tables call (struct pagetable_move_control). */
interface MoveControl {
  readonly oldVma: Vma;
  readonly newVma: Vma;
  oldAddr: number;
  newAddr: number;
  readonly oldEnd: number;
  readonly lenIn: number;
}

/** get_extent: how far the next step may go without crossing a `size` boundary at either end. */
function getExtent(size: number, pmc: MoveControl): number {
  let extent = pmc.oldAddr - (pmc.oldAddr % size) + size - pmc.oldAddr;
  if (extent > pmc.oldEnd - pmc.oldAddr) extent = pmc.oldEnd - pmc.oldAddr;
  const next = pmc.newAddr - (pmc.newAddr % size) + size;
  if (extent > next - pmc.newAddr) extent = next - pmc.newAddr;
  return extent;
}

/**
 * can_align_down: moving from a table boundary below `addr` is safe only if
 * `addr` starts its VMA and nothing is mapped between the boundary and it.
 */
function canAlignDown(mm: Mm, vma: Vma, addr: number, size: number): boolean {
  if (vma.start !== addr) return false;
  return mm.vmas.intersection(addr - (addr % size), vma.start) === undefined;
}

/**
 * try_realign_addr: when both ends sit at the same offset inside a PMD and
 * the move reaches the next PMD boundary, start from the boundaries below so
 * whole PTE tables can move.
 */
function tryRealign(mm: Mm, pmc: MoveControl, size: number): void {
  const oldAlign = pmc.oldAddr % size;
  const newAlign = pmc.newAddr % size;
  if (pmc.lenIn < size - oldAlign || oldAlign === 0 || oldAlign !== newAlign) return;
  if (!canAlignDown(mm, pmc.oldVma, pmc.oldAddr, size) || !canAlignDown(mm, pmc.newVma, pmc.newAddr, size)) return;
  pmc.oldAddr -= oldAlign;
  pmc.newAddr -= newAlign;
}

/** Take the page-table locks of two tables, the second nested when it differs. */
function lockPair(k: Kernel, oldPa: number, newPa: number): () => void {
  const a = k.tables.ptl(oldPa);
  const b = k.tables.ptl(newPa);
  k.locks.acquire(a);
  if (b !== a) k.locks.acquire(b, false, true);
  return () => {
    if (b !== a) k.locks.release(b);
    k.locks.release(a);
  };
}

/**
 * move_normal_pmd / move_normal_pud: move the table under the level-`level`
 * entry at the old address to the (empty) entry at the new one. The walker
 * slots OLD and NEW point at the two entries.
 */
function moveNormalTable(k: Kernel, mm: Mm, level: Level, pmc: MoveControl): boolean {
  const b = k.backend;
  b.readEntry(NEW.table, NEW.index, level, R, 0);
  if (!b.none(R, 0, level)) return false;
  b.readEntry(OLD.table, OLD.index, level, R, 0);
  if (!b.table(R, 0, level)) return false;
  const childPa = b.tablePa(R, 0, level);
  const unlock = lockPair(k, OLD.tablePa, NEW.tablePa);
  try {
    R[2] = 0;
    R[3] = 0;
    b.writeEntry(OLD.table, OLD.index, level, R, 2);
    b.tableEntry(R, 0, level, childPa, true);
    b.writeEntry(NEW.table, NEW.index, level, R, 0);
  } finally {
    unlock();
  }
  const size = mm.walker.levelSize(level);
  k.flushTlb(pmc.oldAddr, pmc.oldAddr + size, "mremap");
  mm.walker.invalidate();
  return true;
}

/**
 * move_ptes: move `extent` bytes of entries from the PTE table in OLD to the
 * one in NEW: a folio's batch at a time when the arch hints the entries are
 * contiguous, softleaves one by one, each cleared at the old address and set
 * at the new one unchanged (but soft-dirty, to show userspace they moved).
 */
function movePtes(k: Kernel, mm: Mm, pmc: MoveControl, extent: number): void {
  const b = k.backend;
  const f = k.folios;
  const ps = k.pageSize;
  const softDirty = k.config.memSoftDirty;
  const n = extent / ps;
  const unlock = lockPair(k, OLD.tablePa, NEW.tablePa);
  let flush = false;
  try {
    for (let j = 0; j < n; ) {
      const oi = OLD.index + j;
      const oldA = pmc.oldAddr + j * ps;
      b.getEntry(OLD.table, oi, PTE, R, 0);
      let nr = 1;
      if (b.none(R, 0, PTE)) {
        j++;
        continue;
      }
      if (b.present(R, 0, PTE)) {
        const page = normalPage(k, R, 0);
        if (n - j > 1 && page >= 0 && b.batchHint(OLD.table, oi, PTE) > 1) {
          const head = f.head(page);
          if (f.order(head) > 0) nr = pteBatch(k, OLD.table, oi, page, Math.min(n - j, head + f.nrPages(head) - page));
        }
        flush = true;
        b.getAndClearEntries(k.ptCtx, OLD.table, oi, PTE, oldA, nr, R, 0);
        if (softDirty) b.mksoftDirty(R, 0, PTE);
      } else {
        b.getAndClear(k.ptCtx, OLD.table, oi, PTE, oldA, R, 0);
        if (softDirty) b.swpMkSoftDirty(R, 0, PTE);
      }
      b.setEntries(k.ptCtx, NEW.table, NEW.index + j, PTE, pmc.newAddr + j * ps, R, 0, nr);
      j += nr;
    }
  } finally {
    unlock();
  }
  if (flush) k.flushTlb(pmc.oldAddr, pmc.oldAddr + extent, "mremap");
  mm.walker.invalidate();
}

/**
 * move_page_tables: move the entries mapping [oldAddr, oldAddr + len) of
 * `oldVma` to `newAddr` of `newVma`: whole PMD or PUD tables where the arch
 * allows and both ends span them, huge entries through the huge-page layer,
 * PTEs otherwise. Returns how many bytes of the range were moved (less than
 * `len` only when a page table could not be allocated).
 */
export function movePageTables(k: Kernel, mm: Mm, oldVma: Vma, newVma: Vma, oldAddr: number, newAddr: number, len: number): number {
  if (len === 0) return 0;
  const kindMove = oldVma.kind?.movePageTables;
  if (kindMove !== undefined) return kindMove(k, mm, oldVma, newVma, oldAddr, newAddr, len);
  const b = k.backend;
  const w = mm.walker;
  const pmc: MoveControl = { oldVma, newVma, oldAddr, newAddr, oldEnd: oldAddr + len, lenIn: len };
  const pmdSize = w.levelSize(PMD);
  const pudSize = w.levelSize(PUD);
  const moveTables = archMovesPageTables(k);
  const pudTable = k.geometry.tables.some((t) => t.level === PUD);
  tryRealign(mm, pmc, pmdSize);
  let extent = 0;
  // Where the huge-page layer last split an entry, per level: meeting it again there is a bug.
  const splitAt = [-1, -1, -1, -1, -1];
  for (; pmc.oldAddr < pmc.oldEnd; pmc.oldAddr += extent, pmc.newAddr += extent) {
    if (pudTable) {
      extent = getExtent(pudSize, pmc);
      if (w.find(pmc.oldAddr, PUD, false, OLD) !== WALK_OK) continue;
      b.readEntry(OLD.table, OLD.index, PUD, R, 0);
      if (b.none(R, 0, PUD)) continue;
      if (w.find(pmc.newAddr, PUD, true, NEW, mm.nid) === WALK_ENOMEM) break;
      b.readEntry(OLD.table, OLD.index, PUD, R, 0);
      if (!b.table(R, 0, PUD)) {
        const moved = moveHuge(k, mm, pmc, PUD, extent, splitAt);
        if (moved > 0) {
          extent = moved;
          continue;
        }
      } else if (moveTables && extent === pudSize && moveNormalTable(k, mm, PUD, pmc)) {
        continue;
      }
    }
    extent = getExtent(pmdSize, pmc);
    if (w.find(pmc.oldAddr, PMD, false, OLD) !== WALK_OK) continue;
    b.readEntry(OLD.table, OLD.index, PMD, R, 0);
    if (b.none(R, 0, PMD)) continue;
    if (w.find(pmc.newAddr, PMD, true, NEW, mm.nid) === WALK_ENOMEM) break;
    b.readEntry(OLD.table, OLD.index, PMD, R, 0);
    if (!b.table(R, 0, PMD)) {
      const moved = moveHuge(k, mm, pmc, PMD, extent, splitAt);
      if (moved > 0) {
        extent = moved;
        continue;
      }
      // The huge entry became a PTE table: move its entries below.
    } else if (moveTables && extent === pmdSize && moveNormalTable(k, mm, PMD, pmc)) {
      continue;
    }
    if (w.find(pmc.newAddr, PTE, true, NEW, mm.nid) === WALK_ENOMEM) break;
    if (w.find(pmc.oldAddr, PTE, false, OLD) !== WALK_OK) continue;
    movePtes(k, mm, pmc, extent);
  }
  const origOld = pmc.oldEnd - pmc.lenIn;
  return pmc.oldAddr < origOld ? 0 : pmc.oldAddr - origOld;
}

/** A huge entry on the way: the huge-page layer moves it (bytes moved) or splits it (0). */
function moveHuge(k: Kernel, mm: Mm, pmc: MoveControl, level: Level, extent: number, splitAt: number[]): number {
  if (splitAt[level] === pmc.oldAddr) throw new ModelBug(`mremap: the level-${level} entry at ${hex(pmc.oldAddr)} is still huge after the huge-page layer split it`);
  const moved = hugeVmaOps(k).move(k, mm, pmc.oldVma, pmc.newVma, level, pmc.oldAddr, pmc.newAddr, extent);
  if (moved === 0) splitAt[level] = pmc.oldAddr;
  mm.walker.invalidate();
  return moved;
}

/**
 * copy_vma: the VMA mremap moves into — a neighbour at the destination
 * extended over [addr, addr + len) when it matches, else a copy of `vma`
 * there, sharing its file and anon_vmas. An anonymous VMA never faulted
 * takes the page offset of its new address, so it can merge there. Returns
 * the destination VMA and the source (which a merge may have replaced).
 */
function copyVma(k: Kernel, mm: Mm, vma: Vma, addr: number, len: number, pgoffIn: number): { newVma: Vma; vma: Vma } | null {
  let pgoff = pgoffIn;
  let faulted = true;
  if (vma.isAnonymous && vma.anonVma === null) {
    pgoff = addr / k.pageSize;
    faulted = false;
  }
  const { vma: next, prev } = mm.vmas.findVmaPrev(addr);
  if (next !== undefined && next.start < addr + len) return null;
  const merged = vmaMergeNewRange(k, {
    mm,
    prev,
    middle: undefined,
    next,
    start: addr,
    end: addr + len,
    pgoff,
    flags: vma.flags,
    file: vma.file,
    anonVma: vma.anonVma,
    name: vma.name,
    kind: vma.kind,
    copiedFrom: vma,
  });
  if (merged !== null) {
    if (vma.start >= merged.start && vma.start < merged.end) {
      // Only an unfaulted anonymous VMA can merge with itself: its page offsets were made linear.
      if (faulted) throw new ModelBug(`mremap merged faulted VMA #${vma.id} with itself`);
      return { newVma: merged, vma: merged };
    }
    return { newVma: merged, vma };
  }
  const nv = dupVma(vma);
  nv.start = addr;
  nv.end = addr + len;
  nv.pgoff = pgoff;
  k.anonVmas.clone(nv, vma);
  nv.kind?.open?.(nv, vma, false);
  mm.vmas.insert(nv);
  vmaLinkFile(k, nv);
  return { newVma: nv, vma };
}

/** enum mremap_type. */
const NO_RESIZE = 1;
const SHRINK = 2;
const EXPAND = 3;

/** What one mremap is doing (struct vma_remap_struct). */
interface Remap {
  addr: number;
  oldLen: number;
  newLen: number;
  readonly flags: number;
  newAddr: number;
  vma: Vma | undefined;
  delta: number;
  type: number;
}

function impliesNewAddr(vrm: Remap): boolean {
  return (vrm.flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0;
}

/** check_prep_vma: the source VMA can take this remap. */
function checkPrepVma(k: Kernel, vrm: Remap): SysErr | null {
  const vma = vrm.vma;
  if (vma === undefined) return sysErr("EFAULT", `old_address ${hex(vrm.addr)} is not mapped`);
  const kindAlign = vma.kind?.mremapAlign;
  if (kindAlign !== undefined) {
    const a = kindAlign(vma, vrm.addr, vrm.oldLen, vrm.newLen, vrm.newAddr);
    if (a === null) return sysErr("EINVAL", `mremap of [${hex(vma.start)}, ${hex(vma.end)}) needs addresses aligned to its ${vma.kind?.pagesize?.(vma) ?? k.pageSize}-byte pages and cannot grow it`);
    vrm.oldLen = a.oldLen;
    vrm.newLen = a.newLen;
  }
  vrm.delta = Math.abs(vrm.oldLen - vrm.newLen);
  vrm.type = vrm.delta === 0 ? NO_RESIZE : vrm.oldLen > vrm.newLen ? SHRINK : EXPAND;
  if (!impliesNewAddr(vrm)) vrm.newAddr = vrm.addr;
  if (vrm.type !== EXPAND && !impliesNewAddr(vrm)) return null;
  let oldLen = vrm.oldLen;
  const newLen = vrm.newLen;
  if (oldLen === 0 && (vma.flags & (VM_SHARED | VM_MAYSHARE)) === 0) return sysErr("EINVAL", "old_size 0 would duplicate a private mapping");
  if (vrm.flags & MREMAP_DONTUNMAP && vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) return sysErr("EINVAL", `MREMAP_DONTUNMAP on [${hex(vma.start)}, ${hex(vma.end)}), a VM_DONTEXPAND or VM_PFNMAP mapping`);
  if (vrm.type === SHRINK) oldLen = newLen;
  if (oldLen > vma.end - vrm.addr) return sysErr("EFAULT", `old_address ${hex(vrm.addr)} + old_size ${hex(oldLen)} runs past the end of its mapping at ${hex(vma.end)}`);
  if (newLen === oldLen) return null;
  const pgoff = vma.pgoff + (vrm.addr - vma.start) / k.pageSize;
  if (pgoff + newLen / k.pageSize >= 2 ** (k.geometry.entryBytes * 8)) return sysErr("EINVAL", `new_size ${hex(newLen)} overflows the page offset`);
  if (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) return sysErr("EFAULT", `[${hex(vma.start)}, ${hex(vma.end)}) is a VM_DONTEXPAND or VM_PFNMAP mapping and cannot grow`);
  return null;
}

/** vrm_calc_charge: a move that keeps the source, or any growth, of an accounted mapping charges the commit limit. */
function calcCharge(k: Kernel, vrm: Remap): boolean {
  if ((vrm.vma!.flags & VM_ACCOUNT) === 0) return true;
  const bytes = vrm.flags & MREMAP_DONTUNMAP ? vrm.newLen : vrm.delta;
  return vmEnoughMemory(k, bytes / k.pageSize);
}

/** vrm_set_new_addr: where the moved mapping goes (get_unmapped_area, MAP_FIXED for MREMAP_FIXED). */
function setNewAddr(k: Kernel, mm: Mm, vrm: Remap): SysErr | null {
  const vma = vrm.vma!;
  const pgoff = vma.pgoff + (vrm.addr - vma.start) / k.pageSize;
  const hint = impliesNewAddr(vrm) ? vrm.newAddr : 0;
  let mapFlags = 0;
  if (vrm.flags & MREMAP_FIXED) mapFlags |= MAP_FIXED;
  if (vma.flags & VM_MAYSHARE) mapFlags |= MAP_SHARED;
  const r = getUnmappedArea(k, mm, vma.file, hint, vrm.newLen, pgoff, mapFlags);
  if (!r.ok) return r;
  vrm.newAddr = r.value;
  return null;
}

/**
 * move_vma: copy the VMA to the new address, move its page tables, then
 * unmap the source (or, with MREMAP_DONTUNMAP, leave it empty). When page
 * tables run out the entries move back and the copy is unmapped instead.
 */
function moveVma(k: Kernel, mm: Mm, vrm: Remap): SysResult<number> {
  const ps = k.pageSize;
  if (mm.vmas.count + 2 > MAX_MAP_COUNT) return sysErr("ENOMEM", `moving the mapping could exceed vm.max_map_count (${MAX_MAP_COUNT} mappings)`);
  if (!calcCharge(k, vrm)) return sysErr("ENOMEM", `new_size ${hex(vrm.newLen)} commits more than the memory and swap of the machine`);
  const src = vrm.vma!;
  const newPgoff = src.pgoff + (vrm.addr - src.start) / ps;
  const c = copyVma(k, mm, src, vrm.newAddr, vrm.newLen, newPgoff);
  if (c === null) return sysErr("ENOMEM", `no VMA could be set up at new_address ${hex(vrm.newAddr)}`);
  const vma = c.vma;
  const newVma = c.newVma;
  const moved = movePageTables(k, mm, vma, newVma, vrm.addr, vrm.newAddr, vrm.oldLen);
  let err: SysErr | null = null;
  let unmapAddr = vrm.addr;
  let unmapLen = vrm.oldLen;
  if (moved < vrm.oldLen) {
    err = sysErr("ENOMEM", `no memory for the page tables at new_address ${hex(vrm.newAddr)}`);
    movePageTables(k, mm, newVma, vma, vrm.newAddr, vrm.addr, moved);
    unmapAddr = vrm.newAddr;
    unmapLen = vrm.newLen;
  }
  if (err === null) vma.kind?.moved?.(k, vma, newVma);
  if (err === null && vrm.flags & MREMAP_DONTUNMAP) {
    // The source stays mapped but empty: no longer locked, and rid of its anon_vmas if it moved whole.
    vma.flags &= ~(VM_LOCKED | VM_LOCKONFAULT);
    if (newVma !== vma && vrm.addr === vma.start && vrm.addr + vrm.oldLen === vma.end) k.anonVmas.unlink(vma);
  } else {
    doVmiMunmap(k, mm, unmapAddr, unmapLen);
  }
  return err ?? sysOk(vrm.newAddr);
}

/** shrink_vma: unmap the tail beyond the new length; the VMA at the address is looked up again. */
function shrinkVma(k: Kernel, mm: Mm, vrm: Remap): SysErr | null {
  const r = doVmiMunmap(k, mm, vrm.addr + vrm.newLen, vrm.delta);
  if (!r.ok) return r;
  vrm.vma = mm.vmas.lookup(vrm.addr);
  if (vrm.vma === undefined) return sysErr("EFAULT", `old_address ${hex(vrm.addr)} is no longer mapped`);
  return null;
}

/** mremap_to: move (MREMAP_FIXED or MREMAP_DONTUNMAP) to a given or chosen address, unmapping the target first for MREMAP_FIXED. */
function mremapTo(k: Kernel, mm: Mm, vrm: Remap): SysResult<number> {
  if (vrm.flags & MREMAP_FIXED) {
    const r = doVmiMunmap(k, mm, vrm.newAddr, vrm.newLen);
    if (!r.ok) return r;
    vrm.vma = mm.vmas.lookup(vrm.addr);
    if (vrm.vma === undefined) return sysErr("EFAULT", `old_address ${hex(vrm.addr)} is no longer mapped`);
  }
  if (vrm.type === SHRINK) {
    const err = shrinkVma(k, mm, vrm);
    if (err !== null) return err;
    vrm.oldLen = vrm.newLen;
  }
  const err = setNewAddr(k, mm, vrm);
  if (err !== null) return err;
  return moveVma(k, mm, vrm);
}

/** vma_expandable: nothing is mapped in the delta bytes after the VMA and they stay inside TASK_SIZE. */
function vmaExpandable(k: Kernel, mm: Mm, vma: Vma, delta: number): boolean {
  const end = vma.end + delta;
  if (mm.vmas.intersection(vma.end, end) !== undefined) return false;
  return getUnmappedArea(k, mm, null, vma.start, end - vma.start, 0, MAP_FIXED).ok;
}

/** expand_vma: grow in place when the range ends at the VMA's end and the space after is free, else move (MREMAP_MAYMOVE). */
function expandVma(k: Kernel, mm: Mm, vrm: Remap): SysResult<number> {
  const vma = vrm.vma!;
  if (vma.end - vrm.addr === vrm.oldLen && vmaExpandable(k, mm, vma, vrm.delta)) {
    if (!calcCharge(k, vrm)) return sysErr("ENOMEM", `new_size ${hex(vrm.newLen)} commits more than the memory and swap of the machine`);
    const grown = vmaMergeExtend(k, mm, vma, vrm.delta);
    if (grown === null) return sysErr("ENOMEM", `[${hex(vma.start)}, ${hex(vma.end)}) cannot be extended`);
    vrm.vma = grown;
    return sysOk(vrm.addr);
  }
  if ((vrm.flags & MREMAP_MAYMOVE) === 0) return sysErr("ENOMEM", `[${hex(vrm.addr)}, ${hex(vrm.addr + vrm.newLen)}) cannot grow in place and MREMAP_MAYMOVE is not set`);
  const err = setNewAddr(k, mm, vrm);
  if (err !== null) return err;
  return moveVma(k, mm, vrm);
}

/** mremap_at: resize where it is, moving only to grow. */
function mremapAt(k: Kernel, mm: Mm, vrm: Remap): SysResult<number> {
  if (vrm.type === NO_RESIZE) return sysOk(vrm.addr);
  if (vrm.type === SHRINK) {
    const err = shrinkVma(k, mm, vrm);
    return err ?? sysOk(vrm.addr);
  }
  return expandVma(k, mm, vrm);
}

/**
 * remap_move: MREMAP_FIXED without resizing moves every VMA in the range,
 * keeping the gaps between them; a gap at the start is EFAULT.
 */
function remapMove(k: Kernel, mm: Mm, vrm: Remap): SysResult<number> {
  const start = vrm.addr;
  const end = vrm.addr + vrm.oldLen;
  let target = vrm.newAddr;
  let res: SysResult<number> = sysErr("EFAULT", `nothing is mapped in [${hex(start)}, ${hex(end)})`);
  let seen = false;
  let lastEnd = start;
  for (;;) {
    const vma = mm.vmas.intersection(seen ? lastEnd : start, end);
    if (vma === undefined) break;
    const addr = Math.max(vma.start, start);
    const len = Math.min(end, vma.end) - addr;
    if (!seen && start < vma.start) return sysErr("EFAULT", `old_address ${hex(start)} is not mapped`);
    const offset = seen ? vma.start - lastEnd : 0;
    lastEnd = vma.end;
    vrm.vma = vma;
    vrm.addr = addr;
    vrm.newAddr = target + offset;
    vrm.oldLen = len;
    vrm.newLen = len;
    const err = checkPrepVma(k, vrm);
    if (err !== null) return err;
    const r = mremapTo(k, mm, vrm);
    if (!r.ok) return r;
    if (!seen) res = r;
    seen = true;
    target = r.value + len;
  }
  return res;
}

/**
 * do_mremap: check the arguments as the kernel does, then shrink, grow in
 * place, or move the mapping at `addr`. Lengths are rounded up to pages.
 * The caller holds mmap_lock for writing.
 */
export function doMremap(k: Kernel, mm: Mm, addr: number, oldLenIn: number, newLenIn: number, flags: number, newAddr: number): SysResult<number> {
  const ps = k.pageSize;
  const taskSize = mm.taskSize;
  const vrm: Remap = { addr, oldLen: pageAlign(k, oldLenIn), newLen: pageAlign(k, newLenIn), flags, newAddr, vma: undefined, delta: 0, type: 0 };
  if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) return sysErr("EINVAL", `flags ${hex(flags)} has bits other than MREMAP_MAYMOVE, MREMAP_FIXED and MREMAP_DONTUNMAP`);
  if (addr % ps !== 0) return sysErr("EINVAL", `old_address ${hex(addr)} is not aligned to the page size (${ps} bytes)`);
  if (vrm.newLen === 0) return sysErr("EINVAL", "new_size is 0");
  if (vrm.newLen > taskSize) return sysErr("EINVAL", `new_size ${hex(vrm.newLen)} exceeds TASK_SIZE ${hex(taskSize)}`);
  if (impliesNewAddr(vrm)) {
    if (newAddr > taskSize - vrm.newLen) return sysErr("EINVAL", `new_address ${hex(newAddr)} + new_size ${hex(vrm.newLen)} ends above TASK_SIZE ${hex(taskSize)}`);
    if (newAddr % ps !== 0) return sysErr("EINVAL", `new_address ${hex(newAddr)} is not aligned to the page size (${ps} bytes)`);
    if ((flags & MREMAP_MAYMOVE) === 0) return sysErr("EINVAL", "MREMAP_FIXED and MREMAP_DONTUNMAP need MREMAP_MAYMOVE");
    if (flags & MREMAP_DONTUNMAP && vrm.oldLen !== vrm.newLen) return sysErr("EINVAL", `MREMAP_DONTUNMAP cannot resize (old_size ${hex(vrm.oldLen)}, new_size ${hex(vrm.newLen)})`);
    if (addr + vrm.oldLen > newAddr && newAddr + vrm.newLen > addr) {
      return sysErr("EINVAL", `new range [${hex(newAddr)}, ${hex(newAddr + vrm.newLen)}) overlaps old range [${hex(addr)}, ${hex(addr + vrm.oldLen)})`);
    }
  }
  // Splits before and during the move may add four mappings at worst.
  if (mm.vmas.count + 4 > MAX_MAP_COUNT) return sysErr("ENOMEM", `remapping could exceed vm.max_map_count (${MAX_MAP_COUNT} mappings)`);
  if (flags & MREMAP_FIXED && vrm.oldLen === vrm.newLen) return remapMove(k, mm, vrm);
  vrm.vma = mm.vmas.lookup(addr);
  const err = checkPrepVma(k, vrm);
  if (err !== null) return err;
  return impliesNewAddr(vrm) ? mremapTo(k, mm, vrm) : mremapAt(k, mm, vrm);
}
