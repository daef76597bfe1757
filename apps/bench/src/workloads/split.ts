import { EV, MM_ANONPAGES } from "@hugemm/core";
import type { Workload } from "../harness";
import { PAGE, PAGES_PER_FAULT, arena, expectCount, populate, type Arena, type ArenaOptions } from "./arena";

/**
 * Split of PMD THPs to order 0 through debugfs split_huge_pages (what the
 * scenario `split` step calls): one operation per folio split.
 */
export function splitWorkload(len: number, opts: ArenaOptions): Workload {
  const name = "split.pmd";
  const folios = len / PAGE / PAGES_PER_FAULT.pmd;
  let a: Arena | undefined;
  return {
    name,
    unit: "folios",
    ops: folios,
    per: { pages: PAGES_PER_FAULT.pmd },
    setup: () => {
      a = arena(len, "pmd", opts);
      populate(a, name);
    },
    run: () => {
      const { k, mm, addr } = a!;
      const splits = k.events[EV.thp_split_page]!;
      const [split, total] = k.splitHugePages(mm, addr, addr + len, 0);
      expectCount(name, "THPs found", total, folios);
      expectCount(name, "THPs split", split, folios);
      expectCount(name, "thp_split_page events", k.events[EV.thp_split_page]! - splits, folios);
      expectCount(name, "anonymous pages still mapped", mm.rss[MM_ANONPAGES]!, len / PAGE);
      return split;
    },
  };
}
