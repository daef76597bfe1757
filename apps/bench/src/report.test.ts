import { describe, expect, it } from "vitest";
import { measure, type Workload } from "./harness";
import { metrics, table } from "./report";

describe("bench report", () => {
  const w: Workload = { name: "unit.sum", unit: "adds", ops: 1000, run: () => Array.from({ length: 1000 }, (_, i) => i).reduce((a, b) => a + b, 0) };
  const m = measure(w, { samples: 3, warmup: 1, minSampleMs: 1 });
  it("reports median, min and max with consistent units", () => {
    expect(m.samples).toBe(3);
    expect(m.opsPerSecond.min).toBeLessThanOrEqual(m.opsPerSecond.median);
    expect(m.opsPerSecond.median).toBeLessThanOrEqual(m.opsPerSecond.max);
    expect(m.nsPerOp.median).toBeCloseTo(1e9 / m.opsPerSecond.median, 6);
  });
  it("names metrics <workload>.ops_per_s and <workload>.ns_per_op", () => {
    expect(Object.keys(metrics([m]))).toEqual(["unit.sum.ops_per_s", "unit.sum.ns_per_op"]);
    expect(table([m])).toMatch(/^workload\s+ops\/s median/);
  });
});
