import {
  allocRoot,
  ArchInputError,
  type ArchBackend,
  entryRegs,
  type HardwareTranslation,
  type HugeSize,
  mapHuge,
  PMD,
  PTE,
  simpleContext,
  TableMemory,
} from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { createPpc8xxBackend } from "./backend";

const SHARED = 11; // VM_SHARED|VM_WRITE|VM_READ: PAGE_SHARED

function sizeOf(b: ArchBackend, shift: number): HugeSize {
  return b.hugeSizes.find((s) => s.shift === shift)!;
}

function setup(variant: "4k" | "16k") {
  const b = createPpc8xxBackend(variant);
  const mem = new TableMemory();
  const root = allocRoot(b, mem);
  return { b, mem, root };
}

function ok(w: ReturnType<ArchBackend["walk"]>): HardwareTranslation {
  if (!w.ok) throw new Error(`walk faulted: ${w.fault} ${w.reason}`);
  return w;
}

const hex = (a: ArrayLike<number>) => Array.from(a, (x) => x.toString(16));

describe("arch_make_huge_pte", () => {
  it("4K pages: 16K gets SPS only, 512K and 8M get SPS|HUGE", () => {
    const b = createPpc8xxBackend("4k");
    for (const [shift, want] of [[14, 0x00800029], [19, 0x00800829], [23, 0x00800829]] as const) {
      const r = entryRegs(1);
      b.pfnEntry(r, 0, sizeOf(b, shift).level, 0x800, SHARED);
      b.makeHugeEntry(r, 0, sizeOf(b, shift));
      expect(r[0]).toBe(want);
    }
  });

  it("16K pages: pte_mkhuge (SPS|HUGE) for 512K and 8M", () => {
    const b = createPpc8xxBackend("16k");
    for (const shift of [19, 23]) {
      const r = entryRegs(1);
      b.pfnEntry(r, 0, PTE, 0x200, SHARED);
      b.makeHugeEntry(r, 0, sizeOf(b, shift));
      expect(r[0]).toBe(0x00800829);
    }
  });

  it("rejects sizes the backend does not have", () => {
    const b = createPpc8xxBackend("16k");
    const r = entryRegs(1);
    const bogus: HugeSize = { shift: 14, level: PTE, ncontig: 1, cont: false, viaPteTables: false, thp: false, hugetlb: true };
    expect(() => b.makeHugeEntry(r, 0, bogus)).toThrow(ArchInputError);
    expect(() => b.makeHugeEntry(r, 0, bogus)).toThrow(/one of 2\^19, 2\^23/);
  });
});

describe("16K hugepage with 4K pages: 4 cells, SPS", () => {
  it("each cell maps its own 4K slice", () => {
    const { b, mem, root } = setup("4k");
    const slot = mapHuge(b, mem, root, 0x10004000, 0x804, SHARED, sizeOf(b, 14));
    expect(slot.index).toBe(4);
    expect(hex(slot.table.subarray(3, 9))).toEqual(["0", "804029", "805029", "806029", "807029", "0"]);
    const w = ok(b.walk(mem, root, 0x10007fff));
    expect([w.pageSize, w.tlbSize, w.pa, w.level]).toEqual([0x4000, 0x4000, 0x807fff, PTE]);
  });
});

