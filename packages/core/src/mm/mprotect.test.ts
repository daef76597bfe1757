import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { PTE, SoftleafType, SWP_MIGRATION_WRITE, entryRegs, migrationOffset, softleafTypeOf, type ArchBackend } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { VM_FAULT_SIGSEGV } from "../fault/codes";
import { mixTag } from "../folio/contents";
import { Kernel } from "../kernel/kernel";
import { PG_locked } from "../phys/page-flags";
import { Slot } from "../pgtable/walker";
import { EV, NS } from "../stats/counters";
import { MM_ANONPAGES } from "./counters";
import { dupMmap } from "./fork";
import { PROT_GROWSDOWN, PROT_GROWSUP } from "./mprotect";
import { sysMprotect } from "./syscalls";
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_NORESERVE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  VM_ACCOUNT,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_READ,
  VM_SOFTDIRTY,
  VM_WRITE,
  protIndex,
} from "./vm-flags";
import { mapOk, layout } from "../testing/vma";

const KiB = 2 ** 10;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const FIXED = ANON | MAP_FIXED;
const X = 0x4000_0000;
const P = 4 * KiB;
const OK = { ok: true, value: 0 };

function kernel(backend: ArchBackend = createX86_64Backend(), memory = "64M"): Kernel {
  return new Kernel({ backend, memory });
}



describe("mprotect errors", () => {
  it("refuses bad arguments with the kernel's errno", () => {
    const k = kernel();
    const mm = k.createMm();
    expect(sysMprotect(k, mm, X + 1, P, PROT_READ)).toEqual({ ok: false, errno: "EINVAL", reason: "addr 0x40000001 is not aligned to the page size (4096 bytes)" });
    expect(sysMprotect(k, mm, X, 0, PROT_READ)).toEqual(OK);
    expect(sysMprotect(k, mm, X, 2 ** 64 - P, PROT_READ)).toEqual({ ok: false, errno: "ENOMEM", reason: "addr 0x40000000 + len 0xfffffffffffff000 wraps around the address space" });
    expect(sysMprotect(k, mm, X, P, 0x10)).toEqual({ ok: false, errno: "EINVAL", reason: "prot 0x10 has bits other than PROT_READ, PROT_WRITE, PROT_EXEC and PROT_SEM" });
    expect(sysMprotect(k, mm, X, P, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP)).toEqual({ ok: false, errno: "EINVAL", reason: "prot has both PROT_GROWSDOWN and PROT_GROWSUP" });
    expect(sysMprotect(k, mm, X, P, PROT_READ)).toEqual({ ok: false, errno: "ENOMEM", reason: "nothing is mapped in [0x40000000, 0x40001000)" });
    mapOk(k, mm, { addr: X + P, len: P, prot: RW, flags: FIXED });
    expect(sysMprotect(k, mm, X, 2 * P, PROT_READ)).toEqual({ ok: false, errno: "ENOMEM", reason: "[0x40000000, 0x40001000) is not mapped" });
    expect(sysMprotect(k, mm, X + P, P, PROT_READ | PROT_GROWSDOWN)).toEqual({ ok: false, errno: "EINVAL", reason: "PROT_GROWSDOWN on [0x40001000, 0x40002000), which does not grow down" });
    expect(sysMprotect(k, mm, X + P, P, PROT_READ | PROT_GROWSUP)).toEqual({ ok: false, errno: "EINVAL", reason: "PROT_GROWSUP on [0x40001000, 0x40002000), which does not grow up" });
    expect(mm.vmas.all()[0]!.flags & VM_WRITE).toBe(VM_WRITE);
  });

  it("applies the change up to a hole, then fails with ENOMEM", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 2 * P, prot: RW, flags: FIXED });
    mapOk(k, mm, { addr: X + 3 * P, len: P, prot: RW, flags: FIXED });
    expect(sysMprotect(k, mm, X, 4 * P, PROT_READ)).toEqual({ ok: false, errno: "ENOMEM", reason: "[0x40002000, 0x40003000) is not mapped" });
    expect(mm.vmas.all().map((v) => v.flags & VM_WRITE)).toEqual([0, VM_WRITE]);
    expect(sysMprotect(k, mm, X + 3 * P, 4 * P, PROT_READ)).toEqual({ ok: false, errno: "ENOMEM", reason: "[0x40004000, 0x40007000) is not mapped" });
    expect(mm.vmas.all().map((v) => v.flags & VM_WRITE)).toEqual([0, 0]);
  });

  it("refuses PROT_WRITE with EACCES where VM_MAYWRITE is clear (a shared mapping of a file opened read-only)", () => {
    const k = kernel();
    const mm = k.createMm();
    const file = k.createFile("ro", 16 * KiB);
    const a = mapOk(k, mm, { len: 4 * P, prot: PROT_READ, flags: MAP_SHARED, file, readOnly: true });
    expect(mm.vmas.lookup(a)!.flags & VM_MAYWRITE).toBe(0);
    expect(sysMprotect(k, mm, a, 4 * P, RW)).toEqual({ ok: false, errno: "EACCES", reason: `prot 0x3 asks for access the mapping [0x${a.toString(16)}, 0x${(a + 4 * P).toString(16)}) may never have` });
    expect(sysMprotect(k, mm, a, 4 * P, PROT_READ | PROT_EXEC)).toEqual(OK);
  });

  it("charges the commit limit when a private mapping becomes writable", () => {
    const k = kernel();
    const mm = k.createMm();
    const big = mapOk(k, mm, { len: 128 * 1024 * KiB, prot: PROT_READ, flags: ANON });
    expect(sysMprotect(k, mm, big, 128 * 1024 * KiB, RW)).toEqual({
      ok: false,
      errno: "ENOMEM",
      reason: `making [0x${big.toString(16)}, 0x${(big + 128 * 1024 * KiB).toString(16)}) writable commits more than the memory and swap of the machine`,
    });
    const nores = mapOk(k, mm, { len: 128 * 1024 * KiB, prot: PROT_READ, flags: ANON | MAP_NORESERVE });
    expect(sysMprotect(k, mm, nores, 128 * 1024 * KiB, RW)).toEqual(OK);
  });
});

