import { describe, expect, it } from "vitest";
import { parseScenario } from "../parse";
import { runText, verdicts } from "../test-helpers";

const forked = (flags: string) => `
name: move-flags
machine: { memory: 256M, nodes: 2 }
settings:
  transparent_hugepage/enabled: never
steps:
  - mmap: { pid: 1, as: buf, len: 64K, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: buf, len: 64K, pattern: 1 }
  - fork: { pid: 1, child: 2 }
  - write: { pid: 1, at: buf, len: 16K, pattern: 2 }
  - migrate: { pid: 1, at: buf, len: 64K, node: 1${flags} }
  - expect:
      - counter: pgmigrate_success
        equals: ${flags.includes("move_all") ? 16 : 4}
      - data: { pid: 1, at: buf, len: 16K, pattern: 2 }
      - data: { pid: 2, at: buf, len: 64K, pattern: 1 }
`;

describe("migrate flags", () => {
  it("move (the default) leaves the folios the child shares, -EACCES per page", () => {
    for (const flags of ["", ", flags: move"]) {
      const r = runText(forked(flags));
      expect(r.steps[4]!.detail).toBe("moved 4 folios to node 1; 12 pages of shared folios -EACCES");
      expect(verdicts(r).every(([, pass]) => pass)).toBe(true);
    }
  });

  it("move_all moves them too", () => {
    const r = runText(forked(", flags: move_all"));
    expect(r.steps[4]!.detail).toBe("moved 16 folios to node 1");
    expect(verdicts(r).every(([, pass]) => pass)).toBe(true);
  });

  it("a bad flags value is an error at the field", () => {
    expect(() => parseScenario(forked(", flags: all"), "bad.yaml")).toThrow(
      'bad.yaml:11:59: steps[4].migrate.flags: expected move_pages flags: move (MPOL_MF_MOVE) or move_all (MPOL_MF_MOVE_ALL), got "all"',
    );
  });
});

describe("madvise remove", () => {
  it("punches a hole in a shmem file: both processes read zeroes there", () => {
    const r = runText(`
name: remove
files:
  shm: { size: 64K, shmem: true }
steps:
  - mmap: { pid: 1, as: s, len: 64K, prot: rw, flags: shared, file: shm }
  - write: { pid: 1, at: s, len: 64K, pattern: 3 }
  - fork: { pid: 1, child: 2 }
  - madvise: { pid: 2, at: s+16K, len: 16K, advice: remove, expectOk: true }
  - expect:
      - mapped: { pid: 1, at: s+16K, level: none }
      - data: { pid: 1, at: s+16K, len: 16K, pattern: zero }
      - data: { pid: 1, at: s+32K, len: 32K, pattern: 3, writtenAt: s+32K }
      - counter: nr_shmem
        equals: 12
  - mmap: { pid: 1, as: p, len: 64K, prot: rw, flags: private|anonymous }
  - madvise: { pid: 1, at: p, len: 4K, advice: remove, expectError: EINVAL }
`);
    expect(verdicts(r).map(([kind, pass]) => [kind, pass])).toEqual([
      ["expectOk", true],
      ["mapped", true],
      ["data", true],
      ["data", true],
      ["counter", true],
      ["expectError", true],
    ]);
  });
});

describe("machine.swap kind", () => {
  const text = (swap: string) => `
name: zram
machine: { memory: 256M, swap: ${swap} }
settings:
  transparent_hugepage/enabled: never
steps:
  - mmap: { pid: 1, as: buf, len: 64K, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: buf, len: 64K, pattern: 1 }
  - pageout: { pid: 1, at: buf, len: 64K }
  - read: { pid: 1, at: buf, len: 64K }
  - expect:
      - counter: meminfo.SwapCached
        equals: ${swap.includes("zram") ? 0 : 64}
      - data: { pid: 1, at: buf, len: 64K, pattern: 1 }
`;
  it("zram skips the swap cache on swap-in; block (the default) keeps the folios cached", () => {
    for (const swap of ["16M", "{ size: 16M, kind: block }", "{ size: 16M, kind: zram }"]) {
      const r = runText(text(swap));
      expect(verdicts(r).map(([, p]) => p), swap).toEqual([true, true]);
    }
  });
  it("a bad kind or field is an error at it", () => {
    expect(() => parseScenario(text("{ size: 16M, kind: ssd }"), "bad.yaml")).toThrow('bad.yaml:3:51: machine.swap.kind: expected a swap device kind: block or zram, got "ssd"');
    expect(() => parseScenario(text("{ size: 16M, knd: zram }"), "bad.yaml")).toThrow('bad.yaml:3:45: machine.swap.knd: unknown field "knd": expected one of size, kind');
    expect(() => parseScenario(text("true"), "bad.yaml")).toThrow('bad.yaml:3:32: machine.swap: expected a swap size such as "1G", or { size, kind } with kind block or zram, got true');
  });
});

describe("machine.kernel", () => {
  const text = (kernel: string) => `
name: kernel
machine: { kernel: ${kernel} }
steps:
  - expect:
      - counter: nr_gpu_active
        equals: 0
`;
  it("mm-new has the newest tree's counters; 6.18 does not", () => {
    expect(verdicts(runText(text("mm-new")))).toEqual([["counter", true, 0]]);
    expect(() => runText(text("6.18"))).toThrow(/test\.yaml:6:\d+: steps\[0\]\.expect\[0\]\.counter: unknown counter "nr_gpu_active"/);
  });
  it("an unknown version is an error at the field", () => {
    expect(() => parseScenario(text("5.10"), "bad.yaml")).toThrow("bad.yaml:3:20: machine.kernel: expected a kernel version whose /proc layout the views follow: 6.18 or mm-new, got 5.1");
  });
});
