import { ArchInputError, entryOf, entryRegs, entryToBigInt } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { readSlot, writeSlot } from "./table-storage";

describe("table storage", () => {
  it("entry i lives in words 2i (low) and 2i+1 (high)", () => {
    const t = new Uint32Array(1024);
    writeSlot(t, 511, entryOf(0x8000000001234025n), 0);
    expect(t[1022]).toBe(0x01234025);
    expect(t[1023]).toBe(0x80000000);
    const back = entryRegs(1);
    readSlot(t, 511, back, 0);
    expect(entryToBigInt(back, 0)).toBe(0x8000000001234025n);
  });
  it("rejects an index outside 0..511", () => {
    const t = new Uint32Array(1024);
    for (const i of [512, -1, 1.5]) expect(() => readSlot(t, i, entryRegs(1), 0)).toThrow(ArchInputError);
  });
});
