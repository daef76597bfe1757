import { describe, expect, it } from "vitest";
import { TableMap } from "./table-map";

describe("TableMap", () => {
  it("finds tables by physical address above 2^31 and at fragment offsets, and iterates them with their addresses", () => {
    const ix = new TableMap<string>(4096);
    const pas = [0x1000, 2 ** 33 + 0x3000, 2 ** 40, 2 ** 33 + 0x2000];
    for (const pa of pas) ix.set(pa, `t${pa}`);
    expect(ix.size).toBe(4);
    for (const pa of pas) expect(ix.get(pa)).toBe(`t${pa}`);
    expect(ix.has(2 ** 33 + 0x1000)).toBe(false);
    expect(new Set([...ix].map(([pa]) => pa))).toEqual(new Set(pas));
    expect(ix.delete(2 ** 40)).toBe(true);
    expect(ix.get(2 ** 40)).toBeUndefined();
    expect([...ix.entries()].map(([pa, v]) => [pa, v]).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([
      [0x1000, "t4096"],
      [2 ** 33 + 0x2000, `t${2 ** 33 + 0x2000}`],
      [2 ** 33 + 0x3000, `t${2 ** 33 + 0x3000}`],
    ]);
  });

  it("keeps each table's value apart", () => {
    const st = new TableMap<Uint32Array>(4096);
    const a = new Uint32Array(2);
    st.set(2 ** 35, a);
    expect(st.get(2 ** 35)).toBe(a);
    expect(st.get(2 ** 35 + 4096)).toBeUndefined();
    st.delete(2 ** 35);
    expect(st.get(2 ** 35)).toBeUndefined();
  });
});
