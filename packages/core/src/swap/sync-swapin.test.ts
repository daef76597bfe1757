import { PTE, entryRegs } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import type { ArchBackend } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { EV, MS, MTHP_STRIDE, NS } from "../stats/counters";
import { mapOk } from "../testing/vma";

const KiB = 1024;

function setup(swapKind: "block" | "zram", backend: ArchBackend = createX86_64Backend(), mthp = false) {
  const k = new Kernel({ backend, memory: "256M", swap: "64M", swapKind, check: true });
  k.thp.set("enabled", "never");
  if (mthp) k.thp.set("hugepages-64kB/enabled", "always");
  const mm = k.createMm();
  const a = mapOk(k, mm, { len: 256 * KiB, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  const h = a + ((64 * KiB - (a % (64 * KiB))) % (64 * KiB));
  k.touch(mm, h, 64 * KiB, true, 4);
  expect(k.madvise(mm, h, 64 * KiB, MADV.PAGEOUT).ok).toBe(true);
  return { k, mm, h };
}

function headAt(k: Kernel, mm: Mm, va: number): number {
  const r = entryRegs(1);
  expect(mm.walker.find(va, PTE, false, mm.slot)).toBe(0);
  k.backend.readEntry(mm.slot.table, mm.slot.index, PTE, r, 0);
  return k.folios.head(k.backend.pfn(r, 0, PTE));
}

describe("swap-in by device kind", () => {
  it("block: a read fault leaves the folio in the swap cache; zram: the slot is read straight in and freed", () => {
    for (const kind of ["block", "zram"] as const) {
      const { k, mm, h } = setup(kind);
      const used = k.swap.device!.inuse;
      expect(k.touch(mm, h, 16 * KiB, false).majorFaults).toBe(4);
      expect(k.peek(mm, h)).not.toBe(0);
      const cached = k.phys.nodeStats(0)[NS.nr_swapcached];
      if (kind === "block") {
        expect(cached).toBe(4);
        expect(k.swap.device!.inuse).toBe(used);
      } else {
        expect(cached).toBe(0);
        expect(k.swap.device!.inuse).toBe(used - 4);
      }
      expect(k.events[EV.pswpin]).toBe(4);
      // Exclusive either way: a write needs no fault.
      expect(k.touch(mm, h, 16 * KiB, true, 9).faults).toBe(kind === "block" ? 0 : 0);
    }
  });

  it("zram with 64K mTHP enabled: a swapped-out 64K folio comes back whole (swpin), on block page by page", () => {
    for (const kind of ["block", "zram"] as const) {
      const { k, mm, h } = setup(kind, createArm64Backend("4k-48"), true);
      const swpout = k.mthpStats[4 * MTHP_STRIDE + MS.swpout];
      expect(swpout).toBe(1);
      expect(k.touch(mm, h + 20 * KiB, 4 * KiB, false).majorFaults).toBe(1);
      const head = headAt(k, mm, h + 20 * KiB);
      if (kind === "zram") {
        expect(k.folios.order(head)).toBe(4);
        expect(k.mthpStats[4 * MTHP_STRIDE + MS.swpin]).toBe(1);
        expect(k.events[EV.pswpin]).toBe(16);
        // All 16 PTEs are back, and the data is intact.
        expect(k.touch(mm, h, 64 * KiB, false).faults).toBe(0);
      } else {
        expect(k.mthpStats[4 * MTHP_STRIDE + MS.swpin]).toBe(0);
      }
    }
  });

  it("a shared slot (after fork) goes through the swap cache even on zram", () => {
    const { k, mm, h } = setup("zram");
    const child = k.fork(mm)!;
    expect(k.touch(child, h, 4 * KiB, false).majorFaults).toBe(1);
    expect(k.phys.nodeStats(0)[NS.nr_swapcached]).toBe(1);
  });

  it("refuses an unknown kind", () => {
    expect(() => new Kernel({ backend: createX86_64Backend(), memory: "64M", swap: "4M", swapKind: "nvme" as "zram" })).toThrow("invalid swap kind \"nvme\": expected block or zram");
  });
});
