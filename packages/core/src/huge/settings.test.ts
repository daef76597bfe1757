import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { ModelInputError } from "../util/errors";
import { ThpSettings } from "./settings";

const GiB = 2 ** 30;

describe("THP settings as /sys/kernel/mm/transparent_hugepage shows them", () => {
  it("starts as CONFIG_TRANSPARENT_HUGEPAGE_ALWAYS does: PMD size inherits, smaller sizes and PUD off", () => {
    const s = new ThpSettings(createX86_64Backend(), 16 * GiB);
    expect(s.get("enabled")).toBe("[always] madvise never");
    expect(s.get("defrag")).toBe("always defer defer+madvise [madvise] never");
    expect(s.get("use_zero_page")).toBe("1");
    expect(s.get("shrink_underused")).toBe("1");
    expect(s.get("khugepaged/max_ptes_none")).toBe("511");
    expect(s.get("hpage_pmd_size")).toBe(String(2 * 2 ** 20));
    expect(s.sizeNames()).toEqual([
      "hugepages-16kB",
      "hugepages-32kB",
      "hugepages-64kB",
      "hugepages-128kB",
      "hugepages-256kB",
      "hugepages-512kB",
      "hugepages-1024kB",
      "hugepages-2048kB",
      "hugepages-1048576kB",
    ]);
    expect(s.get("hugepages-2048kB/enabled")).toBe("always [inherit] madvise never");
    expect(s.get("hugepages-64kB/enabled")).toBe("always inherit madvise [never]");
    expect(s.get("hugepages-1048576kB/enabled")).toBe("always inherit madvise [never]");
    expect(s.get("pud_deposit")).toBe("[pre-deposit] at-split");
  });

  it("turns THP off on machines below 512 MiB, as hugepage_init does", () => {
    const s = new ThpSettings(createX86_64Backend(), 256 * 2 ** 20);
    expect(s.get("enabled")).toBe("always madvise [never]");
    expect(s.get("defrag")).toBe("always defer defer+madvise madvise [never]");
    expect(s.get("use_zero_page")).toBe("0");
  });

  it("computes the enabled orders from the global and per-size modes", () => {
    const s = new ThpSettings(createX86_64Backend(), 16 * GiB);
    s.set("hugepages-64kB/enabled", "always");
    s.set("hugepages-32kB/enabled", "madvise");
    expect(s.enabledOrders(false)).toBe((1 << 9) | (1 << 4));
    expect(s.enabledOrders(true)).toBe((1 << 9) | (1 << 4) | (1 << 3));
    s.set("enabled", "madvise");
    // "inherit" follows the global mode: only for MADV_HUGEPAGE regions now.
    expect(s.enabledOrders(false)).toBe(1 << 4);
    expect(s.enabledOrders(true)).toBe((1 << 9) | (1 << 4) | (1 << 3));
    s.set("enabled", "never");
    expect(s.enabledOrders(true)).toBe((1 << 4) | (1 << 3));
  });

  it("names the sizes of each arch's granule, and none where the arch has no THP", () => {
    const a64 = new ThpSettings(createArm64Backend("64k-48"), 16 * GiB);
    expect(a64.pmdOrder).toBe(13);
    expect(a64.pudOrder).toBe(-1);
    expect(a64.sizeNames()[0]).toBe("hugepages-256kB");
    expect(a64.sizeNames().at(-1)).toBe("hugepages-524288kB");
    const ppc = new ThpSettings(createPpc8xxBackend("4k"), GiB);
    expect(ppc.sizeNames()).toEqual([]);
    // No CONFIG_TRANSPARENT_HUGEPAGE: no sysfs directory to read or write.
    expect(() => ppc.get("enabled")).toThrow('invalid transparent_hugepage/enabled "": expected an arch with transparent hugepages (this one has no /sys/kernel/mm/transparent_hugepage)');
    expect(() => ppc.set("enabled", "always")).toThrow('invalid transparent_hugepage/enabled "always": expected an arch with transparent hugepages');
  });

  it("refuses unknown knobs, sizes and values with what it expected", () => {
    const s = new ThpSettings(createX86_64Backend(), 16 * GiB);
    expect(() => s.set("enabled", "sometimes")).toThrow(ModelInputError);
    expect(() => s.set("enabled", "sometimes")).toThrow(/transparent_hugepage\/enabled.*always, madvise, never/);
    expect(() => s.set("hugepages-4kB/enabled", "always")).toThrow(/hugepages-16kB/);
    expect(() => s.set("use_zero_page", "yes")).toThrow(/0 or 1/);
    expect(() => s.set("khugepaged/max_ptes_none", "512")).toThrow(/0 to 511/);
    expect(() => s.set("frobnicate", "1")).toThrow(/knob/);
    expect(() => s.get("hugepages-3kB/enabled")).toThrow(/directory/);
    // Nothing changed.
    expect(s.get("enabled")).toBe("[always] madvise never");
  });
});
