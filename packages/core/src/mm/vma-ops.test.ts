import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { mixTag } from "../folio/contents";
import { Kernel } from "../kernel/kernel";
import { ModelBug } from "../util/errors";
import { dupMmap } from "./fork";
import { sysMadvise, sysMprotect, sysMunmap } from "./syscalls";
import { Vma, type VmaKind } from "./vma";
import { MAX_MAP_COUNT, removeVma, splitVma, vmaMergeNewRange, vmaShrink } from "./vma-ops";
import { MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from "./vm-flags";
import { mapOk, layout } from "../testing/vma";

const KiB = 2 ** 10;
const RW = PROT_READ | PROT_WRITE;
const FIXED = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
const X = 0x4000_0000;
const P = 4 * KiB;
const NOOPS = { free: () => 0 as const, pageout: () => 0 as const, cold: () => 0 as const, collapse: () => 0 as const };

function kernel(): Kernel {
  return new Kernel({ backend: createX86_64Backend(), memory: "64M" });
}



describe("split_vma", () => {
  it("cuts a VMA below or above an address, sharing its file and anon_vmas", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 8 * P, prot: RW, flags: FIXED });
    k.touch(mm, X, 8 * P, true, 1);
    const v = mm.vmas.lookup(X)!;
    k.locks.acquire(mm.mmapLock);
    expect(splitVma(k, mm, v, X + 2 * P, true)).toBeNull();
    expect(splitVma(k, mm, v, X + 6 * P, false)).toBeNull();
    k.locks.release(mm.mmapLock);
    expect(layout(mm)).toEqual([
      [X, X + 2 * P, X / P],
      [X + 2 * P, X + 6 * P, X / P + 2],
      [X + 6 * P, X + 8 * P, X / P + 6],
    ]);
    // The original keeps the middle; the new VMAs are linked to its anon_vma.
    expect(mm.vmas.all()[1]).toBe(v);
    expect(mm.vmas.all().map((x) => [x.anonVma, x.chains.length])).toEqual([
      [v.anonVma, 1],
      [v.anonVma, 1],
      [v.anonVma, 1],
    ]);
    expect(v.anonVma!.chains.size).toBe(3);
    expect(() => splitVma(k, mm, v, X, true)).toThrow(ModelBug);
    expect(k.peek(mm, X + 7 * P)).toBe(mixTag(1, X / P + 7));
  });

  it("refuses what the VMA's kind refuses, and what would exceed vm.max_map_count", () => {
    const k = kernel();
    const mm = k.createMm();
    const kind: VmaKind = { name: "picky", maySplit: (_v, addr) => (addr % (2 * P) === 0 ? null : { errno: "EINVAL", reason: "picky mappings split at 8K boundaries" }) };
    const v = new Vma(mm.id, X, X + 8 * P, VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE, X / P);
    v.kind = kind;
    mm.vmas.insert(v);
    expect(sysMunmap(k, mm, X + P, P)).toEqual({ ok: false, errno: "EINVAL", reason: "picky mappings split at 8K boundaries" });
    expect(sysMunmap(k, mm, X + 2 * P, 2 * P)).toEqual({ ok: true, value: 0 });
    expect(layout(mm)).toEqual([
      [X, X + 2 * P, X / P],
      [X + 4 * P, X + 8 * P, X / P + 4],
    ]);
  });

  it("stops at vm.max_map_count: munmap and mprotect fail with ENOMEM, madvise with EAGAIN", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 8 * P, prot: RW, flags: FIXED });
    for (let i = 1; mm.vmas.count < MAX_MAP_COUNT; i++) {
      mm.vmas.insert(new Vma(mm.id, 2 * X + 2 * i * P, 2 * X + (2 * i + 1) * P, VM_READ | VM_MAYREAD, 0));
    }
    expect(sysMunmap(k, mm, X + 2 * P, P)).toEqual({ ok: false, errno: "ENOMEM", reason: "unmapping [0x40002000, 0x40003000) from the middle of a VMA would exceed vm.max_map_count (65530 mappings)" });
    expect(sysMprotect(k, mm, X + 2 * P, P, PROT_READ)).toEqual({ ok: false, errno: "ENOMEM", reason: "splitting the VMA at 0x40002000 would exceed vm.max_map_count (65530 mappings)" });
    expect(sysMadvise(k, mm, X + 2 * P, P, MADV.DONTDUMP, NOOPS)).toEqual({
      ok: false,
      errno: "EAGAIN",
      reason: "MADV_DONTDUMP on [0x40002000, 0x40003000): splitting the VMA at 0x40002000 would exceed vm.max_map_count (65530 mappings)",
    });
    // Changing a whole VMA needs no split.
    expect(sysMprotect(k, mm, X, 8 * P, PROT_READ)).toEqual({ ok: true, value: 0 });
    expect(sysMunmap(k, mm, X + 6 * P, 2 * P)).toEqual({ ok: true, value: 0 });
    expect(mm.vmas.count).toBe(MAX_MAP_COUNT);
  });
});

