import { MM_ANONPAGES, NS } from "@hugemm/core";
import type { Workload } from "../harness";
import { PAGE, arena, expectAtLeast, expectCount, freePages, populate, type Arena, type ArenaOptions, type PageKind } from "./arena";

/** munmap of a populated mapping: one operation per base page unmapped and freed. */
export function munmapWorkload(kind: PageKind, len: number, opts: ArenaOptions): Workload {
  const name = `munmap.${kind}`;
  const pages = len / PAGE;
  let a: Arena | undefined;
  return {
    name,
    unit: "pages",
    ops: pages,
    setup: () => {
      a = arena(len, kind, opts);
      populate(a, name);
    },
    run: () => {
      const { k, mm } = a!;
      const free = freePages(k);
      const r = k.munmap(mm, a!.addr, len);
      if (!r.ok) throw new Error(`${name}: munmap failed: ${r.errno} ${r.reason}`);
      expectCount(name, "anonymous pages left mapped", mm.rss[MM_ANONPAGES]!, 0);
      expectCount(name, "nr_anon_pages", k.phys.nodeStats(0)[NS.nr_anon_pages]!, 0);
      // The data pages come back to the allocator (their page tables too, hence "at least").
      expectAtLeast(name, "pages freed", freePages(k) - free, pages);
      return mm.rss[MM_ANONPAGES]!;
    },
  };
}
