import { PTE, entryRegs, softleafHasPfn, softleafPfn, softleafTypeOf, type Level } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { PG_anon } from "../phys/page-flags";
import { Slot, WALK_LEAF, WALK_OK, WALK_SOFTLEAF } from "../pgtable/walker";
import type { Lock } from "../util/locks";

/** One mapping of a folio found by page_vma_mapped_walk. */
export interface MappedAt {
  readonly mm: Mm;
  readonly vma: Vma;
  /** Virtual address of the entry (the first page of a huge leaf). */
  readonly addr: number;
  readonly level: Level;
  /** The slot of the entry (valid until the next walk of this mm). */
  readonly slot: Slot;
  /** The page of the folio the entry maps (the first page for a huge leaf). */
  readonly page: number;
  /** True when the entry is present; false for a migration or device entry naming the folio. */
  readonly present: boolean;
}

const R = entryRegs(1);

/**
 * rmap_walk: every VMA that may map the folio — through its anon_vma's
 * chains, or its file's i_mmap — and in each, every entry that maps one of
 * its pages (page_vma_mapped_walk). `visit` returns false to stop early.
 * `match` names the folio whose pfns the entries must carry, when it differs
 * from the one whose mapping is walked (remove_migration_ptes walks the new
 * folio's mapping for entries naming the old one). With `locked` the caller
 * already holds the anon_vma or i_mmap lock (TTU_RMAP_LOCKED).
 */
export function rmapWalk(k: Kernel, head: number, visit: (m: MappedAt) => boolean, match = head, locked = false): void {
  const f = k.folios;
  const mapping = f.mapping(head);
  if (mapping === 0) return;
  const vmas: Vma[] = [];
  let lock: Lock;
  if (f.test(head, PG_anon)) {
    const av = k.anonVmas.byId.get(mapping);
    if (av === undefined) return;
    for (const c of av.chains) vmas.push(c.vma);
    lock = av.root.lock;
  } else {
    const as = k.files.get(mapping);
    if (as === undefined) return;
    for (const v of as.iMmap) vmas.push(v);
    lock = as.iMmapLock;
  }
  const nr = f.nrPages(head);
  const index = f.index(head);
  // anon_vma_lock_read / i_mmap_lock_read for the whole walk.
  if (!locked) k.locks.acquire(lock, true);
  try {
    for (const vma of vmas) {
      const mm = k.mms.get(vma.mmId);
      if (mm === undefined) continue;
      if (!pageVmaMappedWalk(k, mm, vma, match, index, nr, visit)) return;
    }
  } finally {
    if (!locked) k.locks.release(lock);
  }
}

/**
 * page_vma_mapped_walk for one VMA: the entries of `vma` mapping pages of the
 * folio (present, or migration/device entries carrying one of its pfns).
 * Returns false if `visit` asked to stop.
 */
export function pageVmaMappedWalk(k: Kernel, mm: Mm, vma: Vma, head: number, index: number, nr: number, visit: (m: MappedAt) => boolean): boolean {
  // Reclaim walks every folio on a list: take a slot from a pool (by nesting depth, since a visitor may walk again) instead of allocating one per call.
  const slot = (PVMW_SLOTS[pvmwDepth] ??= new Slot());
  pvmwDepth++;
  try {
    return walkVma(k, mm, vma, head, index, nr, visit, slot);
  } finally {
    pvmwDepth--;
  }
}

const PVMW_SLOTS: Slot[] = [];
let pvmwDepth = 0;

function walkVma(k: Kernel, mm: Mm, vma: Vma, head: number, index: number, nr: number, visit: (m: MappedAt) => boolean, slot: Slot): boolean {
  const ps = k.pageSize;
  const b = k.backend;
  for (let i = 0; i < nr; ) {
    const addr = vma.addressOf((index + i) >>> 0, ps);
    if (addr < 0 || addr < vma.start) {
      i++;
      continue;
    }
    const st = mm.walker.find(addr, PTE, false, slot);
    if (st === WALK_LEAF || st === WALK_SOFTLEAF) {
      const size = mm.walker.levelSize(slot.level);
      const leafAddr = addr - (addr % size);
      const pagesInLeaf = size / ps;
      b.readEntry(slot.table, slot.index, slot.level, R, 0);
      const pfn = st === WALK_LEAF ? b.pfn(R, 0, slot.level) : entryPfn(k, slot.level);
      if (pfn >= head && pfn < head + nr) {
        if (!visit({ mm, vma, addr: leafAddr, level: slot.level, slot, page: pfn, present: st === WALK_LEAF })) return false;
      }
      // Skip the rest of this leaf's pages.
      i += pagesInLeaf - ((addr - leafAddr) / ps);
      continue;
    }
    if (st === WALK_OK) {
      b.readEntry(slot.table, slot.index, PTE, R, 0);
      const want = head + i;
      if (b.present(R, 0, PTE)) {
        if (!b.special(R, 0, PTE) && b.pfn(R, 0, PTE) === want) {
          if (!visit({ mm, vma, addr, level: PTE, slot, page: want, present: true })) return false;
        }
      } else if (!b.none(R, 0, PTE) && b.isSoftleaf(R, 0, PTE) && entryPfn(k, PTE) === want) {
        if (!visit({ mm, vma, addr, level: PTE, slot, page: want, present: false })) return false;
      }
    }
    i++;
  }
  return true;
}

/** The lock an rmap walk of the folio at `head` takes (the anon_vma root's, or the file's i_mmap), or null when it has no mapping. */
export function rmapLockOf(k: Kernel, head: number): Lock | null {
  const f = k.folios;
  const mapping = f.mapping(head);
  if (mapping === 0) return null;
  if (f.test(head, PG_anon)) return k.anonVmas.byId.get(mapping)?.root.lock ?? null;
  return k.files.get(mapping)?.iMmapLock ?? null;
}

/** The pfn a pfn-carrying softleaf in R names, or -1. */
function entryPfn(k: Kernel, level: Level): number {
  const b = k.backend;
  if (!b.isSoftleaf(R, 0, level)) return -1;
  const t = softleafTypeOf(b.swpType(R, 0, level));
  return softleafHasPfn(t) ? softleafPfn(b.softleaf, b.swpOffset(R, 0, level)) : -1;
}
