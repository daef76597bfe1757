import { EV, MADV, MM_ANONPAGES, NS } from "@hugemm/core";
import { SCAN, installKhugepaged, type Khugepaged } from "@hugemm/khugepaged";
import type { Workload } from "../harness";
import { PAGE, PAGES_PER_FAULT, arena, expectCount, populate, type Arena, type ArenaOptions } from "./arena";

/**
 * MADV_COLLAPSE of fully populated 2M ranges of 4K pages (THP "never",
 * which forced collapse ignores): one operation per range collapsed into a
 * PMD THP, its 512 pages copied and freed, its table deposited.
 */
export function madvCollapseWorkload(len: number, opts: ArenaOptions): Workload {
  const name = "collapse.madv.pmd";
  const ranges = len / PAGE / PAGES_PER_FAULT.pmd;
  let a: Arena | undefined;
  return {
    name,
    unit: "collapses",
    ops: ranges,
    per: { pages: PAGES_PER_FAULT.pmd },
    setup: () => {
      a = arena(len, "4k", opts);
      installKhugepaged(a.k);
      populate(a, name);
    },
    run: () => {
      const { k, mm, addr } = a!;
      const before = k.events[EV.thp_collapse_alloc]!;
      const r = k.madvise(mm, addr, len, MADV.COLLAPSE);
      if (!r.ok) throw new Error(`${name}: MADV_COLLAPSE failed with ${r.errno}: ${r.reason}`);
      expectCount(name, "thp_collapse_alloc events", k.events[EV.thp_collapse_alloc]! - before, ranges);
      expectCount(name, "pages in PMD-mapped THPs", k.phys.nodeStats(0)[NS.nr_anon_transparent_hugepages]!, ranges * PAGES_PER_FAULT.pmd);
      expectCount(name, "anonymous pages mapped", mm.rss[MM_ANONPAGES]!, len / PAGE);
      return ranges;
    },
  };
}

/**
 * khugepaged scanning a large, half-populated address space: every 2M range
 * has its first 256 pages written and then aged by MADV_COLD, so the scan
 * looks at all 512 PTEs of each (256 of them none, within max_ptes_none)
 * and finds no young PTE to justify a collapse (SCAN_LACK_REFERENCED_PAGE).
 * Nothing changes, so every call scans the same PTEs: one round of
 * khugepaged_do_scan with a budget covering the whole mm, one operation per
 * PTE (progress unit) scanned.
 */
export function khugepagedScanWorkload(len: number, opts: ArenaOptions): Workload {
  const name = "khugepaged.scan";
  const ranges = len / PAGE / PAGES_PER_FAULT.pmd;
  // The mm, then 512 PTEs per range.
  const units = 1 + ranges * PAGES_PER_FAULT.pmd;
  let a: Arena | undefined;
  let kh: Khugepaged | undefined;
  return {
    name,
    unit: "ptes",
    ops: units,
    prepare: () => {
      a = arena(len, "4k", opts);
      kh = installKhugepaged(a.k);
      const { k, mm, addr } = a;
      const half = (PAGES_PER_FAULT.pmd / 2) * PAGE;
      for (let r = 0; r < ranges; r++) k.touch(mm, addr + r * 2 * half, half, true, 0x5ca7);
      expectCount(name, "anonymous pages mapped", mm.rss[MM_ANONPAGES]!, len / PAGE / 2);
      k.thp.set("enabled", "madvise");
      k.madvise(mm, addr, len, MADV.COLD);
      k.madvise(mm, addr, len, MADV.HUGEPAGE);
      // One unit more than a pass needs: the round ends at the list head, not inside the mm, so every call starts there.
      kh.s.set("pages_to_scan", String(units + 1));
      kh.s.set("scan_sleep_millisecs", "0");
      expectCount(name, "registered mms", kh.slots.list.length, 1);
    },
    run: () => {
      const d = kh!;
      const before = d.progressTotal;
      const lacking = d.results[SCAN.LACK_REFERENCED_PAGE]!;
      d.run({ scans: 1 });
      expectCount(name, "PTEs and mms scanned", d.progressTotal - before, units);
      expectCount(name, "ranges refused for lack of a referenced PTE", d.results[SCAN.LACK_REFERENCED_PAGE]! - lacking, ranges);
      expectCount(name, "ranges collapsed", d.pagesCollapsed, 0);
      return units;
    },
  };
}
