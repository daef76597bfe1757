import { describe, expect, it } from "vitest";
import { TARGETS, evaluateTargets, targetText, type Target } from "./targets";

const rate: Target = { metric: "fault.anon.4k.ops_per_s", op: ">=", value: 3e6, format: "rate", what: "4K faults" };
const heap: Target = { metric: "heap.bytes_per_4k_page", op: "<=", value: 32, format: "bytes", what: "heap per 4K page" };

describe("targets", () => {
  it("are the issue's, as data", () => {
    expect(TARGETS.map((t) => `${t.metric} ${t.op} ${t.value}`)).toEqual([
      "fault.anon.4k.ops_per_s >= 3000000",
      "ratio.fault.anon.4k >= 5",
      "munmap.4k.pages_per_s >= 10000000",
      "fault.anon.pmd.ops_per_s >= 500000",
      "fault.anon.pud.ops_per_s >= 20000",
      "arch.x86-64.4level.hw_translate.ops_per_s >= 10000000",
      "arch.arm64.4k-48.hw_translate.ops_per_s >= 10000000",
      "arch.arm64.64k-48.hw_translate.ops_per_s >= 10000000",
      "arch.ppc8xx.4k.hw_translate.ops_per_s >= 10000000",
      "heap.bytes_per_4k_page <= 32",
      "heap.growth.pmd_thp <= 1.1",
      "heap.growth.pud_thp <= 1.1",
      "ratio.collapse.madv.pmd >= 10",
      "khugepaged.scan.ops_per_s >= 20000000",
      "migrate.device.pmd.pages_per_s >= 4882812.5",
    ]);
  });

  it("say met, or missed by how much", () => {
    expect(targetText(rate, 1.42e6)).toBe("missed: 1.42M of 3M (47%)");
    expect(targetText(rate, 3.2e6)).toBe("met: 3.2M ≥ 3M");
    expect(targetText(heap, 46.5)).toBe("missed: 46.5 B for at most 32 B (1.45× the target)");
    expect(targetText(heap, 28)).toBe("met: 28 B ≤ 32 B");
    expect(targetText(TARGETS[1]!, 1.77)).toBe("missed: 1.77× of 5.00× (35%)");
  });

  it("evaluate against a run's metrics and say why one was not measured", () => {
    const s = evaluateTargets({ "fault.anon.4k.ops_per_s": 4e6, "heap.bytes_per_4k_page": 40 }, (m) => `no ${m}`);
    expect(s[0]).toMatchObject({ state: "met", measured: 4e6, text: "met: 4M ≥ 3M" });
    expect(s.find((t) => t.metric === "heap.bytes_per_4k_page")).toMatchObject({ state: "missed", measured: 40 });
    expect(s[1]).toMatchObject({ state: "not measured", measured: undefined, text: "not measured: no ratio.fault.anon.4k" });
  });
});
