import { entryOf, entryToBigInt } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { clearSaveddirty, mksaveddirty } from "./saved-dirty";

const D = 0x40n;
const RW = 0x2n;
const SAVED = 1n << 58n;

describe("saved-dirty shifts", () => {
  it("mksaveddirty moves Dirty to SavedDirty only when Write is clear", () => {
    const ro = entryOf(0x1234000n | 0x25n | D);
    mksaveddirty(ro, 0);
    expect(entryToBigInt(ro, 0)).toBe(0x1234025n | SAVED);
    const rw = entryOf(0x1234000n | 0x25n | RW | D);
    mksaveddirty(rw, 0);
    expect(entryToBigInt(rw, 0)).toBe(0x1234067n);
  });
  it("mksaveddirty keeps an existing SavedDirty when Dirty is clear", () => {
    const v = entryOf(0x1234025n | SAVED);
    mksaveddirty(v, 0);
    expect(entryToBigInt(v, 0)).toBe(0x1234025n | SAVED);
  });
  it("clear_saveddirty moves SavedDirty back only when Write is set", () => {
    const rw = entryOf(0x1234027n | SAVED);
    clearSaveddirty(rw, 0);
    expect(entryToBigInt(rw, 0)).toBe(0x1234067n);
    const ro = entryOf(0x1234025n | SAVED);
    clearSaveddirty(ro, 0);
    expect(entryToBigInt(ro, 0)).toBe(0x1234025n | SAVED);
  });
});
