import { splitFolio, type SplitError } from "../huge/folio-split";
import type { Kernel } from "../kernel/kernel";
import { PG_isolated, PG_locked } from "../phys/page-flags";
import { isolatedStat } from "./isolate";

/**
 * split_folio_to_list for a large folio reclaim has isolated and locked:
 * split it to single pages. The first page stays the caller's — isolated,
 * locked, holding the isolation reference — and goes on through reclaim;
 * every other page still mapped joins `list` isolated, with a reference of
 * its own (lru_add_split_folio with a list), to make its own pass later.
 * Pages nobody maps any more (zapped, or zero-filled and remapped to the
 * shared zero page) are freed by the split itself. Returns 0 or the errno,
 * with the folio as it was when the split fails.
 */
export function splitFolioToList(k: Kernel, head: number, list: number[]): 0 | SplitError {
  const f = k.folios;
  const nr = f.nrPages(head);
  // The split re-creates the folios: account the isolation per new folio.
  isolatedStat(k, head, -1);
  f.clear(head, PG_isolated);
  const r = splitFolio(k, head, 0);
  f.set(head, PG_isolated | PG_locked);
  isolatedStat(k, head, 1);
  if (r !== 0) return r;
  for (let p = head + 1; p < head + nr; p++) {
    if (!f.isAllocated(p) || f.head(p) !== p) continue;
    f.ref(p);
    f.set(p, PG_isolated);
    isolatedStat(k, p, 1);
    list.push(p);
  }
  return 0;
}
