import { entryOf, entryRegs } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { loadEntry, storeEntry, storeWords } from "./table-storage";

describe("raw table storage", () => {
  it("an entry is the word pair at 2 * index, low word first", () => {
    const table = new Uint32Array(8);
    storeEntry(table, 2, entryOf(0x8123456789abcdefn), 0);
    expect(Array.from(table)).toEqual([0, 0, 0, 0, 0x89abcdef, 0x81234567, 0, 0]);
    const r = entryRegs(2);
    loadEntry(table, 2, r, 2);
    expect([r[2], r[3]]).toEqual([0x89abcdef, 0x81234567]);
    storeWords(table, 2, 0, 0);
    expect(Array.from(table)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