describe("512K hugepages: 128 cells flagged SPS|HUGE, +4K per cell", () => {
  for (const variant of ["4k", "16k"] as const) {
    it(`${variant} pages`, () => {
      const { b, mem, root } = setup(variant);
      const size = sizeOf(b, 19);
      const va = 0x10080000;
      const pfn = 0x800000 / b.geometry.pageSize;
      const slot = mapHuge(b, mem, root, va, pfn, SHARED, size, { young: true });
      expect(slot.level).toBe(PTE);
      expect(slot.index).toBe(va % 0x400000 / b.geometry.pageSize);
      const first = (va % 0x400000) / 0x1000;
      expect(first).toBe(128);
      for (let k = 0; k < 128; k++) {
        const cell = slot.table[first + k]!;
        expect(cell & 0x808, `cell ${k} flags`).toBe(0x808);
        expect(cell, `cell ${k}`).toBe((0x00800829 + k * 0x1000) >>> 0);
      }
      expect(slot.table[first - 1]).toBe(0);
      expect(slot.table[first + 128]).toBe(0);
      // The logical entries (ptep_get of each pte_t) advance by PAGE_SIZE.
      const r = entryRegs(1);
      b.readEntry(slot.table, slot.index + 1, PTE, r, 0);
      expect(r[0]).toBe(0x00800829 + b.geometry.pageSize);
      for (const off of [0, 0x1234, 0x7ffff]) {
        const w = ok(b.walk(mem, root, va + off));
        expect([w.pa, w.pageSize, w.tlbSize, w.level]).toEqual([0x800000 + off, 0x80000, 0x80000, PTE]);
      }
      b.getHugeEntry(mem, slot.table, slot.index, va, r, 0, size);
      expect(r[0]).toBe(0x00800829);
    });
  }
});

describe("8M hugepages: two PMDs flagged _PMD_PAGE_8M, two PTE tables of 1024 cells", () => {
  for (const variant of ["4k", "16k"] as const) {
    it(`${variant} pages: layout and walk of the first and last byte`, () => {
      const { b, mem, root } = setup(variant);
      const size = sizeOf(b, 23);
      const va = 0x20800000;
      const pfn = 0x1000000 / b.geometry.pageSize;
      const slot = mapHuge(b, mem, root, va, pfn, SHARED, size, { young: true, dirty: true });
      expect([slot.level, slot.index]).toEqual([PMD, 0x82]);
      const pmd0 = slot.table[0x82]!;
      const pmd1 = slot.table[0x83]!;
      expect(pmd0 & 0xfff).toBe(0x04d); // _PMD_USER | _PMD_PAGE_8M | _PMD_PRESENT
      expect(pmd1 & 0xfff).toBe(0x04d);
      expect(slot.table[0x81]).toBe(0);
      expect(slot.table[0x84]).toBe(0);
      const t0 = mem.get(pmd0 & 0xfffff000);
      const t1 = mem.get(pmd1 & 0xfffff000);
      expect(t0).not.toBe(t1);
      const v = 0x01000929;
      for (let k = 0; k < 1024; k++) {
        expect(t0[k], `table 1 cell ${k}`).toBe(v + k * 0x1000);
        expect(t1[k], `table 2 cell ${k}`).toBe(v + 0x400000 + k * 0x1000);
      }
      const first = ok(b.walk(mem, root, va));
      expect([first.pa, first.pageSize, first.tlbSize, first.level, first.young, first.dirty]).toEqual([0x1000000, 0x800000, 0x800000, PMD, true, true]);
      expect(first.steps[1]!.tablePa).toBe(pmd0 & 0xfffff000);
      const last = ok(b.walk(mem, root, va + 0x7fffff, { write: true }));
      expect([last.pa, last.pageSize]).toEqual([0x17fffff, 0x800000]);
      expect(last.steps[1]!.tablePa).toBe(pmd1 & 0xfffff000);
      expect(last.steps[1]!.entryPa).toBe((pmd1 & 0xfffff000) + 4 * 1023);
      // huge_ptep_get on the 8M pmdp reads cell 0 of the first table.
      const r = entryRegs(1);
      b.getHugeEntry(mem, slot.table, slot.index, va, r, 0, size);
      expect(r[0]).toBe(v);
      expect([b.pfn(r, 0, PMD), b.leaf(r, 0, PMD), b.dirty(r, 0, PMD)]).toEqual([pfn, true, true]);
    });
  }

  it("an 8M slot without PTE tables reads as none", () => {
    const { b, mem, root } = setup("4k");
    const r = entryRegs(1);
    r[0] = 1;
    b.getHugeEntry(mem, mem.get(root), 4, 0x01000000, r, 0, sizeOf(b, 23));
    expect(r[0]).toBe(0);
  });
});

