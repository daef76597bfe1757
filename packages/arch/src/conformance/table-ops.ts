import { expect } from "vitest";
import { ensureSlot, allocRoot } from "../chain";
import { entryHex, entryRegs } from "../entry";
import { type Level, PTE, PMD } from "../level";
import { VM_READ, VM_SHARED, VM_WRITE } from "../prot";
import { simpleContext } from "../tlb";
import { TableMemory } from "../walk";
import type { Kit } from "./kit";

const RW_SHARED = VM_READ | VM_WRITE | VM_SHARED;

/** pte_clear / pte_advanced and their PMD and PUD counterparts, run on real table storage. */
export function tableOpChecks(k: Kit): void {
  const b = k.b;
  for (const { level, requires } of k.leafLevels) {
    const L = k.levelLabel(level);
    const setup = () => {
      const mem = new TableMemory();
      const root = allocRoot(b, mem);
      const size = 2 ** k.g.levels[level]!.shift;
      const va = k.userVa(size);
      const slot = ensureSlot(b, mem, root, va, level);
      const pfn = k.pfnAt(level);
      const ctx = simpleContext();
      const cur = entryRegs(1);
      const read = () => {
        b.readEntry(slot.table, slot.index, level, cur, 0);
        return cur;
      };
      const set = (prot = RW_SHARED, ...ops: ((v: Uint32Array, o: number, l: Level) => void)[]) => {
        const e = k.with(k.leaf(level, pfn, prot), level, ...ops);
        b.setEntries(ctx, slot.table, slot.index, level, va, e, 0, 1);
        return e;
      };
      return { mem, slot, va, pfn, ctx, read, set };
    };

    k.check(`${L} clear: set then get_and_clear leaves none and returns the old entry`, requires, () => {
      const { slot, va, ctx, read, set, pfn } = setup();
      set(RW_SHARED, b.mkyoung, b.mkdirty);
      expect(b.none(read(), 0, level)).toBe(false);
      const old = entryRegs(1);
      b.getAndClear(ctx, slot.table, slot.index, level, va, old, 0);
      expect(b.pfn(old, 0, level)).toBe(pfn);
      expect(b.dirty(old, 0, level) && b.young(old, 0, level)).toBe(true);
      expect(b.none(read(), 0, level), entryHex(read(), 0)).toBe(true);
    });
    k.check(`${L} advanced: set_wrprotect clears write`, requires, () => {
      const { slot, va, ctx, read, set } = setup();
      set(RW_SHARED, b.mkdirty);
      b.wrprotectEntries(ctx, slot.table, slot.index, level, va, 1);
      expect(b.write(read(), 0, level)).toBe(false);
      expect(b.dirty(read(), 0, level), "wrprotect keeps dirty").toBe(true);
    });
    k.check(`${L} advanced: set_access_flags(mkdirty(mkwrite())) makes the entry writable and dirty`, requires, () => {
      const { slot, va, ctx, read, set } = setup();
      const e = set(RW_SHARED, b.wrprotect, b.mkclean);
      expect(b.write(read(), 0, level) || b.dirty(read(), 0, level)).toBe(false);
      const want = k.with(e, level, b.mkwrite, b.mkdirty);
      expect(b.setAccessFlags(ctx, slot.table, slot.index, level, va, want, 0, true)).toBe(true);
      expect(b.write(read(), 0, level) && b.dirty(read(), 0, level), entryHex(read(), 0)).toBe(true);
      const old = entryRegs(1);
      b.getAndClearEntries(ctx, slot.table, slot.index, level, va, 1, old, 0);
      expect(b.none(read(), 0, level)).toBe(true);
    });
    k.check(`${L} advanced: test_and_clear_young reports and clears the access flag`, requires, () => {
      const { slot, va, ctx, read, set } = setup();
      set(RW_SHARED, b.mkyoung);
      expect(b.testAndClearYoung(ctx, slot.table, slot.index, level, va, 1)).toBe(true);
      expect(b.young(read(), 0, level)).toBe(false);
      expect(b.testAndClearYoung(ctx, slot.table, slot.index, level, va, 1)).toBe(false);
    });
    k.check(`${L} clear_young_dirty and modify act in place`, requires, () => {
      const { slot, va, ctx, read, set, pfn } = setup();
      set(VM_READ | VM_SHARED, b.mkyoung, b.mkdirty);
      b.clearYoungDirty(ctx, slot.table, slot.index, level, va, 1, true, true);
      expect(b.young(read(), 0, level) || b.dirty(read(), 0, level), entryHex(read(), 0)).toBe(false);
      b.modifyEntries(ctx, slot.table, slot.index, level, va, 1, RW_SHARED);
      expect(b.write(read(), 0, level)).toBe(true);
      expect(b.pfn(read(), 0, level)).toBe(pfn);
    });
  }

  k.check("PTE set_ptes(nr): consecutive pfns, gathered young/dirty on get_and_clear_full_ptes", [], () => {
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    const va = k.userVa(2 ** k.g.levels[PMD]!.shift);
    const slot = ensureSlot(b, mem, root, va, PTE);
    const ctx = simpleContext();
    const pfn = k.pfnAt(PMD);
    const nr = Math.min(8, k.g.tables[k.g.tables.length - 1]!.entries);
    const e = k.leaf(PTE, pfn, RW_SHARED);
    b.mkold(e, 0, PTE);
    b.setEntries(ctx, slot.table, slot.index, PTE, va, e, 0, nr);
    const cur = entryRegs(1);
    for (let i = 0; i < nr; i++) {
      b.getEntry(slot.table, slot.index + i, PTE, cur, 0);
      expect(b.pfn(cur, 0, PTE), `entry ${i}`).toBe(pfn + i);
      expect(b.young(cur, 0, PTE) || b.dirty(cur, 0, PTE), `entry ${i} starts old and clean`).toBe(false);
    }
    // Dirty the last page as a write fault would.
    b.getEntry(slot.table, slot.index + nr - 1, PTE, cur, 0);
    b.mkyoung(cur, 0, PTE);
    b.mkdirty(cur, 0, PTE);
    expect(b.setAccessFlags(ctx, slot.table, slot.index + nr - 1, PTE, va + (nr - 1) * k.g.pageSize, cur, 0, true)).toBe(true);
    const old = entryRegs(1);
    b.getAndClearEntries(ctx, slot.table, slot.index, PTE, va, nr, old, 0);
    expect(b.pfn(old, 0, PTE)).toBe(pfn);
    expect(b.dirty(old, 0, PTE) && b.young(old, 0, PTE), `gathered ${entryHex(old, 0)}`).toBe(true);
    for (let i = 0; i < nr; i++) {
      b.readEntry(slot.table, slot.index + i, PTE, cur, 0);
      expect(b.none(cur, 0, PTE)).toBe(true);
    }
  });
  k.check("PMD set entries over nr slots advances the pfn by the block size", ["pmdThp"], () => {
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    const size = 2 ** k.g.levels[PMD]!.shift;
    const va = k.userVa(size * 4);
    const slot = ensureSlot(b, mem, root, va, PMD);
    const pages = k.pagesAt(PMD);
    const pfn = k.pfnAt(PMD);
    const e = k.leaf(PMD, pfn, RW_SHARED);
    b.setEntries(simpleContext(), slot.table, slot.index, PMD, va, e, 0, 3);
    const cur = entryRegs(1);
    for (let i = 0; i < 3; i++) {
      b.readEntry(slot.table, slot.index + i, PMD, cur, 0);
      expect(b.pfn(cur, 0, PMD), `PMD ${i}`).toBe(pfn + i * pages);
      expect(b.leaf(cur, 0, PMD)).toBe(true);
    }
  });
  k.check("PMD pmdp_invalidate: the entry stays present and huge, the old value is returned, a flush is recorded", ["pmdThp"], () => {
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    const va = k.userVa(2 ** k.g.levels[PMD]!.shift);
    const slot = ensureSlot(b, mem, root, va, PMD);
    const ctx = simpleContext();
    const e = k.leaf(PMD, k.pfnAt(PMD), RW_SHARED);
    b.setEntries(ctx, slot.table, slot.index, PMD, va, e, 0, 1);
    const old = entryRegs(1);
    b.invalidate(ctx, slot.table, slot.index, PMD, va, old, 0);
    expect(b.pfn(old, 0, PMD)).toBe(k.pfnAt(PMD));
    const cur = entryRegs(1);
    b.readEntry(slot.table, slot.index, PMD, cur, 0);
    expect(b.present(cur, 0, PMD) && b.transHuge(cur, 0, PMD), entryHex(cur, 0)).toBe(true);
    expect(b.walk(mem, root, va).ok, "the MMU no longer translates through an invalidated PMD").toBe(false);
    expect(ctx.flushes.length).toBeGreaterThan(0);
  });
  k.check("PMD pmdp_invalidate_ad: the entry and the value returned are pmdp_invalidate's; at most its flushes", ["pmdThp"], () => {
    const run = (ad: boolean) => {
      const mem = new TableMemory();
      const root = allocRoot(b, mem);
      const va = k.userVa(2 ** k.g.levels[PMD]!.shift);
      const slot = ensureSlot(b, mem, root, va, PMD);
      const ctx = simpleContext();
      b.setEntries(ctx, slot.table, slot.index, PMD, va, k.leaf(PMD, k.pfnAt(PMD), RW_SHARED), 0, 1);
      const before = ctx.flushes.length;
      const old = entryRegs(1);
      if (ad && b.invalidateAd !== undefined) b.invalidateAd(ctx, slot.table, slot.index, PMD, va, old, 0);
      else b.invalidate(ctx, slot.table, slot.index, PMD, va, old, 0);
      const cur = entryRegs(1);
      b.readEntry(slot.table, slot.index, PMD, cur, 0);
      return { old: [old[0], old[1]], cur: [cur[0], cur[1]], flushes: ctx.flushes.length - before };
    };
    const ad = run(true);
    const plain = run(false);
    expect(ad.old).toEqual(plain.old);
    expect(ad.cur).toEqual(plain.cur);
    expect(ad.flushes).toBeLessThanOrEqual(plain.flushes);
  });
}
