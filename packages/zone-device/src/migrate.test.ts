import { PMD, PTE, SoftleafType, entryRegs, softleafTypeOf } from "@hugemm/arch";
import { EV, MM_ANONPAGES, Slot, WALK_LEAF, WALK_OK, WALK_SOFTLEAF, mixTag, type Kernel, type Mm } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { PROT } from "./mirror";
import { MiB, PAGE, anon, machine } from "./test-helpers";

const R = entryRegs(1);

function entryAt(k: Kernel, mm: Mm, addr: number): { level: number; type: number } {
  const slot = new Slot();
  const st = mm.walker.find(addr, PTE, false, slot);
  if (st !== WALK_OK && st !== WALK_SOFTLEAF && st !== WALK_LEAF) return { level: slot.level, type: -2 };
  k.backend.readEntry(slot.table, slot.index, slot.level, R, 0);
  if (k.backend.present(R, 0, slot.level)) return { level: slot.level, type: -1 };
  return { level: slot.level, type: softleafTypeOf(k.backend.swpType(R, 0, slot.level)) };
}

describe("migrate_vma to a device-private device", () => {
  it("moves a THP whole to a device THP, mapped by one device-private PMD", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 2 * MiB, true);
    k.touch(mm, a, 2 * MiB, true, 7);
    const before = k.events[EV.thp_fault_alloc]!;
    const m = dev.mirror(mm);
    const r = dev.migrateToDevice(m, a, 512, true);
    expect(r.errno).toBe(0);
    expect(r.cpages).toBe(512);
    expect(r.data[5]).toBe(mixTag(7, a / PAGE + 5));
    expect(entryAt(k, mm, a)).toEqual({ level: PMD, type: SoftleafType.DEVICE_PRIVATE_WRITE });
    expect(mm.rss[MM_ANONPAGES]).toBe(512);
    expect(dev.mem.allocated).toBe(512);
    expect(k.events[EV.thp_fault_alloc]).toBe(before);
    expect(m.snapshot(a, 2)).toEqual([PROT.DEV_PRIVATE_LOCAL | PROT.WRITE | PROT.PMD, PROT.DEV_PRIVATE_LOCAL | PROT.WRITE | PROT.PMD]);
    // A CPU read brings the whole THP back.
    expect(k.peek(mm, a + 100 * PAGE)).toBe(-1);
    expect(k.touch(mm, a + 100 * PAGE, PAGE, false).faults).toBeGreaterThan(0);
    expect(k.peek(mm, a + 100 * PAGE)).toBe(mixTag(7, a / PAGE + 100));
    expect(entryAt(k, mm, a).type).toBe(-1);
    expect(entryAt(k, mm, a).level).toBe(PMD);
    expect(dev.mem.allocated).toBe(0);
    k.exit(mm);
  });

  it("falls back to single pages when the device cannot allocate a THP, splitting the source", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 2 * MiB, true);
    k.touch(mm, a, 2 * MiB, true, 3);
    const m = dev.mirror(mm);
    dev.failNextAlloc();
    const r = dev.migrateToDevice(m, a, 512, true);
    expect(r.errno).toBe(0);
    expect(r.cpages).toBe(512);
    expect(entryAt(k, mm, a + 7 * PAGE)).toEqual({ level: PTE, type: SoftleafType.DEVICE_PRIVATE_WRITE });
    expect(dev.mem.allocated).toBe(512);
    for (let i = 0; i < 512; i += 97) expect(k.peek(mm, a + i * PAGE) === -1).toBe(true);
    k.touch(mm, a, 2 * MiB, false);
    for (let i = 0; i < 512; i += 97) expect(k.peek(mm, a + i * PAGE)).toBe(mixTag(3, a / PAGE + i));
    expect(dev.mem.allocated).toBe(0);
    k.exit(mm);
  });

  it("populates holes and the huge zero page with a device THP", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 4 * MiB, true);
    k.touch(mm, a + 2 * MiB, PAGE, false);
    const m = dev.mirror(mm);
    const before = k.events[EV.thp_fault_alloc]!;
    const r = dev.migrateToDevice(m, a, 1024, true);
    expect(r.errno).toBe(0);
    expect(r.cpages).toBe(1024);
    expect(r.data.every((t) => t === 0)).toBe(true);
    expect(k.events[EV.thp_fault_alloc]).toBe(before + 2);
    expect(entryAt(k, mm, a + 2 * MiB)).toEqual({ level: PMD, type: SoftleafType.DEVICE_PRIVATE_WRITE });
    k.exit(mm);
    expect(dev.mem.allocated).toBe(0);
  });
});