describe("huge_ptep_get_and_clear: pte_update(~0, 0, huge) as the kernel writes it", () => {
  it("16K pages, 512K: 32 pte_t cleared to 0, PAGE_SIZE, 2*PAGE_SIZE... (non-present)", () => {
    const { b, mem, root } = setup("16k");
    const size = sizeOf(b, 19);
    const slot = mapHuge(b, mem, root, 0x10080000, 0x200, SHARED, size);
    const r = entryRegs(1);
    b.getAndClearHugeEntry(simpleContext(), mem, slot.table, slot.index, 0x10080000, r, 0, size);
    expect(r[0]).toBe(0x00800829);
    for (let k = 0; k < 128; k++) expect(slot.table[128 + k]).toBe(Math.floor(k / 4) * 0x4000);
    b.readEntry(slot.table, slot.index, PTE, r, 0);
    expect(b.none(r, 0, PTE)).toBe(true);
    b.getHugeEntry(mem, slot.table, slot.index, 0x10080000, r, 0, size);
    expect(r[0]).toBe(0);
    for (const off of [0, 0x7ffff]) expect(b.walk(mem, root, 0x10080000 + off).ok).toBe(false);
  });

  it("4K pages, 512K: the cleared value has no _PAGE_HUGE, so only 4 cells are written", () => {
    const { b, mem, root } = setup("4k");
    const size = sizeOf(b, 19);
    const slot = mapHuge(b, mem, root, 0x10080000, 0x800, SHARED, size);
    const r = entryRegs(1);
    b.getAndClearHugeEntry(simpleContext(), mem, slot.table, slot.index, 0x10080000, r, 0, size);
    expect(r[0]).toBe(0x00800829);
    expect(hex(slot.table.subarray(128, 133))).toEqual(["0", "1000", "2000", "3000", "804829"]);
    expect(slot.table[255]).toBe(0x0087f829);
    expect(b.walk(mem, root, 0x10080000).ok).toBe(false);
    // number_of_cells_per_pte(pmd, 0, 1) is 4: cells 4..127 stay valid and still translate.
    expect(ok(b.walk(mem, root, 0x10084000)).pa).toBe(0x804000);
  });

  it("8M: both tables, 1024 cells each, PMD flags left in place", () => {
    for (const variant of ["4k", "16k"] as const) {
      const { b, mem, root } = setup(variant);
      const size = sizeOf(b, 23);
      const slot = mapHuge(b, mem, root, 0x20800000, 0x1000000 / b.geometry.pageSize, SHARED, size);
      const r = entryRegs(1);
      b.getAndClearHugeEntry(simpleContext(), mem, slot.table, slot.index, 0x20800000, r, 0, size);
      expect(r[0]).toBe(0x01000829);
      const page = b.geometry.pageSize;
      const per = page / 0x1000;
      for (const i of [0x82, 0x83]) {
        expect(slot.table[i]! & 0xc).toBe(0xc);
        const t = mem.get(slot.table[i]! & 0xfffff000);
        for (let k = 0; k < 1024; k++) expect(t[k]).toBe(Math.floor(k / per) * page);
      }
      expect(b.walk(mem, root, 0x20800000).ok).toBe(false);
      expect(b.walk(mem, root, 0x20ffffff).ok).toBe(false);
    }
  });
});

