import { Kernel, type Mm } from "@hugemm/core";
import { beforeAll, describe, expect, it } from "vitest";
import { loadScenario } from "./parse";
import { runScenario } from "./run";
import { runText, verdicts } from "./test-helpers";
import type { RunResult } from "./types";

const EVERY_STEP = loadScenario(new URL("./testdata/every-step.yaml", import.meta.url).pathname);

describe.each([
  ["x86-64", "x86-64:4level", "1024 pages, 2 faults", "mapped at 0x7dffffc00000"],
  ["arm64:4k-48", "arm64:4k-48", "1024 pages, 2 faults", "mapped at 0xfbffffc00000"],
  ["ppc8xx:4k", "ppc8xx:4k", "1024 pages, 1024 faults", "mapped at 0x77c00000"],
])("every step kind on %s", (arch, id, written, mapped) => {
  let r: RunResult;
  beforeAll(() => {
    // The 8xx kernel has no transparent_hugepage directory: its THP settings are skipped.
    r = runScenario(EVERY_STEP, { arch, ...(arch === "ppc8xx:4k" ? { skipSetting: (key: string) => key.startsWith("transparent_hugepage/") } : {}) });
  });

  it("runs every step; only what the arch refuses fails", () => {
    expect(r.archId).toBe(id);
    expect(r.passed).toBe(true);
    expect(r.violation).toBeUndefined();
    const failed = r.steps.filter((x) => !x.ok).map((x) => [x.op, x.error, x.detail]);
    // The 8xx has no THP: MADV_HUGEPAGE is not an advice that kernel knows.
    expect(failed).toEqual(arch === "ppc8xx:4k" ? [["madvise", "EINVAL", "advice 14 is not one this kernel accepts"]] : []);
    expect(r.steps.map((x) => x.op)).toEqual(EVERY_STEP.steps.map((x) => x.op));
    expect(r.steps[0]!.detail).toBe(mapped);
    expect(r.steps[2]!.detail).toBe(written);
    expect(r.steps[9]!.detail).toBe("child 2");
    expect(r.steps[15]!.detail).toBe("pinned 16 of 16 pages");
    expect(r.steps[17]!.detail).toBe("released 16 pages");
  });

  it("ends with the live processes, checkpoints start, written and end, and every expect passed", () => {
    expect([...r.processes.keys()]).toEqual([1, 2]);
    expect(r.checkpoints.map((c) => [c.name, c.step])).toEqual([
      ["start", -1],
      ["written", 8],
      ["end", 28],
    ]);
    expect(verdicts(r)).toEqual([
      ["counter", true, 33],
      ["data", true, "pattern 3"],
      ["data", true, "pattern 3"],
      ["data", true, "file"],
      ["data", true, "pattern 4"],
      ["invariants", true, "clean"],
    ]);
  });
});

