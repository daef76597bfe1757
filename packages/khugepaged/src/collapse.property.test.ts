import { propertyRuns } from "@hugemm/vitest-config/runs";
import { MS, MTHP_STRIDE, NS, mixTag, type Mm } from "@hugemm/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KB4, MADV, MB2, anon, machine, madvise } from "./test-kernel";

const PAGES = 512 * 2;

/** What one process should read at each page: the pattern seed last written there, 0 for never written. */
type Contents = Int32Array;

/** One random workload: writes, page-outs and frees over two PMD ranges, maybe a fork with the child writing, then a collapse. */
const workload = fc.record({
  writes: fc.array(fc.tuple(fc.integer({ min: 0, max: PAGES - 1 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 9 })), { minLength: 1, maxLength: 8 }),
  pageouts: fc.array(fc.tuple(fc.integer({ min: 0, max: PAGES - 1 }), fc.integer({ min: 1, max: 80 })), { maxLength: 3 }),
  frees: fc.array(fc.tuple(fc.integer({ min: 0, max: PAGES - 1 }), fc.integer({ min: 1, max: 16 })), { maxLength: 2 }),
  fork: fc.option(fc.array(fc.tuple(fc.integer({ min: 0, max: PAGES - 1 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 10, max: 12 })), { maxLength: 3 }), { nil: undefined }),
  via: fc.constantFrom("khugepaged", "madvise", "mthp"),
  maxNone: fc.constantFrom("0", "64", "511"),
  maxSwap: fc.constantFrom("0", "64", "511"),
  maxShared: fc.constantFrom("0", "256", "511"),
});

function write(t: ReturnType<typeof machine>, mm: Mm, a: number, want: Contents, from: number, n: number, seed: number): void {
  const nr = Math.min(n, PAGES - from);
  t.k.touch(mm, a + from * KB4, nr * KB4, true, seed);
  for (let i = from; i < from + nr; i++) want[i] = seed;
}

/** Read every page back (swapping in whatever is still out) and compare with what was written. */
function check(t: ReturnType<typeof machine>, mm: Mm, a: number, want: Contents): void {
  t.k.touch(mm, a, PAGES * KB4, false);
  for (let i = 0; i < PAGES; i++) {
    const va = a + i * KB4;
    const expected = want[i] === 0 ? 0 : mixTag(want[i]!, va / KB4);
    if (t.k.peek(mm, va) !== expected) throw new Error(`pid ${mm.id} page ${i}: ${t.k.peek(mm, va)}, expected ${expected}`);
  }
}

describe("collapse keeps every byte (fast-check, fixed seed)", () => {
  it("random populated ranges with swap and sharing, collapsed by khugepaged (PMD or mTHP) or MADV_COLLAPSE", () => {
    let collapsed = 0;
    fc.assert(
      fc.property(workload, (w) => {
        const t = machine("x86-64", { enabled: w.via === "mthp" ? "never" : "madvise" });
        if (w.via === "mthp") for (const kb of [16, 64, 256, 2048]) t.k.thp.set(`hugepages-${kb}kB/enabled`, "madvise");
        t.kh.s.set("max_ptes_none", w.maxNone);
        t.kh.s.set("max_ptes_swap", w.maxSwap);
        t.kh.s.set("max_ptes_shared", w.maxShared);
        const a = anon(t, 2 * MB2);
        const parent: Contents = new Int32Array(PAGES);
        for (const [from, n, seed] of w.writes) write(t, t.mm, a, parent, from, n, seed);
        for (const [from, n] of w.pageouts) madvise(t, a + from * KB4, Math.min(n, PAGES - from) * KB4, MADV.PAGEOUT);
        for (const [from, n] of w.frees) {
          madvise(t, a + from * KB4, Math.min(n, PAGES - from) * KB4, MADV.DONTNEED);
          parent.fill(0, from, Math.min(from + n, PAGES));
        }
        madvise(t, a, 2 * MB2, MADV.HUGEPAGE);
        const procs: [Mm, Contents][] = [[t.mm, parent]];
        if (w.fork !== undefined) {
          const child = t.k.fork(t.mm);
          if (child !== null) {
            const mine = parent.slice();
            for (const [from, n, seed] of w.fork) write(t, child, a, mine, from, n, seed);
            procs.push([child, mine]);
          }
        }
        if (w.via === "madvise") for (const [mm] of procs) madvise(t, a, 2 * MB2, MADV.COLLAPSE, mm);
        else t.kh.run({ passes: 2 });
        // The checker ran after every operation (no migration entry left, no orphaned or undeposited table, counts right).
        expect(t.k.phys.nodeStats(0)[NS.nr_isolated_anon]).toBe(0);
        for (const [mm, want] of procs) check(t, mm, a, want);
        for (const [mm] of procs.reverse()) t.k.exit(mm);
        for (let o = 2; o <= 9; o++) collapsed += t.k.mthpStats[o * MTHP_STRIDE + MS.collapse_alloc]!;
        expect(t.k.phys.nodeStats(0)[NS.nr_anon_pages]).toBe(0);
      }),
      { numRuns: propertyRuns(12), seed: 0x6b687567 },
    );
    // The workloads do collapse (a run of nothing but refusals would test little).
    expect(collapsed).toBeGreaterThan(0);
  });
});
