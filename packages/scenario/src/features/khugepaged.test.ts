import { describe, expect, it } from "vitest";
import { parseScenario } from "../parse";
import { runText } from "../test-helpers";

const HEAD = "machine: { arch: x86-64, memory: 256M }\nsettings:\n  transparent_hugepage/enabled: madvise\n";

describe("the khugepaged step", () => {
  it("prints every range it tried, with its SCAN result and the collapses inside it", () => {
    const r = runText(
      `name: k\n${HEAD}steps:\n  - mmap: { pid: 1, as: a, len: 4M, prot: rw, flags: private|anonymous }\n  - write: { pid: 1, at: a+2M, len: 2M, pattern: 1 }\n  - madvise: { pid: 1, at: a, len: 4M, advice: hugepage }\n  - khugepaged: { passes: 1 }\n  - khugepaged: { scans: 1 }\n`,
    );
    const base = r.processes.get(1)!.vmas.all()[0]!.start;
    const hex = (n: number) => `0x${n.toString(16)}`;
    expect(r.steps[3]!.detail).toBe(`1 scan, 1 full pass, 1 PMD range collapsed\n  pid 1 ${hex(base)}: no_pte_table\n  pid 1 ${hex(base + (2 << 20))}: succeed [2M at ${hex(base + (2 << 20))}: succeed]`);
    expect(r.steps[4]!.detail).toMatch(/^1 scan, 1 full pass, 0 PMD ranges collapsed\n.*no_pte_table\n.*pmd_mapped$/);
  });

  it("says when there is nothing to do", () => {
    const r = runText(`name: k\n${HEAD}steps:\n  - khugepaged: { scans: 3 }\n  - set: { transparent_hugepage/enabled: never }\n  - khugepaged: { untilIdle: true }\n`);
    expect(r.steps.map((s) => s.detail)).toEqual(["0 scans, 0 full passes, 0 PMD ranges collapsed (no mm registered)", "transparent_hugepage/enabled=never", "0 scans, 0 full passes, 0 PMD ranges collapsed (khugepaged is not running: THP is off)"]);
  });

  it("takes exactly one of passes, scans and untilIdle, and names the field otherwise", () => {
    const bad = (arg: string) => () => parseScenario(`name: k\nsteps:\n  - khugepaged: ${arg}\n`, "k.yaml");
    expect(bad("{ passes: 2, untilIdle: true }")).toThrow("k.yaml:3:41: steps[0].khugepaged.untilIdle: expected exactly one of passes, scans or untilIdle, not both passes and untilIdle");
    expect(bad("{}")).toThrow("k.yaml:3:17: steps[0].khugepaged: expected exactly one of passes, scans or untilIdle");
    expect(bad("{ untilIdle: false }")).toThrow("steps[0].khugepaged.untilIdle: expected true (to run until a pass collapses nothing), or leave it out");
    expect(bad("{ scans: -1 }")).toThrow("steps[0].khugepaged.scans: expected a whole number, not negative");
    expect(bad("{ pass: 1 }")).toThrow('unknown field "pass": expected one of passes, scans, untilIdle');
  });
});

describe("khugepaged settings and counters", () => {
  it("refuse what the kernel refuses with EINVAL, at the setting's place in the file", () => {
    expect(() => runText("name: k\nsettings:\n  transparent_hugepage/khugepaged/pages_to_scan: 0\nsteps: []\n")).toThrow(
      'test.yaml:3:50: settings.transparent_hugepage/khugepaged/pages_to_scan: invalid transparent_hugepage/khugepaged/pages_to_scan "0": expected an integer from 1 to 4294967295 (the kernel refuses 0 with EINVAL)',
    );
    expect(() => runText("name: k\nsettings:\n  transparent_hugepage/khugepaged/max_ptes_swap: 512\nsteps: []\n")).toThrow("expected an integer from 0 to 511 (the kernel refuses anything else with EINVAL)");
    expect(() => runText("name: k\nsettings:\n  transparent_hugepage/khugepaged/full_scans: 1\nsteps: []\n")).toThrow("read-only counters");
  });

  it("apply in a set step; the counters are the kernel's names under khugepaged.", () => {
    const r = runText(
      `name: k\n${HEAD}steps:\n  - set: { transparent_hugepage/khugepaged/max_ptes_none: 0, transparent_hugepage/khugepaged/scan_sleep_millisecs: 100 }\n  - expect:\n      - counter: khugepaged.pages_collapsed\n        equals: 0\n      - counter: khugepaged.full_scans\n        equals: 0\n`,
    );
    expect(r.passed).toBe(true);
    expect(r.kernel.thp.maxPtesNone).toBe(0);
  });
});

describe("MADV_COLLAPSE through the madvise step", () => {
  it("the kernel's errno for a misaligned start, an ineligible VMA and a hole", () => {
    const r = runText(
      `name: k\n${HEAD}steps:\n  - mmap: { pid: 1, as: a, len: 4M, prot: rw, flags: private|anonymous }\n  - madvise: { pid: 1, at: a+1, len: 2M, advice: collapse, expectError: EINVAL }\n  - madvise: { pid: 1, at: a, len: 2M, advice: nohugepage }\n  - write: { pid: 1, at: a, len: 4M, pattern: 1 }\n  - madvise: { pid: 1, at: a, len: 2M, advice: collapse, expectError: EINVAL }\n  - madvise: { pid: 1, at: a+2M, len: 4M, advice: collapse, expectError: ENOMEM }\n  - expect:\n      - mapped: { pid: 1, at: a, level: pte }\n      - mapped: { pid: 1, at: a+2M, level: pmd }\n      - invariants: clean\n`,
    );
    expect(r.passed).toBe(true);
    // The mapped part was collapsed before madvise met the hole.
    expect(r.steps[5]!.detail).toMatch(/^\[0x[0-9a-f]+, 0x[0-9a-f]+\) is not mapped\n1 PMD range tried\n {2}pid 1 0x[0-9a-f]+: succeed \[2M at 0x[0-9a-f]+: succeed\]$/);
  });
});
