import {
  allocRoot,
  ArchInputError,
  type ArchBackend,
  ensureSlot,
  entryRegs,
  type HardwareTranslation,
  mapLeaf,
  PMD,
  PTE,
  TableMemory,
} from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { createPpc8xxBackend } from "./backend";
import { pteLeafSize } from "./walk";

const NONE = 0;
const READ = 1;
const EXEC_ONLY = 4;
const COPY = 3;
const SHARED = 11;
const SHARED_X = 15;

function setup(variant: "4k" | "16k" = "4k") {
  const b = createPpc8xxBackend(variant);
  const mem = new TableMemory();
  const root = allocRoot(b, mem);
  return { b, mem, root };
}

function ok(w: ReturnType<ArchBackend["walk"]>): HardwareTranslation {
  if (!w.ok) throw new Error(`walk faulted: ${w.fault} ${w.reason}`);
  return w;
}

describe("__pte_leaf_size", () => {
  it("8M from the PMD, then 512K, 16K, 4K from the PTE", () => {
    expect(pteLeafSize(0x0010104d, 0x00800829)).toBe(0x800000);
    expect(pteLeafSize(0x00101041, 0x00800829)).toBe(0x80000);
    expect(pteLeafSize(0x00101041, 0x00800029)).toBe(0x4000);
    expect(pteLeafSize(0x00101041, 0x00800021)).toBe(0x1000);
  });
});

describe("walk: translation", () => {
  it("a 4K page: pa, steps, entry addresses", () => {
    const { b, mem, root } = setup();
    const slot = mapLeaf(b, mem, root, 0x10003000, PTE, 0x456, SHARED, { young: true, dirty: true });
    const w = ok(b.walk(mem, root, 0x10003abc, { write: true }));
    expect(w).toMatchObject({ pa: 0x456abc, pageSize: 0x1000, tlbSize: 0x1000, level: PTE, read: true, write: true, exec: false, user: true, young: true, dirty: true, setsYoung: false, setsDirty: false });
    expect(w.steps.map((s) => [s.level, s.index, s.entryPa, s.raw])).toEqual([
      [PMD, 0x40, root + 0x100, BigInt(0x00101041)],
      [PTE, 3, slot.tablePa + 12, 0x00456121n],
    ]);
    expect(w.steps[1]!.described.summary).toMatch(/__pte_leaf_size: 4K/);
  });

  it("16K pages: the hardware indexes 4K cells, the step reports the logical index", () => {
    const { b, mem, root } = setup("16k");
    const slot = mapLeaf(b, mem, root, 0x10004000, PTE, 0x456, SHARED, { young: true });
    const w = ok(b.walk(mem, root, 0x10006abc));
    expect([w.pa, w.pageSize]).toEqual([0x115aabc, 0x4000]);
    expect([w.steps[1]!.index, w.steps[1]!.entryPa]).toEqual([1, slot.tablePa + 4 * 6]);
    // The MMU reads cell va[21:12]: a diverging replica shows it.
    slot.table[6] = 0;
    expect(b.walk(mem, root, 0x10006abc)).toMatchObject({ ok: false, fault: "translation", level: PTE });
    expect(ok(b.walk(mem, root, 0x10005abc)).pa).toBe(0x1159abc);
  });

  it("faults where the chain stops", () => {
    const { b, mem, root } = setup();
    expect(b.walk(mem, root, 0x10000000)).toMatchObject({ ok: false, fault: "translation", level: PMD });
    const slot = ensureSlot(b, mem, root, 0x10000000, PTE);
    expect(b.walk(mem, root, 0x10000000)).toMatchObject({ ok: false, fault: "translation", level: PTE, reason: "PTE none" });
    const r = entryRegs(1);
    b.softleafEntry(r, 0, PTE, 25, 0x456);
    b.writeEntry(slot.table, 0, PTE, r, 0);
    const w = b.walk(mem, root, 0x10000000);
    expect(w).toMatchObject({ ok: false, fault: "translation", level: PTE, reason: "PTE not present (softleaf)" });
    expect(w.steps[1]!.described.kind).toBe("softleaf");
  });

  it("bad tables", () => {
    const { b, mem, root } = setup();
    expect(b.walk(mem, 0x7000, 0)).toMatchObject({ ok: false, fault: "bad-table", level: PMD });
    const pgd = mem.get(root);
    pgd[1] = 0x00555041;
    expect(b.walk(mem, root, 0x00400000)).toMatchObject({ ok: false, fault: "bad-table", reason: /holds no PTE table/ });
    pgd[2] = 0x00101841;
    expect(b.walk(mem, root, 0x00800000)).toMatchObject({ ok: false, fault: "bad-table", reason: /_PMD_BAD bits 0x800/ });
  });

  it("rejects addresses outside 32 bits", () => {
    const { b, mem, root } = setup();
    expect(() => b.walk(mem, root, 2 ** 32)).toThrow(ArchInputError);
    expect(() => b.walk(mem, root, -1)).toThrow(/virtual address/);
  });
});

