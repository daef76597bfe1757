import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileKbench, findCompiler } from "./compile";
import { kernelMeasurements, kernelNotes, measureKernel, runKbench } from "./kernel";
import { parseKbench, type KbenchOutput } from "./parse";

const MiB = 2 ** 20;
const SAMPLE = JSON.stringify({
  schema: "hugemm-kbench/1",
  page_size: 4096,
  pmd_size: 2 * MiB,
  thp_enabled: "always [madvise] never",
  thp_available: true,
  runs: [
    {
      mode: "4k",
      bytes: 64 * MiB,
      reps: [
        { fault_ns: 20e6, munmap_ns: 1e6, minflt: 16384, anon_huge_bytes: 0 },
        { fault_ns: 16e6, munmap_ns: 2e6, minflt: 16384, anon_huge_bytes: 0 },
        { fault_ns: 32e6, munmap_ns: 1.6e6, minflt: 16384, anon_huge_bytes: 0 },
      ],
    },
    { mode: "thp", bytes: 256 * MiB, reps: [{ fault_ns: 32e6, munmap_ns: 0.5e6, minflt: 128, anon_huge_bytes: 128 * MiB }] },
    { mode: "fork", bytes: 64 * MiB, reps: [{ fork_ns: 4e6 }, { fork_ns: 5e6 }, { fork_ns: 8e6 }] },
    { mode: "split", bytes: 16 * MiB, reps: [{ split_ns: 2e6, split: 8 }] },
    { mode: "collapse", bytes: 16 * MiB, reps: [{ collapse_ns: 2e6, anon_huge_bytes: 16 * MiB }] },
  ],
});

describe("kbench output", () => {
  it("parses into runs and repetitions", () => {
    const o = parseKbench(SAMPLE);
    expect(o).toMatchObject({ pageSize: 4096, pmdSize: 2 * MiB, thpEnabled: "always [madvise] never", thpAvailable: true });
    expect(o.runs.map((r) => [r.mode, r.bytes, r.reps.length])).toEqual([
      ["4k", 64 * MiB, 3],
      ["thp", 256 * MiB, 1],
      ["fork", 64 * MiB, 3],
      ["split", 16 * MiB, 1],
      ["collapse", 16 * MiB, 1],
    ]);
    expect(o.runs[0]!.reps[1]).toEqual({ faultNs: 16e6, munmapNs: 2e6, minflt: 16384, anonHugeBytes: 0 });
    expect(o.runs[2]!.reps[0]).toEqual({ forkNs: 4e6 });
    expect(o.runs[3]!.reps[0]).toEqual({ splitNs: 2e6, split: 8 });
    expect(o.runs[4]!.reps[0]).toEqual({ collapseNs: 2e6, anonHugeBytes: 16 * MiB });
  });

  it("names what is wrong with bad output", () => {
    expect(() => parseKbench("kbench: mmap failed")).toThrow(/^kbench output is not JSON/);
    expect(() => parseKbench('{"schema":"x"}')).toThrow('kbench output: schema: expected "hugemm-kbench/1", got "x"');
    const bad = JSON.parse(SAMPLE) as { runs: { reps: Record<string, unknown>[]; mode: string }[] };
    bad.runs[0]!.reps[1]!.fault_ns = "fast";
    expect(() => parseKbench(JSON.stringify(bad))).toThrow('kbench output: runs[0].reps[1].fault_ns: expected a number, got "fast"');
    bad.runs[0]!.reps[1]!.fault_ns = 0;
    expect(() => parseKbench(JSON.stringify(bad))).toThrow("kbench output: runs[0].reps[1]: times must be positive, got fault_ns 0, munmap_ns 2000000");
    bad.runs[0]!.mode = "2m";
    expect(() => parseKbench(JSON.stringify(bad))).toThrow('kbench output: runs[0].mode: expected "4k", "thp", "fork", "split" or "collapse", got "2m"');
    const fork = JSON.parse(SAMPLE) as { runs: { reps: Record<string, unknown>[] }[] };
    fork.runs[2]!.reps[0]!.fork_ns = -1;
    expect(() => parseKbench(JSON.stringify(fork))).toThrow("kbench output: runs[2]: fork_ns must be positive, got -1");
    const noCollapse = JSON.parse(SAMPLE) as { runs: { reps: Record<string, unknown>[] }[] };
    noCollapse.runs[4]!.reps[0]!.collapse_ns = 0;
    expect(() => parseKbench(JSON.stringify(noCollapse))).toThrow("kbench output: runs[4].reps[0].collapse_ns: expected a positive time for a collapse run, got 0");
  });

  it("becomes model-comparable measurements: a THP fault populates 2 MiB", () => {
    const ms = kernelMeasurements(parseKbench(SAMPLE));
    expect(ms.map((m) => [m.name, m.unit, m.samples])).toEqual([
      ["kernel.fault.anon.4k", "faults", 3],
      ["kernel.munmap.4k", "pages", 3],
      ["kernel.fault.anon.pmd", "faults", 1],
      ["kernel.munmap.pmd", "pages", 1],
      ["kernel.fork.anon.4k", "forks", 3],
      ["kernel.split.pmd", "folios", 1],
      ["kernel.collapse.madv.pmd", "collapses", 1],
    ]);
    // A fork of 64 MiB in 5 ms (the median), 16384 pages; 8 THPs split in 2 ms.
    expect(ms[4]!.opsPerSecond.median).toBe(200);
    expect(ms[4]!.per).toEqual({ pages: 16384 });
    expect(ms[5]!.opsPerSecond.median).toBe(8 / 0.002);
    expect(ms[5]!.per).toEqual({ pages: 512 });
    // 16384 faults in 20 ms (the median of 16, 20 and 32 ms).
    expect(ms[0]!.opsPerSecond).toEqual({ median: 16384 / 0.02, min: 16384 / 0.032, max: 16384 / 0.016 });
    expect(ms[2]!.opsPerSecond.median).toBe(128 / 0.032);
    expect(ms[2]!.per).toEqual({ pages: 512 });
    expect(ms[3]!.opsPerSecond.median).toBe(65536 / 0.0005);
    // 8 ranges of 2 MiB collapsed in 2 ms.
    expect(ms[6]!.opsPerSecond.median).toBe(8 / 0.002);
    expect(ms[6]!.per).toEqual({ pages: 512 });
  });

  it("says how much of the THP run was huge, and when THP is off or missing", () => {
    const o = parseKbench(SAMPLE);
    expect(kernelNotes(o)).toEqual(["only 50.0% of the THP run was mapped huge (AnonHugePages): the rest took 4K faults"]);
    const collapse = o.runs[4]! as Extract<KbenchOutput["runs"][number], { mode: "collapse" }>;
    const halfCollapsed: KbenchOutput = { ...o, runs: [{ ...collapse, reps: [{ ...collapse.reps[0]!, anonHugeBytes: 8 * MiB }] }] };
    expect(kernelNotes(halfCollapsed)).toEqual(["MADV_COLLAPSE left only 50.0% of its range mapped huge (AnonHugePages)"]);
    const thp = o.runs[1]! as Extract<KbenchOutput["runs"][number], { mode: "4k" | "thp" }>;
    const never: KbenchOutput = { ...o, thpEnabled: "always madvise [never]", runs: [{ ...thp, reps: [{ ...thp.reps[0]!, anonHugeBytes: 0 }] }] };
    expect(kernelNotes(never)[0]).toBe("THP enabled=never on this machine: MADV_HUGEPAGE has no effect, the THP run used 4K pages");
    const none: KbenchOutput = { ...never, thpEnabled: "", thpAvailable: false };
    expect(kernelNotes(none)[0]).toMatch(/^THP is unavailable on this kernel/);
  });

  it("says why the split run was skipped, and measures nothing for it", () => {
    const o = JSON.parse(SAMPLE) as { runs: unknown[] };
    o.runs = [{ mode: "split", bytes: 16 * MiB, skipped: "debugfs split_huge_pages cannot be written here (EPERM)", reps: [] }];
    const out = parseKbench(JSON.stringify(o));
    expect(kernelMeasurements(out)).toEqual([]);
    expect(kernelNotes(out)).toEqual(["split skipped: debugfs split_huge_pages cannot be written here (EPERM) (kernel.split.pmd and ratio.split.pmd are not produced)"]);
  });
});

