import { ArchInputError, entryRegs, entryToBigInt } from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSwpOffset, decodeSwpType, encodeSoftleaf, SWP_OFFSET_MAX } from "./softleaf";

function swp(type: number, offset: number): bigint {
  const v = entryRegs(1);
  encodeSoftleaf(v, 0, type, offset);
  return entryToBigInt(v, 0);
}

describe("x86-64 swap entries", () => {
  it("store the type in bits 59..63 and ~offset in bits 9..58", () => {
    expect(swp(0, 0)).toBe(0x07fffffffffffe00n);
    expect(swp(5, 0x1234)).toBe(0x2fffffffffdb9600n);
    expect(swp(27, 0x1234)).toBe(0xdfffffffffdb9600n);
    expect(swp(31, SWP_OFFSET_MAX)).toBe(0xf800000000000000n);
  });
  it("leave P, PSE, PROTNONE and the flag bits 1..3 clear", () => {
    for (const [t, o] of [
      [0, 0],
      [31, 1],
      [24, SWP_OFFSET_MAX],
    ] as const) {
      expect(swp(t, o) & 0x1ffn).toBe(0n);
    }
  });
  it("type 0 with the largest offset encodes as all zeroes: the same bits as pte_none", () => {
    expect(swp(0, SWP_OFFSET_MAX)).toBe(0n);
  });
  it("decode what they encode (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: SWP_OFFSET_MAX }), fc.integer({ min: 0, max: 15 }), (type, offset, flags) => {
        const v = entryRegs(1);
        encodeSoftleaf(v, 0, type, offset);
        v[0] = v[0]! | (flags << 1); // swap flags must not disturb the fields
        expect(decodeSwpType(v, 0)).toBe(type);
        expect(decodeSwpOffset(v, 0)).toBe(offset);
      }),
      { seed: 0x86, numRuns: 500 },
    );
  });
  it("reject a type outside 0..31 and an offset of 2^50 or more", () => {
    const v = entryRegs(1);
    expect(() => encodeSoftleaf(v, 0, 32, 1)).toThrow(ArchInputError);
    expect(() => encodeSoftleaf(v, 0, 1, 2 ** 50)).toThrow(/swap offset/);
    expect(() => encodeSoftleaf(v, 0, 1, -1)).toThrow(ArchInputError);
    expect(Array.from(v)).toEqual([0, 0]);
  });
});
