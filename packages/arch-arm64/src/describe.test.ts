import { entryOf, entryRegs, unnamedBits, PGD, PMD, PTE, PUD, P4D, type DescribedEntry, type Level } from "@hugemm/arch";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ARM64_VARIANTS, createArm64Backend } from "./index";

const b = createArm64Backend("4k-48");
const field = (d: DescribedEntry, name: string) => d.fields.find((f) => f.name === name);

describe("describe()", () => {
  it("a shared writable page: every flag by its kernel name", () => {
    const d = b.describe(entryOf(0x00680000abcdefc3n), 0, PTE);
    expect([d.kind, d.hex, d.summary]).toEqual(["leaf", "0x00680000abcdefc3", "pte leaf pfn 0xabcde rw- user young"]);
    expect(field(d, "PTE_DBM / PTE_WRITE")).toMatchObject({ lo: 51, hi: 51, value: 1 });
    expect(field(d, "PTE_RDONLY (AP[2])")).toMatchObject({ lo: 7, value: 1 });
    expect(field(d, "PTE_SHARED (SH[1:0])")).toMatchObject({ lo: 8, hi: 9, value: 3, meaning: "inner shareable" });
    expect(field(d, "PTE_NG")).toMatchObject({ value: 1 });
    expect(field(d, "output address")).toMatchObject({ lo: 12, hi: 49, value: 0xabcde, meaning: "physical address 0xabcde000, pfn 0xabcde" });
    expect(field(d, "PTE_ATTRINDX")).toMatchObject({ value: 0, meaning: "MT_NORMAL" });
    expect(unnamedBits(d, 0xabcdefc3, 0x00680000)).toEqual([]);
  });

  it("a user table entry names the table attributes", () => {
    const r = entryRegs(1);
    b.tableEntry(r, 0, PMD, 0x5000, true);
    const d = b.describe(r, 0, PMD);
    expect([d.kind, d.summary]).toEqual(["table", "pmd table -> 0x5000"]);
    expect(field(d, "PMD_TABLE_PXN (PXNTable)")).toMatchObject({ lo: 59, value: 1 });
    expect(field(d, "PMD_TABLE_AF")).toMatchObject({ lo: 10, value: 1 });
    expect(field(d, "APTable")).toMatchObject({ lo: 61, hi: 62, value: 0 });
  });

  it("PROT_NONE, present-invalid blocks, softleaves", () => {
    expect(b.describe(entryOf(0x0060000000001f82n), 0, PTE).kind).toBe("protnone");
    const inv = b.describe(entryOf(0x0068000000200fc0n), 0, PMD);
    expect([inv.kind, field(inv, "PTE_PRESENT_INVALID")?.value]).toEqual(["invalid-leaf", 1]);
    const r = entryRegs(1);
    b.softleafEntry(r, 0, PMD, 27, 2 ** 36 + 2 ** 37 + 0x200);
    b.swpMkExclusive(r, 0, PMD);
    const s = b.describe(r, 0, PMD);
    expect([s.kind, s.summary]).toEqual(["softleaf", "pmd softleaf migration-write type 27 offset 0x3000000200"]);
    expect(field(s, "swap offset")?.meaning).toBe("pfn 0x200, young, dirty");
    expect(field(s, "PTE_SWP_EXCLUSIVE")?.value).toBe(1);
  });

  it("bad: a reserved type at the last level, a block where none may be, a malformed softleaf, an invalid upper entry", () => {
    expect(b.describe(entryOf(0x0060000000001fc1n), 0, PTE).kind).toBe("bad");
    expect(createArm64Backend("64k-48").describe(entryOf(0x0060040000000fc1n), 0, PUD).kind).toBe("bad");
    expect(b.describe(entryOf(0x40000000000006c2n), 0, PTE).kind).toBe("bad"); // bit 1 and bit 62 in a swap entry
    expect(b.describe(entryOf(0x6c0n), 0, P4D).kind).toBe("bad");
    const b16 = createArm64Backend("16k-47").describe(entryOf(0x0060001000000fc1n), 0, PUD);
    expect([b16.kind, b16.summary]).toEqual(["leaf", "pud leaf pfn 0x400000 r-- user young (the MMU has no block at this level)"]);
    expect(b.describe(entryOf(0n), 0, PGD).kind).toBe("none");
  });

  it("LPA2 names bits 9:8 as address bits, 64K 52-bit PA names bits 15:12", () => {
    const lpa2 = createArm64Backend("4k-52").describe(entryOf(0x0060000000001fc3n), 0, PTE);
    expect(lpa2.fields.find((f) => f.lo === 8)).toMatchObject({ name: "PTE_ADDR_HIGH (PA[51:50])", value: 3 });
    const k64 = createArm64Backend("64k-52").describe(entryOf(0x006300000001ff82n), 0, PTE);
    expect(k64.fields.find((f) => f.lo === 12)).toMatchObject({ name: "PTE_ADDR_HIGH (PA[51:48])", value: 0xf });
    expect(k64.summary).toBe("pte protnone (PROT_NONE / NUMA hint) pfn 0xf00000001 young");
  });

  it("property: any 64-bit value at any level of any variant has every set bit named", () => {
    for (const variant of ARM64_VARIANTS) {
      const v = createArm64Backend(variant);
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom<Level>(PTE, PMD, PUD, P4D, PGD), (x, level) => {
          const r = entryOf(x);
          const d = v.describe(r, 0, level);
          expect(unnamedBits(d, r[0]!, r[1]!)).toEqual([]);
          expect(d.fields.every((f) => !f.name.startsWith("bit "))).toBe(true);
        }),
        { seed: 2024, numRuns: 200 },
      );
    }
  });
});
