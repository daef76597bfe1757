import { PTE } from "@hugemm/arch";
import { folioPut } from "../folio/put";
import { splitFolio } from "../huge/folio-split";
import type { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { PG_locked } from "../phys/page-flags";
import { WALK_OK, type Slot } from "../pgtable/walker";
import type { Lock } from "../util/locks";

/**
 * What splitPartialFolio did: "skipped" (left whole: maybe mapped elsewhere
 * too, or locked), "split" (look at the same PTE again, now mapping a small
 * folio), "failed" (the split failed), "gone" (no PTE table covers the
 * address any more; no lock is held).
 */
export type PartialSplit = "skipped" | "split" | "failed" | "gone";

/**
 * MADV_COLD / MADV_PAGEOUT / MADV_FREE meeting a large folio only part of
 * which is mapped here or in the range: split it if this mm alone may map
 * it, with the PTE lock `ptl` dropped around the split, then walk back to
 * `addr` into `slot` and take that table's lock again.
 */
export function splitPartialFolio(k: Kernel, mm: Mm, ptl: Lock, head: number, addr: number, slot: Slot): PartialSplit {
  const f = k.folios;
  if (k.rmap.maybeMappedShared(head) || f.test(head, PG_locked)) return "skipped";
  k.locks.release(ptl);
  f.ref(head);
  const err = splitFolio(k, head, 0);
  folioPut(k, head, 1);
  if (mm.walker.find(addr, PTE, false, slot) !== WALK_OK) return "gone";
  k.locks.acquire(k.tables.ptl(slot.tablePa));
  return err === 0 ? "split" : "failed";
}
