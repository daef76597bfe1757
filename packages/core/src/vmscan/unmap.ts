import { PTE, entryRegs } from "@hugemm/arch";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES, MM_SWAPENTS } from "../mm/counters";
import { mmCounter } from "../mm/zap";
import { VM_LOCKED } from "../mm/vm-flags";
import { folioMaybeDmaPinned } from "../mm/fork";
import { PG_anon, PG_anon_exclusive, PG_dirty, PG_swapbacked, PG_swapcache } from "../phys/page-flags";
import { rmapWalk } from "../rmap/walk";
import { EV } from "../stats/counters";
import { ModelBug } from "../util/errors";

const R = entryRegs(2);

/**
 * try_to_unmap: remove every mapping of the folio. Anonymous pages in the
 * swap cache leave swap entries (exclusive when the page was, carrying
 * soft-dirty and uffd-wp); a clean lazy-free page is simply discarded; file
 * pages just go, passing their dirty bit to the folio. Stops — and reports
 * false — at a locked VMA, at a lazy-free page written again, or at an
 * exclusive page that may be pinned.
 */
export function tryToUnmap(k: Kernel, head: number): boolean {
  const b = k.backend;
  const f = k.folios;
  const anon = f.test(head, PG_anon);
  let ok = true;
  rmapWalk(k, head, (m) => {
    if (!m.present) return true;
    if (m.vma.flags & VM_LOCKED) {
      ok = false;
      return false;
    }
    if (m.level !== PTE) throw new ModelBug(`unmapping a level-${m.level} mapping for reclaim needs the huge-page layer`);
    const { slot, mm } = m;
    const ptl = k.tables.ptl(slot.tablePa);
    k.locks.acquire(ptl);
    try {
      b.getAndClear(k.ptCtx, slot.table, slot.index, PTE, m.addr, R, 0);
      k.flushTlb(m.addr, m.addr + k.pageSize, "reclaim");
      const dirty = b.dirty(R, 0, PTE);
      if (anon && !f.test(head, PG_swapbacked)) {
        // MADV_FREE: discard only if nobody wrote the page since.
        if (dirty || f.test(head, PG_dirty)) {
          f.set(head, PG_swapbacked);
          b.setEntries(k.ptCtx, slot.table, slot.index, PTE, m.addr, R, 0, 1);
          ok = false;
          return false;
        }
        mm.addRss(MM_ANONPAGES, -1);
        k.events[EV.pglazyfreed]!++;
      } else if (anon) {
        if (dirty) f.set(head, PG_dirty);
        const exclusive = f.pageTest(m.page, PG_anon_exclusive);
        if (exclusive && folioMaybeDmaPinned(k, head)) {
          b.setEntries(k.ptCtx, slot.table, slot.index, PTE, m.addr, R, 0, 1);
          ok = false;
          return false;
        }
        if (!f.test(head, PG_swapcache)) throw new ModelBug(`unmapping anon folio ${head} that is not in the swap cache`);
        const off = k.swap.slotOf.get(head)! + (m.page - head);
        k.swap.device!.dup(off, 1);
        const sd = b.capabilities.softDirty && b.softDirty(R, 0, PTE);
        const wp = b.capabilities.uffdWp && b.uffdWp(R, 0, PTE);
        b.softleafEntry(R, 2, PTE, k.swap.device!.type, off);
        if (exclusive) {
          b.swpMkExclusive(R, 2, PTE);
          f.pageSet(m.page, PG_anon_exclusive, false);
        }
        if (sd) b.swpMkSoftDirty(R, 2, PTE);
        if (wp) b.swpMkUffdWp(R, 2, PTE);
        b.writeEntry(slot.table, slot.index, PTE, R, 2);
        mm.addRss(MM_ANONPAGES, -1);
        mm.addRss(MM_SWAPENTS, 1);
      } else {
        if (dirty) k.pagecache.markDirty(head);
        mm.addRss(mmCounter(k, head), -1);
      }
      k.rmap.remove(head, m.page, 1, PTE, mm.id);
      folioPut(k, head, 1);
    } finally {
      k.locks.release(ptl);
    }
    return true;
  });
  return ok;
}
