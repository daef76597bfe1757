import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArchInputError } from "./errors";
import {
  MAX_SWAPFILES,
  SWP_DEVICE_EXCLUSIVE,
  SWP_HWPOISON,
  SWP_MIGRATION_WRITE,
  SWP_PTE_MARKER,
  SoftleafType,
  migrationDirty,
  migrationOffset,
  migrationYoung,
  softleafFormat,
  softleafHasPfn,
  softleafPfn,
  softleafTypeOf,
  swpTypeOf,
} from "./softleaf";

describe("generic swap types", () => {
  it("carves the special types off the top of the 5-bit space as include/linux/swap.h does", () => {
    expect(MAX_SWAPFILES).toBe(24);
    expect([SWP_HWPOISON, SWP_MIGRATION_WRITE, SWP_DEVICE_EXCLUSIVE, SWP_PTE_MARKER]).toEqual([24, 27, 30, 31]);
    for (let t = 0; t < 24; t++) expect(softleafTypeOf(t)).toBe(SoftleafType.SWAP);
    for (let t = 24; t < 32; t++) expect(swpTypeOf(softleafTypeOf(t))).toBe(t);
  });
  it("knows which softleaves carry a pfn", () => {
    expect(softleafHasPfn(SoftleafType.SWAP)).toBe(false);
    expect(softleafHasPfn(SoftleafType.MARKER)).toBe(false);
    expect(softleafHasPfn(SoftleafType.MIGRATION_READ_EXCLUSIVE)).toBe(true);
    expect(softleafHasPfn(SoftleafType.DEVICE_PRIVATE_WRITE)).toBe(true);
    expect(softleafHasPfn(SoftleafType.HWPOISON)).toBe(true);
  });
  it("rejects a swap type outside 0..31 and a swap softleaf without a device", () => {
    expect(() => softleafTypeOf(32)).toThrow(ArchInputError);
    expect(() => swpTypeOf(SoftleafType.SWAP)).toThrow(/non-swap softleaf/);
  });
});

describe("migration offsets", () => {
  it("put young and dirty just above the pfn bits when the offset has room", () => {
    const f = softleafFormat(40, 50);
    expect(f.migrationYoungDirty).toBe(true);
    expect(migrationOffset(f, 5, true, false)).toBe(5 + 2 ** 40);
    expect(migrationOffset(f, 5, false, true)).toBe(5 + 2 ** 41);
  });
  it("drop young and dirty when the offset has no room (the page comes back old and clean)", () => {
    const f = softleafFormat(40, 41);
    expect(f.migrationYoungDirty).toBe(false);
    expect(migrationOffset(f, 5, true, true)).toBe(5);
    expect(migrationYoung(f, 5)).toBe(false);
  });
  it("round trip any pfn, young and dirty (property)", () => {
    const f = softleafFormat(40, 50);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 40n - 1n }).map(Number), fc.boolean(), fc.boolean(), (pfn, y, d) => {
        const off = migrationOffset(f, pfn, y, d);
        expect([softleafPfn(f, off), migrationYoung(f, off), migrationDirty(f, off)]).toEqual([pfn, y, d]);
      }),
      { seed: 7 },
    );
  });
  it("rejects a pfn wider than SWP_PFN_BITS", () => {
    expect(() => migrationOffset(softleafFormat(20, 24), 2 ** 20, false, false)).toThrow(/migration pfn .*2\^20/);
  });
});