describe("VMA merging", () => {
  it("moves a boundary between neighbours instead of splitting when the changed part matches one of them", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    mapOk(k, mm, { addr: X + 4 * P, len: 4 * P, prot: RW | PROT_EXEC, flags: FIXED });
    k.touch(mm, X, 8 * P, true, 2);
    // Faulted, both keep VM_ACCOUNT when they stop being writable, so their flags can meet.
    expect(sysMprotect(k, mm, X + 4 * P, 4 * P, PROT_READ)).toEqual({ ok: true, value: 0 });
    expect(mm.vmas.count).toBe(2);
    expect(sysMprotect(k, mm, X + 2 * P, 2 * P, PROT_READ)).toEqual({ ok: true, value: 0 });
    expect(layout(mm)).toEqual([
      [X, X + 2 * P, X / P],
      [X + 2 * P, X + 8 * P, X / P + 2],
    ]);
    // The neighbours share the one anon_vma, so the moved pages stay reachable.
    expect(mm.vmas.all()[1]!.anonVma).toBe(mm.vmas.all()[0]!.anonVma);
    expect(k.anonVmas.byId.size).toBe(1);
    expect(sysMprotect(k, mm, X + 2 * P, 4 * P, RW)).toEqual({ ok: true, value: 0 });
    expect(layout(mm)).toEqual([
      [X, X + 6 * P, X / P],
      [X + 6 * P, X + 8 * P, X / P + 6],
    ]);
    expect(k.peek(mm, X + 3 * P)).toBe(mixTag(2, X / P + 3));
  });

  it("does not merge a fork child's VMA with a new neighbour, but merges its own parts back", () => {
    const k = kernel();
    const parent = k.createMm();
    mapOk(k, parent, { addr: X, len: 4 * P, prot: RW, flags: FIXED });
    k.touch(parent, X, 4 * P, true, 3);
    const child = dupMmap(
      k,
      parent,
      () => {
        throw new Error("no huge entries here");
      },
      (c) => k.exit(c),
    )!;
    expect(child.vmas.all()[0]!.chains.length).toBe(2);
    mapOk(k, child, { addr: X + 4 * P, len: 4 * P, prot: RW, flags: FIXED });
    expect(child.vmas.count).toBe(2);
    mapOk(k, parent, { addr: X + 4 * P, len: 4 * P, prot: RW, flags: FIXED });
    expect(parent.vmas.count).toBe(1);
    expect(sysMprotect(k, child, X + P, P, PROT_READ)).toEqual({ ok: true, value: 0 });
    expect(child.vmas.count).toBe(4);
    expect(sysMprotect(k, child, X + P, P, RW)).toEqual({ ok: true, value: 0 });
    expect(layout(child)).toEqual([
      [X, X + 4 * P, X / P],
      [X + 4 * P, X + 8 * P, X / P + 4],
    ]);
    expect(k.peek(child, X + 3 * P)).toBe(mixTag(3, X / P + 3));
  });

  it("keeps a next VMA whose kind must see it close, merging with the previous one only", () => {
    const k = kernel();
    const mm = k.createMm();
    const closed: Vma[] = [];
    const kind: VmaKind = { name: "driver", close: (v) => closed.push(v) };
    const flags = VM_READ | VM_MAYREAD;
    const a = new Vma(mm.id, X, X + P, flags, 0);
    const b = new Vma(mm.id, X + 2 * P, X + 3 * P, flags, 2);
    a.kind = kind;
    b.kind = kind;
    mm.vmas.insert(a);
    mm.vmas.insert(b);
    const merged = vmaMergeNewRange(k, { mm, prev: a, middle: undefined, next: b, start: X + P, end: X + 2 * P, pgoff: 1, flags, file: null, anonVma: null, name: "", kind });
    expect(merged).toBe(a);
    expect(layout(mm)).toEqual([
      [X, X + 2 * P, 0],
      [X + 2 * P, X + 3 * P, 2],
    ]);
    // A different kind does not merge at all.
    expect(vmaMergeNewRange(k, { mm, prev: b, middle: undefined, next: undefined, start: X + 3 * P, end: X + 4 * P, pgoff: 3, flags, file: null, anonVma: null, name: "", kind: null })).toBeNull();
    removeVma(k, mm, b);
    expect(closed).toEqual([b]);
  });

  it("shrinks a VMA from either end with vma_shrink", () => {
    const k = kernel();
    const mm = k.createMm();
    mapOk(k, mm, { addr: X, len: 8 * P, prot: RW | PROT_EXEC, flags: FIXED });
    const v = mm.vmas.lookup(X)!;
    vmaShrink(k, mm, v, X + 2 * P, X + 8 * P, X / P + 2);
    vmaShrink(k, mm, v, X + 2 * P, X + 6 * P, X / P + 2);
    expect(layout(mm)).toEqual([[X + 2 * P, X + 6 * P, X / P + 2]]);
    expect(() => vmaShrink(k, mm, v, X + 3 * P, X + 5 * P, 0)).toThrow(ModelBug);
    expect(mm.vmas.lookup(X)).toBeUndefined();
  });
});
