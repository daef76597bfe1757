import { ArchInputError } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { createPpc8xxBackend } from "./backend";
import { PPC8XX_VARIANTS, type Ppc8xxOptions, resolvePpc8xxVariant } from "./options";

describe("factory and options", () => {
  it("defaults to 4K pages", () => {
    const b = createPpc8xxBackend();
    expect(b.variant).toBe("4k");
    expect(b.id).toBe("ppc8xx:4k");
    expect(b.arch).toBe("ppc8xx");
    expect(b.specificationVersion).toBe("v1");
    expect(b.geometry.pageShift).toBe(12);
  });

  it("accepts a variant string, an id and options", () => {
    expect(createPpc8xxBackend("16k").geometry.pageShift).toBe(14);
    expect(createPpc8xxBackend("ppc8xx:16k").variant).toBe("16k");
    expect(createPpc8xxBackend({ pageSize: "16k" }).variant).toBe("16k");
    expect(createPpc8xxBackend({}).variant).toBe("4k");
    expect(PPC8XX_VARIANTS).toEqual(["4k", "16k"]);
  });

  it("recreates every variant from its id", () => {
    for (const v of PPC8XX_VARIANTS) {
      const b = createPpc8xxBackend(v);
      expect(createPpc8xxBackend(b.id).id).toBe(b.id);
      expect(b.description).toMatch(v === "16k" ? /16K pages/ : /4K pages/);
    }
  });

  it("rejects unknown variants and option values, naming the choices", () => {
    expect(() => createPpc8xxBackend("64k")).toThrow(ArchInputError);
    expect(() => createPpc8xxBackend("64k")).toThrow(/"4k", "16k"/);
    expect(() => createPpc8xxBackend("x86-64:4k")).toThrow(/ppc8xx variant/);
    expect(() => createPpc8xxBackend({ pageSize: "8k" } as unknown as Ppc8xxOptions)).toThrow(/pageSize "8k".*"4k", "16k"/);
    expect(() => resolvePpc8xxVariant({ pages: "4k" } as unknown as Ppc8xxOptions)).toThrow(/option "pages".*pageSize/);
    expect(() => resolvePpc8xxVariant(null as unknown as Ppc8xxOptions)).toThrow(ArchInputError);
  });
});
