import { CAPABILITY_NAMES, entryOf, entryRegs, PMD, PTE } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { ARM64_VARIANTS, createArm64Backend } from "./index";

describe("arm64 backend identity and capabilities", () => {
  it("implements contract v1 with arch 'arm64'", () => {
    const b = createArm64Backend("16k-47");
    expect([b.specificationVersion, b.arch, b.variant, b.id]).toEqual(["v1", "arm64", "16k-47", "arm64:16k-47"]);
    expect(b.description).toBe("arm64, 16K granule, 47-bit VA, 3 levels");
    expect(createArm64Backend("4k-52").description).toBe("arm64, 4K granule, 52-bit VA, 5 levels, LPA2 52-bit PA");
    expect(createArm64Backend("64k-52").description).toBe("arm64, 64K granule, 52-bit VA, 3 levels, 52-bit PA");
    expect(b.swapOffsetBits).toBe(50);
  });

  it("capabilities: uffd-wp, special, protnone, PMD THP and softleaves, contpte; no soft-dirty, no PUD THP", () => {
    for (const variant of ARM64_VARIANTS) {
      const c = createArm64Backend(variant).capabilities;
      expect(Object.keys(c).sort()).toEqual([...CAPABILITY_NAMES].sort());
      expect(c).toEqual({
        softDirty: false,
        uffdWp: true,
        special: true,
        protnone: true,
        pmdThp: true,
        pudThp: false,
        pudLeaf: variant.startsWith("4k"),
        pmdSoftleaf: true,
        contPte: true,
        migrationYoungDirty: true,
      });
    }
  });

  it("stores a descriptor as two little-endian words at 2 * index", () => {
    const b = createArm64Backend();
    const table = new Uint32Array(1024);
    b.writeEntry(table, 5, PTE, entryOf(0x0068123456789fc3n), 0);
    expect([table[10], table[11]]).toEqual([0x56789fc3, 0x00681234]);
    const r = entryRegs(1);
    b.readEntry(table, 5, PMD, r, 0);
    expect([r[0], r[1]]).toEqual([0x56789fc3, 0x00681234]);
  });

  it("rejects a level outside 0..4 where an entry is built", () => {
    const b = createArm64Backend();
    const r = entryRegs(1);
    expect(() => b.pfnEntry(r, 0, 5 as never, 1, 1)).toThrow(/page-table level 5/);
    expect(() => b.tableEntry(r, 0, -1 as never, 0x1000, true)).toThrow(/page-table level -1/);
    expect(() => b.describe(r, 0, 1.5 as never)).toThrow(/page-table level 1.5/);
  });
});
