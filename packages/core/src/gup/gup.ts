import { PTE, entryRegs } from "@hugemm/arch";
import { zoneDeviceLongtermPinnable } from "../phys/zone-device";
import { FAULT_FLAG_REMOTE, FAULT_FLAG_UNSHARE, FAULT_FLAG_WRITE, VM_FAULT_ERROR, VM_FAULT_MIGRATION_WAIT, VM_FAULT_OOM } from "../fault/codes";
import { handleMmFault, type FaultHandlers } from "../fault/handle";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { GUP_PIN_COUNTING_BIAS } from "../mm/fork";
import { MMF_HAS_PINNED, type Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { VM_IO, VM_MAYREAD, VM_PFNMAP, VM_READ, VM_WRITE, isCowMapping } from "../mm/vm-flags";
import { PG_anon, PG_anon_exclusive } from "../phys/page-flags";
import { WALK_LEAF, WALK_OK } from "../pgtable/walker";
import { NS } from "../stats/counters";
import { ModelBug } from "../util/errors";

/** gup flags (include/linux/mm_types.h enum + the internal FOLL_PIN). */
export const FOLL_WRITE = 1 << 0;
export const FOLL_GET = 1 << 1;
export const FOLL_FORCE = 1 << 3;
export const FOLL_NOFAULT = 1 << 5;
export const FOLL_ANON = 1 << 7;
export const FOLL_LONGTERM = 1 << 8;
export const FOLL_REMOTE = 1 << 13;
export const FOLL_PIN = 1 << 19;

/** What a get/pin call produced. */
export interface GupResult {
  /** The pages got or pinned, in address order (pfns). */
  readonly pages: number[];
  /** Of those, how many the lockless fast path took. */
  fast: number;
  /**
   * Why the call stopped short, or null. MIGRATION_WAIT: a page is under a
   * migration the model holds open; the kernel's call would sleep in
   * migration_entry_wait until it finished, so the model stops there with
   * the pages taken so far.
   */
  error: "EFAULT" | "ENOMEM" | "EOPNOTSUPP" | "MIGRATION_WAIT" | null;
}

const R = entryRegs(1);

/** Following a huge leaf is provided by the huge-page layer: the page at `addr`, -1 to fault, -2 to unshare first. */
export type HugeFollow = (k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number) => number;

/**
 * Long-term pins may not hold pages in ZONE_MOVABLE: they are migrated out
 * first (check_and_migrate_movable_folios). Provided by the migration layer;
 * returns whether every such page moved.
 */
export type LongtermMigrate = (k: Kernel, pfns: readonly number[]) => boolean;

/** try_grab_folio: FOLL_GET takes a reference; FOLL_PIN a pin (never on the zero page). */
function grab(k: Kernel, mm: Mm, page: number, flags: number): void {
  if (page === k.zeroPfn) return;
  const f = k.folios;
  const head = f.head(page);
  if (flags & FOLL_PIN) {
    const id = f.lid(head);
    if (id === 0) {
      f.ref(head, GUP_PIN_COUNTING_BIAS);
      k.holdRef(head, GUP_PIN_COUNTING_BIAS);
    } else {
      f.ref(head, 1);
      f.large.pincount[id - 1]!++;
      k.holdRef(head, 1);
    }
    k.phys.nodeStats(k.phys.nidOf(head))[NS.nr_foll_pin_acquired]!++;
    mm.flags |= MMF_HAS_PINNED;
  } else if (flags & FOLL_GET) {
    f.ref(head, 1);
    k.holdRef(head, 1);
  }
}

/** gup_must_unshare: a read-only pin of a page this mm does not own exclusively must unshare it first. */
function mustUnshare(k: Kernel, vma: Vma, flags: number, page: number): boolean {
  if ((flags & (FOLL_WRITE | FOLL_PIN)) !== FOLL_PIN) return false;
  if (!isCowMapping(vma.flags)) return false;
  const head = k.folios.head(page);
  if (page === k.zeroPfn || !k.folios.test(head, PG_anon)) {
    // R/O long-term pins of pages that are not anon (or the zero page) in a COW mapping unshare.
    return (flags & FOLL_LONGTERM) !== 0;
  }
  return !k.folios.pageTest(page, PG_anon_exclusive);
}

/** check_vma_flags. */
function checkVmaFlags(vma: Vma, flags: number): "EFAULT" | null {
  if (vma.flags & (VM_IO | VM_PFNMAP)) return "EFAULT";
  if (flags & FOLL_ANON && !vma.isAnonymous) return "EFAULT";
  if (flags & FOLL_WRITE) {
    if ((vma.flags & VM_WRITE) === 0) {
      if ((flags & FOLL_FORCE) === 0 || vma.isHugetlb || !isCowMapping(vma.flags)) return "EFAULT";
    }
  } else if ((vma.flags & VM_READ) === 0) {
    if ((flags & FOLL_FORCE) === 0 || (vma.flags & VM_MAYREAD) === 0) return "EFAULT";
  }
  return null;
}

/**
 * follow_page_pte: the page at `addr` if it can be taken as is; -1 when it
 * must be faulted (not present, or not writable for FOLL_WRITE); -2 when it
 * must be unshared first.
 */
function followPage(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number, hugeFollow: HugeFollow): number {
  const slot = mm.slot;
  const st = mm.walker.find(addr, PTE, false, slot);
  if (st === WALK_LEAF) return hugeFollow(k, mm, vma, addr, flags);
  if (st !== WALK_OK) return -1;
  const b = k.backend;
  b.getEntry(slot.table, slot.index, PTE, R, 0);
  if (!b.present(R, 0, PTE) || b.protnone(R, 0, PTE)) return -1;
  const write = b.write(R, 0, PTE);
  if (flags & FOLL_WRITE && !write) return -1;
  const pfn = b.pfn(R, 0, PTE);
  if (b.special(R, 0, PTE) && pfn !== k.zeroPfn) return -1;
  if (!write && mustUnshare(k, vma, flags, pfn)) return -2;
  return pfn;
}

/**
 * __get_user_pages: take `nr` pages from `start`, faulting them in (write or
 * unshare faults) as needed; with `fast`, the lockless walk goes first and
 * the slow path takes over at the first page it cannot take.
 */
export function getUserPages(k: Kernel, mm: Mm, start: number, nr: number, flags: number, fast: boolean, fh: FaultHandlers, hugeFollow: HugeFollow, longterm: LongtermMigrate): GupResult {
  if ((flags & (FOLL_GET | FOLL_PIN)) === (FOLL_GET | FOLL_PIN)) throw new ModelBug("FOLL_GET and FOLL_PIN together");
  const ps = k.pageSize;
  const res: GupResult = { pages: [], fast: 0, error: null };
  let addr = start - (start % ps);
  let i = 0;
  if (fast) {
    for (; i < nr; i++, addr += ps) {
      const vma = mm.vmas.lookup(addr);
      if (vma === undefined) break;
      const page = gupFastPte(k, mm, vma, addr, flags);
      if (page < 0) break;
      grab(k, mm, page, flags);
      res.pages.push(page);
      res.fast++;
    }
  }
  for (; i < nr; i++, addr += ps) {
    const vma = mm.vmas.lookup(addr);
    if (vma === undefined) {
      res.error = "EFAULT";
      break;
    }
    const bad = checkVmaFlags(vma, flags);
    if (bad !== null) {
      res.error = bad;
      break;
    }
    let page = -1;
    for (let tries = 0; ; tries++) {
      page = followPage(k, mm, vma, addr, flags, hugeFollow);
      if (page >= 0) break;
      if (flags & FOLL_NOFAULT || tries > 3) {
        if (tries > 3) throw new ModelBug(`gup at 0x${addr.toString(16)} cannot make progress`);
        res.error = "EFAULT";
        return finish(k, mm, start, res, flags, longterm, fh, hugeFollow);
      }
      let ff = flags & FOLL_REMOTE ? FAULT_FLAG_REMOTE : 0;
      if (page === -2) ff |= FAULT_FLAG_UNSHARE;
      else if (flags & FOLL_WRITE) ff |= FAULT_FLAG_WRITE;
      const r = handleMmFault(k, mm, vma, addr, ff, fh);
      if (r & VM_FAULT_ERROR) {
        res.error = r & VM_FAULT_OOM ? "ENOMEM" : "EFAULT";
        return finish(k, mm, start, res, flags, longterm, fh, hugeFollow);
      }
      if (r & VM_FAULT_MIGRATION_WAIT) {
        res.error = "MIGRATION_WAIT";
        return finish(k, mm, start, res, flags, longterm, fh, hugeFollow);
      }
    }
    grab(k, mm, page, flags);
    res.pages.push(page);
  }
  return finish(k, mm, start, res, flags, longterm, fh, hugeFollow);
}

/** gup_fast_pte_range for one page: present, writable if asked, not special, nothing to unshare; else -1. */
function gupFastPte(k: Kernel, mm: Mm, vma: Vma, addr: number, flags: number): number {
  const slot = mm.slot;
  if (mm.walker.find(addr, PTE, false, slot) !== WALK_OK) return -1;
  const b = k.backend;
  b.getEntry(slot.table, slot.index, PTE, R, 0);
  if (!b.present(R, 0, PTE) || b.protnone(R, 0, PTE) || b.special(R, 0, PTE)) return -1;
  if (flags & FOLL_WRITE && !b.write(R, 0, PTE)) return -1;
  const pfn = b.pfn(R, 0, PTE);
  if (!b.write(R, 0, PTE) && mustUnshare(k, vma, flags, pfn)) return -1;
  const head = k.folios.head(pfn);
  // folio_fast_pin_allowed: long-term pins of file pages need the slow path's checks.
  if (flags & FOLL_LONGTERM && !k.folios.test(head, PG_anon)) return -1;
  return pfn;
}

/**
 * After pinning: a FOLL_LONGTERM pin may not hold pages in ZONE_MOVABLE, so
 * those are unpinned, migrated out, and the whole range is pinned again.
 */
function finish(k: Kernel, mm: Mm, start: number, res: GupResult, flags: number, longterm: LongtermMigrate, fh: FaultHandlers, hugeFollow: HugeFollow): GupResult {
  if ((flags & FOLL_LONGTERM) === 0 || res.pages.length === 0) return res;
  const movable = res.pages.filter((p) => p !== k.zeroPfn && !longtermPinnable(k, p));
  if (movable.length === 0) return res;
  const nr = res.pages.length;
  // collect_longterm_unpinnable_folios: each folio once, however many of its pages were pinned (a THP's 512).
  const heads = [...new Set(movable.map((p) => k.folios.head(p)))];
  releasePages(k, res.pages, flags, false);
  if (!longterm(k, heads)) return { pages: [], fast: 0, error: "ENOMEM" };
  return getUserPages(k, mm, start, nr, flags, false, fh, hugeFollow, longterm);
}

/** folio_is_longterm_pinnable: not in ZONE_MOVABLE, and not device memory that must stay free to move. */
function longtermPinnable(k: Kernel, pfn: number): boolean {
  const pgmap = k.phys.pgmapOf(pfn);
  if (pgmap !== undefined) return zoneDeviceLongtermPinnable(pgmap);
  return k.phys.zoneOf(pfn).name !== "Movable";
}

/** unpin_user_pages(_dirty_lock) / put_page for every page of a result. */
export function releasePages(k: Kernel, pages: readonly number[], flags: number, dirty: boolean): void {
  const f = k.folios;
  for (const page of pages) {
    if (page === k.zeroPfn) continue;
    const head = f.head(page);
    if (dirty) k.pagecache.markDirty(head);
    if (flags & FOLL_PIN) {
      const id = f.lid(head);
      k.phys.nodeStats(k.phys.nidOf(head))[NS.nr_foll_pin_released]!++;
      if (id === 0) {
        k.holdRef(head, -GUP_PIN_COUNTING_BIAS);
        folioPut(k, head, GUP_PIN_COUNTING_BIAS);
      } else {
        f.large.pincount[id - 1]!--;
        k.holdRef(head, -1);
        folioPut(k, head, 1);
      }
    } else {
      k.holdRef(head, -1);
      folioPut(k, head, 1);
    }
  }
}