describe("huge_ptep_set_wrprotect and huge_ptep_set_access_flags", () => {
  it("512K (4K pages): RO in all 128 cells, then access flags restore write", () => {
    const { b, mem, root } = setup("4k");
    const size = sizeOf(b, 19);
    const va = 0x10080000;
    const slot = mapHuge(b, mem, root, va, 0x800, SHARED, size);
    const ctx = simpleContext();
    b.wrprotectHugeEntry(ctx, mem, slot.table, slot.index, va, size);
    for (let k = 0; k < 128; k++) expect(slot.table[128 + k]).toBe(0x00800e29 + k * 0x1000);
    expect(b.walk(mem, root, va + 0x7ffff, { write: true })).toMatchObject({ ok: false, fault: "permission" });
    const r = entryRegs(1);
    b.getHugeEntry(mem, slot.table, slot.index, va, r, 0, size);
    expect(b.setHugeAccessFlags(ctx, mem, slot.table, slot.index, va, r, 0, false, size)).toBe(false);
    expect(ctx.flushes).toEqual([]);
    b.mkwrite(r, 0, PTE);
    b.mkdirty(r, 0, PTE);
    r[0] = r[0]! & ~0x20; // an old new value cannot clear ACCESSED: only DIRTY|ACCESSED|EXEC are set
    expect(b.setHugeAccessFlags(ctx, mem, slot.table, slot.index, va, r, 0, true, size)).toBe(true);
    for (let k = 0; k < 128; k++) expect(slot.table[128 + k]).toBe(0x00800929 + k * 0x1000);
    expect(ctx.flushes).toEqual([{ start: va, end: va + 0x80000, stride: 0x80000, level: PTE, reason: "access-flags" }]);
    expect(ok(b.walk(mem, root, va + 0x7ffff, { write: true })).dirty).toBe(true);
  });

  it("8M: both tables; the kernel compares the PMD word, so it always reports a change", () => {
    const { b, mem, root } = setup("16k");
    const size = sizeOf(b, 23);
    const va = 0x20800000;
    const slot = mapHuge(b, mem, root, va, 0x400, SHARED, size);
    const ctx = simpleContext();
    b.wrprotectHugeEntry(ctx, mem, slot.table, slot.index, va, size);
    const t1 = mem.get(slot.table[0x83]! & 0xfffff000);
    expect(hex([t1[0]!, t1[3]!, t1[4]!, t1[1023]!])).toEqual(["1400e29", "1400e29", "1404e29", "17fce29"]);
    const r = entryRegs(1);
    b.getHugeEntry(mem, slot.table, slot.index, va, r, 0, size);
    expect(r[0]).toBe(0x01000e29);
    expect(b.setHugeAccessFlags(ctx, mem, slot.table, slot.index, va, r, 0, false, size)).toBe(true);
    expect(ctx.flushes[0]).toEqual({ start: va, end: va + 0x800000, stride: 0x800000, level: PMD, reason: "access-flags" });
    b.mkwrite(r, 0, PMD);
    b.setHugeAccessFlags(ctx, mem, slot.table, slot.index, va, r, 0, false, size);
    expect(ok(b.walk(mem, root, va + 0x7fffff, { write: true })).write).toBe(true);
  });
});

describe("bad huge-page input", () => {
  it("8M needs an even PMD index whose two slots point to PTE tables", () => {
    const { b, mem, root } = setup("4k");
    const size = sizeOf(b, 23);
    const r = entryRegs(1);
    b.pfnEntry(r, 0, PMD, 0x800, SHARED);
    const pgd = mem.get(root);
    expect(() => b.setHugeEntry(simpleContext(), mem, pgd, 3, 0x00c00000, r, 0, size)).toThrow(/8M huge page PMD index 3/);
    expect(() => b.setHugeEntry(simpleContext(), mem, pgd, 2, 0x00800000, r, 0, size)).toThrow(/huge_pte_alloc/);
    expect(pgd[2]).toBe(0); // nothing was flagged
  });

  it("PTE-level sizes need a size-aligned index inside the table", () => {
    const { b, mem } = setup("4k");
    const size = sizeOf(b, 19);
    const table = new Uint32Array(1024);
    const r = entryRegs(1);
    b.pfnEntry(r, 0, PTE, 0x800, SHARED);
    b.makeHugeEntry(r, 0, size);
    expect(() => b.setHugeEntry(simpleContext(), mem, table, 64, 0, r, 0, size)).toThrow(/huge page PTE index 64.*multiple of 128/);
    expect(() => b.setHugeEntry(simpleContext(), mem, table, 1024, 0, r, 0, size)).toThrow(ArchInputError);
  });
});
