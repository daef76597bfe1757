import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entryFromBigInt, entryHex, entryRegs, entryToBigInt, readNumber, testBit, writeNumber } from "./entry";
import { ArchInputError, checkRange } from "./errors";
import { checkProt, protString } from "./prot";
import { parseLevel } from "./level";

describe("entry registers", () => {
  it("hold 64-bit values as two words (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (x) => {
        const v = entryRegs(2);
        entryFromBigInt(v, 2, x);
        expect(entryToBigInt(v, 2)).toBe(x);
        for (const b of [0, 31, 32, 63]) expect(testBit(v, 2, b)).toBe(((x >> BigInt(b)) & 1n) === 1n);
      }),
      { seed: 1 },
    );
  });
  it("format at the arch's width", () => {
    const v = entryRegs(1);
    entryFromBigInt(v, 0, 0x8000_0000_0000_0867n);
    expect(entryHex(v, 0)).toBe("0x8000000000000867");
    expect(entryHex(v, 0, 32)).toBe("0x00000867");
  });
  it("split numbers below 2^53 exactly", () => {
    const v = entryRegs(1);
    writeNumber(v, 0, 2 ** 52 + 3);
    expect(readNumber(v, 0)).toBe(2 ** 52 + 3);
  });
});

describe("input errors", () => {
  it("name the input, the value and the valid range", () => {
    expect(() => checkRange("pfn", 2 ** 40, 0, 2 ** 40 - 1)).toThrow("invalid pfn 1099511627776 (0x10000000000): expected an integer in [0, 0xffffffffff]");
    expect(() => checkProt(16)).toThrow(ArchInputError);
    expect(() => parseLevel("pmx")).toThrow(/unknown page-table level "pmx"/);
    expect(protString(0b1011)).toBe("rw-s");
  });
});
