import { parseScenario, runScenario } from "@hugemm/scenario";
import { describe, expect, it } from "vitest";
import { generate } from "../generate";
import { runCase } from "../run";
import { CrashingPageoutKernel, crashingPageout, leakyMprotect, type LeakyMprotectKernel } from "./planted";

const scenario = (steps: string, settings = "") =>
  parseScenario(`name: planted\nmachine: { arch: x86-64, memory: 512M }\n${settings}steps:\n  - mmap: { pid: 1, as: buf, len: 4M, prot: rw, flags: private|anonymous }\n${steps}`, "planted.yaml");

describe("LeakyMprotectKernel", () => {
  const thp = "  - write: { pid: 1, at: buf, len: 4K, pattern: 1 }\n";

  it("leaks a reference when mprotect starts inside a PMD-mapped THP, which the checker catches at once", () => {
    const r = runScenario(scenario(`${thp}  - mprotect: { pid: 1, at: buf+4K, len: 4K, prot: r }\n  - read: { pid: 1, at: buf, len: 4K }\n`), { kernelFactory: leakyMprotect });
    expect(r.violation?.step).toBe(2);
    expect(r.violation?.message).toMatch(/^1 invariant violation\(s\) after mprotect: \[refcount\] folio \d+ has refcount 513, expected 512 \(512 mappings\)$/);
    expect((r.kernel as LeakyMprotectKernel).leaks).toBe(1);
  });

  it("does not leak from the THP's first page, on PTE-mapped memory, or on the real kernel", () => {
    const clean = [
      `${thp}  - mprotect: { pid: 1, at: buf, len: 4K, prot: r }\n`,
      `  - madvise: { pid: 1, at: buf, len: 4M, advice: nohugepage }\n${thp}  - mprotect: { pid: 1, at: buf+4K, len: 4K, prot: r }\n`,
    ];
    for (const steps of clean) {
      const r = runScenario(scenario(steps), { kernelFactory: leakyMprotect });
      expect(r.violation).toBeUndefined();
      expect((r.kernel as LeakyMprotectKernel).leaks).toBe(0);
    }
    expect(runScenario(scenario(`${thp}  - mprotect: { pid: 1, at: buf+4K, len: 4K, prot: r }\n`)).passed).toBe(true);
  });

  it("hides from the first steps of random sequences but shows up in some of them", () => {
    const at = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => runCase(generate({ arch: "x86-64", ops: 200, seed }), { kernelFactory: leakyMprotect }).failure?.step ?? -1);
    expect(at).toEqual([-1, 92, -1, 115, -1, 162, -1, -1]);
  });
});

describe("CrashingPageoutKernel", () => {
  const mthp = "settings: { transparent_hugepage/hugepages-64kB/enabled: always, transparent_hugepage/enabled: never }\n";

  it("throws a TypeError on MADV_PAGEOUT from a PTE-mapped page of a large folio", () => {
    const s = scenario("  - write: { pid: 1, at: buf, len: 64K, pattern: 1 }\n  - pageout: { pid: 1, at: buf+4K, len: 4K }\n", mthp);
    expect(() => runScenario(s, { kernelFactory: crashingPageout })).toThrow(new TypeError("Cannot read properties of undefined (reading 'nr')"));
    expect(runScenario(s).passed).toBe(true);
  });

  it("pages out base pages and PMD-mapped THPs as the real kernel does", () => {
    const base = runScenario(scenario("  - write: { pid: 1, at: buf, len: 64K, pattern: 1 }\n  - pageout: { pid: 1, at: buf, len: 64K }\n", "settings: { transparent_hugepage/enabled: never }\n"), { kernelFactory: crashingPageout });
    expect(base.passed).toBe(true);
    const pmd = runScenario(scenario("  - write: { pid: 1, at: buf, len: 4K, pattern: 1 }\n  - pageout: { pid: 1, at: buf, len: 2M }\n"), { kernelFactory: crashingPageout });
    expect(pmd.passed).toBe(true);
    expect(pmd.kernel).toBeInstanceOf(CrashingPageoutKernel);
  });
});
