import { ArchInputError } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { ARM64_VARIANTS, createArm64Backend, parseArm64Options, type Arm64Options } from "./index";

describe("arm64 options and variants", () => {
  it("lists the ten granule/VA variants", () => {
    expect(ARM64_VARIANTS).toEqual(["4k-39", "4k-48", "4k-52", "16k-36", "16k-47", "16k-48", "16k-52", "64k-42", "64k-48", "64k-52"]);
  });

  it("defaults to 4K pages with 48-bit VA and 4 levels", () => {
    const b = createArm64Backend();
    expect(b.id).toBe("arm64:4k-48");
    expect(b.config.levels).toBe(4);
    expect(b.description).toBe("arm64, 4K granule, 48-bit VA, 4 levels");
  });

  it.each([
    ["4k-39", 12, 3, 48, false, false],
    ["4k-48", 12, 4, 48, false, false],
    ["4k-52", 12, 5, 52, true, false],
    ["16k-36", 14, 2, 48, false, false],
    ["16k-47", 14, 3, 48, false, false],
    ["16k-48", 14, 4, 48, false, false],
    ["16k-52", 14, 4, 52, true, false],
    ["64k-42", 16, 2, 48, false, false],
    ["64k-48", 16, 3, 48, false, false],
    ["64k-52", 16, 3, 52, false, true],
  ])("%s: PAGE_SHIFT %i, %i levels, %i-bit PA, lpa2 %s, 64K 52-bit PA %s", (variant, pageShift, levels, physBits, lpa2, pa52) => {
    const c = parseArm64Options(variant);
    expect([c.pageShift, c.levels, c.physBits, c.lpa2, c.pa52In64k]).toEqual([pageShift, levels, physBits, lpa2, pa52]);
    expect(createArm64Backend(variant).variant).toBe(variant);
  });

  it("accepts an options object, a variant and the full id alike", () => {
    const a = createArm64Backend({ granule: "16k", vaBits: 47 });
    expect(a.id).toBe("arm64:16k-47");
    expect(createArm64Backend(a.id).id).toBe(a.id);
    expect(createArm64Backend(a.variant).id).toBe(a.id);
  });

  it("carries bbml2NoAbort in the variant so the id recreates it", () => {
    const b = createArm64Backend({ granule: "4k", vaBits: 48, bbml2NoAbort: true });
    expect(b.variant).toBe("4k-48+bbml2");
    expect(b.config.bbml2NoAbort).toBe(true);
    expect(createArm64Backend(b.id).config.bbml2NoAbort).toBe(true);
    expect(createArm64Backend("4k-48").config.bbml2NoAbort).toBe(false);
  });

  it("rejects an unknown granule, naming the valid ones", () => {
    const bad = { granule: "8k", vaBits: 48 } as unknown as Arm64Options;
    expect(() => createArm64Backend(bad)).toThrow(ArchInputError);
    expect(() => createArm64Backend(bad)).toThrow(/granule "8k": expected one of "4k", "16k", "64k"/);
  });

  it("rejects a VA size the granule does not support, naming the valid ones", () => {
    expect(() => createArm64Backend({ granule: "16k", vaBits: 39 })).toThrow(ArchInputError);
    expect(() => createArm64Backend({ granule: "16k", vaBits: 39 })).toThrow(/vaBits for the 16k granule 39: expected one of 36, 47, 48, 52/);
    expect(() => createArm64Backend({ granule: "64k", vaBits: 47 })).toThrow(/expected one of 42, 48, 52/);
    expect(() => createArm64Backend({ granule: "4k", vaBits: 36 })).toThrow(/expected one of 39, 48, 52/);
  });

  it("rejects an unknown variant string, listing the variants", () => {
    expect(() => createArm64Backend("4k-40")).toThrow(ArchInputError);
    expect(() => createArm64Backend("4k-40")).toThrow(/variant "4k-40": expected one of 4k-39, 4k-48, 4k-52, 16k-36/);
    expect(() => createArm64Backend("x86-64:4level")).toThrow(ArchInputError);
  });

  it("rejects a non-boolean bbml2NoAbort", () => {
    const bad = { granule: "4k", vaBits: 48, bbml2NoAbort: "yes" } as unknown as Arm64Options;
    expect(() => createArm64Backend(bad)).toThrow(/bbml2NoAbort "yes": expected true or false/);
  });
});
