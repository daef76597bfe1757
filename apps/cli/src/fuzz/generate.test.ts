import { parseScenario, scenarioFromOps, stepNames, validateScenario } from "@hugemm/scenario";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toScenario } from "./case";
import { generate } from "./generate";
import { ADVICE_WEIGHTS } from "./ops";
import { archProfile, machineFor } from "./profile";

const ARCHES = ["x86-64", "arm64:4k", "ppc8xx:4k"] as const;

describe("generate", () => {
  it("is deterministic: the same options give the same case", () => {
    expect(generate({ arch: "x86-64", ops: 120, seed: 9 })).toEqual(generate({ arch: "x86-64", ops: 120, seed: 9 }));
    expect(generate({ arch: "x86-64", ops: 120, seed: 9 })).not.toEqual(generate({ arch: "x86-64", ops: 120, seed: 10 }));
  });

  it("makes exactly `ops` steps, named m0, m1, ... in the order they are bound", () => {
    const c = generate({ arch: "arm64:4k", ops: 200, seed: 3 });
    expect(c.steps).toHaveLength(200);
    const bound = c.steps.filter((s) => s.op === "mmap").map((s) => (s.arg as { as?: string }).as).filter((n) => n !== undefined);
    expect(bound).toEqual(bound.map((_, i) => `m${i}`));
  });

  it("every sequence passes scope checking, on every arch and seed (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ARCHES), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 250 }), (arch, seed, ops) => {
        const c = generate({ arch, ops, seed });
        validateScenario(toScenario(c));
      }),
      { seed: 20260501, numRuns: 150 },
    );
  });

  it("writes each sequence as YAML that reads back to the same steps (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ARCHES), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (arch, seed) => {
        const c = generate({ arch, ops: 60, seed });
        const s = parseScenario(scenarioFromOps("roundtrip", c.machine, c.settings, c.steps, { seed: c.seed, files: c.files }), "roundtrip.yaml");
        expect(s.steps.map((x) => [x.op, x.arg])).toEqual(c.steps.map((x) => [x.op, x.arg]));
        expect(s.settings).toEqual(c.settings);
        expect(s.machine).toEqual(c.machine);
        expect(s.seed).toBe(seed);
      }),
      { seed: 77, numRuns: 40 },
    );
  });

  /*
   * Steps and advice the format gained after the seeded sequences the
   * planted-bug tests pin down; generating them would reshuffle every
   * sequence, so the generator does not make them yet.
   */
  const NOT_GENERATED_STEPS = ["checkpoint", "expect", "clear_refs", "lru_add_drain"];
  const NOT_GENERATED_ADVICE = ["remove"];

  it("uses every step of the scenario format but checkpoint, expect, clear_refs and lru_add_drain, over a few sequences", () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) for (const s of generate({ arch: "x86-64", ops: 200, seed }).steps) seen.add(s.op);
    expect([...seen].sort()).toEqual(stepNames().filter((n) => !NOT_GENERATED_STEPS.includes(n)));
  });

  it("uses every madvise advice the scenario format accepts but remove", () => {
    const advice = ADVICE_WEIGHTS.map(([a]) => a);
    const c = toScenario(generate({ arch: "x86-64", ops: 1, seed: 1 }));
    const steps = [{ op: "mmap", arg: { pid: 1, as: "b", len: "2M", prot: "rw", flags: "private|anonymous" }, line: 0 }, ...advice.map((a) => ({ op: "madvise", arg: { pid: 1, at: "b", len: "4K", advice: a }, line: 0 }))];
    expect(() => validateScenario({ ...c, steps })).not.toThrow();
    const rejected = { op: "madvise", arg: { pid: 1, at: "b", len: "4K", advice: "bogus" }, line: 0 };
    const err = (() => {
      try {
        validateScenario({ ...c, steps: [...steps, rejected] });
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    })();
    // The list the format accepts is exactly the generator's.
    const accepted = /one of (.*), got "bogus"$/.exec(err)![1]!.split(", ");
    expect([...accepted].sort()).toEqual([...advice, ...NOT_GENERATED_ADVICE].sort());
  });

  it("ranges are whole 4K pages, relative to names, and favour PMD boundaries", () => {
    const c = generate({ arch: "x86-64", ops: 400, seed: 5 });
    let straddles = 0;
    for (const s of c.steps) {
      const a = s.arg as Record<string, unknown>;
      for (const f of ["len", "newLen"]) if (typeof a[f] === "string") expect(a[f]).toMatch(/^\d+[KMG]$/);
      if (typeof a.at === "string") {
        expect(a.at).toMatch(/^m\d+(\+\d+[KMG](-\d+K)?)?$/);
        if (/\+\d+M-\d+K$/.test(a.at)) straddles++;
      }
    }
    expect(straddles).toBeGreaterThan(5);
  });

  it("refuses a bad op count or arch, naming it", () => {
    expect(() => generate({ arch: "x86-64", ops: -1, seed: 1 })).toThrow("ops is -1: expected a whole number of steps");
    expect(() => generate({ arch: "sparc", ops: 5, seed: 1 })).toThrow('unknown arch "sparc": expected one of x86-64, arm64, ppc8xx, optionally with ":variant"');
  });
});

describe("archProfile and machineFor", () => {
  it("knows each arch's page, PMD and PUD sizes and its mTHP directories", () => {
    const x = archProfile("x86-64");
    expect([x.id, x.pageSize, x.pmdSize, x.pudSize, x.pmdOrder, x.pmdDir, x.pudDir]).toEqual(["x86-64:4level", 4096, 2 ** 21, 2 ** 30, 9, "hugepages-2048kB", "hugepages-1048576kB"]);
    expect(x.mthpDirs).toEqual(["hugepages-16kB", "hugepages-32kB", "hugepages-64kB", "hugepages-128kB", "hugepages-256kB", "hugepages-512kB", "hugepages-1024kB"]);
    const a = archProfile("arm64:64k");
    expect([a.pageSize, a.pmdSize, a.pudSize, a.mthpSizes[0]]).toEqual([65536, 2 ** 29, null, 256 * 1024]);
    const p = archProfile("ppc8xx:4k");
    expect([p.pmdThp, p.pmdOrder, p.pmdDir, p.mthpDirs.length, p.pmdSize]).toEqual([false, -1, null, 0, 4 * 2 ** 20]);
  });

  it("gives small 2-node machines with a little swap, and room for a PUD THP when one may be mapped", () => {
    expect(machineFor(archProfile("x86-64"), false)).toEqual({ arch: "x86-64", memory: "512M", nodes: 2, movable: 0, swap: "16M" });
    expect(machineFor(archProfile("x86-64"), true)).toEqual({ arch: "x86-64", memory: "4G", nodes: 2, movable: 0, swap: "16M" });
    expect(machineFor(archProfile("arm64:64k"), false)).toEqual({ arch: "arm64:64k", memory: "4G", nodes: 2, movable: 0, swap: "32M" });
  });
});
