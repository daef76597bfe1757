import { describe, expect, it } from "vitest";
import { compareRuns, direction, formatComparison, spread } from "./compare";
import { parseEarlierReport } from "./json";

const earlier = {
  metrics: { "fault.anon.4k.ops_per_s": 1000, "munmap.4k.pages_per_s": 1000, "heap.bytes_per_4k_page": 40, "walk.4k.ops_per_s": 1000, "kernel.fault.anon.4k.ops_per_s": 500, "gone.ops_per_s": 1 },
  ranges: { "fault.anon.4k.ops_per_s": { min: 900, max: 1100 }, "munmap.4k.pages_per_s": { min: 990, max: 1010 } },
};

describe("compare", () => {
  it("knows which way is better", () => {
    expect(direction("fault.anon.4k.ops_per_s")).toBe(1);
    expect(direction("munmap.4k.pages_per_s")).toBe(1);
    expect(direction("ratio.fault.anon.4k")).toBe(1);
    expect(direction("fault.anon.4k.ns_per_op")).toBe(-1);
    expect(direction("heap.scaling.pmd.1G")).toBe(-1);
    expect(direction("kernel.fault.anon.4k.ops_per_s")).toBe(0);
    expect(spread(1000, { min: 900, max: 1100 })).toBe(0.2);
    expect(spread(1000, undefined)).toBe(0);
  });

  it("calls a drop within the larger spread of the two runs noise, and beyond it a regression", () => {
    const now = {
      // -15%: inside the earlier run's 20% spread.
      metrics: { "fault.anon.4k.ops_per_s": 850, "munmap.4k.pages_per_s": 900, "heap.bytes_per_4k_page": 41, "walk.4k.ops_per_s": 1200, "kernel.fault.anon.4k.ops_per_s": 100, "new.ops_per_s": 5 },
      ranges: {},
    };
    const c = compareRuns(earlier, now);
    const v = Object.fromEntries(c.changes.map((x) => [x.metric, x.verdict]));
    expect(v).toEqual({
      "fault.anon.4k.ops_per_s": "within noise",
      // -10% with both runs quiet (1% spread): beyond the 5% floor.
      "munmap.4k.pages_per_s": "regression",
      // +2.5% of heap: under the 5% floor.
      "heap.bytes_per_4k_page": "within noise",
      "walk.4k.ops_per_s": "improvement",
      // The machine's kernel is shown, never called a regression.
      "kernel.fault.anon.4k.ops_per_s": "informative",
    });
    expect(c.regressions).toBe(1);
    expect(c.onlyEarlier).toEqual(["gone.ops_per_s"]);
    expect(c.onlyNow).toEqual(["new.ops_per_s"]);
    const text = formatComparison(c, { path: "e.json", mode: "full", date: "d", ...earlier });
    expect(text).toMatch(/munmap\.4k\.pages_per_s\s+1k\s+900\s+-10\.0%\s+5%\s+REGRESSION/);
    expect(text).toContain("not in this run (1): gone.ops_per_s");
    expect(text).toContain("1 regression beyond the noise: munmap.4k.pages_per_s -10.0%");
  });

  it("uses the later run's spread too, and a larger heap is a regression", () => {
    const c = compareRuns(earlier, { metrics: { "munmap.4k.pages_per_s": 900, "heap.bytes_per_4k_page": 48 }, ranges: { "munmap.4k.pages_per_s": { min: 800, max: 1000 } } });
    expect(c.changes.map((x) => [x.metric, x.verdict, x.threshold])).toEqual([
      ["munmap.4k.pages_per_s", "within noise", 200 / 900],
      ["heap.bytes_per_4k_page", "regression", 0.05],
    ]);
  });

  it("still calls a hundredfold drop a regression when a loaded run's samples spread over more than 100%", () => {
    const c = compareRuns(earlier, { metrics: { "munmap.4k.pages_per_s": 10 }, ranges: { "munmap.4k.pages_per_s": { min: 3, max: 20 } } });
    expect(c.changes.map((x) => [x.metric, x.verdict, x.threshold])).toEqual([["munmap.4k.pages_per_s", "regression", 1.7]]);
    // The same spread hides a drop to half: a factor of 2 is inside 1 + 170%.
    const half = compareRuns(earlier, { metrics: { "munmap.4k.pages_per_s": 500 }, ranges: { "munmap.4k.pages_per_s": { min: 150, max: 1000 } } });
    expect(half.changes[0]!.verdict).toBe("within noise");
  });

  it("reports no regression when nothing moved", () => {
    const c = compareRuns(earlier, earlier);
    expect(c.regressions).toBe(0);
    expect(formatComparison(c, { path: "e.json", mode: "full", date: "d", ...earlier })).toContain("no regression beyond the noise (0 improved, 6 compared)");
  });

  it("refuses a file that is not JSON or not a report, naming what is wrong", () => {
    expect(() => parseEarlierReport("{nope", "x.json")).toThrow(/^--compare: "x.json" is not valid JSON: /);
    expect(() => parseEarlierReport("[1]", "x.json")).toThrow('--compare: "x.json" is not a hugemm-bench report: expected a JSON object');
    expect(() => parseEarlierReport('{"schema":"other"}', "x.json")).toThrow('--compare: "x.json" is not a hugemm-bench report: expected "schema": "hugemm-bench/2" (or "hugemm-bench/1"), got "other"');
    expect(() => parseEarlierReport('{"schema":"hugemm-bench/2"}', "x.json")).toThrow('expected a "metrics" object of numbers');
    expect(() => parseEarlierReport('{"schema":"hugemm-bench/2","metrics":{"a":"1"}}', "x.json")).toThrow('metric "a": expected a number, got "1"');
  });

  it("reads a version 1 report (metrics only) and skips metrics written as null", () => {
    const r = parseEarlierReport('{"schema":"hugemm-bench/1","mode":"quick","date":"d","metrics":{"a.ops_per_s":1,"b.ops_per_s":null}}', "old.json");
    expect(r.metrics).toEqual({ "a.ops_per_s": 1 });
    expect(r.ranges).toEqual({});
    expect(r.mode).toBe("quick");
  });
});
