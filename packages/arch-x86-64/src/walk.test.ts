import {
  allocRoot,
  ArchInputError,
  ensureSlot,
  entryOf,
  type HardwareWalk,
  mapLeaf,
  P4D,
  PGD,
  PMD,
  PTE,
  PUD,
  TableMemory,
  VM_EXEC,
  VM_NONE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { createX86_64Backend } from "./backend";

const RW = VM_SHARED | VM_READ | VM_WRITE;
const b4 = createX86_64Backend();
const b5 = createX86_64Backend("5level");

function ok(w: HardwareWalk) {
  if (!w.ok) throw new Error(`${w.fault} at ${w.level}: ${w.reason}`);
  return w;
}
function fault(w: HardwareWalk) {
  if (w.ok) throw new Error(`translated to 0x${w.pa.toString(16)}`);
  return w;
}

describe("hardware walk, 4-level", () => {
  it("translates a 4K page through P4D(=PGD), PUD, PMD and PTE, reporting what the MMU would set", () => {
    const mem = new TableMemory();
    const root = allocRoot(b4, mem);
    const va = 0x7f12_3456_7000;
    mapLeaf(b4, mem, root, va, PTE, 0x1234, RW);
    const w = ok(b4.walk(mem, root, va + 0xabc, { write: true }));
    expect(w.pa).toBe(0x1234abc);
    expect(w.steps.map((s) => s.level)).toEqual([P4D, PUD, PMD, PTE]);
    expect(w.steps.map((s) => s.index)).toEqual([(va / 2 ** 39) & 511, (va / 2 ** 30) & 511, (va / 2 ** 21) & 511, (va / 4096) & 511]);
    expect(w.steps[3]!.raw).toBe(0x8000000001234027n);
    expect(w.steps[0]!.entryPa).toBe(root + w.steps[0]!.index * 8);
    expect([w.pageSize, w.tlbSize, w.read, w.write, w.exec, w.user]).toEqual([4096, 4096, true, true, false, true]);
    expect([w.young, w.dirty, w.setsYoung, w.setsDirty]).toEqual([true, false, false, true]);
  });
  it("translates 2M and 1G leaves", () => {
    const mem = new TableMemory();
    const root = allocRoot(b4, mem);
    mapLeaf(b4, mem, root, 0x4000_0000, PUD, 0x80000, VM_READ | VM_EXEC);
    mapLeaf(b4, mem, root, 0x8020_0000, PMD, 0x40000, RW, { young: true, dirty: true });
    const g = ok(b4.walk(mem, root, 0x4123_4567, { exec: true }));
    expect([g.pa, g.level, g.pageSize, g.write, g.exec]).toEqual([0x8123_4567, PUD, 2 ** 30, false, true]);
    expect(g.setsYoung).toBe(false); // PAGE_READONLY_EXEC includes Accessed
    const m = ok(b4.walk(mem, root, 0x8021_0000, { write: true }));
    expect([m.pa, m.level, m.pageSize, m.dirty, m.setsDirty]).toEqual([0x4001_0000, PMD, 2 ** 21, true, false]);
  });
  it("PROT_NONE, swap and invalidated entries are translation faults at their level", () => {
    const mem = new TableMemory();
    const root = allocRoot(b4, mem);
    mapLeaf(b4, mem, root, 0x1000, PTE, 0x1234, VM_NONE);
    expect(fault(b4.walk(mem, root, 0x1000))).toMatchObject({ fault: "translation", level: PTE, reason: expect.stringMatching(/PROT_NONE/) });
    const slot = ensureSlot(b4, mem, root, 0x2000, PTE);
    const s = new Uint32Array(2);
    b4.softleafEntry(s, 0, PTE, 3, 0x99);
    b4.writeEntry(slot.table, slot.index, PTE, s, 0);
    expect(fault(b4.walk(mem, root, 0x2000))).toMatchObject({ fault: "translation", level: PTE, reason: expect.stringMatching(/softleaf/) });
    const pmd = mapLeaf(b4, mem, root, 0x4000_0000, PMD, 0x40000, RW);
    const e = new Uint32Array(2);
    b4.readEntry(pmd.table, pmd.index, PMD, e, 0);
    b4.mkinvalid(e, 0, PMD);
    b4.writeEntry(pmd.table, pmd.index, PMD, e, 0);
    expect(fault(b4.walk(mem, root, 0x4000_0000))).toMatchObject({ fault: "translation", level: PMD, reason: expect.stringMatching(/invalidated/) });
    expect(fault(b4.walk(mem, root, 0x7000_0000_0000))).toMatchObject({ fault: "translation", level: P4D });
  });
  it("permissions combine across levels: RW and USER everywhere, NX anywhere, SMEP for the kernel", () => {
    const mem = new TableMemory();
    const root = allocRoot(b4, mem);
    mapLeaf(b4, mem, root, 0x1000, PTE, 0x10, RW | VM_EXEC);
    expect(ok(b4.walk(mem, root, 0x1000, { write: true, exec: true })).exec).toBe(true);
    // Clear RW in the PMD entry: the leaf stays RW, the walk does not.
    const pmd = ensureSlot(b4, mem, root, 0x1000, PMD);
    const e = new Uint32Array(2);
    b4.readEntry(pmd.table, pmd.index, PMD, e, 0);
    b4.writeEntry(pmd.table, pmd.index, PMD, entryOf(0x8000000000000000n | BigInt(e[0]! & ~2)), 0);
    expect(fault(b4.walk(mem, root, 0x1000, { write: true }))).toMatchObject({ fault: "permission", level: PTE });
    expect(fault(b4.walk(mem, root, 0x1000, { exec: true })).reason).toMatch(/no-execute/);
    const r = ok(b4.walk(mem, root, 0x1000));
    expect([r.write, r.exec]).toEqual([false, false]);
    // A kernel-only table above a user leaf; and the kernel executing a user page.
    mapLeaf(b4, mem, root, 0x8000_0000, PTE, 0x20, VM_READ | VM_EXEC);
    expect(fault(b4.walk(mem, root, 0x8000_0000, { exec: true, user: false })).reason).toMatch(/SMEP/);
    const pud = ensureSlot(b4, mem, root, 0x8000_0000, PUD);
    b4.readEntry(pud.table, pud.index, PUD, e, 0);
    e[0] = e[0]! & ~4;
    b4.writeEntry(pud.table, pud.index, PUD, e, 0);
    expect(fault(b4.walk(mem, root, 0x8000_0000)).reason).toMatch(/supervisor page/);
    expect(ok(b4.walk(mem, root, 0x8000_0000, { user: false })).user).toBe(false);
  });
  it("reserved bits and missing tables are bad-table faults", () => {
    const mem = new TableMemory();
    const root = allocRoot(b4, mem);
    const top = mem.get(root);
    top[0] = 0xe7; // PS in a PML4 entry
    expect(fault(b4.walk(mem, root, 0x1000))).toMatchObject({ fault: "bad-table", level: P4D });
    top[2] = 0x0dead067; // points to no table
    expect(fault(b4.walk(mem, root, 2 ** 39))).toMatchObject({ fault: "bad-table", level: PUD });
    const va = 3 * 2 ** 39;
    const slot = mapLeaf(b4, mem, root, va, PMD, 0x40000, RW);
    slot.table[slot.index * 2] = slot.table[slot.index * 2]! | 0x2000; // bit 13 in a 2M leaf
    expect(fault(b4.walk(mem, root, va)).reason).toMatch(/reserved/);
    slot.table[slot.index * 2] = slot.table[slot.index * 2]! & ~0x2000;
    slot.table[slot.index * 2 + 1] = slot.table[slot.index * 2 + 1]! | 0x4000; // bit 46 > MAXPHYADDR
    expect(fault(b4.walk(mem, root, va)).reason).toMatch(/MAXPHYADDR/);
    slot.table[slot.index * 2 + 1] = slot.table[slot.index * 2 + 1]! & ~0x4000;
    expect(ok(b4.walk(mem, root, va)).pa).toBe(0x4000_0000);
  });
  it("rejects a non-canonical address but walks the kernel half", () => {
    const mem = new TableMemory();
    const root = allocRoot(b4, mem);
    expect(() => b4.walk(mem, root, 2 ** 47)).toThrow(ArchInputError);
    expect(() => b4.walk(mem, root, -1)).toThrow(ArchInputError);
    expect(fault(b4.walk(mem, root, 2 ** 64 - 2 ** 47)).steps[0]!.index).toBe(256);
  });
});

describe("hardware walk, 5-level", () => {
  it("walks PGD, P4D, PUD, PMD and PTE, up to the top of the 56-bit user half", () => {
    const mem = new TableMemory();
    const root = allocRoot(b5, mem);
    const va = 2 ** 55 + 2 ** 48 * 3 + 2 ** 39 * 7 + 0x1234_5000;
    mapLeaf(b5, mem, root, va, PTE, 2 ** 39, RW, { young: true });
    const w = ok(b5.walk(mem, root, va + 0x10));
    expect(w.steps.map((s) => s.level)).toEqual([PGD, P4D, PUD, PMD, PTE]);
    expect(w.steps.map((s) => s.index)).toEqual([128 + 3, 7, 0, 0x91, 0x145]);
    expect(w.pa).toBe(2 ** 51 + 0x10);
    expect(() => b5.walk(mem, root, 2 ** 56)).toThrow(ArchInputError);
    expect(b4.geometry.tables.length).toBe(4);
  });
});
