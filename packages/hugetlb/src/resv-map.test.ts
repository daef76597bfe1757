import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ResvMap } from "./resv-map";
import { subpoolGet, subpoolPut, type Subpool } from "./subpool";

describe("resv_map regions", () => {
  it("coalesces added neighbours and splits a region a deletion straddles", () => {
    const m = new ResvMap();
    expect(m.add(0, 2)).toBe(2);
    expect(m.add(4, 6)).toBe(2);
    expect(m.add(2, 4)).toBe(2);
    expect(m.regions()).toEqual([[0, 6]]);
    expect(m.add(1, 3)).toBe(0);
    expect(m.del(2, 3)).toBe(1);
    expect(m.regions()).toEqual([
      [0, 2],
      [3, 6],
    ]);
    expect([m.has(1), m.has(2), m.has(3), m.has(6)]).toEqual([true, false, true, false]);
    expect(m.chg(0, 8)).toBe(3);
    expect(m.count(0, 8)).toBe(5);
    expect(m.del(0, Number.MAX_SAFE_INTEGER)).toBe(5);
    expect(m.size).toBe(0);
  });

  it("agrees with a set of indices under random adds and deletions", () => {
    const op = fc.record({ add: fc.boolean(), f: fc.nat(30), n: fc.integer({ min: 1, max: 8 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const m = new ResvMap();
        const set = new Set<number>();
        for (const o of ops) {
          const t = o.f + o.n;
          let changed = 0;
          for (let i = o.f; i < t; i++) {
            if (o.add === set.has(i)) continue;
            if (o.add) set.add(i);
            else set.delete(i);
            changed++;
          }
          expect(o.add ? m.add(o.f, t) : m.del(o.f, t)).toBe(changed);
          for (let i = 0; i < 40; i++) expect(m.has(i)).toBe(set.has(i));
          const regions = m.regions();
          // Sorted, disjoint and never adjacent.
          for (let i = 1; i < regions.length; i++) expect(regions[i]![0]).toBeGreaterThan(regions[i - 1]![1]);
        }
      }),
      { numRuns: propertyRuns(100), seed: 77 },
    );
  });
});

describe("hugepage subpools", () => {
  it("cover the first pages from the minimum and refill it when pages come back (the reference's worked example)", () => {
    const sp: Subpool = { max: 4, min: 2, used: 0, rsv: 2 };
    expect(subpoolGet(sp, 3)).toBe(1);
    expect([sp.used, sp.rsv]).toEqual([3, 0]);
    expect(subpoolGet(sp, 2)).toBe(-1);
    expect([subpoolPut(sp, 1), subpoolPut(sp, 1), subpoolPut(sp, 1)]).toEqual([1, 0, 0]);
    expect([sp.used, sp.rsv]).toEqual([0, 2]);
    expect(subpoolGet(null, 5)).toBe(5);
    expect(subpoolPut(null, 5)).toBe(5);
  });
});
