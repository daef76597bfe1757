import { allocRoot, entryRegs, mapHuge, simpleContext, TableMemory, PMD, PTE, PUD, type HugeSize } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { createArm64Backend } from "./index";
import { AF, big, DIRTY, RDONLY, tableFixture, WRITE } from "./test-fixtures";

const RW = 11;
const sizeOf = (variant: string, shift: number): HugeSize => createArm64Backend(variant).hugeSizes.find((s) => s.shift === shift)!;

describe("hugetlb sizes (hugetlbpage_init)", () => {
  it.each([
    ["4k-48", [[16, PTE, 16, true, false], [21, PMD, 1, false, true], [25, PMD, 16, true, false], [30, PUD, 1, false, false]]],
    ["4k-39", [[16, PTE, 16, true, false], [21, PMD, 1, false, true], [25, PMD, 16, true, false], [30, PUD, 1, false, false]]],
    ["16k-47", [[21, PTE, 128, true, false], [25, PMD, 1, false, true], [30, PMD, 32, true, false]]],
    ["16k-36", [[21, PTE, 128, true, false], [25, PMD, 1, false, true], [30, PMD, 32, true, false]]],
    ["64k-48", [[21, PTE, 32, true, false], [29, PMD, 1, false, true], [34, PMD, 32, true, false]]],
  ])("%s", (variant, want) => {
    const sizes = createArm64Backend(variant).hugeSizes;
    expect(sizes.map((s) => [s.shift, s.level, s.ncontig, s.cont, s.thp])).toEqual(want);
    for (const s of sizes) expect([s.hugetlb, s.viaPteTables]).toEqual([true, false]);
  });
});

describe("arch_make_huge_pte", () => {
  const b = createArm64Backend("4k-48");
  const make = (level: typeof PTE | typeof PMD | typeof PUD, shift: number): bigint => {
    const r = entryRegs(1);
    b.pfnEntry(r, 0, level, 0x40000, RW);
    b.makeHugeEntry(r, 0, sizeOf("4k-48", shift));
    return big(r);
  };
  it("CONT_PTE: PTE_CONT on a page descriptor", () => expect(make(PTE, 16)).toBe(0x0078000040000fc3n));
  it("PMD: a block", () => expect(make(PMD, 21)).toBe(0x0068000040000fc1n));
  it("CONT_PMD: a block with PMD_SECT_CONT", () => expect(make(PMD, 25)).toBe(0x0078000040000fc1n));
  it("PUD: a block", () => expect(make(PUD, 30)).toBe(0x0068000040000fc1n));
  it("rejects a size the arch does not have", () => {
    const r = entryRegs(1);
    expect(() => b.makeHugeEntry(r, 0, { ...sizeOf("4k-48", 21), shift: 22 })).toThrow(/huge size "2\^22 at level 1": expected one of 2\^16, 2\^21, 2\^25, 2\^30/);
    expect(() => b.makeHugeEntry(r, 0, sizeOf("16k-47", 21))).toThrow(/huge size/);
  });
});

