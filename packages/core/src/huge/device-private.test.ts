import { PMD, PTE, SWP_DEVICE_WRITE, SoftleafType, entryRegs, migrationOffset, softleafTypeOf } from "@hugemm/arch";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import type { Mm } from "../mm/mm";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { Slot, WALK_OK, WALK_SOFTLEAF } from "../pgtable/walker";
import { mappedAt } from "../testing/inspect";
import { mapOk } from "../testing/vma";

/*
 * Device-private entries at PMD level go through the generic huge paths
 * (fork, split, zap, fault) without special cases. No device driver exists
 * yet, so these tests turn a THP's PMD into a device-private entry by hand,
 * as a driver's migrate_vma would leave it: the folio keeps its rmap
 * mapping and reference.
 */

const MiB = 2 ** 20;
const R = entryRegs(1);

function entryType(k: Kernel, mm: Mm, addr: number): number {
  const slot = new Slot();
  const st = mm.walker.find(addr, PTE, false, slot);
  if (st !== WALK_SOFTLEAF && st !== WALK_OK) return -1;
  k.backend.readEntry(slot.table, slot.index, slot.level, R, 0);
  return softleafTypeOf(k.backend.swpType(R, 0, slot.level));
}

function deviceThp(): { k: Kernel; mm: Mm; a: number; head: number } {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
  const mm = k.createMm();
  const a = mapOk(k, mm, { len: 2 * MiB, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  k.touch(mm, a, 4096, true, 1);
  const head = (mappedAt(k, mm, a) as { pfn: number }).pfn;
  const slot = new Slot();
  mm.walker.find(a, PTE, false, slot);
  expect(slot.level).toBe(PMD);
  const b = k.backend;
  b.softleafEntry(R, 0, PMD, SWP_DEVICE_WRITE, migrationOffset(b.softleaf, head, false, false));
  b.writeEntry(slot.table, slot.index, PMD, R, 0);
  return { k, mm, a, head };
}

describe("device-private PMD entries", () => {
  it("fork shares the folio read-only through a read entry in both processes", () => {
    const { k, mm, a, head } = deviceThp();
    const child = k.fork(mm)!;
    expect(entryType(k, mm, a)).toBe(SoftleafType.DEVICE_PRIVATE_READ);
    expect(entryType(k, child, a)).toBe(SoftleafType.DEVICE_PRIVATE_READ);
    expect(k.folios.refcount(head)).toBe(2);
    expect(k.folios.entireMapcount(head)).toBe(2);
    expect(child.rss[MM_ANONPAGES]).toBe(512);
    k.exit(child);
    expect(k.folios.refcount(head)).toBe(1);
    k.exit(mm);
  });

  it("a partial munmap splits it into device-private PTEs", () => {
    const { k, mm, a, head } = deviceThp();
    expect(k.munmap(mm, a + MiB, MiB).ok).toBe(true);
    expect(entryType(k, mm, a + 4096)).toBe(SoftleafType.DEVICE_PRIVATE_WRITE);
    expect(k.folios.pageMapcount(head + 1)).toBe(1);
    expect(k.folios.pageMapcount(head + 300)).toBe(0);
    expect(mm.rss[MM_ANONPAGES]).toBe(256);
    k.exit(mm);
  });

  it("a fault on it goes to the device's handler", () => {
    const { k, mm, a } = deviceThp();
    const calls: number[] = [];
    k.devicePrivateFault = (_k, _mm, _vma, addr, _flags, slot) => {
      calls.push(addr, slot.level);
      return 0;
    };
    expect(k.fault(mm, a + 4096, false)).toBe(0);
    expect(calls).toEqual([a + 4096, PMD]);
    k.exit(mm);
  });
});
