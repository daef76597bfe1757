import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { PTE, SoftleafType, entryRegs, softleafTypeOf, type ArchBackend } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { VM_FAULT_SIGSEGV } from "../fault/codes";
import { mixTag } from "../folio/contents";
import { Kernel } from "../kernel/kernel";
import { Slot, WALK_OK } from "../pgtable/walker";
import { EV } from "../stats/counters";
import { madvColdOrPageout } from "../vmscan/madvise";
import { MM_ANONPAGES, MM_SWAPENTS } from "./counters";
import type { MadviseReclaimOps } from "./madvise";
import type { Mm } from "./mm";
import { sysMadvise, sysMmap, sysMprotect, sysMremap, sysMunmap } from "./syscalls";
import { MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from "./vm-flags";

const KiB = 2 ** 10;
const RW = PROT_READ | PROT_WRITE;
const X = 0x4000_0000;
const Y = 0x5000_0000;
const P = 4 * KiB;
const OK = { ok: true, value: 0 };

/** The reclaim layer's MADV_PAGEOUT; the rest do nothing. */
const OPS: MadviseReclaimOps = {
  free: () => 0,
  cold: () => 0,
  collapse: () => 0,
  pageout: (k, mm, vma, start, end) => {
    madvColdOrPageout(k, mm, vma, start, end, true);
    return 0;
  },
};

/** A process with 8 written pages at X, the first `out` of them swapped out. */
function swapped(out: number, backend: ArchBackend = createX86_64Backend()): { k: Kernel; mm: Mm } {
  const k = new Kernel({ backend, memory: "64M", swap: "16M" });
  const mm = k.createMm();
  const r = sysMmap(k, mm, { addr: X, len: 8 * P, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED });
  expect(r.ok).toBe(true);
  k.touch(mm, X, 8 * P, true, 4);
  expect(sysMadvise(k, mm, X, out * P, MADV.PAGEOUT, OPS)).toEqual(OK);
  expect([mm.rss[MM_ANONPAGES], mm.rss[MM_SWAPENTS]]).toEqual([8 - out, out]);
  return { k, mm };
}

/** The swap slot the PTE at `va` names, or -1 if it holds no swap entry. */
function swapSlot(k: Kernel, mm: Mm, va: number): number {
  const s = new Slot();
  const R = entryRegs(1);
  const b = k.backend;
  if (mm.walker.find(va, PTE, false, s) !== WALK_OK) return -1;
  b.readEntry(s.table, s.index, PTE, R, 0);
  if (b.none(R, 0, PTE) || b.present(R, 0, PTE) || softleafTypeOf(b.swpType(R, 0, PTE)) !== SoftleafType.SWAP) return -1;
  return b.swpOffset(R, 0, PTE);
}

function pattern(va: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => mixTag(4, va / P + i));
}

describe("VMA system calls over swap entries", () => {
  it("mremap moves swap entries with their counts; they swap back in at the new address", () => {
    for (const backend of [createX86_64Backend(), createArm64Backend("4k-48")]) {
      const { k, mm } = swapped(4, backend);
      const slots = [0, 1, 2, 3].map((i) => swapSlot(k, mm, X + i * P));
      expect(slots.every((s) => s > 0)).toBe(true);
      expect(sysMremap(k, mm, X, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_FIXED, Y)).toEqual({ ok: true, value: Y });
      expect([0, 1, 2, 3].map((i) => swapSlot(k, mm, Y + i * P))).toEqual(slots);
      expect([mm.rss[MM_ANONPAGES], mm.rss[MM_SWAPENTS]]).toEqual([4, 4]);
      // Moved entries are marked soft-dirty where the arch tracks it.
      const s = new Slot();
      const R = entryRegs(1);
      mm.walker.find(Y, PTE, false, s);
      k.backend.readEntry(s.table, s.index, PTE, R, 0);
      expect(k.backend.capabilities.softDirty && k.backend.swpSoftDirty(R, 0, PTE)).toBe(k.backend.capabilities.softDirty);
      const major = k.events[EV.pgmajfault]!;
      expect(k.touch(mm, Y, 8 * P, false)).toMatchObject({ error: 0, majorFaults: 4 });
      expect(k.events[EV.pgmajfault]).toBe(major + 4);
      expect(Array.from({ length: 8 }, (_, i) => k.peek(mm, Y + i * P))).toEqual(pattern(X, 8));
      expect([mm.rss[MM_ANONPAGES], mm.rss[MM_SWAPENTS]]).toEqual([8, 0]);
      k.exit(mm);
      expect(k.swap.freePages).toBe(k.swap.totalPages);
    }
  });

  it("releases the swap slots of unmapped and MADV_DONTNEED ranges", () => {
    const { k, mm } = swapped(6);
    expect(k.swap.freePages).toBe(k.swap.totalPages - 6);
    expect(sysMadvise(k, mm, X, 2 * P, MADV.DONTNEED, OPS)).toEqual(OK);
    expect([mm.rss[MM_SWAPENTS], k.swap.freePages]).toEqual([4, k.swap.totalPages - 4]);
    expect(sysMunmap(k, mm, X + 2 * P, 3 * P)).toEqual(OK);
    expect([mm.rss[MM_SWAPENTS], mm.rss[MM_ANONPAGES], k.swap.freePages]).toEqual([1, 2, k.swap.totalPages - 1]);
    // The zapped range faults back in as zeroes.
    k.touch(mm, X, 2 * P, false);
    expect([k.peek(mm, X), k.peek(mm, X + P)]).toEqual([0, 0]);
  });

  it("reads swapped pages into the swap cache with MADV_WILLNEED, leaving them unmapped", () => {
    const { k, mm } = swapped(4);
    const pswpin = k.events[EV.pswpin]!;
    expect(sysMadvise(k, mm, X, 8 * P, MADV.WILLNEED, OPS)).toEqual(OK);
    expect(k.events[EV.pswpin]).toBe(pswpin + 4);
    for (let i = 0; i < 4; i++) expect(k.swap.device!.lookup(swapSlot(k, mm, X + i * P))).toBeGreaterThanOrEqual(0);
    expect([mm.rss[MM_ANONPAGES], mm.rss[MM_SWAPENTS]]).toEqual([4, 4]);
    // The faults find them cached: no major faults.
    const major = k.events[EV.pgmajfault]!;
    expect(k.touch(mm, X, 4 * P, false)).toMatchObject({ error: 0, majorFaults: 0 });
    expect(k.events[EV.pgmajfault]).toBe(major);
    expect(Array.from({ length: 4 }, (_, i) => k.peek(mm, X + i * P))).toEqual(pattern(X, 4));
  });

  it("leaves swap entries alone under mprotect: the pages come back with the new protection", () => {
    const { k, mm } = swapped(8);
    const slot = swapSlot(k, mm, X);
    expect(sysMprotect(k, mm, X, 8 * P, PROT_READ)).toEqual(OK);
    expect(swapSlot(k, mm, X)).toBe(slot);
    expect(k.touch(mm, X, 8 * P, false).error).toBe(0);
    expect(k.touch(mm, X, P, true).error).toBe(VM_FAULT_SIGSEGV);
    expect(sysMprotect(k, mm, X, 8 * P, RW)).toEqual(OK);
    expect(k.touch(mm, X, 8 * P, true, 5).error).toBe(0);
    expect(k.peek(mm, X + 7 * P)).toBe(mixTag(5, X / P + 7));
  });
});