describe("set_huge_pte_at and friends for a CONT_PMD (32M) page", () => {
  const S32M = sizeOf("4k-48", 25);
  const setup = () => {
    const f = tableFixture("4k-48", { level: PMD });
    const v = f.entry(0x40000, RW);
    f.b.makeHugeEntry(v, 0, S32M);
    f.b.setHugeEntry(f.ctx, f.mem, f.table, 16, f.va(16), v, 0, S32M);
    return f;
  };
  const slot = (i: number) => 0x0078000040000fc1n + BigInt(i) * 0x200000n;

  it("writes 16 slots, the pfn advancing by PMD_SIZE each, without a flush over none entries", () => {
    const f = setup();
    for (let i = 0; i < 16; i++) expect(f.raw(16 + i)).toBe(slot(i));
    expect([f.raw(15), f.raw(32)]).toEqual([0n, 0n]);
    expect(f.ctx.flushes).toEqual([]);
  });

  it("re-setting a valid cont run breaks it first: clear and flush with stride PMD_SIZE", () => {
    const f = setup();
    const v = f.entry(0x40000, 9);
    f.b.makeHugeEntry(v, 0, S32M);
    f.b.setHugeEntry(f.ctx, f.mem, f.table, 16, f.va(16), v, 0, S32M);
    expect(f.ctx.flushes).toEqual([{ start: f.va(16), end: f.va(32), stride: 2 ** 21, level: PMD, reason: "hugetlb-clear-flush" }]);
    expect(f.raw(17)).toBe(0x0070000040200fc1n);
  });

  it("a non-present entry goes unchanged into every slot", () => {
    const f = tableFixture("4k-48", { level: PMD });
    const m = entryRegs(1);
    f.b.softleafEntry(m, 0, PMD, 27, 0x40000);
    f.b.setHugeEntry(f.ctx, f.mem, f.table, 0, f.va(0), m, 0, S32M);
    for (let i = 0; i < 16; i++) expect(f.raw(i)).toBe(big(m));
  });

  it("huge_ptep_get gathers young and dirty over the slots", () => {
    const f = setup();
    const r = entryRegs(1);
    f.b.readEntry(f.table, 30, PMD, r, 0);
    f.b.mkdirty(r, 0, PMD);
    f.b.writeEntry(f.table, 30, PMD, r, 0);
    f.b.getHugeEntry(f.mem, f.table, 16, f.va(16), r, 0, S32M);
    expect(big(r)).toBe((slot(0) | DIRTY) & ~RDONLY);
  });

  it("huge_ptep_get_and_clear clears every slot and gathers", () => {
    const f = setup();
    const r = entryRegs(1);
    f.b.readEntry(f.table, 20, PMD, r, 0);
    f.b.mkdirty(r, 0, PMD);
    f.b.writeEntry(f.table, 20, PMD, r, 0);
    f.b.getAndClearHugeEntry(f.ctx, f.mem, f.table, 16, f.va(16), r, 0, S32M);
    expect(big(r)).toBe((slot(0) | DIRTY) & ~RDONLY);
    for (let i = 16; i < 32; i++) expect(f.raw(i)).toBe(0n);
    expect(f.ctx.flushes).toEqual([]);
  });

  it("huge_ptep_set_wrprotect breaks, flushes and re-makes the run read-only, keeping dirty", () => {
    const f = setup();
    const r = entryRegs(1);
    f.b.readEntry(f.table, 16, PMD, r, 0);
    f.b.mkdirty(r, 0, PMD);
    f.b.writeEntry(f.table, 16, PMD, r, 0);
    f.b.wrprotectHugeEntry(f.ctx, f.mem, f.table, 16, f.va(16), S32M);
    for (let i = 0; i < 16; i++) expect(f.raw(16 + i)).toBe((slot(i) & ~WRITE) | DIRTY | RDONLY);
    expect(f.ctx.flushes.map((x) => x.reason)).toEqual(["hugetlb-clear-flush"]);
  });

  it("huge_ptep_set_access_flags: no change is a no-op; a change breaks and re-makes every slot", () => {
    const f = setup();
    const v = entryRegs(1);
    f.b.readEntry(f.table, 16, PMD, v, 0);
    expect(f.b.setHugeAccessFlags(f.ctx, f.mem, f.table, 16, f.va(16), v, 0, false, S32M)).toBe(false);
    expect(f.ctx.flushes).toEqual([]);
    f.b.mkdirty(v, 0, PMD);
    expect(f.b.setHugeAccessFlags(f.ctx, f.mem, f.table, 16, f.va(16), v, 0, true, S32M)).toBe(true);
    for (let i = 0; i < 16; i++) expect(f.raw(16 + i)).toBe((slot(i) | DIRTY) & ~RDONLY);
    expect(f.ctx.flushes.map((x) => x.reason)).toEqual(["hugetlb-clear-flush"]);
  });

  it("rejects an index that is not the run's first slot", () => {
    const f = setup();
    const r = entryRegs(1);
    expect(() => f.b.getHugeEntry(f.mem, f.table, 17, f.va(17), r, 0, S32M)).toThrow(/huge entry index 17: expected the first slot of a 16-slot run/);
  });
});

