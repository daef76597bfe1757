import { EV, ME, MS, MTHP_STRIDE } from "@hugemm/core";
import type { Workload } from "../harness";
import { PAGE, PAGES_PER_FAULT, arena, expectCount, expectNoFaultError, type Arena, type ArenaOptions, type PageKind } from "./arena";

/** The counter each kind of fault bumps once per folio it allocates. */
function allocCounter(a: Arena): number {
  const k = a.k;
  switch (a.kind) {
    case "4k":
      return k.events[EV.pgfault]!;
    case "64k":
      return k.mthpStats[4 * MTHP_STRIDE + MS.anon_fault_alloc]!;
    case "pmd":
      return k.events[EV.thp_fault_alloc]!;
    case "pud":
      return k.modelEvents[ME.thp_fault_alloc_pud]!;
  }
}

/** Write faults over a fresh mapping of `len` bytes: one operation per fault the kernel takes. */
export function faultWorkload(kind: PageKind, len: number, opts: ArenaOptions): Workload {
  const name = `fault.anon.${kind}`;
  const faults = len / PAGE / PAGES_PER_FAULT[kind];
  let a: Arena | undefined;
  return {
    name,
    unit: "faults",
    ops: faults,
    per: { pages: PAGES_PER_FAULT[kind] },
    setup: () => {
      a = arena(len, kind, opts);
    },
    run: () => {
      const before = allocCounter(a!);
      const r = a!.k.touch(a!.mm, a!.addr, len, true);
      expectNoFaultError(name, r);
      expectCount(name, "faults", r.faults, faults);
      expectCount(name, `folios of ${kind} allocated`, allocCounter(a!) - before, faults);
      return r.faults;
    },
  };
}
