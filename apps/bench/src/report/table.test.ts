import { describe, expect, it } from "vitest";
import type { FootprintPoint } from "../footprint/measure";
import { fromRates } from "../harness";
import { GiB } from "../workloads/arena";
import { addMeasurement, addRatios, emptyMetrics } from "./metrics";
import { footprintTable, perOp, targetsSummary, throughputTable } from "./table";
import { evaluateTargets } from "./targets";

describe("stdout tables", () => {
  const model = [
    fromRates("arch.x86-64.4level.pte_make", "entries", {}, [4e7]),
    fromRates("fault.anon.4k", "faults", { pages: 1 }, [1.42e6, 1.3e6, 1.5e6]),
    fromRates("fork.anon.4k", "forks", { pages: 262144 }, [10, 9, 11]),
  ];
  const kernel = [fromRates("kernel.fault.anon.4k", "faults", { pages: 1 }, [7e5, 6e5, 8e5])];
  const metrics = emptyMetrics();
  for (const m of [...model, ...kernel]) addMeasurement(metrics, m);
  addRatios(metrics);
  const targets = evaluateTargets(metrics.values);

  it("list each workload's median, min, max, time per operation, unit and target", () => {
    const lines = throughputTable(model, kernel, metrics, targets).split("\n");
    expect(lines[0]).toMatch(/^workload\s+median\s+min\s+max\s+per op\s+unit\s+target$/);
    expect(lines[2]).toMatch(/^fault\.anon\.4k\s+1\.42M\s+1\.3M\s+1\.5M\s+704\.2 ns\s+faults\/s\s+missed: 1\.42M of 3M \(47%\)$/);
    // A fork is also counted in pages.
    expect(lines[3]).toMatch(/^fork\.anon\.4k\s+10\s+9\s+11\s+100\.0 ms\s+forks\/s$/);
    expect(lines[4]).toMatch(/^ {2}fork\.anon\.4k \(pages\)\s+2\.62M\s+2\.36M\s+2\.88M\s+pages\/s$/);
    expect(lines[5]).toMatch(/^kernel\.fault\.anon\.4k\s+700k/);
    expect(lines[6]).toMatch(/^ratio\.fault\.anon\.4k\s+2\.03×\s+1\.63×\s+2\.50×\s+model\/kernel\s+missed: 2\.03× of 5\.00× \(41%\)$/);
    // The arch micro-benchmarks come last.
    expect(lines[7]).toMatch(/^arch\.x86-64\.4level\.pte_make\s+40M\s+40M\s+40M\s+25\.0 ns\s+entries\/s$/);
  });

  it("print the footprint by size, with the footprint targets", () => {
    const pt = (kind: "4k" | "pmd", g: number, b: number): FootprintPoint => ({ kind, mappedBytes: g * GiB, memoryBytes: 0, units: 1, deltaBytes: b, heapUsedDelta: 0, arrayBuffersDelta: 0, bytesPerUnit: b });
    const t = evaluateTargets({ "heap.bytes_per_4k_page": 44, "heap.growth.pmd_thp": 0.7 });
    const lines = footprintTable([pt("4k", 1, 46), pt("4k", 2, 44), pt("pmd", 2, 465)], t).split("\n");
    expect(lines[0]).toMatch(/^heap per\s+1G\s+2G\s+target$/);
    expect(lines[2]).toMatch(/^4K page\s+46 B\s+44 B\s+missed: 44 B for at most 32 B \(1\.38× the target\)$/);
    expect(lines[3]).toMatch(/^PMD THP\s+465 B\s+met: 0\.70× ≤ 1\.10×$/);
  });

  it("sum the targets up, saying which were not measured", () => {
    const s = targetsSummary(targets, false);
    expect(s).toContain("targets (full mode, one core, checker off)");
    expect(s).toContain("  ✗ 4K anonymous write faults per second: missed: 1.42M of 3M (47%)");
    expect(s).toContain("  - heap bytes per mapped 4K page: not measured: not measured in this run");
    expect(targetsSummary(targets, true)).toContain("quick mode");
  });

  it("give times per operation in a readable unit", () => {
    expect([perOp(704.2), perOp(12345), perOp(98.2e6), perOp(2.5e9)]).toEqual(["704.2 ns", "12.3 µs", "98.2 ms", "2.50 s"]);
  });
});