describe("single-slot and CONT_PTE hugetlb pages", () => {
  it("a 2M page is one block; wrprotect is in place, without a flush", () => {
    const f = tableFixture("4k-48", { level: PMD });
    const S2M = sizeOf("4k-48", 21);
    const v = f.entry(0x40000, RW);
    f.b.makeHugeEntry(v, 0, S2M);
    f.b.setHugeEntry(f.ctx, f.mem, f.table, 3, f.va(3), v, 0, S2M);
    expect(f.raw(3)).toBe(0x0068000040000fc1n);
    f.b.wrprotectHugeEntry(f.ctx, f.mem, f.table, 3, f.va(3), S2M);
    expect(f.raw(3)).toBe(0x0060000040000fc1n);
    expect(f.ctx.flushes).toEqual([]);
  });

  it("a 64K page goes through the raw accessors: 16 cont PTEs, no contpte conversion", () => {
    const f = tableFixture("4k-48");
    const S64K = sizeOf("4k-48", 16);
    const v = f.entry(0x1000, RW, (r) => f.b.mkold(r, 0, PTE));
    f.b.makeHugeEntry(v, 0, S64K);
    f.b.setHugeEntry(f.ctx, f.mem, f.table, 16, f.va(16), v, 0, S64K);
    for (let i = 0; i < 16; i++) expect(f.raw(16 + i)).toBe(0x0078000001000bc3n + (BigInt(i) << 12n));
    expect(f.ctx.flushes).toEqual([]);
    const r = entryRegs(1);
    f.b.readEntry(f.table, 18, PTE, r, 0);
    f.b.mkyoung(r, 0, PTE);
    f.b.writeEntry(f.table, 18, PTE, r, 0);
    f.b.getHugeEntry(f.mem, f.table, 16, f.va(16), r, 0, S64K);
    expect(big(r) & AF).toBe(AF);
  });

  it("mapHuge builds a 1G PUD page the walk sees as one leaf", () => {
    const b = createArm64Backend("4k-48");
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    const S1G = sizeOf("4k-48", 30);
    mapHuge(b, mem, root, 2 ** 31, 0x80000, RW, S1G, { ctx: simpleContext() });
    const w = b.walk(mem, root, 2 ** 31 + 0x12345);
    expect(w.ok && [w.level, w.pageSize, w.pa]).toEqual([PUD, 2 ** 30, 0x80000 * 4096 + 0x12345]);
  });

  it("every variant's sizes round-trip through mapHuge and the walk, with CONT counted once in the TLB", () => {
    for (const variant of ["4k-39", "16k-36", "16k-48", "64k-42", "64k-52", "4k-52"]) {
      const b = createArm64Backend(variant);
      for (const s of b.hugeSizes) {
        const mem = new TableMemory();
        const root = allocRoot(b, mem);
        const va = 2 ** s.shift * 3;
        if (va >= 2 ** b.geometry.vaBits) continue;
        const pfn = (2 ** s.shift / b.pageSize) * 5;
        mapHuge(b, mem, root, va, pfn, RW, s);
        const w = b.walk(mem, root, va + 2 ** s.shift - 8);
        const slot = 2 ** b.geometry.levels[s.level]!.shift;
        expect(w.ok && [w.level, w.pageSize, w.tlbSize, w.pa], `${variant} 2^${s.shift}`).toEqual([s.level, slot, 2 ** s.shift, pfn * b.pageSize + 2 ** s.shift - 8]);
      }
    }
  });
});
