import { describe, expect, it } from "vitest";
import { fromRates } from "../harness";
import type { FootprintPoint } from "../footprint/measure";
import { GiB } from "../workloads/arena";
import { addFootprint, addMeasurement, addRatios, emptyMetrics, footprintMetricNames, measurementMetricNames } from "./metrics";

const point = (kind: "4k" | "pmd" | "pud", g: number, perUnit: number): FootprintPoint => {
  const units = (g * GiB) / 4096 / (kind === "4k" ? 1 : kind === "pmd" ? 512 : 262144);
  return { kind, mappedBytes: g * GiB, memoryBytes: (g + 1) * GiB, units, deltaBytes: perUnit * units, heapUsedDelta: 0, arrayBuffersDelta: 0, bytesPerUnit: perUnit };
};

describe("metric names", () => {
  it("name a workload's rate <name>.ops_per_s and <name>.ns_per_op, and pages or folios <name>.<unit>_per_s", () => {
    expect(measurementMetricNames("fault.anon.4k", "faults", { pages: 1 })).toEqual(["fault.anon.4k.ops_per_s", "fault.anon.4k.ns_per_op", "fault.anon.4k.pages_per_s"]);
    expect(measurementMetricNames("munmap.4k", "pages", {})).toEqual(["munmap.4k.ops_per_s", "munmap.4k.ns_per_op", "munmap.4k.pages_per_s"]);
    expect(measurementMetricNames("migrate.pmd", "folios", { pages: 512 })).toEqual(["migrate.pmd.ops_per_s", "migrate.pmd.ns_per_op", "migrate.pmd.folios_per_s", "migrate.pmd.pages_per_s"]);
    expect(measurementMetricNames("arch.x86-64.4level.pte_make", "entries", {})).toEqual(["arch.x86-64.4level.pte_make.ops_per_s", "arch.x86-64.4level.pte_make.ns_per_op"]);
  });

  it("scale the counted units by what one operation amounts to", () => {
    const m = emptyMetrics();
    addMeasurement(m, fromRates("fork.anon.4k", "forks", { pages: 262144 }, [10, 8, 12]));
    expect(m.values).toEqual({ "fork.anon.4k.ops_per_s": 10, "fork.anon.4k.ns_per_op": 1e8, "fork.anon.4k.pages_per_s": 2621440 });
    expect(m.ranges["fork.anon.4k.pages_per_s"]).toEqual({ min: 2097152, max: 3145728 });
    expect(m.ranges["fork.anon.4k.ns_per_op"]).toEqual({ min: 83333333.333, max: 125000000 });
  });

  it("name the footprint heap.bytes_per_<unit>, heap.growth.<unit> and heap.scaling.<kind>.<size>", () => {
    expect(footprintMetricNames("pud", [2 * GiB, 512 * GiB])).toEqual(["heap.bytes_per_pud_thp", "heap.growth.pud_thp", "heap.scaling.pud.2G", "heap.scaling.pud.512G"]);
    const m = emptyMetrics();
    addFootprint(m, [point("4k", 2, 40), point("4k", 1, 50), point("pmd", 1, 80), point("pmd", 2, 600), point("pmd", 64, 420)]);
    expect(m.values["heap.bytes_per_4k_page"]).toBe(40);
    expect(m.values["heap.scaling.4k.1G"]).toBe(50);
    expect(m.values["heap.growth.4k_page"]).toBe(0.8);
    expect(m.values["heap.bytes_per_pmd_thp"]).toBe(420);
    // Over the most a smaller size cost (600 at 2G), not over the low figure at 1G.
    expect(m.values["heap.growth.pmd_thp"]).toBe(0.7);
    const grows = emptyMetrics();
    addFootprint(grows, [point("pud", 2, 1000), point("pud", 4, 1500), point("pud", 8, 2400)]);
    expect(grows.values["heap.growth.pud_thp"]).toBe(1.6);
    expect(m.values["heap.bytes_per_pud_thp"]).toBeUndefined();
  });

  it("name the model-to-kernel ratios ratio.<workload>, when both sides ran", () => {
    const m = emptyMetrics();
    addMeasurement(m, fromRates("fault.anon.4k", "faults", { pages: 1 }, [2e6, 1e6, 3e6]));
    addMeasurement(m, fromRates("kernel.fault.anon.4k", "faults", { pages: 1 }, [1e6, 0.5e6, 2e6]));
    addMeasurement(m, fromRates("munmap.4k", "pages", {}, [1e6]));
    addRatios(m);
    expect(m.values["ratio.fault.anon.4k"]).toBe(2);
    expect(m.ranges["ratio.fault.anon.4k"]).toEqual({ min: 0.5, max: 6 });
    expect(m.values["ratio.munmap.4k"]).toBeUndefined();
  });
});
