import { MAP_ANONYMOUS, MAP_HUGETLB, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, type Kernel, type Mm } from "@hugemm/core";
import { propertyRuns } from "@hugemm/vitest-config/runs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Hugetlb } from "./feature";
import { counters, hugetlbKernel } from "./test-helpers";

const HPAGE = 2 << 20;

/**
 * libhugetlbfs tests/counters.c's own model of the pool counters (shared
 * reference §4): what Total, Free, Rsvd and Surp become after each step.
 */
class CountersModel {
  T = 0;
  F = 0;
  R = 0;
  S = 0;
  constructor(readonly overcommit: number) {}

  setNr(c: number): void {
    while (this.S > 0 && c > this.T - this.S) this.S--;
    while (c > this.T - this.S) {
      this.T++;
      this.F++;
    }
    const min = Math.max(c, this.R + this.T - this.F);
    while (min < this.T - this.S && this.F > 0) {
      this.F--;
      this.T--;
    }
    while (c < this.T - this.S) this.S++;
  }

  /** A reserved mapping of n pages: false when overcommit cannot cover it (mmap ENOMEM, nothing changes). */
  map(n: number): boolean {
    const short = Math.max(0, n + this.R - this.F);
    if (this.S + short > this.overcommit) return false;
    this.T += short;
    this.F += short;
    this.S += short;
    this.R += n;
    return true;
  }

  touch(n: number): void {
    this.F -= n;
    this.R -= n;
  }

  unmap(n: number, t: number): void {
    for (let i = 0; i < t; i++) {
      if (this.S > 0) {
        this.T--;
        this.S--;
      } else this.F++;
    }
    const unused = Math.min(n - t, this.S);
    this.T -= unused;
    this.F -= unused;
    this.S -= unused;
    this.R -= n - t;
  }

  get value(): [number, number, number, number] {
    return [this.T, this.F, this.R, this.S];
  }
}

interface Mapping {
  addr: number;
  n: number;
  touched: boolean;
}

