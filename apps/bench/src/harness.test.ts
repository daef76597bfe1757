import { describe, expect, it } from "vitest";
import { fromRates, measure, medianOf, type Workload } from "./harness";

describe("harness", () => {
  const fast = { samples: 3, warmup: 1, minSampleMs: 1, maxSampleMs: 5 };

  it("reports median, min and max with consistent units", () => {
    const w: Workload = { name: "unit.sum", unit: "adds", ops: 1000, run: () => Array.from({ length: 1000 }, (_, i) => i).reduce((a, b) => a + b, 0) };
    const m = measure(w, fast);
    expect(m.samples).toBe(3);
    expect(m.opsPerSecond.min).toBeLessThanOrEqual(m.opsPerSecond.median);
    expect(m.opsPerSecond.median).toBeLessThanOrEqual(m.opsPerSecond.max);
    expect(m.nsPerOp.median).toBeCloseTo(1e9 / m.opsPerSecond.median, 6);
    expect(m.nsPerOp.min).toBeCloseTo(1e9 / m.opsPerSecond.max, 6);
  });

  it("prepares once, sets up before every timed call, and collects garbage off the clock", () => {
    const calls: string[] = [];
    const w: Workload = { name: "unit.setup", unit: "things", ops: 1, prepare: () => calls.push("prepare"), setup: () => calls.push("setup"), run: () => (calls.push("run"), 1) };
    measure(w, { ...fast, minSampleMs: 0, gc: () => calls.push("gc") });
    expect(calls.filter((c) => c === "prepare")).toHaveLength(1);
    // Warm-up, then one round per sample when the sample is long enough: setup, gc, run each time.
    expect(calls).toEqual(["prepare", "setup", "run", ...Array.from({ length: 3 }, () => ["setup", "gc", "run"]).flat()]);
  });

  it("rethrows when a workload's check fails", () => {
    const w: Workload = {
      name: "unit.broken",
      unit: "faults",
      ops: 1,
      run: () => {
        throw new Error("unit.broken: faults: 0, expected 1");
      },
    };
    expect(() => measure(w, fast)).toThrow("unit.broken: faults: 0, expected 1");
  });

  it("takes the median of an even count as the mean of the middle two", () => {
    expect(medianOf([1, 2, 3])).toBe(2);
    expect(medianOf([1, 2, 3, 10])).toBe(2.5);
    const m = fromRates("k", "pages", { pages: 1 }, [4, 1, 2]);
    expect(m.opsPerSecond).toEqual({ median: 2, min: 1, max: 4 });
    expect(m.nsPerOp).toEqual({ median: 5e8, min: 2.5e8, max: 1e9 });
  });
});