describe("walk: permissions", () => {
  it("PAGE_NONE is valid but no-access: a permission fault, not a translation fault", () => {
    const { b, mem, root } = setup();
    mapLeaf(b, mem, root, 0x10000000, PTE, 0x456, NONE);
    for (const access of [{}, { write: true }, { exec: true }, { user: false }]) {
      expect(b.walk(mem, root, 0x10000000, access)).toMatchObject({ ok: false, fault: "permission", level: PTE });
    }
  });

  it("user access is decided by the PMD: a PTE under a kernel PMD is not user-accessible", () => {
    const { b, mem, root } = setup();
    const tablePa = mem.alloc(4096);
    const pmd = entryRegs(1);
    b.tableEntry(pmd, 0, PMD, tablePa, false);
    b.writeEntry(mem.get(root), 0x300, PMD, pmd, 0);
    const pte = entryRegs(1);
    b.pfnEntry(pte, 0, PTE, 0x456, SHARED);
    b.writeEntry(mem.get(tablePa), 0, PTE, pte, 0);
    const va = 0xc0000000;
    expect(b.walk(mem, root, va)).toMatchObject({ ok: false, fault: "permission", reason: /_PMD_USER/ });
    const k = ok(b.walk(mem, root, va, { user: false, write: true }));
    expect([k.user, k.write, k.pa]).toEqual([false, true, 0x456000]);
  });

  it("read-only, exec-only and exec", () => {
    const { b, mem, root } = setup();
    mapLeaf(b, mem, root, 0x10000000, PTE, 1, READ, { young: true });
    mapLeaf(b, mem, root, 0x10001000, PTE, 2, EXEC_ONLY, { young: true });
    mapLeaf(b, mem, root, 0x10002000, PTE, 3, SHARED_X, { young: true });
    mapLeaf(b, mem, root, 0x10003000, PTE, 4, COPY, { young: true });
    expect(ok(b.walk(mem, root, 0x10000000))).toMatchObject({ read: true, write: false, exec: false });
    expect(b.walk(mem, root, 0x10000000, { write: true })).toMatchObject({ ok: false, fault: "permission", reason: /_PAGE_RO/ });
    expect(b.walk(mem, root, 0x10003000, { write: true })).toMatchObject({ ok: false, fault: "permission" }); // PAGE_COPY before COW
    expect(b.walk(mem, root, 0x10000000, { exec: true })).toMatchObject({ ok: false, fault: "permission", reason: /_PAGE_EXEC/ });
    expect(ok(b.walk(mem, root, 0x10001000, { exec: true }))).toMatchObject({ read: false, exec: true });
    expect(b.walk(mem, root, 0x10001000)).toMatchObject({ ok: false, fault: "permission", reason: /_PAGE_NA/ });
    expect(ok(b.walk(mem, root, 0x10002000, { exec: true, write: true }))).toMatchObject({ exec: true, setsDirty: false });
    expect(b.walk(mem, root, 0x10002000, { exec: true, user: false })).toMatchObject({ ok: false, reason: /KUEP/ });
  });

  it("no instruction fetch from guarded storage", () => {
    const { b, mem, root } = setup();
    const slot = mapLeaf(b, mem, root, 0x10000000, PTE, 1, SHARED_X, { young: true });
    slot.table[0] = slot.table[0]! | 0x10;
    expect(b.walk(mem, root, 0x10000000, { exec: true })).toMatchObject({ ok: false, fault: "permission", reason: /guarded/ });
    expect(ok(b.walk(mem, root, 0x10000000)).exec).toBe(false);
  });
});

describe("walk: ACCESSED and DIRTY are set by the fault path, not the MMU", () => {
  it("reports young/dirty from the bits and what the TLB error path would set", () => {
    const { b, mem, root } = setup();
    const slot = mapLeaf(b, mem, root, 0x10000000, PTE, 1, SHARED);
    slot.table[0] = slot.table[0]! & ~0x20; // pfn_pte() with _PAGE_BASE is young: make it old
    const before = slot.table[0];
    const read = ok(b.walk(mem, root, 0x10000000));
    expect([read.young, read.dirty, read.setsYoung, read.setsDirty]).toEqual([false, false, true, false]);
    expect(read.steps[1]!.described.summary).toMatch(/ACCESSED clear.*do_page_fault\(\) sets _PAGE_ACCESSED/);
    const write = ok(b.walk(mem, root, 0x10000000, { write: true }));
    expect([write.setsYoung, write.setsDirty]).toEqual([true, true]);
    expect(write.steps[1]!.described.summary).toMatch(/DTLB error/);
    expect(slot.table[0]).toBe(before); // walk never mutates
  });
});