describe("expects on x86-64", () => {
  it("pass on the brief's example", () => {
    const r = runScenario(loadScenario(new URL("./testdata/pmd-thp-fork.yaml", import.meta.url).pathname));
    expect(r.passed).toBe(true);
    expect(verdicts(r)).toEqual([
      ["counter", true, 1],
      ["counter", true, 1],
      ["counter", true, 8192],
      ["mapped", true, "pmd"],
      ["folios", true, "4K: 1, 2M: 1"],
      ["data", true, "pattern 7"],
      ["invariants", true, "clean"],
    ]);
    expect(r.expects.map((e) => e.line)).toEqual([21, 23, 26, 28, 29, 30, 31]);
    expect(r.expects[1]!.clause).toBe("{ counter: pgfault, since: after-fork, equals: 1 }");
  });

  it("fail with the value found, each kind", () => {
    const r = runText(`
name: wrong
machine: { memory: 1G, swap: 64M }
steps:
  - mmap: { pid: 1, as: buf, len: 4M, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: buf, len: 4M, pattern: 7 }
  - checkpoint: written
  - fork: { pid: 1, child: 2 }
  - write: { pid: 2, at: buf+4K, len: 4K, pattern: 9 }
  - expect:
      - counter: thp_fault_alloc
        equals: 3
      - counter: pgfault
        since: written
        atMost: 0
      - counter: nr_anon_transparent_hugepages
        greaterThan: 2
      - counter: pid1.rss_anon
        lessThan: 1024
      - counter: meminfo.AnonHugePages
        atLeast: 8192
      - mapped: { pid: 2, at: buf, level: pmd }
      - folios: { pid: 2, at: buf, len: 4M, census: { 2M: 2 } }
      - data: { pid: 2, at: buf, len: 8K, pattern: 7 }
      - data: { pid: 1, at: buf, len: 4K, pattern: zero }
`);
    expect(r.passed).toBe(false);
    expect(r.expects.map((e) => [e.kind, e.pass, e.expected, e.actual, e.message])).toEqual([
      ["counter", false, "= 3", 2, "thp_fault_alloc is 2, expected = 3"],
      ["counter", false, "<= 0", 1, "pgfault since written is 1, expected <= 0"],
      ["counter", false, "> 2", 2, "nr_anon_transparent_hugepages is 2, expected > 2"],
      ["counter", false, "< 1024", 1024, "pid1.rss_anon is 1024, expected < 1024"],
      ["counter", false, ">= 8192", 4096, "meminfo.AnonHugePages is 4096, expected >= 8192"],
      ["mapped", false, "pmd", "pte", "0x7dffffc00000 in pid 2 is mapped by a pte entry, expected pmd"],
      ["folios", false, "2M: 2", "4K: 1, 2M: 2", "folios mapped in [0x7dffffc00000, 0x7e0000000000) of pid 2: 4K: 1, 2M: 2, expected 2M: 2"],
      ["data", false, "pattern 7", "1 of 2 pages differ", "2 pages at 0x7dffffc00000 of pid 2: 1 differ, first 0x7dffffc01000 holds 0xf0d1512, expected 0x853d0d13"],
      ["data", false, "zero", "1 of 1 pages differ", "1 page at 0x7dffffc00000 of pid 1: 1 differ, first 0x7dffffc00000 holds 0xc8ffc299, expected 0x0"],
    ]);
  });

  it("a PUD THP: mapped at the PUD, counted in the model's counters, split to PTEs by a munmap in its middle", () => {
    const r = runText(`
name: pud
machine: { arch: x86-64, memory: 2G }
settings:
  transparent_hugepage/hugepages-1048576kB/enabled: always
  transparent_hugepage/pud_deposit: at-split
steps:
  - mmap: { pid: 1, as: g, len: 1G, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: g, len: 4K, pattern: 1 }
  - expect:
      - mapped: { pid: 1, at: g+512M, level: pud }
      - folios: { pid: 1, at: g, len: 1G, census: { 1G: 1 } }
      - counter: model.thp_fault_alloc_pud
        equals: 1
      - counter: meminfo.AnonPudHugePages
        equals: 1048576
      - counter: hugepages-1048576kB.anon_fault_alloc
        equals: 1
  - munmap: { pid: 1, at: g+2M, len: 2M }
  - expect:
      - counter: thp_split_pud
        equals: 1
      - mapped: { pid: 1, at: g, level: pte }
      - mapped: { pid: 1, at: g+2M, level: none }
      - folios: { pid: 1, at: g, len: 1G, census: { 1G: 1 } }
      - data: { pid: 1, at: g, len: 4K, pattern: 1 }
      - data: { pid: 1, at: g+4K, len: 4K, pattern: zero }
  - shrink: {}
  - expect:
      # The deferred split queue splits the folio; pages of zeroes go back to the shared zero page.
      - folios: { pid: 1, at: g, len: 1G, census: { 4K: 2 } }
      - invariants: clean
`);
    expect(r.steps.map((x) => x.detail)).toEqual(["mapped at 0x7dffc0000000", "1 page, 1 fault", "5 of 5 passed", undefined, "6 of 6 passed", "freed 1 object", "2 of 2 passed"]);
    expect(r.passed).toBe(true);
  });

  it("swap and migration entries, and data read back from both without faulting", () => {
    const r = runText(`
name: softleaves
machine: { memory: 1G, nodes: 2, swap: 64M }
settings:
  transparent_hugepage/enabled: never
steps:
  - mmap: { pid: 1, as: a, len: 64K, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: a, len: 64K, pattern: 5 }
  - pageout: { pid: 1, at: a, len: 16K }
  - migrate: { pid: 1, at: a+32K, len: 16K, node: 1, hold: m }
  - checkpoint: held
  - expect:
      - mapped: { pid: 1, at: a, level: swap }
      - mapped: { pid: 1, at: a+16K, level: pte }
      - mapped: { pid: 1, at: a+32K, level: migration }
      - data: { pid: 1, at: a, len: 64K, pattern: 5 }
      - counter: pid1.swapents
        equals: 4
  - read: { pid: 1, at: a+32K, len: 4K, expectError: MIGRATION_WAIT }
  - migrate_finish: { hold: m }
  - read: { pid: 1, at: a, len: 64K }
  - expect:
      - mapped: { pid: 1, at: a, level: pte }
      - mapped: { pid: 1, at: a+32K, level: pte }
      - data: { pid: 1, at: a, len: 64K, pattern: 5 }
      - counter: pgmajfault
        since: held
        equals: 4
      - counter: pgmigrate_success
        equals: 4
      - invariants: clean
`);
    expect(r.passed).toBe(true);
    expect(r.steps.map((x) => [x.op, x.error, x.detail])).toEqual([
      ["mmap", undefined, "mapped at 0x7dffffff0000"],
      ["write", undefined, "16 pages, 16 faults"],
      ["pageout", undefined, undefined],
      ["migrate", undefined, 'holding the folios behind migration entries as "m"'],
      ["checkpoint", undefined, 'counters saved as "held"'],
      ["expect", undefined, "5 of 5 passed"],
      ["read", "MIGRATION_WAIT", "stopped at 0x7dffffff8000 after 0 pages, 1 fault"],
      ["migrate_finish", undefined, "moved 4 folios"],
      ["read", undefined, "16 pages, 4 faults (4 major)"],
      ["expect", undefined, "6 of 6 passed"],
    ]);
  });
});

