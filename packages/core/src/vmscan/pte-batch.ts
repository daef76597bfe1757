import { PTE, entryRegs } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";

/** folio_pte_batch_flags: entries must also agree on dirty / soft-dirty / write (otherwise those bits are ignored). */
export const FPB_RESPECT_DIRTY = 1;
export const FPB_RESPECT_SOFT_DIRTY = 2;
export const FPB_RESPECT_WRITE = 4;

/** Young and dirty gathered over the entries of the last batch (FPB_MERGE_YOUNG_DIRTY). */
export const batchBits = { young: false, dirty: false };

const R = entryRegs(2);

/**
 * folio_pte_batch_flags: how many of the `max` PTEs from `index` (at least
 * one: the caller read the first) map consecutive pages from `page` with the
 * same bits, young always ignored and dirty, soft-dirty and write ignored
 * unless `flags` respects them. The young and dirty bits of the batch are
 * left in `batchBits`.
 */
export function folioPteBatch(k: Kernel, table: Uint32Array, index: number, page: number, max: number, flags: number): number {
  const b = k.backend;
  const caps = b.capabilities;
  b.getEntry(table, index, PTE, R, 0);
  let young = b.young(R, 0, PTE);
  let dirty = b.dirty(R, 0, PTE);
  const write = b.write(R, 0, PTE);
  const softDirty = k.config.memSoftDirty && b.softDirty(R, 0, PTE);
  const uffdWp = caps.uffdWp && b.uffdWp(R, 0, PTE);
  const protnone = caps.protnone && b.protnone(R, 0, PTE);
  let n = 1;
  for (; n < max; n++) {
    b.getEntry(table, index + n, PTE, R, 1);
    if (!b.present(R, 1, PTE) || b.special(R, 1, PTE) || b.pfn(R, 1, PTE) !== page + n) break;
    if (caps.uffdWp && b.uffdWp(R, 1, PTE) !== uffdWp) break;
    if (caps.protnone && b.protnone(R, 1, PTE) !== protnone) break;
    if (flags & FPB_RESPECT_WRITE && b.write(R, 1, PTE) !== write) break;
    if (flags & FPB_RESPECT_SOFT_DIRTY && k.config.memSoftDirty && b.softDirty(R, 1, PTE) !== softDirty) break;
    const d = b.dirty(R, 1, PTE);
    if (flags & FPB_RESPECT_DIRTY && d !== dirty) break;
    if (b.young(R, 1, PTE)) young = true;
    if (d) dirty = true;
  }
  batchBits.young = young;
  batchBits.dirty = dirty;
  return n;
}
