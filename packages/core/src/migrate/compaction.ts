import type { Kernel } from "../kernel/kernel";
import { PG_lru } from "../phys/page-flags";
import type { Zone } from "../phys/zone";
import { EV } from "../stats/counters";
import { folioMaybeDmaPinned } from "../mm/fork";
import { MigrateReason, migratePages } from "./migrate";

/**
 * compact_zone: the migrate scanner walks pageblocks up from the zone's start
 * isolating movable (LRU) folios; the free scanner walks down from its end
 * isolating free blocks; folios move into the free pages until a block of
 * `order` is free or the scanners meet. `order` -1 compacts the whole zone
 * (/proc/sys/vm/compact_memory). Returns whether a block of `order` is free.
 */
export function compactZone(k: Kernel, z: Zone, order: number): boolean {
  const phys = k.phys;
  phys.drainPcp();
  if (order >= 0 && z.largestFreeOrder() >= order) return true;
  const pb = phys.memmap.pbPages;
  const f = k.folios;
  let migratePfn = z.startPfn;
  let freePfn = z.endPfn - pb;
  /** Isolated free blocks waiting to receive folios: [pfn, order]. */
  const pool: [number, number][] = [];
  const refillPool = (want: number): boolean => {
    while (freePfn > migratePfn) {
      const start = freePfn;
      freePfn -= pb;
      for (let p = start; p < start + pb; ) {
        const o = z.freeOrderAt(p);
        if (o >= 0 && phys.takeFreeRange(p, o)) {
          pool.push([p, o]);
          k.events[EV.compact_free_scanned]! += 2 ** o;
          k.events[EV.compact_isolated]! += 2 ** o;
          p += 2 ** o;
        } else p++;
      }
      if (pool.some(([, o]) => o >= want)) return true;
    }
    return pool.some(([, o]) => o >= want);
  };
  const compactionAlloc = (_src: number, o: number): number => {
    let i = pool.findIndex(([, po]) => po >= o);
    if (i < 0) {
      if (!refillPool(o)) return -1;
      i = pool.findIndex(([, po]) => po >= o);
    }
    const [pfn, po] = pool.splice(i, 1)[0]!;
    // Keep the unused upper halves in the pool.
    for (let s = po; s > o; s--) pool.push([pfn + 2 ** (s - 1), s - 1]);
    f.prep(pfn, o);
    return pfn;
  };
  while (migratePfn < freePfn + pb) {
    const heads: number[] = [];
    for (let p = migratePfn; p < migratePfn + pb && p < z.endPfn; ) {
      const o = z.freeOrderAt(p);
      if (o >= 0) {
        p += 2 ** o;
        continue;
      }
      k.events[EV.compact_migrate_scanned]!++;
      if (f.isAllocated(p)) {
        const head = f.head(p);
        if (head === p && f.test(head, PG_lru) && !folioMaybeDmaPinned(k, head)) heads.push(head);
        p += head === p ? f.nrPages(head) : 1;
      } else p++;
    }
    migratePfn += pb;
    if (heads.length > 0) {
      k.events[EV.compact_isolated]! += heads.length;
      migratePages(k, heads, compactionAlloc, MigrateReason.COMPACTION);
    }
    if (order >= 0) {
      phys.drainPcp();
      if (z.largestFreeOrder() >= order) break;
    }
  }
  // Free pages isolated but not used go back.
  for (const [pfn, o] of pool) phys.freePages(pfn, o);
  phys.drainPcp();
  return order < 0 || z.largestFreeOrder() >= order;
}

/** Compact every zone of a node for an allocation of `order` (try_to_compact_pages); true once one succeeds. */
export function compactNode(k: Kernel, nid: number, order: number): boolean {
  let ok = false;
  for (const z of [...k.phys.nodes[nid]!.zones].reverse()) {
    if (compactZone(k, z, order)) {
      ok = true;
      if (order >= 0) break;
    }
  }
  return ok;
}
