import { folioPut } from "../folio/put";
import type { Kernel } from "../kernel/kernel";
import { GFP_HIGHUSER_MOVABLE, __GFP_RETRY_MAYFAIL } from "../phys/gfp";
import { PG_lru, PG_reserved } from "../phys/page-flags";
import type { Zone } from "../phys/zone";
import { isolateMigratepagesBlock } from "./compaction";
import { MigrateReason, isolateForMigration, migrateIsolated, migrationTarget, putbackFolio, type NewFolio } from "./migrate";

/** __alloc_contig_migrate_range gives up on folios still there after this many migrate_pages calls. */
const CONTIG_MIGRATE_TRIES = 5;

/**
 * alloc_contig_pages for a block of 2^order pages (above MAX_PAGE_ORDER
 * too): walk the naturally aligned ranges of the node's zones; a range
 * holding nothing unmovable (has_unmovable_pages) and no folio reaching
 * outside it is isolated, its folios are migrated elsewhere — THPs whole,
 * or split when no destination of their order can be had — and once every
 * page is free the range is taken. Returns its first pfn, or -1. Without
 * `migrate` only a range already free will do.
 */
export function allocContig(k: Kernel, order: number, nid: number, movableZoneOk = true, migrate = true): number {
  const phys = k.phys;
  const size = 2 ** order;
  phys.drainPcp();
  for (const z of phys.nodes[nid]!.zones) {
    if (z.name === "Movable" && !movableZoneOk) continue;
    for (let start = Math.ceil(z.startPfn / size) * size; start + size <= z.endPfn; start += size) {
      if (hasUnmovablePages(k, z, start, size)) continue;
      const got = isolateAndMigrate(k, z, start, size, migrate);
      if (got) return start;
    }
  }
  return -1;
}

/**
 * page_is_unmovable over the range, and isolate_single_pageblock's check of
 * its edges: reserved pages never move; in ZONE_MOVABLE everything else
 * does; elsewhere a folio must be on the LRU (free pages are fine). A folio
 * reaching across either end of the range fails it.
 */
function hasUnmovablePages(k: Kernel, z: Zone, start: number, size: number): boolean {
  const f = k.folios;
  const end = start + size;
  for (let p = start; p < end; ) {
    const o = z.freeOrderAt(p);
    if (o >= 0) {
      p += 2 ** o;
      continue;
    }
    if (!f.isAllocated(p)) {
      p++;
      continue;
    }
    const head = f.head(p);
    const nr = f.nrPages(head);
    if (head < start || head + nr > end) return true;
    if (f.flags(head) & PG_reserved) return true;
    if (z.name !== "Movable" && !f.test(head, PG_lru)) return true;
    p = head + nr;
  }
  return false;
}

/**
 * alloc_contig_range for one range: take its free pages (the isolated
 * pageblocks hand out nothing), isolate and migrate its folios up to
 * CONTIG_MIGRATE_TRIES times, and keep the range if it ends up all free.
 */
function isolateAndMigrate(k: Kernel, z: Zone, start: number, size: number, migrate: boolean): boolean {
  const phys = k.phys;
  const end = start + size;
  const taken: [number, number][] = [];
  const takeFree = (): number => {
    phys.drainPcp();
    let covered = 0;
    for (const [, o] of taken) covered += 2 ** o;
    const f = k.folios;
    for (let p = start; p < end; ) {
      const o = z.freeOrderAt(p);
      if (o >= 0 && p + 2 ** o <= end && phys.takeFreeRange(p, o)) {
        taken.push([p, o]);
        covered += 2 ** o;
        p += 2 ** o;
      } else if (o < 0 && f.isAllocated(p)) {
        // Nothing in a folio still there is free: step over it whole.
        const head = f.head(p);
        p = Math.max(p + 1, head + f.nrPages(head));
      } else p++;
    }
    return covered;
  };
  const release = (): false => {
    for (const [p, o] of taken) phys.freePages(p, o);
    phys.drainPcp();
    return false;
  };
  if (takeFree() === size) return true;
  if (!migrate) return release();
  // Destinations that land inside the range (pages freed there by a split) are set aside: the range is isolated.
  const setAside: number[] = [];
  const base = migrationTarget(k, GFP_HIGHUSER_MOVABLE | __GFP_RETRY_MAYFAIL, z.nid);
  const alloc: NewFolio = (src, order) => {
    for (;;) {
      const dst = base(src, order);
      if (dst < 0 || dst + 2 ** order <= start || dst >= end) return dst;
      setAside.push(dst);
    }
  };
  let list: number[] = [];
  let failed = false;
  for (let pfn = start, tries = 0; pfn < end || list.length > 0; ) {
    if (list.length === 0) {
      const run = isolateMigratepagesBlock(k, z, pfn, end, -1, true);
      pfn = run.next;
      list = run.heads;
      tries = 0;
      if (list.length === 0) continue;
    } else if (++tries === CONTIG_MIGRATE_TRIES) {
      failed = true;
      break;
    }
    const r = migrateIsolated(k, list, alloc, MigrateReason.CONTIG_RANGE);
    if (r.enomem) {
      failed = true;
      break;
    }
    // What failed goes round again, isolated anew.
    list = r.failed.filter((h) => k.folios.isAllocated(h) && k.folios.head(h) === h && isolateForMigration(k, h));
  }
  for (const h of list) putbackFolio(k, h);
  for (const d of setAside) folioPut(k, d, 1);
  if (!failed && takeFree() === size) return true;
  return release();
}
