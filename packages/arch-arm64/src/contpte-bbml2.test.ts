import { PTE } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { contBits, foldBlock, tableFixture } from "./test-fixtures";

const RW = 11;

describe("contpte on a CPU with BBML2 and no TLB conflict aborts", () => {
  it("BBML2 without conflict aborts: fold and unfold skip the flush but write the same tables", () => {
    const plain = tableFixture("4k-48");
    const bbml2 = tableFixture("4k-48+bbml2");
    for (const f of [plain, bbml2]) {
      foldBlock(f, 16, 0x3000, RW, (v, i) => {
        if (i === 2) f.b.mkdirty(v, 0, PTE);
      });
      f.set(20, 0x9000, 1);
    }
    expect(plain.ctx.flushes.map((x) => x.reason)).toEqual(["contpte-convert", "contpte-convert"]);
    expect(bbml2.ctx.flushes).toEqual([]);
    for (let i = 0; i < 48; i++) expect(bbml2.raw(i), `entry ${i}`).toBe(plain.raw(i));
    expect(contBits(bbml2, 16, 16).some((c) => c)).toBe(false);
  });

  it("the option is part of the id and does not change anything else", () => {
    const f = tableFixture("4k-48+bbml2");
    expect(f.b.id).toBe("arm64:4k-48+bbml2");
    expect(f.b.geometry).toEqual(tableFixture("4k-48").b.geometry);
    foldBlock(f, 0, 0x3000, RW);
    expect(contBits(f, 0, 16).every((c) => c)).toBe(true);
  });
});
