import { describe, expect, it } from "vitest";
import { QUICK_REQUIRED, expectedMetrics, missingMetrics, requiredMetrics } from "./report/expected";
import { isEmpty, select } from "./select";
import { QUICK_SIZES, allWorkloads } from "./workloads/index";


describe("selection and the metrics a run must produce", () => {
  const all = allWorkloads(QUICK_SIZES);

  it("expect the fixed list of metrics in quick mode", () => {
    const names = expectedMetrics(select(all, undefined, true), true, false);
    expect(names.filter((n) => !n.startsWith("arch."))).toEqual(QUICK_REQUIRED);
    expect(names.filter((n) => n.startsWith("arch."))).toHaveLength(56);
  });

  it("runs everything without --only, and the issue's example metrics are expected under their exact names", () => {
    const s = select(all, undefined, true);
    expect(s.workloads).toHaveLength(all.length);
    expect(s.footprint).toEqual(["4k", "pmd", "pud"]);
    expect(s.kernel).toEqual({ base: true, thp: true, fork: true, split: true, collapse: true });
    const names = expectedMetrics(s, true, false);
    for (const n of ["fault.anon.4k.ops_per_s", "munmap.4k.pages_per_s", "heap.bytes_per_4k_page", "kernel.fault.anon.4k.ops_per_s", "ratio.fault.anon.4k"]) expect(names).toContain(n);
    for (const n of ["kernel.munmap.4k.pages_per_s", "kernel.fault.anon.pmd.ops_per_s", "kernel.munmap.pmd.pages_per_s", "ratio.munmap.pmd", "kernel.collapse.madv.pmd.ops_per_s", "ratio.collapse.madv.pmd", "kernel.fork.anon.4k.ops_per_s", "ratio.fork.anon.4k", "kernel.split.pmd.folios_per_s", "ratio.split.pmd", "heap.bytes_per_pud_thp", "heap.scaling.pud.4G", "heap.growth.pmd_thp", "split.pmd.folios_per_s", "fork.anon.4k.pages_per_s", "migrate.4k.pages_per_s", "migrate.pmd.folios_per_s", "arch.ppc8xx.4k.hw_walk.ops_per_s"]) {
      expect(names).toContain(n);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it("leaves the split run's metrics out when debugfs split_huge_pages was out of reach", () => {
    const s = select(all, undefined, true);
    const names = requiredMetrics(s, true, undefined, false, new Set(["split"]));
    expect(names.filter((n) => n.includes("split.pmd") && (n.startsWith("kernel.") || n.startsWith("ratio.")))).toEqual([]);
    expect(names).toContain("kernel.fork.anon.4k.ops_per_s");
    expect(names).toContain("split.pmd.folios_per_s");
  });

  it("leaves the kernel's metrics and the ratios out only when the kernel run was skipped", () => {
    const s = select(all, undefined, true);
    const names = expectedMetrics(s, true, true);
    expect(names.filter((n) => n.startsWith("kernel.") || n.startsWith("ratio."))).toEqual([]);
  });

  it("selects by any of the patterns, the kernel with its model counterpart", () => {
    const s = select(all, ["fault.anon.4k"], true);
    expect(s.workloads.map((w) => w.name)).toEqual(["fault.anon.4k"]);
    expect(s.kernel).toEqual({ base: true, thp: false, fork: false, split: false, collapse: false });
    expect(s.footprint).toEqual([]);
    expect(expectedMetrics(s, true, false)).toEqual([
      "fault.anon.4k.ops_per_s",
      "fault.anon.4k.ns_per_op",
      "fault.anon.4k.pages_per_s",
      "kernel.fault.anon.4k.ops_per_s",
      "kernel.fault.anon.4k.ns_per_op",
      "kernel.fault.anon.4k.pages_per_s",
      "ratio.fault.anon.4k",
      // The kernel's 4K run measures munmap too.
      "kernel.munmap.4k.ops_per_s",
      "kernel.munmap.4k.ns_per_op",
      "kernel.munmap.4k.pages_per_s",
    ]);
    expect(select(all, ["heap.pud", "heap.scaling.pmd"], true).footprint).toEqual(["pmd", "pud"]);
    expect(select(all, ["arch.ppc8xx"], true).kernel).toEqual({ base: false, thp: false, fork: false, split: false, collapse: false });
    expect(select(all, ["fork.anon"], true).kernel).toEqual({ base: false, thp: false, fork: true, split: false, collapse: false });
    expect(select(all, ["collapse.madv.pmd"], true).kernel).toEqual({ base: false, thp: false, fork: false, split: false, collapse: true });
    expect(select(all, ["kernel.collapse.madv.pmd"], true).kernel).toEqual({ base: false, thp: false, fork: false, split: false, collapse: true });
    expect(expectedMetrics(select(all, ["collapse.madv.pmd"], true), true, false)).toContain("ratio.collapse.madv.pmd");
    expect(isEmpty(select(all, ["nothing-like-this"], true))).toBe(true);
  });

  it("hold a quick run without --only to the fixed list, the kernel's part only when it was not skipped", () => {
    const s = select(all, undefined, true);
    expect(requiredMetrics(s, true, undefined, false)).toEqual(expectedMetrics(s, true, false));
    expect(requiredMetrics(s, true, undefined, true).filter((n) => n.startsWith("kernel.") || n.startsWith("ratio."))).toEqual([]);
    // Only the derived list where the fixed one does not apply.
    const one = select(all, ["walk.4k"], true);
    expect(requiredMetrics(one, true, ["walk.4k"], false)).toEqual(["walk.4k.ops_per_s", "walk.4k.ns_per_op", "walk.4k.hw.ops_per_s", "walk.4k.hw.ns_per_op"]);
  });

  it("reports missing and non-finite metrics by name", () => {
    expect(missingMetrics(["a", "b", "c"], { a: 1, b: NaN })).toEqual(["b", "c"]);
  });
});
