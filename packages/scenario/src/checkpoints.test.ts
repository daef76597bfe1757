import { describe, expect, it } from "vitest";
import { runText } from "./test-helpers";

describe("checkpoints", () => {
  const r = () =>
    runText(`
name: checkpoints
machine: { memory: 1G }
settings:
  transparent_hugepage/enabled: never
steps:
  - mmap: { pid: 1, as: a, len: 64K, prot: rw, flags: private|anonymous }
  - checkpoint: mapped
  - write: { pid: 1, at: a, len: 32K, pattern: 1 }
  - checkpoint: half
  - write: { pid: 1, at: a+32K, len: 32K, pattern: 1 }
  - expect:
      - counter: pgfault
        since: start
        equals: 16
      - counter: pgfault
        since: mapped
        equals: 16
      - counter: pgfault
        since: half
        equals: 8
      - counter: pid1.rss_anon
        since: mapped
        equals: 16
      - counter: meminfo.AnonPages
        since: half
        equals: 32
`);

  it("snapshot every counter at start, at each checkpoint step and at the end", () => {
    const res = r();
    expect(res.checkpoints.map((c) => [c.name, c.step, c.counters.pgfault, c.counters["pid1.rss_anon"]])).toEqual([
      ["start", -1, 0, 0],
      ["mapped", 1, 0, 0],
      ["half", 3, 8, 8],
      ["end", 6, 16, 16],
    ]);
    expect(res.expects.map((e) => [e.actual, e.pass])).toEqual([
      [16, true],
      [16, true],
      [8, true],
      [16, true],
      [32, true],
    ]);
  });

  it("hold the whole namespace in each snapshot", () => {
    const c = r().checkpoints[3]!.counters;
    expect(c.nr_anon_pages).toBe(16);
    expect(c["meminfo.AnonPages"]).toBe(64);
    expect(c["hugepages-2048kB.anon_fault_alloc"]).toBe(0);
    expect(c["model.thp_split_pud_failed"]).toBe(0);
    expect(c["pid1.rss_file"]).toBe(0);
    expect(c["tlb.flushes"]).toBeGreaterThanOrEqual(0);
  });
});