describe("mprotect", () => {
  it("splits the middle off and merges it back, dropping VM_ACCOUNT only while unfaulted and read-only", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 8 * P, prot: RW, flags: FIXED });
    const base = VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_SOFTDIRTY;
    expect(sysMprotect(k, mm, X + 2 * P, 2 * P, PROT_READ)).toEqual(OK);
    expect(layout(mm)).toEqual([
      [X, X + 2 * P, X / P],
      [X + 2 * P, X + 4 * P, X / P + 2],
      [X + 4 * P, X + 8 * P, X / P + 4],
    ]);
    expect(mm.vmas.all().map((v) => v.flags)).toEqual([base | VM_WRITE | VM_ACCOUNT, base, base | VM_WRITE | VM_ACCOUNT]);
    expect(sysMprotect(k, mm, X + 2 * P, 2 * P, RW)).toEqual(OK);
    expect(layout(mm)).toEqual([[X, X + 8 * P, X / P]]);
    // Faulted: the read-only part keeps VM_ACCOUNT, and still merges back.
    k.touch(mm, X, 8 * P, true, 2);
    expect(sysMprotect(k, mm, X + 6 * P, 2 * P, PROT_READ)).toEqual(OK);
    expect(mm.vmas.all().map((v) => v.flags)).toEqual([base | VM_WRITE | VM_ACCOUNT, base | VM_ACCOUNT]);
    expect(sysMprotect(k, mm, X, 8 * P, RW)).toEqual(OK);
    expect(layout(mm)).toEqual([[X, X + 8 * P, X / P]]);
    expect(k.peek(mm, X + 7 * P)).toBe(mixTag(2, X / P + 7));
  });

  it("changes every VMA in the range and merges the ones that end up alike", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    mapOk(k, mm, { addr: X + 4 * P, len: 4 * P, prot: RW | PROT_EXEC, flags: FIXED });
    expect(mm.vmas.count).toBe(2);
    expect(sysMprotect(k, mm, X, 8 * P, PROT_READ)).toEqual(OK);
    expect(layout(mm)).toEqual([[X, X + 8 * P, X / P]]);
  });

  it("makes pages read-only so writes fault, and writable again without faults for exclusive anonymous pages", () => {
    for (const backend of [createX86_64Backend(), createArm64Backend("4k-48"), createArm64Backend("64k-48"), createPpc8xxBackend("4k")]) {
      const k = kernel(backend, backend.geometry.pageShift === 16 ? "1G" : "64M");
      const ps = k.pageSize;
      const mm = k.createMm();
      mapOk(k, mm, { addr: X, len: 32 * ps, prot: RW, flags: FIXED });
      k.touch(mm, X, 32 * ps, true, 1);
      const flushes = k.tlb.byReason.get("mprotect") ?? 0;
      expect(sysMprotect(k, mm, X, 32 * ps, PROT_READ)).toEqual(OK);
      expect(k.tlb.byReason.get("mprotect")).toBe(flushes + 1);
      expect(k.touch(mm, X, 32 * ps, false).faults).toBe(0);
      expect(k.touch(mm, X + 5 * ps, ps, true)).toMatchObject({ error: VM_FAULT_SIGSEGV, errorAddr: X + 5 * ps });
      expect(sysMprotect(k, mm, X, 32 * ps, RW)).toEqual(OK);
      const faults = k.events[EV.pgfault];
      expect(k.touch(mm, X, 32 * ps, true).faults).toBe(0);
      expect(k.events[EV.pgfault]).toBe(faults);
      expect(k.peek(mm, X + 31 * ps)).toBe(mixTag(1, X / ps + 31));
      expect(mm.rss[MM_ANONPAGES]).toBe(32);
    }
  });

  it("leaves pages that need COW read-only: a write copies them", () => {
    const k = kernel();
    const parent = k.createMm();
    mapOk(k, parent, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    k.touch(parent, X, 4 * P, true, 5);
    // After fork the pages are shared, no longer exclusive.
    const child = dupMmap(
      k,
      parent,
      () => {
        throw new Error("no huge entries here");
      },
      (c) => k.exit(c),
    )!;
    expect(sysMprotect(k, parent, X, 4 * P, PROT_READ)).toEqual(OK);
    expect(sysMprotect(k, parent, X, 4 * P, RW)).toEqual(OK);
    const anon = k.phys.nodeStats(0)[NS.nr_anon_pages]!;
    expect(k.touch(parent, X, P, true, 6).faults).toBe(1);
    expect(k.phys.nodeStats(0)[NS.nr_anon_pages]).toBe(anon + 1);
    expect([k.peek(parent, X), k.peek(child, X)]).toEqual([mixTag(6, X / P), mixTag(5, X / P)]);
    // The zero page and file pages are never made writable either.
    mapOk(k, parent, { addr: X + 8 * P, len: P, prot: RW, flags: FIXED });
    k.touch(parent, X + 8 * P, P, false);
    const file = k.createFile("data", 16 * KiB);
    const f = mapOk(k, parent, { len: P, prot: PROT_READ, flags: MAP_PRIVATE, file });
    k.touch(parent, f, P, false);
    expect(sysMprotect(k, parent, X + 8 * P, P, PROT_READ)).toEqual(OK);
    expect(sysMprotect(k, parent, X + 8 * P, P, RW)).toEqual(OK);
    expect(sysMprotect(k, parent, f, P, RW)).toEqual(OK);
    expect(k.touch(parent, X + 8 * P, P, true).faults).toBe(1);
    expect(k.touch(parent, f, P, true).faults).toBe(1);
    expect(parent.rss[MM_ANONPAGES]).toBe(6);
  });

  it("makes dirty PTEs of a shared file mapping writable again, but keeps clean ones for write notification", () => {
    const k = kernel();
    const mm = k.createMm();
    const file = k.createFile("data", 16 * KiB);
    const a = mapOk(k, mm, { len: 4 * P, prot: RW, flags: MAP_SHARED, file });
    k.touch(mm, a, 2 * P, true, 3);
    k.touch(mm, a + 2 * P, 2 * P, false);
    expect(sysMprotect(k, mm, a, 4 * P, PROT_READ)).toEqual(OK);
    expect(k.touch(mm, a, P, true).error).toBe(VM_FAULT_SIGSEGV);
    expect(sysMprotect(k, mm, a, 4 * P, RW)).toEqual(OK);
    expect(k.touch(mm, a, 2 * P, true).faults).toBe(0);
    expect(k.touch(mm, a + 2 * P, 2 * P, true).faults).toBe(2);
    // shmem needs no write notification: its PTEs become writable with the protection.
    const shm = mapOk(k, mm, { len: 2 * P, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS });
    k.touch(mm, shm, 2 * P, false);
    expect(sysMprotect(k, mm, shm, 2 * P, PROT_READ)).toEqual(OK);
    expect(sysMprotect(k, mm, shm, 2 * P, RW)).toEqual(OK);
    expect(k.touch(mm, shm, 2 * P, true).faults).toBe(0);
  });

  it("makes PROT_NONE pages inaccessible and gives them back unchanged", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    k.touch(mm, X, 4 * P, true, 7);
    expect(sysMprotect(k, mm, X, 4 * P, PROT_NONE)).toEqual(OK);
    expect(mm.vmas.all()[0]!.flags & (VM_READ | VM_WRITE)).toBe(0);
    expect(k.peek(mm, X)).toBe(-1);
    expect(k.touch(mm, X, P, false).error).toBe(VM_FAULT_SIGSEGV);
    expect(sysMprotect(k, mm, X, 4 * P, RW)).toEqual(OK);
    expect(k.peek(mm, X + 3 * P)).toBe(mixTag(7, X / P + 3));
    expect(k.touch(mm, X, 4 * P, true).faults).toBe(0);
  });

  it("turns a writable migration entry into a readable one, leaving the page with the migration", () => {
    for (const backend of [createX86_64Backend(), createArm64Backend("4k-48"), createPpc8xxBackend("4k")]) {
      const k = kernel(backend);
      const mm = k.createMm();
      const b = k.backend;
      mapOk(k, mm, { addr: X, len: 2 * P, prot: RW, flags: FIXED });
      k.touch(mm, X, 2 * P, true, 1);
      const slot = new Slot();
      const R = entryRegs(1);
      mm.walker.find(X, PTE, false, slot);
      b.readEntry(slot.table, slot.index, PTE, R, 0);
      const pfn = b.pfn(R, 0, PTE);
      // As try_to_migrate leaves it: the folio locked and unmapped, its reference held by the migration.
      k.folios.set(pfn, PG_locked);
      b.getAndClear(k.ptCtx, slot.table, slot.index, PTE, X, R, 0);
      k.rmap.remove(pfn, pfn, 1, PTE, mm.id);
      k.holdRef(pfn, 1);
      b.softleafEntry(R, 0, PTE, SWP_MIGRATION_WRITE, migrationOffset(b.softleaf, pfn, true, true));
      b.writeEntry(slot.table, slot.index, PTE, R, 0);
      expect(sysMprotect(k, mm, X, 2 * P, PROT_READ)).toEqual(OK);
      mm.walker.find(X, PTE, false, slot);
      b.readEntry(slot.table, slot.index, PTE, R, 0);
      expect(softleafTypeOf(b.swpType(R, 0, PTE))).toBe(SoftleafType.MIGRATION_READ_EXCLUSIVE);
      expect(b.swpOffset(R, 0, PTE)).toBe(migrationOffset(b.softleaf, pfn, true, true));
      // The present neighbour became read-only.
      expect(k.touch(mm, X + P, P, true).error).toBe(VM_FAULT_SIGSEGV);
      // remove_migration_ptes puts the page back.
      b.pfnEntry(R, 0, PTE, pfn, protIndex(mm.vmas.lookup(X)!.flags));
      b.writeEntry(slot.table, slot.index, PTE, R, 0);
      k.rmap.add(pfn, pfn, 1, PTE, true, true, mm.id);
      k.holdRef(pfn, -1);
      k.folios.clear(pfn, PG_locked);
      expect(k.touch(mm, X, P, false).error).toBe(0);
      expect(k.peek(mm, X)).toBe(mixTag(1, X / P));
      k.exit(mm);
    }
  });
});