describe("expects on arm64:4k-48", () => {
  it("64K mTHP: PTE-mapped, counted per size, split by pageout without swap", () => {
    const r = runText(`
name: mthp
machine: { arch: "arm64:4k-48", memory: 1G }
settings:
  transparent_hugepage/hugepages-2048kB/enabled: never
  transparent_hugepage/hugepages-64kB/enabled: always
steps:
  - mmap: { pid: 1, as: b, len: 1M, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: b, len: 1M, pattern: 2 }
  - expect:
      - folios: { pid: 1, at: b, len: 1M, census: { 64K: 16 } }
      - mapped: { pid: 1, at: b, level: pte }
      - counter: hugepages-64kB.anon_fault_alloc
        equals: 16
      - counter: pgfault
        equals: 16
      - counter: thp_fault_alloc
        equals: 0
  - pageout: { pid: 1, at: b+64K, len: 64K }
  - expect:
      # No swap: reclaim splits the folio it cannot swap out (thp_swpout_fallback).
      - folios: { pid: 1, at: b, len: 1M, census: { 4K: 16, 64K: 15 } }
      - counter: hugepages-64kB.swpout_fallback
        equals: 1
      - data: { pid: 1, at: b, len: 1M, pattern: 2 }
      - invariants: clean
`);
    expect(verdicts(r)).toEqual([
      ["folios", true, "64K: 16"],
      ["mapped", true, "pte"],
      ["counter", true, 16],
      ["counter", true, 16],
      ["counter", true, 0],
      ["folios", true, "4K: 16, 64K: 15"],
      ["counter", true, 1],
      ["data", true, "pattern 2"],
      ["invariants", true, "clean"],
    ]);
  });
});

describe("expects on ppc8xx:4k", () => {
  it("base pages only: every fault maps one page", () => {
    const r = runText(`
name: ppc
machine: { arch: "ppc8xx:4k", memory: 256M }
steps:
  - mmap: { pid: 1, as: b, len: 1M, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: b, len: 1M, pattern: 2 }
  - mprotect: { pid: 1, at: b, len: 64K, prot: r }
  - write: { pid: 1, at: b, len: 4K, pattern: 3, expectError: SIGSEGV }
  - expect:
      - folios: { pid: 1, at: b, len: 1M, census: { 4K: 256 } }
      - mapped: { pid: 1, at: b, level: pte }
      - counter: thp_fault_alloc
        equals: 0
      # The refused store never reaches handle_mm_fault: access_error() is checked first.
      - counter: pgfault
        equals: 256
      - counter: meminfo.AnonPages
        equals: 1024
      - data: { pid: 1, at: b, len: 1M, pattern: 2 }
      - mapped: { pid: 1, at: b+1M, level: pmd }
`);
    expect(r.steps[3]).toEqual({ index: 3, line: 8, op: "write", ok: false, error: "SIGSEGV", detail: "stopped at 0x77f00000 after 0 pages, 1 fault", expectedError: "SIGSEGV" });
    expect(verdicts(r)).toEqual([
      ["expectError", true, "SIGSEGV"],
      ["folios", true, "4K: 256"],
      ["mapped", true, "pte"],
      ["counter", true, 0],
      ["counter", true, 256],
      ["counter", true, 1024],
      ["data", true, "pattern 2"],
      ["mapped", false, "none"],
    ]);
    expect(r.passed).toBe(false);
  });
});

