import { EV, MM_ANONPAGES, type Mm } from "@hugemm/core";
import type { Workload } from "../harness";
import { GiB, PAGE, arena, expectAtLeast, expectCount, expectNoFaultError, freePages, populate, type Arena, type ArenaOptions } from "./arena";

/** fork of a process with `len` bytes of populated 4K anonymous memory: one operation per fork. */
export function forkWorkload(len: number, opts: ArenaOptions): Workload {
  const name = "fork.anon.4k";
  const pages = len / PAGE;
  let a: Arena | undefined;
  return {
    name,
    unit: "forks",
    ops: 1,
    per: { pages },
    setup: () => {
      a = arena(len, "4k", opts);
      populate(a, name);
    },
    run: () => {
      const child = a!.k.fork(a!.mm);
      if (child === null) throw new Error(`${name}: fork failed (ENOMEM)`);
      expectCount(name, "anonymous pages the child maps", child.rss[MM_ANONPAGES]!, pages);
      return child.id;
    },
  };
}

/** The child's write faults after such a fork: each copies a page the parent still maps. */
export function cowWorkload(len: number, opts: ArenaOptions): Workload {
  const name = "cow.anon.4k";
  const pages = len / PAGE;
  let a: Arena | undefined;
  let child: Mm | undefined;
  return {
    name,
    unit: "faults",
    ops: pages,
    per: { pages: 1 },
    setup: () => {
      // Room for the parent's pages and the child's copies of all of them.
      a = arena(len, "4k", opts, 2 * len + GiB);
      populate(a, name);
      const c = a.k.fork(a.mm);
      if (c === null) throw new Error(`${name}: fork failed (ENOMEM)`);
      child = c;
    },
    run: () => {
      const k = a!.k;
      const reused = k.events[EV.pgreuse]!;
      const free = freePages(k);
      const r = k.touch(child!, a!.addr, len, true);
      expectNoFaultError(name, r);
      expectCount(name, "write faults in the child", r.faults, pages);
      // Every fault copied its page (none was reused): the parent keeps the originals.
      expectCount(name, "pages reused instead of copied", k.events[EV.pgreuse]! - reused, 0);
      expectAtLeast(name, "pages allocated for copies", free - freePages(k), pages);
      expectCount(name, "anonymous pages of the parent", a!.mm.rss[MM_ANONPAGES]!, pages);
      expectCount(name, "anonymous pages of the child", child!.rss[MM_ANONPAGES]!, pages);
      return r.faults;
    },
  };
}
