import { ArchInputError } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { parseVariant, resolveOptions, variantOf, X86_64_VARIANTS } from "./options";

describe("x86-64 options", () => {
  it("defaults to 4-level paging, shadow stacks, and the fixed pmd_modify", () => {
    expect(resolveOptions(undefined)).toEqual({ levels: 4, shadowStack: true, pmdModifyKeepsDirty: true });
    expect(resolveOptions({})).toEqual({ levels: 4, shadowStack: true, pmdModifyKeepsDirty: true });
  });
  it("parses variant strings, with or without the arch prefix and knob suffixes", () => {
    expect(X86_64_VARIANTS).toEqual(["4level", "5level"]);
    expect(parseVariant("5level").levels).toBe(5);
    expect(parseVariant("x86-64:4level").levels).toBe(4);
    expect(parseVariant("5level+no-shstk")).toEqual({ levels: 5, shadowStack: false, pmdModifyKeepsDirty: true });
    expect(parseVariant("4level+pmd-modify-drops-dirty+no-shstk")).toEqual({ levels: 4, shadowStack: false, pmdModifyKeepsDirty: false });
  });
  it("variantOf inverts parseVariant", () => {
    for (const v of ["4level", "5level", "4level+no-shstk", "5level+pmd-modify-drops-dirty", "5level+no-shstk+pmd-modify-drops-dirty"]) {
      expect(variantOf(parseVariant(v))).toBe(v);
    }
    expect(variantOf(resolveOptions({ levels: 5, shadowStack: false }))).toBe("5level+no-shstk");
  });
  it("rejects unknown variants, knobs and option values, naming the choices", () => {
    expect(() => parseVariant("3level")).toThrow(ArchInputError);
    expect(() => parseVariant("3level")).toThrow(/"4level", "5level"/);
    expect(() => parseVariant("4level+la57")).toThrow(/"no-shstk" or "pmd-modify-drops-dirty"/);
    // @ts-expect-error deliberately outside the option type
    expect(() => resolveOptions({ levels: 6 })).toThrow(/invalid x86-64 option levels 6: expected 4 or 5/);
    // @ts-expect-error deliberately outside the option type
    expect(() => resolveOptions({ levels: "5" })).toThrow(ArchInputError);
    // @ts-expect-error deliberately outside the option type
    expect(() => resolveOptions({ level: 5 })).toThrow(/one of levels, shadowStack, pmdModifyKeepsDirty/);
    // @ts-expect-error deliberately outside the option type
    expect(() => resolveOptions({ shadowStack: 1 })).toThrow(ArchInputError);
    // @ts-expect-error deliberately outside the option type
    expect(() => resolveOptions({ pmdModifyKeepsDirty: "yes" })).toThrow(ArchInputError);
    // @ts-expect-error deliberately outside the option type
    expect(() => resolveOptions(5)).toThrow(ArchInputError);
  });
});
