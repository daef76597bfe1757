import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FuzzCase } from "./case";
import { generate } from "./generate";
import { invalidAt } from "./oracle";
import { archProfile } from "./profile";
import { dropSteps, shrink, type ShrinkOracle } from "./shrink";
import { mergeProcess, simplerArgs } from "./simplify";

const units = archProfile("x86-64");

/** A synthetic failure: a step of op `a` followed (later) by a step of op `b`. Fails at the first such `b`. */
function opsInOrder(a: string, b: string): ShrinkOracle & { runs: number } {
  const o = {
    runs: 0,
    invalidAt,
    failsAt(c: FuzzCase): number | null {
      o.runs++;
      const first = c.steps.findIndex((s) => s.op === a);
      if (first < 0) return null;
      const then = c.steps.findIndex((s, i) => i > first && s.op === b);
      return then < 0 ? null : then;
    },
  };
  return o;
}

describe("shrink with a synthetic failure", () => {
  it("keeps the failure, stays valid and is 1-minimal with respect to removing a step (property)", () => {
    const pairs = [
      ["write", "mprotect"],
      ["fork", "munmap"],
      ["pin", "madvise"],
      ["mmap", "split"],
      ["mremap", "read"],
    ] as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(...pairs), (seed, [a, b]) => {
        const c = generate({ arch: "x86-64", ops: 80, seed });
        const oracle = opsInOrder(a, b);
        const at = oracle.failsAt(c);
        fc.pre(at !== null);
        const r = shrink({ ...c, steps: c.steps.slice(0, at! + 1) }, oracle, units, { maxRuns: 5000 });
        expect(r.exhausted).toBe(false);
        expect(invalidAt(r.case)).toBeNull();
        expect(oracle.failsAt(r.case)).toBe(r.case.steps.length - 1);
        for (let j = 0; j < r.case.steps.length; j++) {
          const without = dropSteps(r.case, new Set([j]), invalidAt);
          if (without !== null) expect(oracle.failsAt(without)).toBeNull();
        }
      }),
      { seed: 4242, numRuns: 30 },
    );
  });

  it("reduces a failure that needs a name to the mmap that binds it and the two steps", () => {
    const c = generate({ arch: "x86-64", ops: 150, seed: 11 });
    const oracle = opsInOrder("write", "mprotect");
    const r = shrink(c, oracle, units);
    expect(r.case.steps.map((s) => s.op)).toEqual(["mmap", "write", "mprotect"]);
    // Arguments simplified too: one page, no extra flags.
    expect(r.case.steps[0]!.arg).toMatchObject({ len: "4K" });
    expect((r.case.steps[0]!.arg as { flags: string }).flags).toMatch(/^(private|shared)(\|anonymous)?$/);
    expect(r.case.steps[1]!.arg).toMatchObject({ len: "4K" });
    expect(r.case.settings).toEqual([]);
    expect(r.case.files).toEqual({});
    expect([r.case.machine.nodes, r.case.machine.swap]).toEqual([1, 0]);
  });

  it("is deterministic and counts only the candidates it ran", () => {
    const c = generate({ arch: "x86-64", ops: 100, seed: 2 });
    const a = opsInOrder("mmap", "read");
    const b = opsInOrder("mmap", "read");
    const ra = shrink(c, a, units);
    const rb = shrink(c, b, units);
    expect(rb.case).toEqual(ra.case);
    expect(rb.runs).toBe(ra.runs);
    // The synthetic oracle was asked once per run (plus the check above, none here).
    expect(a.runs).toBe(ra.runs);
  });

  it("stops at its budget and says so", () => {
    const c = generate({ arch: "x86-64", ops: 100, seed: 2 });
    const r = shrink(c, opsInOrder("mmap", "read"), units, { maxRuns: 3 });
    expect(r.runs).toBe(3);
    expect(r.exhausted).toBe(true);
    expect(r.case.steps.length).toBeLessThan(100);
  });
});

describe("simplerArgs and mergeProcess", () => {
  const st = (op: string, arg: unknown) => ({ op, arg, line: 0 });
  it("offers fewer flags, shorter lengths in whole pages, and addresses nearer the name", () => {
    expect(simplerArgs(st("mmap", { pid: 1, addr: "m2+4M-8K", len: "6M", prot: "rwx", flags: "private|anonymous|populate|fixed" }), units)).toEqual([
      { pid: 1, addr: "m2+4M-8K", len: "6M", prot: "rwx", flags: "private|anonymous|fixed" },
      { pid: 1, len: "6M", prot: "rwx", flags: "private|anonymous|populate" },
      { pid: 1, addr: "m2+4M-8K", len: "6M", prot: "rw", flags: "private|anonymous|populate|fixed" },
      { pid: 1, addr: "m2+4M-8K", len: "4K", prot: "rwx", flags: "private|anonymous|populate|fixed" },
      { pid: 1, addr: "m2+4M-8K", len: "2M", prot: "rwx", flags: "private|anonymous|populate|fixed" },
      { pid: 1, addr: "m2+4M-8K", len: "3M", prot: "rwx", flags: "private|anonymous|populate|fixed" },
      { pid: 1, addr: "m2", len: "6M", prot: "rwx", flags: "private|anonymous|populate|fixed" },
      { pid: 1, addr: "m2+2M", len: "6M", prot: "rwx", flags: "private|anonymous|populate|fixed" },
      { pid: 1, addr: "m2+2M-4K", len: "6M", prot: "rwx", flags: "private|anonymous|populate|fixed" },
    ]);
    expect(simplerArgs(st("mremap", { pid: 1, at: "m0", len: "8K", newLen: "8K", flags: "maymove|fixed|dontunmap", to: "m1" }), units)).toEqual([
      { pid: 1, at: "m0", len: "8K", newLen: "8K" },
      { pid: 1, at: "m0", len: "8K", newLen: "8K", flags: "maymove|fixed", to: "m1" },
      { pid: 1, at: "m0", len: "8K", newLen: "8K", flags: "maymove|dontunmap" },
      { pid: 1, at: "m0", len: "4K", newLen: "8K", flags: "maymove|fixed|dontunmap", to: "m1" },
      { pid: 1, at: "m0", len: "8K", newLen: "4K", flags: "maymove|fixed|dontunmap", to: "m1" },
    ]);
    expect(simplerArgs(st("set", { "transparent_hugepage/enabled": "never", "transparent_hugepage/defrag": "always" }), units)).toEqual([
      { "transparent_hugepage/enabled": "never" },
      { "transparent_hugepage/defrag": "always" },
    ]);
    expect(simplerArgs(st("compact", {}), units)).toEqual([]);
  });

  it("hands a forked or spawned process's steps to its parent, or to process 1", () => {
    const steps = [st("fork", { pid: 1, child: 2 }), st("write", { pid: 2, at: "m0", len: "4K", pattern: 1 }), st("spawn", { pid: 3 }), st("fork", { pid: 2, child: 4 }), st("exit", { pid: 3 })];
    expect(mergeProcess(steps, 0)!.map((s) => s.arg)).toEqual([{ pid: 1, at: "m0", len: "4K", pattern: 1 }, { pid: 3 }, { pid: 1, child: 4 }, { pid: 3 }]);
    expect(mergeProcess(steps, 2)!.map((s) => s.arg)).toEqual([{ pid: 1, child: 2 }, { pid: 2, at: "m0", len: "4K", pattern: 1 }, { pid: 2, child: 4 }, { pid: 1 }]);
    expect(mergeProcess(steps, 1)).toBeNull();
  });
});
