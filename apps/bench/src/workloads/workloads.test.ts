import { describe, expect, it } from "vitest";
import type { Workload } from "../harness";
import { GiB, MiB } from "./arena";
import { allWorkloads, FULL_SIZES, QUICK_SIZES, type Sizes } from "./index";

// Small enough for the invariant checker to run after every operation.
const TINY: Sizes = {
  fault4k: MiB,
  faultPmd: 4 * MiB,
  faultPud: GiB,
  fork: MiB,
  split: 4 * MiB,
  migrate4k: MiB,
  migratePmd: 4 * MiB,
  swap: MiB,
  walk: 4 * MiB,
  collapse: 4 * MiB,
  scan: 4 * MiB,
  swWalks: 64,
  hwWalks: 16,
  hugetlb2m: 4 * MiB,
  hugetlb1g: GiB,
};

/** One untimed call, as the harness makes it. */
function once(w: Workload): number {
  w.prepare?.();
  w.setup?.();
  return w.run();
}

describe("workloads", () => {
  const ws = allWorkloads(TINY, { check: true });

  it("have the stable names the report and the targets use", () => {
    const names = ws.map((w) => w.name).filter((n) => !n.startsWith("arch."));
    expect(names).toEqual([
      "fault.anon.4k",
      "fault.anon.64k",
      "fault.anon.pmd",
      "fault.anon.pud",
      "munmap.4k",
      "munmap.64k",
      "munmap.pmd",
      "munmap.pud",
      "fork.anon.4k",
      "cow.anon.4k",
      "split.pmd",
      "migrate.4k",
      "migrate.pmd",
      "migrate.device.pmd",
      "migrate.device.pmd_split",
      "swapout.4k",
      "swapin.4k",
      "walk.4k",
      "walk.pmd",
      "walk.4k.hw",
      "walk.pmd.hw",
      "collapse.madv.pmd",
      "khugepaged.scan",
      "fault.hugetlb.2m",
      "fault.hugetlb.1g",
      "resize.hugetlb.2m",
    ]);
    expect(new Set(ws.map((w) => w.name)).size).toBe(ws.length);
  });

  it("count their operations in the unit they report", () => {
    const byName = new Map(ws.map((w) => [w.name, w]));
    expect(byName.get("fault.anon.4k")!.ops).toBe(256);
    expect(byName.get("fault.anon.64k")!.ops).toBe(16);
    expect(byName.get("collapse.madv.pmd")!.ops).toBe(2);
    expect(byName.get("khugepaged.scan")!.ops).toBe(1 + 2 * 512);
    expect(byName.get("fault.anon.pmd")!.ops).toBe(2);
    expect(byName.get("fault.anon.pud")!.ops).toBe(1);
    expect(byName.get("munmap.pmd")!.ops).toBe(1024);
    expect(byName.get("fork.anon.4k")!.per).toEqual({ pages: 256 });
    expect(byName.get("split.pmd")!.ops).toBe(2);
    expect(byName.get("migrate.pmd")!.per).toEqual({ pages: 512 });
    expect(byName.get("migrate.device.pmd")!.per).toEqual({ pages: 1024 });
    expect(byName.get("migrate.device.pmd")!.ops).toBe(2);
    expect(byName.get("fault.hugetlb.2m")!.ops).toBe(2);
    expect(byName.get("fault.hugetlb.1g")!.ops).toBe(1);
    expect(byName.get("resize.hugetlb.2m")!.ops).toBe(4);
  });

  // Each workload checks its own result and throws when the model did not do the work.
  for (const w of ws.filter((x) => !x.name.startsWith("arch."))) {
    it(`${w.name} does its work`, () => {
      expect(Number.isFinite(once(w))).toBe(true);
    });
  }

  it("the arch micro-benchmarks run", () => {
    for (const w of ws.filter((x) => x.name.startsWith("arch."))) expect(Number.isFinite(once(w))).toBe(true);
  });

  it("map the sizes of each mode", () => {
    expect(FULL_SIZES.fault4k).toBe(GiB);
    expect(FULL_SIZES.fork).toBe(GiB);
    for (const s of [FULL_SIZES, QUICK_SIZES]) for (const v of Object.values(s)) expect(Number.isInteger(v) && v > 0).toBe(true);
  });
});
