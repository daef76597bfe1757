import { PTE, PMD, entryRegs } from "@hugemm/arch";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { PG_referenced } from "../phys/page-flags";
import { mapOk } from "../testing/vma";
import type { Mm } from "./mm";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, VM_SOFTDIRTY } from "./vm-flags";

const KiB = 1024;
const MiB = 2 ** 20;

function entry(k: Kernel, mm: Mm, va: number): { level: number; r: Uint32Array } {
  const r = entryRegs(1);
  mm.walker.find(va, PTE, false, mm.slot);
  k.backend.readEntry(mm.slot.table, mm.slot.index, mm.slot.level, r, 0);
  return { level: mm.slot.level, r };
}

function setup(thp: "never" | "always") {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "256M", swap: "64M", check: true });
  k.thp.set("enabled", thp);
  const mm = k.createMm();
  const a = mapOk(k, mm, { len: 4 * MiB, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  const h = a + ((2 * MiB - (a % (2 * MiB))) % (2 * MiB));
  return { k, mm, h, b: k.backend };
}

describe("clear_refs", () => {
  it("4 clears soft-dirty and write protects; the next write faults and sets it again", () => {
    const { k, mm, h, b } = setup("never");
    k.touch(mm, h, 64 * KiB, true, 1);
    expect(mm.vmas.lookup(h)!.flags & VM_SOFTDIRTY).not.toBe(0);
    expect(b.softDirty(entry(k, mm, h).r, 0, PTE)).toBe(true);
    k.clearRefs(mm, 4);
    expect(mm.vmas.lookup(h)!.flags & VM_SOFTDIRTY).toBe(0);
    for (let i = 0; i < 16; i++) {
      const e = entry(k, mm, h + i * 4 * KiB).r;
      expect([b.softDirty(e, 0, PTE), b.write(e, 0, PTE)]).toEqual([false, false]);
    }
    expect(k.touch(mm, h + 8 * KiB, 4 * KiB, true, 2).faults).toBe(1);
    expect(b.softDirty(entry(k, mm, h + 8 * KiB).r, 0, PTE)).toBe(true);
    expect(b.softDirty(entry(k, mm, h + 12 * KiB).r, 0, PTE)).toBe(false);
    // Reads do not make a page soft-dirty.
    expect(k.touch(mm, h + 12 * KiB, 4 * KiB, false).faults).toBe(0);
    expect(b.softDirty(entry(k, mm, h + 12 * KiB).r, 0, PTE)).toBe(false);
  });

  it("4 on a PMD THP and on a swap entry", () => {
    const { k, mm, h, b } = setup("always");
    k.touch(mm, h, 2 * MiB, true, 1);
    k.touch(mm, h + 2 * MiB - 64 * KiB, 4 * KiB, true, 1);
    expect(entry(k, mm, h).level).toBe(PMD);
    k.clearRefs(mm, 4);
    const e = entry(k, mm, h);
    expect([e.level, b.softDirty(e.r, 0, PMD), b.write(e.r, 0, PMD)]).toEqual([PMD, false, false]);
    expect(k.touch(mm, h + 4 * KiB, 4 * KiB, true, 3).faults).toBe(1);
    const after = entry(k, mm, h);
    expect([after.level, b.softDirty(after.r, 0, PMD), b.write(after.r, 0, PMD)]).toEqual([PMD, true, true]);
  });

  it("4 clears the soft-dirty bit of swap entries", () => {
    const { k, mm, h, b } = setup("never");
    k.touch(mm, h, 16 * KiB, true, 1);
    expect(k.madvise(mm, h, 16 * KiB, MADV.PAGEOUT).ok).toBe(true);
    const sw = entry(k, mm, h).r;
    expect([b.isSoftleaf(sw, 0, PTE), b.swpSoftDirty(sw, 0, PTE)]).toEqual([true, true]);
    k.clearRefs(mm, 4);
    expect(b.swpSoftDirty(entry(k, mm, h).r, 0, PTE)).toBe(false);
  });

  it("1 clears young and PG_referenced; 2 skips file mappings; 5 resets the peak rss", () => {
    const { k, mm, h, b } = setup("never");
    k.touch(mm, h, 16 * KiB, true, 1);
    const pfn = b.pfn(entry(k, mm, h).r, 0, PTE);
    k.folios.set(pfn, PG_referenced);
    k.clearRefs(mm, 1);
    expect(b.young(entry(k, mm, h).r, 0, PTE)).toBe(false);
    expect(k.folios.test(pfn, PG_referenced)).toBe(false);
    k.touch(mm, h, 4 * KiB, false);
    k.clearRefs(mm, 3);
    expect(b.young(entry(k, mm, h).r, 0, PTE)).toBe(true);
    k.clearRefs(mm, 2);
    expect(b.young(entry(k, mm, h).r, 0, PTE)).toBe(false);
    expect(mm.hiwaterRss).toBe(4);
    k.munmap(mm, h, 8 * KiB);
    expect(mm.hiwaterRss).toBe(4);
    k.clearRefs(mm, 5);
    expect(mm.hiwaterRss).toBe(2);
  });

  it("refuses other values", () => {
    const { k, mm } = setup("never");
    expect(() => k.clearRefs(mm, 6)).toThrow("invalid clear_refs value 6: expected 1 (all), 2 (anon), 3 (mapped), 4 (soft-dirty) or 5 (mm hiwater rss)");
  });
});
