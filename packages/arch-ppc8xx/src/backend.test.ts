import { allocRoot, entryRegs, mapLeaf, PTE, simpleContext, TableMemory } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { createPpc8xxBackend, Ppc8xxBackend } from "./backend";

describe("page-table operations", () => {
  it("ptep_set_access_flags sets DIRTY/ACCESSED/EXEC and clears RO, keeping the rest, then flushes", () => {
    const b = createPpc8xxBackend("16k");
    const table = new Uint32Array(1024);
    const r = entryRegs(1);
    b.pfnEntry(r, 0, PTE, 0x10, 3); // PAGE_COPY: read-only until the COW fault
    b.mkspecial(r, 0, PTE);
    b.writeEntry(table, 7, PTE, r, 0);
    const ctx = simpleContext();
    expect(b.setAccessFlags(ctx, table, 7, PTE, 0x1c000, r, 0, false)).toBe(false);
    expect(ctx.flushes).toEqual([]);
    const want = entryRegs(1);
    b.pfnEntry(want, 0, PTE, 0x10, 11);
    b.mkold(want, 0, PTE);
    b.mkdirty(want, 0, PTE);
    expect(b.setAccessFlags(ctx, table, 7, PTE, 0x1c000, want, 0, true)).toBe(true);
    // SPECIAL stays, ACCESSED is not cleared, RO is gone, DIRTY is set; all four cells.
    expect(Array.from(table.subarray(28, 32))).toEqual([0x000401a9, 0x000401a9, 0x000401a9, 0x000401a9]);
    expect(ctx.flushes).toEqual([{ start: 0x1c000, end: 0x20000, stride: 0x4000, level: PTE, reason: "access-flags" }]);
  });

  it("ptep_get_and_clear and ptep_test_and_clear_young act on all four cells with 16K pages", () => {
    const b = createPpc8xxBackend("16k");
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    const slot = mapLeaf(b, mem, root, 0x10000000, PTE, 0x10, 11, { young: true });
    expect(b.testAndClearYoung(simpleContext(), slot.table, slot.index, PTE, 0x10000000, 1)).toBe(true);
    expect(Array.from(slot.table.subarray(0, 4))).toEqual([0x40009, 0x40009, 0x40009, 0x40009]);
    b.wrprotectEntries(simpleContext(), slot.table, slot.index, PTE, 0x10000000, 1);
    expect(slot.table[3]).toBe(0x40609);
    const old = entryRegs(1);
    b.getAndClear(simpleContext(), slot.table, slot.index, PTE, 0x10000000, old, 0);
    expect(old[0]).toBe(0x40609);
    expect(Array.from(slot.table.subarray(0, 4))).toEqual([0, 0, 0, 0]);
  });

  it("is an ArchBackend class with the contract's identity", () => {
    const b = new Ppc8xxBackend("16k");
    expect([b.id, b.arch, b.variant, b.specificationVersion]).toEqual(["ppc8xx:16k", "ppc8xx", "16k", "v1"]);
  });
});

describe("README example", () => {
  it("runs as documented", () => {
    const b = createPpc8xxBackend("16k");
    const pte = entryRegs(1);
    b.pfnEntry(pte, 0, PTE, 0x1234, 11);
    expect(b.describe(pte, 0, PTE).summary).toBe("pte 16K leaf pfn 0x1234 rw- young");
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    mapLeaf(b, mem, root, 0x10000000, PTE, 0x1234, 11, { dirty: true });
    const w = b.walk(mem, root, 0x10000abc, { write: true });
    expect(w.ok && [w.pa.toString(16), w.pageSize, w.dirty]).toEqual(["48d0abc", 0x4000, true]);
  });
});
