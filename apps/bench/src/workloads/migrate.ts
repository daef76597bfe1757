import { EV } from "@hugemm/core";
import type { Workload } from "../harness";
import { PAGE, PAGES_PER_FAULT, arena, expectCount, populate, type Arena, type ArenaOptions } from "./arena";

/**
 * migrateRange (move_pages) of a populated mapping from node 0 to node 1 of a
 * two-node machine: one operation per folio moved, 4K or PMD THP.
 */
export function migrateWorkload(kind: "4k" | "pmd", len: number, opts: ArenaOptions): Workload {
  const name = `migrate.${kind}`;
  const perFolio = PAGES_PER_FAULT[kind];
  const folios = len / PAGE / perFolio;
  let a: Arena | undefined;
  return {
    name,
    unit: "folios",
    ops: folios,
    per: { pages: perFolio },
    setup: () => {
      a = arena(len, kind, { ...opts, nodes: 2 });
      populate(a, name);
    },
    run: () => {
      const { k, mm, addr } = a!;
      const pages = k.events[EV.pgmigrate_success]!;
      const thps = k.events[EV.thp_migration_success]!;
      const job = k.migrateRange(mm, addr, len, 1);
      expectCount(name, "folios moved", job.moved, folios);
      expectCount(name, "folios that failed", job.failed.length, 0);
      expectCount(name, "pgmigrate_success events", k.events[EV.pgmigrate_success]! - pages, len / PAGE);
      if (kind === "pmd") expectCount(name, "thp_migration_success events", k.events[EV.thp_migration_success]! - thps, folios);
      return job.moved;
    },
  };
}
