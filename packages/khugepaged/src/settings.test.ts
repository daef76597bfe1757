import { ModelInputError } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { machine } from "./test-kernel";

describe("transparent_hugepage/khugepaged", () => {
  it("starts with khugepaged_init's defaults, scaled by HPAGE_PMD_NR", () => {
    const { kh } = machine();
    expect(kh.s.show()).toEqual({
      defrag: "1",
      max_ptes_none: "511",
      max_ptes_swap: "64",
      max_ptes_shared: "256",
      pages_to_scan: "4096",
      scan_sleep_millisecs: "10000",
      alloc_sleep_millisecs: "60000",
      mthp_max_ptes_none_rule: "[kernel] linear",
    });
    expect(kh.thpSysfs()).toMatchObject({ "khugepaged/pages_collapsed": "0", "khugepaged/full_scans": "0", "khugepaged/pages_to_scan": "4096" });
    expect(kh.thpSysfs()).not.toHaveProperty("khugepaged/mthp_max_ptes_none_rule");
  });

  it("stores what kstrtouint/kstrtoul accept and refuses the rest as EINVAL, leaving the knob", () => {
    const { k, kh } = machine();
    kh.s.set("pages_to_scan", "+8\n");
    expect(kh.s.pagesToScan).toBe(8);
    for (const bad of ["0", "-1", "8 ", "0x10", "", "4294967296"]) {
      expect(() => kh.s.set("pages_to_scan", bad)).toThrow(ModelInputError);
      expect(kh.s.pagesToScan).toBe(8);
    }
    expect(() => kh.s.set("pages_to_scan", "0")).toThrow('invalid transparent_hugepage/khugepaged/pages_to_scan "0": expected an integer from 1 to 4294967295 (the kernel refuses 0 with EINVAL)');
    kh.s.set("max_ptes_none", "0");
    expect(k.thp.maxPtesNone).toBe(0);
    expect(() => kh.s.set("max_ptes_none", "512")).toThrow("expected an integer from 0 to 511");
    expect(k.thp.maxPtesNone).toBe(0);
    expect(() => kh.s.set("max_ptes_swap", "512")).toThrow(ModelInputError);
    expect(() => kh.s.set("max_ptes_shared", "x")).toThrow(ModelInputError);
    kh.s.set("max_ptes_shared", "511");
    expect(kh.s.maxPtesShared).toBe(511);
    expect(() => kh.s.set("defrag", "2")).toThrow("expected 0 or 1");
    kh.s.set("defrag", "0");
    expect(kh.s.defrag).toBe(false);
    kh.s.set("scan_sleep_millisecs", "0");
    expect(kh.s.scanSleepMillisecs).toBe(0);
    expect(() => kh.s.set("mthp_max_ptes_none_rule", "scaled")).toThrow("expected one of kernel, linear");
    expect(() => kh.s.set("full_scans", "1")).toThrow("read-only counters");
    expect(() => kh.s.set("scan_sleep", "1")).toThrow('invalid khugepaged knob "scan_sleep": expected one of pages_to_scan');
  });

  it("scales with the PMD of a 64K-page arm64 (HPAGE_PMD_NR 8192)", async () => {
    const { createArm64Backend } = await import("@hugemm/arch-arm64");
    const { Kernel } = await import("@hugemm/core");
    const { installKhugepaged } = await import("./khugepaged");
    const k = new Kernel({ backend: createArm64Backend("64k-48"), memory: "2G", check: true });
    const kh = installKhugepaged(k);
    expect([kh.s.pagesToScan, kh.s.maxPtesNone, kh.s.maxPtesSwap, kh.s.maxPtesShared, kh.s.limit]).toEqual([65536, 8191, 1024, 4096, 8191]);
  });
});
