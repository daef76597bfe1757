import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AdaptiveCoarsener, Coarsener, cellSizeFor } from "./coarsen";

describe("cellSizeFor", () => {
  it("is the unit while the range fits in the cell limit, else the next power-of-two multiple", () => {
    expect(cellSizeFor(4096 * 100, 4096, 100)).toBe(4096);
    expect(cellSizeFor(4096 * 101, 4096, 100)).toBe(8192);
    expect(cellSizeFor(2 ** 30, 4096, 1024)).toBe(2 ** 20);
    expect(cellSizeFor(262144, 1, 2048)).toBe(128);
  });

  it("refuses a cell limit that is not a positive integer", () => {
    expect(() => cellSizeFor(10, 1, 0)).toThrow("cell limit 0: expected a positive integer");
  });
});

describe("Coarsener", () => {
  it("merges consecutive spans of one key and keeps exact runs at unit cells", () => {
    const c = new Coarsener(0, 10, 1);
    c.add(0, 2, "a", 1);
    c.add(2, 3, "a", 1);
    c.add(5, 5, "b", 2);
    expect(c.finish()).toEqual([
      { start: 0, size: 5, key: "a", count: 2 },
      { start: 5, size: 5, key: "b", count: 2 },
    ]);
  });

  it("folds a cell holding several keys into one cell with its mix, largest first", () => {
    const c = new Coarsener(100, 132, 8);
    c.add(100, 3, "x", 1);
    c.add(103, 5, "y", 1);
    c.add(108, 20, "x", 4);
    c.add(128, 4, "z");
    expect(c.finish()).toEqual([
      { start: 100, size: 8, key: "y", count: 2, mix: [["y", 5], ["x", 3]] },
      { start: 108, size: 16, key: "x", count: 4 },
      // A tie goes to the key that sorts first.
      { start: 124, size: 8, key: "x", count: 0, mix: [["x", 4], ["z", 4]] },
    ]);
  });

  it("keeps a run spanning many cells whole and merges a cell filled by one key into it", () => {
    const c = new Coarsener(0, 64, 8);
    c.add(0, 4, "a");
    c.add(4, 4, "a");
    c.add(8, 50, "a");
    c.add(58, 6, "b");
    expect(c.finish()).toEqual([
      { start: 0, size: 56, key: "a", count: 0 },
      { start: 56, size: 8, key: "b", count: 0, mix: [["b", 6], ["a", 2]] },
    ]);
  });

  it("refuses spans out of order, outside the range, or a range left short", () => {
    const c = new Coarsener(0, 10, 1);
    expect(() => c.add(1, 2, "a")).toThrow("span at 1 does not follow the last one (expected 0)");
    expect(() => c.add(0, 11, "a")).toThrow("span [0, 11) is empty or leaves [0, 10)");
    c.add(0, 4, "a");
    expect(() => c.finish()).toThrow("spans end at 4, short of 10");
  });

  it("covers the range exactly, within the cell limit, with no two equal runs adjacent", () => {
    const spans = fc.array(fc.record({ size: fc.integer({ min: 1, max: 300 }), key: fc.constantFrom("a", "b", "c") }), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(spans, fc.integer({ min: 1, max: 40 }), (list, maxCells) => {
        const total = list.reduce((s, x) => s + x.size, 0);
        const size = cellSizeFor(total, 1, maxCells);
        const c = new Coarsener(0, total, size);
        let at = 0;
        for (const s of list) {
          c.add(at, s.size, s.key, 1);
          at += s.size;
        }
        const out = c.finish();
        let pos = 0;
        let count = 0;
        for (const [i, cell] of out.entries()) {
          expect(cell.start).toBe(pos);
          pos += cell.size;
          count += cell.count;
          if (cell.mix !== undefined) {
            expect(cell.mix.reduce((s, [, n]) => s + n, 0)).toBe(cell.size);
            expect(cell.size).toBeLessThanOrEqual(size);
            expect(cell.key).toBe(cell.mix[0]![0]);
          }
          const prev = out[i - 1];
          if (prev !== undefined && prev.mix === undefined && cell.mix === undefined) expect(prev.key).not.toBe(cell.key);
        }
        expect(pos).toBe(total);
        expect(count).toBe(list.length);
        expect(out.length).toBeLessThanOrEqual(maxCells);
      }),
      { seed: 20260101, numRuns: 300 },
    );
  });
});

describe("AdaptiveCoarsener", () => {
  it("keeps runs exact while they fit the limit, however large the range", () => {
    const c = new AdaptiveCoarsener(0, 2 ** 36, 4096, 4);
    c.add(0, 2 ** 35, "none");
    c.add(2 ** 35, 4096, "pte", 1);
    c.add(2 ** 35 + 4096, 2 ** 35 - 4096, "none");
    expect(c.cellSize).toBe(0);
    expect(c.finish()).toEqual([
      { start: 0, size: 2 ** 35, key: "none", count: 0 },
      { start: 2 ** 35, size: 4096, key: "pte", count: 1 },
      { start: 2 ** 35 + 4096, size: 2 ** 35 - 4096, key: "none", count: 0 },
    ]);
  });

  it("folds into cells once the runs pass the limit, replaying those already seen", () => {
    const c = new AdaptiveCoarsener(0, 16, 1, 4);
    for (let i = 0; i < 16; i++) c.add(i, 1, i % 2 === 0 ? "a" : "b", 1);
    expect(c.cellSize).toBe(4);
    expect(c.finish()).toEqual([0, 4, 8, 12].map((start) => ({ start, size: 4, key: "a", count: 4, mix: [["a", 2], ["b", 2]] })));
  });
});
