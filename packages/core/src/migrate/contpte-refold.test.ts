import { createArm64Backend } from "@hugemm/arch-arm64";
import { PTE, entryRegs } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { mapOk } from "../testing/vma";

const KiB = 1024;
const MiB = 2 ** 20;

/** For each PTE of [a, a + len): [pfn, PTE_CONT]. */
function ptes(k: Kernel, mm: Mm, a: number, len: number): [number, boolean][] {
  const b = k.backend;
  const r = entryRegs(1);
  const out: [number, boolean][] = [];
  for (let va = a; va < a + len; va += k.pageSize) {
    expect(mm.walker.find(va, PTE, false, mm.slot)).toBe(0);
    b.readEntry(mm.slot.table, mm.slot.index, PTE, r, 0);
    expect(b.present(r, 0, PTE)).toBe(true);
    out.push([b.pfn(r, 0, PTE), b.cont(r, 0, PTE)]);
  }
  return out;
}

/*
 * remove_migration_pte() and the remap after a split write each PTE with
 * set_pte_at(), which on arm64 is set_ptes(nr = 1) and so contpte_try_fold():
 * writing the last entry of an aligned block that maps one folio folds it.
 */
for (const variant of ["4k-48", "64k-48"]) {
  describe(`arm64 ${variant}: blocks refold when migration entries are removed`, () => {
    const setup = (size: string) => {
      const k = new Kernel({ backend: createArm64Backend(variant), memory: variant === "4k-48" ? "256M" : "2G", nodes: 2, check: true });
      k.thp.set("enabled", "never");
      k.thp.set(`hugepages-${size}/enabled`, "always");
      const mm = k.createMm();
      return { k, mm };
    };
    const contSize = variant === "4k-48" ? 64 * KiB : 2 * MiB;
    const contName = variant === "4k-48" ? "64kB" : "2048kB";

    it(`an mTHP of the cont size migrated to another node is mapped by a folded block again`, () => {
      const { k, mm } = setup(contName);
      const a = mapOk(k, mm, { len: 2 * contSize, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, addr: 0x4000_0000 });
      k.touch(mm, a, 2 * contSize, true, 3);
      const before = ptes(k, mm, a, 2 * contSize);
      expect(before.every(([, c]) => c)).toBe(true);
      const job = k.migrateRange(mm, a, 2 * contSize, 1);
      expect(job.failed).toEqual([]);
      const after = ptes(k, mm, a, 2 * contSize);
      expect(after.map(([p]) => k.phys.nidOf(p))).toEqual(after.map(() => 1));
      expect(after.filter(([, c]) => !c).length).toBe(0);
      expect(k.touch(mm, a, 2 * contSize, true).faults).toBe(0);
    });
  });
}

describe("arm64 4k-48: a THP split to the cont order is remapped folded", () => {
  it("split_huge_pages to order 4 leaves 32 folded 64K blocks", () => {
    const k = new Kernel({ backend: createArm64Backend("4k-48"), memory: "256M", check: true });
    k.thp.set("enabled", "always");
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 4 * MiB, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    const h = a + ((2 * MiB - (a % (2 * MiB))) % (2 * MiB));
    k.touch(mm, h, 2 * MiB, true, 9);
    expect(k.splitHugePages(mm, h, h + 2 * MiB, 4)).toEqual([1, 1]);
    const after = ptes(k, mm, h, 2 * MiB);
    expect(after.filter(([, c]) => !c).length).toBe(0);
    // Order 0: no block maps one folio, nothing folds.
    expect(k.splitHugePages(mm, h, h + 2 * MiB, 0)).toEqual([32, 32]);
    expect(ptes(k, mm, h, 2 * MiB).filter(([, c]) => c).length).toBe(0);
  });
});
