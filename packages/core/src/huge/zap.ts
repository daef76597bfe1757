import { SoftleafType, entryRegs, softleafIsDevicePrivate, softleafIsMigration, softleafPfn, softleafTypeOf, type Level } from "@hugemm/arch";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { mmCounter, zapPageRange } from "../mm/zap";
import { VM_SEQ_READ } from "../mm/vm-flags";
import { PG_anon, PG_referenced, PG_swapcache } from "../phys/page-flags";
import { ModelBug } from "../util/errors";
import { zapDeposited } from "./deposit";
import { splitHugeSlot } from "./split-entry";

const R = entryRegs(1);

/**
 * zap_huge_pmd / zap_huge_pud for the huge entry at (`table`, `index`)
 * mapping [haddr, haddr + size): when [start, end) covers it all, the entry
 * is cleared, the folio loses the mapping (and its reference), the rss its
 * pages, and the deposited tables are freed; the huge zero folio keeps no
 * per-mapping state. When the range covers only part of it, the entry is
 * split first and the PTEs in the range are zapped.
 */
export function zapHuge(k: Kernel, mm: Mm, vma: Vma, level: Level, table: Uint32Array, tablePa: number, index: number, haddr: number, start: number, end: number): void {
  const b = k.backend;
  const f = k.folios;
  const size = mm.walker.levelSize(level);
  const ptl = k.tables.ptl(tablePa);
  if (start > haddr || end < haddr + size) {
    const ok = splitHugeSlot(k, mm, vma, level, table, tablePa, index, haddr);
    if (!ok) throw new ModelBug(`zap of part of the level-${level} mapping at 0x${haddr.toString(16)}: it could not be split (the system call should have split it first)`);
    zapPageRange(k, mm, vma, start, end, k.hugeZap);
    return;
  }
  k.locks.acquire(ptl);
  try {
    b.getAndClear(k.ptCtx, table, index, level, haddr, R, 0);
    const nr = k.pagesAt(level);
    if (b.present(R, 0, level)) {
      const pfn = b.pfn(R, 0, level);
      if (!k.hugeZero.is(pfn) && !b.special(R, 0, level)) {
        const head = f.head(pfn);
        k.rmap.remove(head, pfn, 1, level, mm.id);
        mm.addRss(mmCounter(k, head), -nr);
        if (!f.test(head, PG_anon)) {
          if (b.dirty(R, 0, level)) k.pagecache.markDirty(head);
          if (b.young(R, 0, level) && (vma.flags & VM_SEQ_READ) === 0) f.set(head, PG_referenced);
        }
        if (f.test(head, PG_swapcache) && !f.mapped(head)) k.swap.folioFreeSwap(head);
        folioPut(k, head, 1);
      }
    } else if (b.isSoftleaf(R, 0, level)) {
      const type = softleafTypeOf(b.swpType(R, 0, level));
      const pfn = softleafPfn(b.softleaf, b.swpOffset(R, 0, level));
      const head = f.head(pfn);
      if (softleafIsMigration(type)) {
        // The migration owns the folio; only the rss goes.
        mm.addRss(mmCounter(k, head), -nr);
      } else if (softleafIsDevicePrivate(type)) {
        k.rmap.remove(head, pfn, 1, level, mm.id);
        mm.addRss(mmCounter(k, head), -nr);
        folioPut(k, head, 1);
      } else if (type !== SoftleafType.MARKER) {
        throw new ModelBug(`zap of a level-${level} softleaf of type ${type} at 0x${haddr.toString(16)}`);
      }
    }
    if (vma.isAnonymous) zapDeposited(k, mm, level, tablePa, index);
  } finally {
    k.locks.release(ptl);
  }
}