describe("step errors and expectError", () => {
  it("a failed call is reported and the run goes on; expectError decides", () => {
    const r = runText(`
name: errors
steps:
  - mmap: { pid: 1, as: a, len: 8K, prot: rw, flags: private|anonymous, expectError: EINVAL }
  - mmap: { pid: 1, addr: 0x40000100, len: 4K, prot: rw, flags: private|anonymous|fixed, expectError: EINVAL }
  - munmap: { pid: 1, at: a+1, len: 4K }
  - write: { pid: 1, at: a, len: 8K, pattern: 1 }
  - expect:
      - data: { pid: 1, at: a, len: 8K, pattern: 1 }
`);
    expect(r.steps.map((x) => [x.op, x.ok, x.error])).toEqual([
      ["mmap", true, undefined],
      ["mmap", false, "EINVAL"],
      ["munmap", false, "EINVAL"],
      ["write", true, undefined],
      ["expect", true, undefined],
    ]);
    expect(r.steps[2]!.detail).toBe("addr 0x7dffffffe001 is not aligned to the page size (4096 bytes)");
    expect(r.expects.map((e) => [e.kind, e.line, e.clause, e.pass, e.expected, e.actual, e.message])).toEqual([
      ["expectError", 4, "mmap expectError: EINVAL", false, "EINVAL", "success", "mmap ended with success, expected EINVAL"],
      ["expectError", 5, "mmap expectError: EINVAL", true, "EINVAL", "EINVAL", "mmap ended with EINVAL"],
      ["data", 9, "{ data: { pid: 1, at: a, len: 8K, pattern: 1 } }", true, "pattern 1", "pattern 1", "2 pages at 0x7dffffffe000 of pid 1: all pattern 1"],
    ]);
    // Only expects decide: the unexpected EINVAL of munmap fails nothing, the mmap that succeeded does.
    expect(r.passed).toBe(false);
  });

  it("a fork that fails is ENOMEM, and the child it did not make is an error saying why", () => {
    class NoMemoryForFork extends Kernel {
      override fork(_mm: Mm): Mm | null {
        return null;
      }
    }
    const text = "name: nofork\nsteps:\n  - fork: { pid: 1, child: 2, expectError: ENOMEM }\n  - read: { pid: 2, at: 0, len: 4K }\n";
    expect(() => runText(text, { kernelFactory: (cfg) => new NoMemoryForFork(cfg) })).toThrow("test.yaml:4:18: steps[1].read.pid: process 2 does not exist: its fork at line 3 failed with ENOMEM");
    const r = runText("name: nofork\nsteps:\n  - fork: { pid: 1, child: 2, expectError: ENOMEM }\n", { kernelFactory: (cfg) => new NoMemoryForFork(cfg) });
    expect(r.steps[0]).toEqual({ index: 0, line: 3, op: "fork", ok: false, error: "ENOMEM", detail: "no memory to copy the address space", expectedError: "ENOMEM" });
    expect(r.passed).toBe(true);
  });

  it("input the kernel refuses as no valid argument is an error at the step", () => {
    expect(() => runText("name: big\nmachine: { arch: 'ppc8xx:4k', memory: 256M }\nsteps:\n  - mmap: { pid: 1, len: 8G, prot: rw, flags: private|anonymous }\n")).toThrow(
      "test.yaml:4:11: steps[0].mmap: invalid mmap len 8589934592 (0x200000000): expected an unsigned long (an integer in [0, 2^32))",
    );
  });
});

