import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scenarioFromOps } from "./emit";
import { loadScenario, parseScenario } from "./parse";
import { runScenario } from "./run";
import type { RunResult, Step } from "./types";

/** Everything a run reports that must repeat exactly. */
function fingerprint(r: RunResult): unknown {
  return { steps: r.steps, checkpoints: r.checkpoints, expects: r.expects, passed: r.passed, violation: r.violation };
}

const EVERY_STEP = new URL("./testdata/every-step.yaml", import.meta.url).pathname;

describe("determinism", () => {
  it("two runs of a scenario give identical counters, steps and expects", () => {
    const s = loadScenario(EVERY_STEP);
    const a = runScenario(s, { arch: "arm64:4k-48" });
    const b = runScenario(s, { arch: "arm64:4k-48" });
    expect(fingerprint(b)).toEqual(fingerprint(a));
  });

  it("the seed reaches the kernel: files without a seed get their contents from it", () => {
    const text = "name: seeded\nfiles: { f: { size: 16K } }\nsteps:\n  - mmap: { pid: 1, as: m, len: 16K, prot: r, flags: private, file: f }\n  - read: { pid: 1, at: m, len: 16K }\n";
    const s = parseScenario(text, "seeded.yaml");
    const tag = (seed: number) => {
      const r = runScenario(s, { seed });
      const mm = r.processes.get(1)!;
      return r.kernel.peek(mm, mm.vmas.all()[0]!.start);
    };
    expect(tag(1)).toBe(tag(1));
    expect(tag(2)).not.toBe(tag(1));
  });

  it("random workloads repeat exactly and keep every invariant (fast-check, fixed seed)", () => {
    const PAGES = 64;
    const range = fc.record({ at: fc.integer({ min: 0, max: PAGES - 1 }), pages: fc.integer({ min: 1, max: 16 }) });
    const op = fc.oneof(
      range.map(({ at, pages }) => ({ op: "write", arg: { pid: 1, at: `buf+${at * 4}K`, len: `${pages * 4}K`, pattern: at + 1 } })),
      range.map(({ at, pages }) => ({ op: "read", arg: { pid: 1, at: `buf+${at * 4}K`, len: `${pages * 4}K` } })),
      range.map(({ at, pages }) => ({ op: "madvise", arg: { pid: 1, at: `buf+${at * 4}K`, len: `${pages * 4}K`, advice: "dontneed" } })),
      range.map(({ at, pages }) => ({ op: "pageout", arg: { pid: 1, at: `buf+${at * 4}K`, len: `${pages * 4}K` } })),
      range.map(({ at, pages }) => ({ op: "mprotect", arg: { pid: 1, at: `buf+${at * 4}K`, len: `${pages * 4}K`, prot: at % 2 === 0 ? "r" : "rw" } })),
      fc.constant({ op: "shrink", arg: {} }),
      fc.constant({ op: "compact", arg: {} }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), fc.constantFrom("x86-64", "arm64:4k-48", "ppc8xx:4k"), (ops, arch) => {
        const steps: Step[] = [
          { op: "mmap", arg: { pid: 1, as: "buf", len: `${PAGES * 4}K`, prot: "rw", flags: "private|anonymous" }, line: 0 },
          ...ops.map((o) => ({ ...o, line: 0 })),
          { op: "expect", arg: [{ invariants: "clean" }], line: 0 },
        ];
        const text = scenarioFromOps("random", { arch, memory: arch === "ppc8xx:4k" ? "256M" : "512M", nodes: 1, movable: 0, swap: "16M" }, [["transparent_hugepage/hugepages-16kB/enabled", "always"]].filter(() => arch === "arm64:4k-48") as [string, string][], steps);
        const s = parseScenario(text, "random.yaml");
        const a = runScenario(s);
        const b = runScenario(s);
        expect(fingerprint(b)).toEqual(fingerprint(a));
        expect(a.violation).toBeUndefined();
        expect(a.passed).toBe(true);
      }),
      { seed: 20260101, numRuns: propertyRuns(60) },
    );
  });
});
