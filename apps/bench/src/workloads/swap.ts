import { EV, MADV, MM_ANONPAGES, MM_SWAPENTS } from "@hugemm/core";
import type { Workload } from "../harness";
import { PAGE, arena, expectCount, expectNoFaultError, populate, type Arena, type ArenaOptions } from "./arena";

/** A populated mapping and a swap device with room to spare for all of it. */
function swapArena(len: number, opts: ArenaOptions, name: string): Arena {
  const a = arena(len, "4k", { ...opts, swap: 2 * len });
  populate(a, name);
  return a;
}

/** Reclaim of the mapping's 4K pages to swap (MADV_PAGEOUT): one operation per page written out. */
export function swapoutWorkload(len: number, opts: ArenaOptions): Workload {
  const name = "swapout.4k";
  const pages = len / PAGE;
  let a: Arena | undefined;
  return {
    name,
    unit: "pages",
    ops: pages,
    setup: () => {
      a = swapArena(len, opts, name);
    },
    run: () => {
      const { k, mm, addr } = a!;
      const out = k.events[EV.pswpout]!;
      const r = k.madvise(mm, addr, len, MADV.PAGEOUT);
      if (!r.ok) throw new Error(`${name}: madvise(MADV_PAGEOUT) failed: ${r.errno} ${r.reason}`);
      expectCount(name, "pswpout events", k.events[EV.pswpout]! - out, pages);
      expectCount(name, "swap entries mapped", mm.rss[MM_SWAPENTS]!, pages);
      expectCount(name, "anonymous pages left", mm.rss[MM_ANONPAGES]!, 0);
      return mm.rss[MM_SWAPENTS]!;
    },
  };
}

/** Read faults that bring those pages back from swap: one operation per page swapped in. */
export function swapinWorkload(len: number, opts: ArenaOptions): Workload {
  const name = "swapin.4k";
  const pages = len / PAGE;
  let a: Arena | undefined;
  return {
    name,
    unit: "pages",
    ops: pages,
    setup: () => {
      a = swapArena(len, opts, name);
      const r = a.k.madvise(a.mm, a.addr, len, MADV.PAGEOUT);
      if (!r.ok || a.mm.rss[MM_SWAPENTS] !== pages) throw new Error(`${name}: MADV_PAGEOUT left ${a.mm.rss[MM_SWAPENTS]} of ${pages} pages in swap`);
    },
    run: () => {
      const { k, mm, addr } = a!;
      const ins = k.events[EV.pswpin]!;
      const r = k.touch(mm, addr, len, false);
      expectNoFaultError(name, r);
      expectCount(name, "pages accessed", r.pages, pages);
      expectCount(name, "pswpin events", k.events[EV.pswpin]! - ins, pages);
      expectCount(name, "swap entries left", mm.rss[MM_SWAPENTS]!, 0);
      expectCount(name, "anonymous pages mapped", mm.rss[MM_ANONPAGES]!, pages);
      return r.majorFaults;
    },
  };
}
