import { describe, expect, it } from "vitest";
import { MIGRATE_PFN_COMPOUND, MIGRATE_PFN_MIGRATE, MIGRATE_PFN_VALID, MIGRATE_PFN_WRITE, migratePfn, mpfnFlags, mpfnHas, mpfnToPfn, mpfnWith } from "./migrate-pfn";

describe("migrate_pfn entries", () => {
  it("carry the flags in the low six bits and the pfn above, past 32 bits too", () => {
    const high = 2 ** 31 + 12345;
    const v = migratePfn(high) + MIGRATE_PFN_MIGRATE + MIGRATE_PFN_WRITE;
    expect(v).toBe(high * 64 + 1 + 2 + 8);
    expect(mpfnToPfn(v)).toBe(high);
    expect(mpfnFlags(v)).toBe(MIGRATE_PFN_VALID | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE);
    expect(mpfnHas(v, MIGRATE_PFN_COMPOUND)).toBe(false);
    expect(mpfnToPfn(MIGRATE_PFN_MIGRATE + MIGRATE_PFN_COMPOUND)).toBe(-1);
  });

  it("set and clear one flag without touching the rest", () => {
    const v = migratePfn(77) + MIGRATE_PFN_MIGRATE;
    const c = mpfnWith(v, MIGRATE_PFN_COMPOUND, true);
    expect(mpfnWith(c, MIGRATE_PFN_COMPOUND, true)).toBe(c);
    expect(mpfnWith(c, MIGRATE_PFN_MIGRATE, false)).toBe(migratePfn(77) + MIGRATE_PFN_COMPOUND);
    expect(mpfnWith(v, MIGRATE_PFN_WRITE, false)).toBe(v);
  });
});
