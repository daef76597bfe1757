import { PMD, PTE } from "@hugemm/arch";
import { Rng, WALK_LEAF, WALK_OK } from "@hugemm/core";
import type { Workload } from "../harness";
import { PAGE, arena, expectCount, populate, type Arena, type ArenaOptions } from "./arena";

/** Page-table walks over a populated mapping, at addresses in a seeded random order. */
interface WalkState {
  readonly a: Arena;
  readonly addrs: Float64Array;
}

// Random order, so that the walker's cached tables (one per level) rarely hold the next address's PTE or PMD table.
function walkState(kind: "4k" | "pmd", len: number, walks: number, opts: ArenaOptions, name: string): WalkState {
  const a = arena(len, kind, opts);
  populate(a, name);
  const rng = new Rng(0x5eed);
  const pages = len / PAGE;
  const addrs = new Float64Array(walks);
  for (let i = 0; i < walks; i++) addrs[i] = a.addr + rng.below(pages) * PAGE;
  return { a, addrs };
}

/**
 * The core's software walk (mm.walker.find, as the fault and touch paths use
 * it) to the PTE slot of each address: one operation per walk. Over PMD THPs
 * the walk stops at the PMD leaf.
 */
export function walkWorkload(kind: "4k" | "pmd", len: number, walks: number, opts: ArenaOptions): Workload {
  const name = `walk.${kind}`;
  const expected = kind === "4k" ? WALK_OK : WALK_LEAF;
  const level = kind === "4k" ? PTE : PMD;
  let s: WalkState | undefined;
  return {
    name,
    unit: "walks",
    ops: walks,
    prepare: () => {
      s = walkState(kind, len, walks, opts, name);
    },
    run: () => {
      const { a, addrs } = s!;
      const w = a.mm.walker;
      const slot = a.mm.slot;
      let found = 0;
      let sum = 0;
      for (let i = 0; i < addrs.length; i++) {
        if (w.find(addrs[i]!, PTE, false, slot) === expected && slot.level === level) found++;
        sum += slot.index;
      }
      expectCount(name, `walks ending at the ${kind === "4k" ? "PTE" : "PMD leaf"}`, found, walks);
      return sum;
    },
  };
}

/** The backend's hardware walk (the MMU's view, as TLB coverage and `hugemm walk` use it): one operation per translation. */
export function hwWalkWorkload(kind: "4k" | "pmd", len: number, walks: number, opts: ArenaOptions): Workload {
  const name = `walk.${kind}.hw`;
  const pageSize = kind === "4k" ? PAGE : 2 ** 21;
  let s: WalkState | undefined;
  return {
    name,
    unit: "walks",
    ops: walks,
    prepare: () => {
      s = walkState(kind, len, walks, opts, name);
    },
    run: () => {
      const { a, addrs } = s!;
      const b = a.k.backend;
      const root = a.mm.rootPa;
      let translated = 0;
      let sum = 0;
      for (let i = 0; i < addrs.length; i++) {
        const w = b.walk(a.k.tables, root, addrs[i]!);
        if (w.ok && w.pageSize === pageSize) {
          translated++;
          sum += w.pa;
        }
      }
      expectCount(name, `translations through ${kind === "4k" ? "4K" : "2M"} leaves`, translated, walks);
      return sum;
    },
  };
}
