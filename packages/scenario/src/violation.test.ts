import { Kernel, type KernelConfig, type Mm, type TouchResult } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { mappingAt } from "./expect/inspect";
import { formatRunSummary } from "./summary";
import { runText } from "./test-helpers";

/** A kernel with a planted bug: a store of pattern 13 leaves one extra PTE mapcount on the first page it wrote. */
class MiscountingKernel extends Kernel {
  override touch(mm: Mm, start: number, len: number, write: boolean, seed?: number): TouchResult {
    return this.op("touch", () => {
      const r = super.touch(mm, start, len, write, seed);
      const m = mappingAt(this, mm, start);
      if (seed === 13 && m.kind === "leaf") this.folios.addPageMapcount(m.pfn, 1, 1);
      return r;
    });
  }
}

const SCENARIO = `
name: planted
machine: { memory: 256M }
settings:
  transparent_hugepage/enabled: never
steps:
  - mmap: { pid: 1, as: a, len: 64K, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: a, len: 64K, pattern: 1 }
  - write: { pid: 1, at: a, len: 4K, pattern: 13 }
  - write: { pid: 1, at: a, len: 4K, pattern: 2 }
  - expect:
      - invariants: clean
`;

describe("an invariant violation", () => {
  const factory = (cfg: KernelConfig) => new MiscountingKernel(cfg);

  it("stops the run at the step that broke it and fails it", () => {
    const r = runText(SCENARIO, { kernelFactory: factory });
    expect(r.kernel).toBeInstanceOf(MiscountingKernel);
    expect(r.passed).toBe(false);
    expect(r.violation?.step).toBe(2);
    expect(r.violation?.message).toMatch(/^1 invariant violation\(s\) after touch: \[/);
    expect(r.steps.map((x) => [x.op, x.ok, x.error])).toEqual([
      ["mmap", true, undefined],
      ["write", true, undefined],
      ["write", false, "InvariantViolation"],
    ]);
    expect(r.expects).toEqual([]);
    expect(r.checkpoints.map((c) => c.name)).toEqual(["start", "end"]);
    expect(formatRunSummary(r, { color: false })).toContain(`INVARIANT VIOLATION at step 2 (write, line 9): ${r.violation!.message}`);
  });

  it("with the checker off, shows in an invariants expect with what it found", () => {
    const r = runText(SCENARIO, { kernelFactory: factory, check: false });
    expect(r.violation).toBeUndefined();
    expect(r.passed).toBe(false);
    expect(r.expects).toHaveLength(1);
    expect(r.expects[0]!.pass).toBe(false);
    expect(r.expects[0]!.actual).toMatch(/^1 violation: \[/);
  });

  it("does not happen on the real kernel", () => {
    expect(runText(SCENARIO).passed).toBe(true);
  });
});

/** A kernel that records each full invariant check it runs (and runs the full check only when asked or every 1000 operations). */
class FullCheckRecordingKernel extends Kernel {
  readonly full: string[] = [];
  constructor(cfg: KernelConfig) {
    super({ ...cfg, checkFullEvery: 1000 });
    const fullCheck = this.fullCheck;
    this.fullCheck = (op) => {
      this.full.push(op);
      fullCheck(op);
    };
  }
}

describe("the full invariant check", () => {
  it("runs at the start, at every checkpoint and at the end of a checked run", () => {
    let k: FullCheckRecordingKernel | undefined;
    const r = runText(
      `
name: checkpoints
machine: { memory: 256M }
steps:
  - mmap: { pid: 1, as: a, len: 64K, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: a, len: 64K, pattern: 1 }
  - checkpoint: written
  - munmap: { pid: 1, at: a, len: 64K }
`,
      { kernelFactory: (cfg) => (k = new FullCheckRecordingKernel(cfg)) },
    );
    expect(r.passed).toBe(true);
    expect(k!.full).toEqual(["checkpoint start", "checkpoint written", "checkpoint end"]);
  });
});
