import { describe, expect, it } from "vitest";
import { TableIndex, TableStorage } from "./table-index";
import type { TableInfo } from "./tables";

const info = (pa: number): TableInfo => ({ pa, level: 0, mm: 1, pfn: Math.floor(pa / 16384), deposited: false });

describe("TableIndex", () => {
  it("finds tables by physical address above 2^31 and at fragment offsets, and iterates them with their addresses", () => {
    const ix = new TableIndex(4096);
    const pas = [0x1000, 2 ** 33 + 0x3000, 2 ** 40, 2 ** 33 + 0x2000];
    for (const pa of pas) ix.set(info(pa));
    expect(ix.size).toBe(4);
    for (const pa of pas) expect(ix.get(pa)?.pa).toBe(pa);
    expect(ix.has(2 ** 33 + 0x1000)).toBe(false);
    expect(new Set([...ix].map(([pa]) => pa))).toEqual(new Set(pas));
    expect(ix.delete(2 ** 40)).toBe(true);
    expect(ix.get(2 ** 40)).toBeUndefined();
    expect([...ix.values()].map((i) => i.pa).sort((a, b) => a - b)).toEqual([0x1000, 2 ** 33 + 0x2000, 2 ** 33 + 0x3000]);
  });

  it("keeps storage apart per table", () => {
    const st = new TableStorage(4096);
    const a = new Uint32Array(2);
    st.set(2 ** 35, a);
    expect(st.get(2 ** 35)).toBe(a);
    expect(st.get(2 ** 35 + 4096)).toBeUndefined();
    st.delete(2 ** 35);
    expect(st.get(2 ** 35)).toBeUndefined();
  });
});
