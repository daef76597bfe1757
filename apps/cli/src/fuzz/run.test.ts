import { describe, expect, it } from "vitest";
import { step, type FuzzCase } from "./case";
import { runCase } from "./run";
import { maskNumbers, signature } from "./signature";
import { crashingPageout, leakyMprotect } from "./testing/planted";

const machine = { arch: "x86-64", memory: "512M", nodes: 1, movable: 0, swap: 0 };
const base: FuzzCase = { arch: "x86-64", seed: 1, machine, settings: [], files: {}, steps: [] };
const thpThen = (...more: ReturnType<typeof step>[]): FuzzCase => ({
  ...base,
  steps: [step("mmap", { pid: 1, as: "m0", len: "4M", prot: "rw", flags: "private|anonymous" }), step("write", { pid: 1, at: "m0", len: "4K", pattern: 1 }), ...more],
});

describe("runCase", () => {
  it("passes a clean sequence and counts its steps", () => {
    expect(runCase(thpThen(step("mprotect", { pid: 1, at: "m0+4K", len: "4K", prot: "r" })))).toEqual({ steps: 3 });
  });

  it("reports an invariant violation with the step it stopped at", () => {
    const r = runCase(thpThen(step("read", { pid: 1, at: "m0", len: "4K" }), step("mprotect", { pid: 1, at: "m0+4K", len: "4K", prot: "r" }), step("compact", {})), { kernelFactory: leakyMprotect });
    expect(r.steps).toBe(4);
    expect(r.failure?.kind).toBe("violation");
    expect(r.failure?.step).toBe(3);
    expect(r.failure?.message).toMatch(/^1 invariant violation\(s\) after mprotect: \[refcount\] folio \d+ has refcount 513, expected 512 \(512 mappings\)$/);
    expect(r.failure?.signature).toBe("violation: after mprotect: [refcount] folio # has refcount #, expected # (# mappings)");
  });

  it("reports anything else the model throws as a crash, with where it was thrown", () => {
    const r = runCase(thpThen(step("mprotect", { pid: 1, at: "m0+4K", len: "4K", prot: "r" }), step("pageout", { pid: 1, at: "m0+8K", len: "4K" })), { kernelFactory: crashingPageout });
    expect(r.failure).toMatchObject({ kind: "crash", step: 3, message: "TypeError: Cannot read properties of undefined (reading 'nr')", signature: "crash: TypeError: Cannot read properties of undefined (reading 'nr')" });
    expect(r.failure?.where).toMatch(/^at CrashingPageoutKernel\.madvise /);
  });

  it("reports a sequence the runner refuses as a generator bug, at the step it names", () => {
    const r = runCase({ ...base, steps: [step("read", { pid: 2, at: "m0", len: "4K" })] });
    expect(r.failure).toMatchObject({ kind: "generator", step: 0, message: 'fuzz-x86-64-seed-1.yaml: steps[0].read.pid: unknown process 2: expected a live pid (one of 1)' });
    const settings = runCase({ ...base, machine: { ...machine, arch: "ppc8xx:4k" }, arch: "ppc8xx:4k", settings: [["transparent_hugepage/enabled", "always"]] });
    expect(settings.failure?.kind).toBe("generator");
    expect(settings.failure?.step).toBe(-1);
  });
});

describe("signature", () => {
  it("masks numbers, decimal and hex", () => {
    expect(maskNumbers("gup at 0x7dffff000 cannot make progress after 3 tries")).toBe("gup at # cannot make progress after # tries");
  });
  it("keeps the operation and the first broken invariant only", () => {
    expect(signature("2 invariant violation(s) after munmap: [counters] nr_page_table_pages 2 but 1 pages hold page tables; [memory] free 32508 + allocated 259 != total 32768 pages")).toBe(
      "after munmap: [counters] nr_page_table_pages # but # pages hold page tables",
    );
    expect(signature("model bug: gup at 0x77fff000 cannot make progress")).toBe("model bug: gup at # cannot make progress");
  });
});