describe("the kernel run", () => {
  it("is skipped, with the reason, when there is no C compiler", () => {
    const reason = 'no C compiler: "/nonexistent/cc" was not found on PATH (set CC to use another)';
    const cc = findCompiler("/nonexistent/cc");
    expect(cc).toEqual({ missing: reason });
    expect(measureKernel({ base: MiB, thp: 0 }, 1, cc)).toEqual({ status: "skipped", reason });
  });

  const cc = findCompiler();
  it.skipIf("missing" in cc)("compiles kbench.c once into the cache and runs it at a tiny size", () => {
    if ("missing" in cc) return;
    const dir = mkdtempSync(join(tmpdir(), "kbench-"));
    const bin = compileKbench(cc, undefined, dir);
    expect(existsSync(bin)).toBe(true);
    const built = statSync(bin).mtimeMs;
    expect(compileKbench(cc, undefined, dir)).toBe(bin);
    expect(statSync(bin).mtimeMs).toBe(built);
    const out = runKbench(bin, 2, { base: 4 * MiB, thp: 4 * MiB, fork: 4 * MiB, split: 4 * MiB });
    const split = out.runs[3]!;
    const splitSkipped = split.mode === "split" && split.skipped !== undefined;
    expect(out.runs.map((r) => [r.mode, r.bytes, r.reps.length])).toEqual([
      ["4k", 4 * MiB, 2],
      ["thp", 4 * MiB, 2],
      ["fork", 4 * MiB, 2],
      ["split", 4 * MiB, splitSkipped ? 0 : 2],
    ]);
    // MADV_COLLAPSE wherever THP exists (it ignores enabled=never; Linux 6.1 and later), else kbench fails with the errno.
    if (out.thpAvailable) {
      const c = runKbench(bin, 1, { base: 0, thp: 0, collapse: 4 * MiB });
      expect(c.runs.map((r) => r.mode)).toEqual(["collapse"]);
      const run = c.runs[0]!;
      if (run.mode !== "collapse") throw new Error("the only run is the collapse one");
      expect(run.reps[0]!.collapseNs).toBeGreaterThan(0);
    }
    // Every page of the 4K run was faulted in (this process's own faults may add a few).
    const base = out.runs[0]!;
    if (base.mode !== "4k") throw new Error("the first run is the 4K one");
    for (const r of base.reps) expect(r.minflt).toBeGreaterThanOrEqual(1024);
    for (const r of base.reps) expect(r.anonHugeBytes === 0 || r.anonHugeBytes === -1).toBe(true);
    expect(kernelMeasurements(out)).toHaveLength(splitSkipped ? 5 : 6);
  });
});
