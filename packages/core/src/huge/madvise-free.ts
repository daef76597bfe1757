import { PMD, entryRegs } from "@hugemm/arch";
import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { PG_dirty, PG_locked } from "../phys/page-flags";
import { folioMarkLazyfree } from "../folio/lru-batch";
import { splitFolio } from "./folio-split";

const R = entryRegs(1);

/**
 * madvise_free_huge_pmd for the PMD at (`table`, `index`) and the part
 * [addr, next) of its span that MADV_FREE covers. A THP mapped only here
 * and covered whole becomes clean and old — folio and PMD — and lazy-free:
 * true is returned. Covered in part, it is split (so the PTE walk can free
 * just those pages) and false returned; as for a shared THP, the huge zero
 * folio, or a PMD that is not present.
 */
export function madviseFreeHugePmd(k: Kernel, mm: Mm, table: Uint32Array, tablePa: number, index: number, addr: number, next: number): boolean {
  const b = k.backend;
  const f = k.folios;
  const size = mm.walker.levelSize(PMD);
  b.getEntry(table, index, PMD, R, 0);
  if (!b.present(R, 0, PMD)) return false;
  const pfn = b.pfn(R, 0, PMD);
  if (k.hugeZero.is(pfn) || b.special(R, 0, PMD)) return false;
  const head = f.head(pfn);
  // Discarding it needs every process mapping it to have said MADV_FREE.
  if (k.rmap.maybeMappedShared(head)) return false;
  // folio_trylock.
  if (f.test(head, PG_locked)) return false;
  if (next - addr !== size) {
    f.ref(head);
    splitFolio(k, head, 0);
    folioPut(k, head, 1);
    return false;
  }
  f.clear(head, PG_dirty);
  if (b.young(R, 0, PMD) || b.dirty(R, 0, PMD)) {
    const ptl = k.tables.ptl(tablePa);
    k.locks.acquire(ptl);
    b.clearYoungDirty(k.ptCtx, table, index, PMD, addr - (addr % size), 1, true, true);
    k.locks.release(ptl);
  }
  folioMarkLazyfree(k, head);
  return true;
}
