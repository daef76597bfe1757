import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scenarioFromOps } from "./emit";
import { parseScenario } from "./parse";
import type { Step } from "./types";

const STEPS: Step[] = [
  { op: "mmap", arg: { pid: 1, as: "buf", addr: "0x40000000", len: "4M", prot: "rw", flags: "private|anonymous|fixed" }, line: 0 },
  { op: "write", arg: { pid: 1, at: "buf", len: "4K", pattern: 1 }, line: 0 },
  { op: "munmap", arg: { pid: 1, at: "buf+1", len: 4096 }, line: 0, expectError: "EINVAL" },
  { op: "compact", arg: {}, line: 0 },
  { op: "checkpoint", arg: "c1", line: 0 },
  { op: "expect", arg: [{ counter: "pgfault", since: "c1", equals: 0 }, { invariants: "clean" }], line: 0 },
];

describe("scenarioFromOps", () => {
  it("writes a scenario file, one step per line", () => {
    const text = scenarioFromOps("repro", { arch: "x86-64", memory: "1G", nodes: 1, movable: 0, swap: 0 }, [["transparent_hugepage/enabled", "always"]], STEPS, { seed: 3, description: "a reproducer" });
    expect(text).toBe(`name: repro
description: a reproducer
machine:
  arch: x86-64
  memory: 1G
  nodes: 1
  movable: 0
  swap: 0
seed: 3
settings:
  transparent_hugepage/enabled: always
steps:
  - mmap: { pid: 1, as: buf, addr: "0x40000000", len: 4M, prot: rw, flags: private|anonymous|fixed }
  - write: { pid: 1, at: buf, len: 4K, pattern: 1 }
  - munmap: { pid: 1, at: buf+1, len: 4096, expectError: EINVAL }
  - compact: {}
  - checkpoint: c1
  - expect:
      - { counter: pgfault, since: c1, equals: 0 }
      - { invariants: clean }
`);
  });

  it("reads back to the same scenario", () => {
    const text = scenarioFromOps("repro", { arch: "arm64:4k-48", nodes: 2, movable: "64M", swap: "16M" }, { "transparent_hugepage/enabled": "madvise" }, STEPS, { files: { f: { size: "64K", shmem: true } } });
    const s = parseScenario(text, "repro.yaml");
    expect(s.machine).toEqual({ arch: "arm64:4k-48", nodes: 2, movable: "64M", swap: "16M" });
    expect(s.settings).toEqual([["transparent_hugepage/enabled", "madvise"]]);
    expect(s.files).toEqual({ f: { size: "64K", shmem: true } });
    expect(s.steps.map((x) => ({ op: x.op, arg: x.arg, expectError: x.expectError }))).toEqual(STEPS.map((x) => ({ op: x.op, arg: x.arg, expectError: x.expectError })));
    expect(s.steps.map((x) => x.line)).toEqual([14, 15, 16, 17, 18, 19]);
  });

  it("round-trips any address and size text (fast-check, fixed seed)", () => {
    const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/);
    // Whole pages, as system-call lengths must be in a scenario.
    const sizeText = fc.oneof(
      fc.nat({ max: 2 ** 28 }).map((n) => n * 4096),
      fc.nat({ max: 1024 }).map((n) => `${n * 4}K`),
      fc.nat({ max: 64 }).map((n) => `${n}M`),
      fc.nat({ max: 2 ** 28 }).map((n) => `0x${(n * 4096).toString(16)}`),
    );
    fc.assert(
      fc.property(name, sizeText, sizeText, fc.boolean(), (n, len, off, minus) => {
        const steps: Step[] = [
          { op: "mmap", arg: { pid: 1, as: n, len, prot: "rw", flags: ["private", "anonymous"] }, line: 0 },
          { op: "read", arg: { pid: 1, at: `${n}${minus ? "-" : "+"}${off}`, len }, line: 0 },
        ];
        const s = parseScenario(scenarioFromOps("p", { arch: "x86-64", nodes: 1, movable: 0, swap: 0 }, [], steps), "p.yaml");
        expect(s.steps.map((x) => x.arg)).toEqual(steps.map((x) => x.arg));
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it("refuses a name the format does not allow", () => {
    expect(() => scenarioFromOps("Repro 1", { arch: "x86-64", nodes: 1, movable: 0, swap: 0 }, [], [])).toThrow('invalid scenario name "Repro 1": expected lower-case letters, digits and -');
  });
});
