import { MS, MTHP_STRIDE } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { scanName } from "./scan-result";
import { KB4, MADV, MB2, anon, machine, madvise } from "./test-kernel";

function allSizes(t: ReturnType<typeof machine>): void {
  for (const kb of [16, 32, 64, 128, 256, 512, 1024, 2048]) t.k.thp.set(`hugepages-${kb}kB/enabled`, "madvise");
}

describe("mthp_collapse: the window walk", () => {
  it("visits aligned windows from PMD order down, left half first, and skips what collapsed", () => {
    const t = machine("x86-64", { enabled: "never" });
    allSizes(t);
    t.kh.s.set("max_ptes_none", "0");
    const a = anon(t, MB2);
    t.k.touch(t.mm, a, 64 * KB4, true, 1);
    t.k.touch(t.mm, a + 128 * KB4, 4 * KB4, true, 1);
    madvise(t, a, MB2, MADV.HUGEPAGE);
    const r = t.kh.run({ scans: 1 }, true);
    expect(r.ranges[0]!.attempts.map((x) => [(x.addr - a) / KB4, x.order, scanName(x.result)])).toEqual([
      [0, 6, "succeed"],
      [128, 2, "succeed"],
    ]);
    expect(t.kh.pagesCollapsed).toBe(1);
  });

  it("with max_ptes_none 511 takes the highest enabled order at once", () => {
    const t = machine("x86-64", { enabled: "never" });
    t.k.thp.set("hugepages-64kB/enabled", "madvise");
    t.k.thp.set("hugepages-512kB/enabled", "madvise");
    const a = anon(t, MB2);
    t.k.touch(t.mm, a + 300 * KB4, KB4, true, 1);
    madvise(t, a, MB2, MADV.HUGEPAGE);
    const r = t.kh.run({ scans: 1 }, true);
    // Page 300 is in the third 512K window: one 512K collapse there, no 64K ones.
    expect(r.ranges[0]!.attempts.map((x) => [(x.addr - a) / KB4, x.order, scanName(x.result)])).toEqual([[256, 7, "succeed"]]);
    expect(t.mm.rss[1]).toBe(128);
  });

  it("a shared page stops its mTHP window (SCAN_EXCEED_SHARED_PTE), and the walk tries lower orders", () => {
    const t = machine("x86-64", { enabled: "never" });
    t.k.thp.set("hugepages-32kB/enabled", "madvise");
    t.k.thp.set("hugepages-16kB/enabled", "madvise");
    const a = anon(t, MB2);
    t.k.touch(t.mm, a, 8 * KB4, true, 1);
    madvise(t, a, MB2, MADV.HUGEPAGE);
    const child = t.k.fork(t.mm)!;
    // The child owns pages 0..3 again; 4..7 are still shared with the parent.
    t.k.touch(child, a, 4 * KB4, true, 2);
    const r = t.kh.run({ passes: 1 }, true);
    for (const mm of [t.mm, child]) {
      const mine = r.ranges.find((x) => x.pid === mm.id)!;
      expect(mine.attempts.map((x) => [(x.addr - a) / KB4, x.order, scanName(x.result)])).toEqual([
        [0, 3, "exceed_shared_pte"],
        [0, 2, "succeed"],
        [4, 2, "exceed_shared_pte"],
      ]);
    }
    expect([3, 2].map((o) => t.k.mthpStats[o * MTHP_STRIDE + MS.collapse_exceed_shared_pte])).toEqual([2, 2]);
  });
});