describe("split", () => {
  it("splits the THPs of a range to an order", () => {
    const r = runText(`
name: split
machine: { memory: 1G }
steps:
  - mmap: { pid: 1, as: a, len: 4M, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: a, len: 4M, pattern: 1 }
  - split: { pid: 1, at: a, len: 2M, order: 4 }
  - split: { pid: 1, at: a+2M, len: 2M, order: 1 }
  - expect:
      - folios: { pid: 1, at: a, len: 4M, census: { 64K: 32, 2M: 1 } }
      - counter: thp_split_page
        equals: 1
      - data: { pid: 1, at: a, len: 4M, pattern: 1 }
`);
    // Anonymous folios are never split to order 1; split_huge_pages_pid walks page by page and counts the folio at each.
    expect(r.steps.slice(2, 4).map((x) => x.detail)).toEqual(["split 1 of 1 THP", "split 0 of 512 THPs"]);
    expect(verdicts(r)).toEqual([
      ["folios", true, "64K: 32, 2M: 1"],
      ["counter", true, 1],
      ["data", true, "pattern 1"],
    ]);
  });
});

describe("stopping at a checkpoint", () => {
  const text = `
name: stop
steps:
  - mmap: { pid: 1, as: buf, len: 2M, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: buf, len: 64K, pattern: 1 }
  - checkpoint: written
  - fork: { pid: 1, child: 2 }
  - exit: { pid: 1 }
`;
  it("leaves the state as it was right after the checkpoint, with the names bound there", () => {
    const r = runText(text, { stopAfter: "written" });
    expect(r.stoppedAt).toBe("written");
    expect(r.steps.map((x) => x.op)).toEqual(["mmap", "write", "checkpoint"]);
    expect([...r.processes.keys()]).toEqual([1]);
    // A 2M anonymous mapping is THP-aligned by get_unmapped_area.
    expect((r.names.get(1)?.get("buf") ?? 1) % (2 * 1024 * 1024)).toBe(0);
    expect(r.checkpoints.map((c) => c.name)).toEqual(["start", "written", "end"]);
    const full = runText(text);
    expect([...full.processes.keys()]).toEqual([2]);
    expect(full.names.get(2)?.get("buf")).toBe(r.names.get(1)?.get("buf"));
    expect(full.stoppedAt).toBeUndefined();
  });
  it("reports the live state at each checkpoint as the run passes it", () => {
    const seen: string[] = [];
    runText(text, {
      onCheckpoint(name, st) {
        seen.push(`${name}: pids ${[...st.processes.keys()].join(",")}, rss ${[...st.processes.values()].map((mm) => mm.rss[1]).join(",")}, names ${[...(st.names.get(1)?.keys() ?? [])].join(",")}`);
      },
    });
    expect(seen).toEqual(["start: pids 1, rss 0, names ", "written: pids 1, rss 512, names buf", "end: pids 2, rss 512, names "]);
  });
  it("names the checkpoints there are when asked for one that is not", () => {
    expect(() => runText(text, { stopAfter: "forked" })).toThrow('--at: no checkpoint "forked" in test.yaml: expected one of written');
    expect(() => runText("name: none\nsteps: []\n", { stopAfter: "x" })).toThrow('--at: no checkpoint "x" in test.yaml: expected a scenario with checkpoint steps (it has none)');
  });
});

describe("settings an arch refuses", () => {
  const text = `
name: sizes
settings:
  transparent_hugepage/hugepages-64kB/enabled: always
steps:
  - set: { transparent_hugepage/hugepages-64kB/enabled: never }
`;
  it("are errors, unless skipSetting lets them pass, each reported to it", () => {
    expect(() => runText(text, { arch: "arm64:64k" })).toThrow('test.yaml:4:48: settings.transparent_hugepage/hugepages-64kB/enabled: invalid transparent_hugepage directory "hugepages-64kB"');
    const skipped: string[] = [];
    const r = runText(text, {
      arch: "arm64:64k",
      skipSetting(key, e) {
        skipped.push(`${key}: ${e.line}`);
        return true;
      },
    });
    expect(skipped).toEqual(["transparent_hugepage/hugepages-64kB/enabled: 4", "transparent_hugepage/hugepages-64kB/enabled: 6"]);
    expect(r.steps[0]).toMatchObject({ op: "set", ok: true });
    // Where the size exists nothing is asked.
    runText(text, { arch: "arm64:4k", skipSetting: () => expect.unreachable() });
  });
});
