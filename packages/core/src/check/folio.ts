import type { Kernel } from "../kernel/kernel";
import { PG_anon, PG_anon_exclusive, PG_isolated, PG_lru, PG_partially_mapped, PG_swapcache } from "../phys/page-flags";
import type { Report } from "./entry";

/** What the page tables say about one folio's mappings, however the checker counted them. */
export interface FolioSeen {
  /** PTE-level mappings of page `pfn`. */
  pteMaps(pfn: number): number;
  /** PMD/PUD-level mappings of the folio at `head`. */
  entireMaps(head: number): number;
  /** Mappings of the large folio at `head` per mm id. */
  perMm(head: number): ReadonlyMap<number, number> | undefined;
}

/**
 * The invariants of one folio (not the huge zero folio): mapcounts against
 * the mappings seen, refcount against mappings and other holders, LRU,
 * swap cache and deferred split membership, CONFIG_MM_ID slots and
 * PageAnonExclusive. `onLru` and `queued` say whether the LRU lists and the
 * deferred split queue hold it.
 */
export function checkFolio(k: Kernel, head: number, seen: FolioSeen, onLru: boolean, queued: boolean, v: Report): void {
  const f = k.folios;
  const nr = f.nrPages(head);
  const order = f.order(head);
  if (order > 0 && f.test(head, PG_anon) && f.test(head, PG_partially_mapped) && !queued) v("deferred-split", `partially mapped folio ${head} is not on the deferred split queue`, { pfn: head });
  if (queued && (order <= 1 || !f.test(head, PG_anon))) v("deferred-split", `folio ${head} of order ${order} is on the deferred split queue`, { pfn: head });
  let pteMaps = 0;
  let pagesMapped = 0;
  for (let i = 0; i < nr; i++) {
    const want = seen.pteMaps(head + i);
    const have = f.pageMapcount(head + i);
    if (want !== have) v("mapcount", `page ${head + i} has mapcount ${have} but ${want} PTEs map it`, { pfn: head + i, expected: want, found: have });
    pteMaps += want;
    if (want > 0) pagesMapped++;
  }
  const entire = seen.entireMaps(head);
  if (order > 0) {
    const id = f.lid(head) - 1;
    const L = f.large;
    if (L.entireMapcount[id] !== entire) v("mapcount", `folio ${head} entire mapcount ${L.entireMapcount[id]} but ${entire} huge entries map it`, { pfn: head });
    if (L.largeMapcount[id] !== pteMaps + entire) v("mapcount", `folio ${head} large mapcount ${L.largeMapcount[id]} but it has ${pteMaps + entire} mappings`, { pfn: head });
    if (L.nrPagesMapped[id] !== pagesMapped) v("mapcount", `folio ${head} nr_pages_mapped ${L.nrPagesMapped[id]} but ${pagesMapped} pages are PTE-mapped`, { pfn: head });
  } else if (entire !== 0) {
    v("mapcount", `order-0 folio ${head} is mapped by a huge entry`, { pfn: head });
  }
  const mappings = pteMaps + entire;
  const flags = f.flags(head);
  const migrating = k.migrating.has(head);
  let expected = mappings + (k.heldRefs.get(head) ?? 0) + (migrating ? 1 : 0);
  if (flags & PG_swapcache) expected += nr;
  const as = flags & PG_anon ? undefined : k.files.get(f.mapping(head));
  if (as !== undefined && as.pages.get(f.index(head)) === head) expected += nr;
  if (flags & PG_isolated && !migrating) v("lru", `folio ${head} is still isolated between operations`, { pfn: head });
  if (f.refcount(head) !== expected) v("refcount", `folio ${head} has refcount ${f.refcount(head)}, expected ${expected} (${mappings} mappings${flags & PG_swapcache ? ", swap cache" : ""}${as ? ", page cache" : ""})`, { pfn: head, expected, found: f.refcount(head) });
  if ((flags & PG_lru) !== 0 && !onLru) v("lru", `folio ${head} has PG_lru but is on no list`, { pfn: head });
  // ZONE_DEVICE folios never go on an LRU.
  if ((flags & PG_lru) === 0 && mappings > 0 && !migrating && !k.phys.isZoneDevice(head)) v("lru", `mapped folio ${head} is not on the LRU`, { pfn: head });
  if (flags & PG_swapcache) {
    const off = k.swap.slotOf.get(head);
    if (off === undefined || k.swap.device?.lookup(off) !== head) v("swap", `folio ${head} has PG_swapcache but is not in the swap cache`, { pfn: head });
  }
  if (order > 0 && mappings > 0) checkPerMm(k, head, seen.perMm(head), v);
  if (flags & PG_anon) checkExclusive(k, head, nr, entire, seen, v);
}