function map(k: Kernel, mm: Mm, n: number, shared: boolean): number | null {
  const r = k.mmap(mm, { len: n * HPAGE, prot: PROT_READ | PROT_WRITE, flags: (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_HUGETLB });
  if (!r.ok) {
    expect(r.errno).toBe("ENOMEM");
    return null;
  }
  return r.value;
}

/** counters.c's verify_counters: the model's values, and its invariants (all >= 0, Free >= Rsvd). */
function verify(ht: Hugetlb, m: CountersModel, step: string): void {
  const got = counters(ht);
  expect(got, step).toEqual(m.value);
  for (const v of got) expect(v, step).toBeGreaterThanOrEqual(0);
  expect(got[1], step).toBeGreaterThanOrEqual(got[2]);
}

describe("libhugetlbfs counters.c", () => {
  it("follows the Clean pass from an empty pool step by step", () => {
    const { k, ht } = hugetlbKernel();
    const h = ht.defaultHstate;
    ht.setOvercommit(h, 2);
    const mm = k.createMm();
    const step = (want: [number, number, number, number], what: string) => expect(counters(ht), what).toEqual(want);
    ht.setNrHugepages(h, 0);
    step([0, 0, 0, 0], "set_nr(0)");
    for (const shared of [true, false]) {
      let a = map(k, mm, 1, shared)!;
      step([1, 1, 1, 1], `map 1 ${shared ? "shared" : "private"}`);
      k.munmap(mm, a, HPAGE);
      step([0, 0, 0, 0], "unmap");
      a = map(k, mm, 1, shared)!;
      k.touch(mm, a, HPAGE, true, 1);
      step([1, 0, 0, 1], "touch");
      k.munmap(mm, a, HPAGE);
      step([0, 0, 0, 0], "unmap touched");
    }
    const a = map(k, mm, 2, true)!;
    step([2, 2, 2, 2], "map 2 shared");
    ht.setNrHugepages(h, 1);
    step([2, 2, 2, 1], "set_nr(1): a surplus page becomes persistent");
    ht.setNrHugepages(h, 3);
    step([3, 3, 2, 0], "set_nr(3)");
    ht.setNrHugepages(h, 2);
    step([2, 2, 2, 0], "set_nr(2): the floor is 2 + 3 - 3");
    ht.setNrHugepages(h, 0);
    step([2, 2, 2, 2], "set_nr(0): the reserved pages become surplus");
    k.munmap(mm, a, 2 * HPAGE);
    step([0, 0, 0, 0], "unmap 2 shared, untouched");
  });

  it("keeps counters.c's model and invariants after every step from base pools 0 to 3", () => {
    for (const base of [0, 1, 2, 3]) {
      const { k, ht } = hugetlbKernel();
      const h = ht.defaultHstate;
      const m = new CountersModel(4);
      ht.setOvercommit(h, 4);
      const mm = k.createMm();
      ht.setNrHugepages(h, base);
      m.setNr(base);
      verify(ht, m, `base ${base}`);
      for (const shared of [true, false]) {
        for (const touch of [false, true]) {
          const a = map(k, mm, 1, shared);
          expect(m.map(1)).toBe(a !== null);
          verify(ht, m, `base ${base}: map`);
          if (a === null) continue;
          if (touch) {
            k.touch(mm, a, HPAGE, true, 1);
            m.touch(1);
            verify(ht, m, `base ${base}: touch`);
          }
          k.munmap(mm, a, HPAGE);
          m.unmap(1, touch ? 1 : 0);
          verify(ht, m, `base ${base}: unmap`);
        }
      }
      const a = map(k, mm, 2, true);
      expect(m.map(2)).toBe(a !== null);
      for (const c of [base + 1, base + 3, base + 2, base]) {
        ht.setNrHugepages(h, c);
        m.setNr(c);
        verify(ht, m, `base ${base}: set_nr(${c})`);
      }
      if (a !== null) {
        k.munmap(mm, a, 2 * HPAGE);
        m.unmap(2, 0);
      }
      verify(ht, m, `base ${base}: end`);
    }
  });

  it("agrees with counters.c's model on random map, touch, unmap and resize sequences", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("map" as const), n: fc.integer({ min: 1, max: 3 }), shared: fc.boolean() }),
      fc.record({ kind: fc.constant("touch" as const), i: fc.nat(4) }),
      fc.record({ kind: fc.constant("unmap" as const), i: fc.nat(4) }),
      fc.record({ kind: fc.constant("set_nr" as const), c: fc.integer({ min: 0, max: 6 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.array(op, { maxLength: 14 }), (overcommit, ops) => {
        const { k, ht } = hugetlbKernel("x86-64", "256M");
        const h = ht.defaultHstate;
        ht.setOvercommit(h, overcommit);
        const m = new CountersModel(overcommit);
        const mm = k.createMm();
        const maps: Mapping[] = [];
        for (const o of ops) {
          if (o.kind === "map") {
            const a = map(k, mm, o.n, o.shared);
            expect(m.map(o.n)).toBe(a !== null);
            if (a !== null) maps.push({ addr: a, n: o.n, touched: false });
          } else if (o.kind === "set_nr") {
            ht.setNrHugepages(h, o.c);
            m.setNr(o.c);
          } else {
            const mp = maps[o.i % Math.max(1, maps.length)];
            if (mp === undefined) continue;
            if (o.kind === "touch") {
              if (mp.touched) continue;
              expect(k.touch(mm, mp.addr, mp.n * HPAGE, true, 3).error).toBe(0);
              m.touch(mp.n);
              mp.touched = true;
            } else {
              k.munmap(mm, mp.addr, mp.n * HPAGE);
              m.unmap(mp.n, mp.touched ? mp.n : 0);
              maps.splice(maps.indexOf(mp), 1);
            }
          }
          verify(ht, m, JSON.stringify(o));
        }
      }),
      { numRuns: propertyRuns(40), seed: 1204 },
    );
  });
});
