import { allocRoot, ArchInputError, ensureSlot, entryRegs, mapLeaf, simpleContext, TableMemory, PMD, PTE, PUD, P4D } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { createArm64Backend } from "./index";
import { foldBlock, tableFixture } from "./test-fixtures";

const VA = 0x7f12_3456_7000;

function mapped(variant: string, prot: number, edit?: (r: Uint32Array) => void) {
  const b = createArm64Backend(variant);
  const mem = new TableMemory();
  const root = allocRoot(b, mem);
  const va = VA % 2 ** b.geometry.vaBits;
  const slot = ensureSlot(b, mem, root, va, PTE);
  const r = entryRegs(1);
  b.pfnEntry(r, 0, PTE, 0xabcde, prot);
  edit?.(r);
  b.writeEntry(slot.table, slot.index, PTE, r, 0);
  return { b, mem, root, va, slot };
}

describe("stage-1 walk", () => {
  it("translates a shared writable page; a write is allowed by DBM and sets the dirty state", () => {
    const { b, mem, root, va } = mapped("4k-48", 11);
    const w = b.walk(mem, root, va + 0x123, { write: true });
    expect(w.ok).toBe(true);
    if (!w.ok) return;
    expect([w.pa, w.level, w.pageSize, w.tlbSize]).toEqual([0xabcde123, PTE, 4096, 4096]);
    expect([w.read, w.write, w.exec, w.user, w.young, w.dirty, w.setsYoung, w.setsDirty]).toEqual([true, true, false, true, true, false, false, true]);
    expect(w.steps.map((s) => s.level)).toEqual([P4D, PUD, PMD, PTE]);
    expect(w.steps[3]!.raw).toBe(0x00680000abcdefc3n);
  });

  it("a read sets nothing; an old entry has its access flag set by the hardware", () => {
    const { b, mem, root, va } = mapped("4k-48", 11, (r) => (r[0] = r[0]! & ~0x400));
    const w = b.walk(mem, root, va);
    expect(w.ok && [w.young, w.setsYoung, w.setsDirty]).toEqual([false, true, false]);
  });

  it("a write to a private (COW) read-only page is a permission fault", () => {
    const { b, mem, root, va } = mapped("4k-48", 3);
    const w = b.walk(mem, root, va, { write: true });
    expect(!w.ok && [w.fault, w.level]).toEqual(["permission", PTE]);
  });

  it("UXN forbids user execution; PAGE_READONLY_EXEC allows it", () => {
    const ro = mapped("4k-48", 1);
    const w = ro.b.walk(ro.mem, ro.root, ro.va, { exec: true });
    expect(!w.ok && w.fault).toBe("permission");
    const rx = mapped("4k-48", 5);
    const x = rx.b.walk(rx.mem, rx.root, rx.va, { exec: true });
    expect(x.ok && [x.exec, x.write]).toEqual([true, false]);
  });

  it("kernel accesses: PXN forbids execution, the user bit does not restrict reads", () => {
    const rx = mapped("4k-48", 5);
    const w = rx.b.walk(rx.mem, rx.root, rx.va, { exec: true, user: false });
    expect(!w.ok && w.fault).toBe("permission");
    const r = rx.b.walk(rx.mem, rx.root, rx.va, { user: false });
    expect(r.ok && r.read).toBe(true);
  });

  it("PROT_NONE, a softleaf and an unmapped address are translation faults at their level", () => {
    const none = mapped("4k-48", 0);
    const w = none.b.walk(none.mem, none.root, none.va);
    expect(!w.ok && [w.fault, w.level]).toEqual(["translation", PTE]);
    expect(!w.ok && w.reason).toMatch(/protnone/);
    const swap = mapped("4k-48", 11, (r) => none.b.softleafEntry(r, 0, PTE, 3, 77));
    const s = swap.b.walk(swap.mem, swap.root, swap.va);
    expect(!s.ok && [s.fault, s.level]).toEqual(["translation", PTE]);
    const far = swap.b.walk(swap.mem, swap.root, swap.va - 2 ** 36);
    expect(!far.ok && [far.fault, far.level, far.steps.length]).toEqual(["translation", PUD, 2]);
  });

  it("a type-01 descriptor at the last level is invalid", () => {
    const { b, mem, root, va } = mapped("4k-48", 1, (r) => (r[0] = r[0]! & ~2));
    const w = b.walk(mem, root, va);
    expect(!w.ok && [w.fault, w.level]).toEqual(["translation", PTE]);
  });

  it("PMD and PUD blocks; no PUD block with 16K pages", () => {
    const b = createArm64Backend("4k-48");
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    mapLeaf(b, mem, root, 0x4000_0000, PUD, 0x40000, 11);
    mapLeaf(b, mem, root, 0x8020_0000, PMD, 0x80200, 11);
    const pud = b.walk(mem, root, 0x4000_0000 + 0x1234567);
    expect(pud.ok && [pud.level, pud.pageSize, pud.pa]).toEqual([PUD, 2 ** 30, 0x4000_0000 + 0x1234567]);
    const pmd = b.walk(mem, root, 0x8020_0000 + 0x12345);
    expect(pmd.ok && [pmd.level, pmd.pageSize, pmd.pa]).toEqual([PMD, 2 ** 21, 0x8020_0000 + 0x12345]);

    const b16 = createArm64Backend("16k-47");
    const mem16 = new TableMemory();
    const root16 = allocRoot(b16, mem16);
    const slot = ensureSlot(b16, mem16, root16, 2 ** 36, PUD);
    const r = entryRegs(1);
    b16.pfnEntry(r, 0, PUD, 2 ** 22, 11);
    b16.mkhuge(r, 0, PMD);
    b16.writeEntry(slot.table, slot.index, PUD, r, 0);
    const w = b16.walk(mem16, root16, 2 ** 36);
    expect(!w.ok && [w.fault, w.level]).toEqual(["translation", PUD]);
  });

  it("hierarchical APTable and UXNTable restrict what lies below", () => {
    const { b, mem, root, va } = mapped("4k-48", 15); // PAGE_SHARED_EXEC
    expect(b.walk(mem, root, va, { write: true }).ok).toBe(true);
    const pmdSlot = ensureSlot(b, mem, root, va, PMD);
    const r = entryRegs(1);
    const patch = (bits: number) => {
      b.readEntry(pmdSlot.table, pmdSlot.index, PMD, r, 0);
      r[1] = (r[1]! & ~0x70000000) | bits;
      b.writeEntry(pmdSlot.table, pmdSlot.index, PMD, r, 0);
    };
    patch(0x40000000); // APTable[1]: read-only below
    const ro = b.walk(mem, root, va, { write: true });
    expect(!ro.ok && ro.fault).toBe("permission");
    expect(b.walk(mem, root, va).ok).toBe(true);
    patch(0x20000000); // APTable[0]: no EL0 access below
    const noEl0 = b.walk(mem, root, va);
    expect(!noEl0.ok && noEl0.fault).toBe("permission");
    patch(0x10000000); // UXNTable
    const nx = b.walk(mem, root, va, { exec: true });
    expect(!nx.ok && nx.fault).toBe("permission");
  });

  it("a folded contpte block is one 64K TLB entry of 4K pages", () => {
    const f = tableFixture();
    foldBlock(f, 16, 0x1000, 11);
    const w = f.b.walk(f.mem, f.root, f.va(20) + 8);
    expect(w.ok && [w.pageSize, w.tlbSize, w.pa]).toEqual([4096, 65536, 0x1004008]);
  });

  it("52-bit physical addresses decode on the way down (LPA2 and 64K)", () => {
    for (const variant of ["4k-52", "16k-52", "64k-52"]) {
      const b = createArm64Backend(variant);
      const mem = new TableMemory(2 ** 51 + 2 ** 50); // tables above 2^50
      const root = allocRoot(b, mem);
      const pfn = 2 ** (52 - b.geometry.pageShift) - 3;
      const va = 2 ** b.geometry.vaBits - b.pageSize * 7;
      mapLeaf(b, mem, root, va, PTE, pfn, 11, { ctx: simpleContext() });
      const w = b.walk(mem, root, va + 5);
      expect(w.ok && w.pa, variant).toBe(pfn * b.pageSize + 5);
      expect(w.steps.length).toBe(b.geometry.tables.length);
    }
  });

  it("an address outside the TTBR0 range faults; a missing table is reported as such; bad va input throws", () => {
    const { b, mem, root } = mapped("4k-39", 11);
    const w = b.walk(mem, root, 2 ** 39);
    expect(!w.ok && [w.fault, w.steps.length]).toEqual(["translation", 0]);
    const lost = b.walk(mem, 0x7777_0000, 0x1000);
    expect(!lost.ok && lost.fault).toBe("bad-table");
    expect(() => b.walk(mem, root, -1)).toThrow(ArchInputError);
  });
});