/**
 * A folio a feature owns (a hugetlb folio): mapped only whole, by logical
 * entries; never on the LRU, in the swap cache or on the deferred split
 * queue. Its references are its mappings, GUP's, a migration's and its page
 * cache's.
 */
export function checkOwnedFolio(k: Kernel, head: number, seen: FolioSeen, queued: boolean, v: Report): void {
  const f = k.folios;
  const nr = f.nrPages(head);
  const id = f.lid(head);
  if (id === 0) {
    v("owned", `feature-owned folio ${head} is not a large folio`, { pfn: head });
    return;
  }
  const L = f.large;
  const entire = seen.entireMaps(head);
  if (L.entireMapcount[id - 1] !== entire) v("mapcount", `folio ${head} entire mapcount ${L.entireMapcount[id - 1]} but ${entire} logical entries map it`, { pfn: head, expected: entire, found: L.entireMapcount[id - 1] });
  if (L.largeMapcount[id - 1] !== entire) v("mapcount", `folio ${head} large mapcount ${L.largeMapcount[id - 1]} but ${entire} logical entries map it`, { pfn: head, expected: entire, found: L.largeMapcount[id - 1] });
  if (L.nrPagesMapped[id - 1] !== 0) v("mapcount", `folio ${head} is mapped whole only, but ${L.nrPagesMapped[id - 1]} of its pages count PTE mappings`, { pfn: head });
  const flags = f.flags(head);
  if (flags & (PG_lru | PG_swapcache)) v("owned", `feature-owned folio ${head} is on the LRU or in the swap cache`, { pfn: head });
  if (queued) v("deferred-split", `feature-owned folio ${head} is on the deferred split queue`, { pfn: head });
  const migrating = k.migrating.has(head);
  let expected = entire + (k.heldRefs.get(head) ?? 0) + (migrating ? 1 : 0);
  const as = flags & PG_anon ? undefined : k.files.get(f.mapping(head));
  if (as !== undefined && as.pages.get(f.index(head)) === head) expected += nr;
  if (f.refcount(head) !== expected) v("refcount", `folio ${head} has refcount ${f.refcount(head)}, expected ${expected} (${entire} mappings${as ? ", page cache" : ""})`, { pfn: head, expected, found: f.refcount(head) });
  if (entire > 0) checkPerMm(k, head, seen.perMm(head), v);
  if (flags & PG_anon && f.pageTest(head, PG_anon_exclusive) && entire > 1) v("anon-exclusive", `folio ${head} is PageAnonExclusive but mapped ${entire} times`, { pfn: head });
}

/**
 * CONFIG_MM_ID: a folio mapped by more than one process is maybe-mapped-
 * shared (false positives are allowed: an mm that mapped it while both
 * slots were taken stays untracked); each tracked mm's slot counts exactly
 * its mappings; and a folio not marked shared is mapped by its one tracked mm.
 */
function checkPerMm(k: Kernel, head: number, m: ReadonlyMap<number, number> = new Map(), v: Report): void {
  const L = k.folios.large;
  const r = k.folios.lid(head) - 1;
  if (m.size > 1 && !k.rmap.maybeMappedShared(head)) v("mapcount", `folio ${head} is mapped by ${m.size} processes but not maybe-mapped-shared`, { pfn: head });
  for (const [id, count] of [
    [L.mmId0[r]!, L.mmMapcount0[r]!],
    [L.mmId1[r]!, L.mmMapcount1[r]!],
  ] as const) {
    if (id === 0) {
      if (count !== 0) v("mapcount", `folio ${head} has a free per-mm slot with count ${count}`, { pfn: head });
      continue;
    }
    const n = m.get(id) ?? 0;
    if (n !== count) v("mapcount", `folio ${head}: mm ${id} maps it ${n} times but its per-mm slot says ${count}`, { pfn: head, expected: n, found: count });
  }
  if (L.mmShared[r] === 0 && m.size === 1) {
    const [mm] = [...m.keys()] as [number];
    if (L.mmId0[r] !== mm && L.mmId1[r] !== mm) v("mapcount", `folio ${head} is not marked shared but its one process (mm ${mm}) is not tracked`, { pfn: head });
  }
}

/** PageAnonExclusive: an exclusive page is mapped at most once (a huge mapping counts on its head page). */
function checkExclusive(k: Kernel, head: number, nr: number, entire: number, seen: FolioSeen, v: Report): void {
  const f = k.folios;
  for (let i = 0; i < nr; i++) {
    if (!f.pageTest(head + i, PG_anon_exclusive)) continue;
    const maps = seen.pteMaps(head + i) + (i === 0 ? entire : entire > 0 ? 1 : 0);
    if (maps > 1) v("anon-exclusive", `page ${head + i} is PageAnonExclusive but mapped ${maps} times`, { pfn: head + i });
  }
}
