import { PTE, SWP_DEVICE_EXCLUSIVE, SWP_DEVICE_WRITE, SoftleafType, entryRegs, migrationOffset, softleafTypeOf } from "@hugemm/arch";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { folioPut } from "../folio/put";
import { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES } from "../mm/counters";
import type { Mm } from "../mm/mm";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { Slot, WALK_OK } from "../pgtable/walker";
import { mappedAt } from "../testing/inspect";
import { mapOk } from "../testing/vma";
import { MEMORY_DEVICE_PRIVATE, type DevPagemap } from "./zone-device";

const R = entryRegs(1);

function kernel(): Kernel {
  return new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true });
}

/** A pgmap whose freed folios are recorded (the driver's folio_free). */
function pgmap(k: Kernel, startPfn: number, nrPages: number, freed: number[] = []): DevPagemap {
  return { type: MEMORY_DEVICE_PRIVATE, startPfn, nrPages, nid: 0, owner: {}, folioFree: (head) => (freed.push(head), void k.folios.unprep(head)) };
}

function pteType(k: Kernel, mm: Mm, addr: number): number {
  const slot = new Slot();
  expect(mm.walker.find(addr, PTE, false, slot)).toBe(WALK_OK);
  k.backend.readEntry(slot.table, slot.index, PTE, R, 0);
  return k.backend.present(R, 0, PTE) ? -1 : softleafTypeOf(k.backend.swpType(R, 0, PTE));
}

function setPte(k: Kernel, mm: Mm, addr: number, type: number, pfn: number): void {
  const slot = new Slot();
  expect(mm.walker.find(addr, PTE, false, slot)).toBe(WALK_OK);
  const b = k.backend;
  b.getAndClear(k.ptCtx, slot.table, slot.index, PTE, addr, R, 0);
  b.softleafEntry(R, 0, PTE, type, migrationOffset(b.softleaf, pfn, false, false));
  b.writeEntry(slot.table, slot.index, PTE, R, 0);
}

describe("ZONE_DEVICE ranges", () => {
  it("are refused over RAM (ENXIO), over another pgmap (ENOMEM) and when misaligned (EINVAL)", () => {
    const k = kernel();
    const ram = k.phys.totalPages;
    expect(k.phys.memremapRange(pgmap(k, ram - 512, 1024))).toBe("ENXIO");
    expect(k.phys.memremapRange(pgmap(k, ram + 3, 512))).toBe("EINVAL");
    const p = pgmap(k, ram + 512, 1024);
    expect(k.phys.memremapRange(p)).toBe(0);
    expect(k.phys.memremapRange(pgmap(k, ram + 1024, 1024))).toBe("ENOMEM");
    expect(k.phys.isZoneDevice(ram + 600)).toBe(true);
    expect(k.phys.isZoneDevice(ram - 1)).toBe(false);
    expect(k.phys.pgmapOf(ram + 1535)).toBe(p);
    expect(k.phys.pgmapOf(ram + 1536)).toBeUndefined();
    expect(k.phys.zoneOf(ram + 600).name).toBe("Device");
    expect(k.phys.zones.some((z) => z.name === "Device")).toBe(false);
    expect(k.phys.deviceZones.get(0)!.managedPages).toBe(0);
  });

  it("give a folio whose last reference goes back to its pgmap, not to the buddy allocator", () => {
    const k = kernel();
    const freed: number[] = [];
    const start = k.phys.totalPages;
    expect(k.phys.memremapRange(pgmap(k, start, 512, freed))).toBe(0);
    const free = k.phys.freePagesWithPcp;
    k.op("put", () => {
      k.folios.prep(start + 8, 0);
      folioPut(k, start + 8, 1);
    });
    expect(freed).toEqual([start + 8]);
    expect(k.phys.freePagesWithPcp).toBe(free);
    expect(k.folios.isAllocated(start + 8)).toBe(false);
  });
});

describe("device entries at fork and on CPU access", () => {
  it("fork shares a device-private PTE read-only, with a reference, an rmap dup and rss", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 8192, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    k.touch(mm, a, 4096, true, 1);
    const page = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    // As migrate_vma would leave it if this page were a device page: the mapping kept, the entry device-private.
    setPte(k, mm, a, SWP_DEVICE_WRITE, page);
    const child = k.fork(mm)!;
    expect(pteType(k, mm, a)).toBe(SoftleafType.DEVICE_PRIVATE_READ);
    expect(pteType(k, child, a)).toBe(SoftleafType.DEVICE_PRIVATE_READ);
    expect(k.folios.refcount(page)).toBe(2);
    expect(k.folios.mapcount(page)).toBe(2);
    expect(child.rss[MM_ANONPAGES]).toBe(1);
    k.exit(child);
    k.exit(mm);
  });

  it("a device-exclusive PTE is restored by a CPU fault, writable again, and by fork before copying", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = mapOk(k, mm, { len: 8192, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    k.touch(mm, a, 8192, true, 1);
    const p0 = (mappedAt(k, mm, a) as { pfn: number }).pfn;
    const p1 = (mappedAt(k, mm, a + 4096) as { pfn: number }).pfn;
    setPte(k, mm, a, SWP_DEVICE_EXCLUSIVE, p0);
    setPte(k, mm, a + 4096, SWP_DEVICE_EXCLUSIVE, p1);
    expect(k.fault(mm, a, true)).toBe(0);
    expect(pteType(k, mm, a)).toBe(-1);
    expect(k.folios.mapcount(p0)).toBe(1);
    const child = k.fork(mm)!;
    expect(pteType(k, mm, a + 4096)).toBe(-1);
    expect(pteType(k, child, a + 4096)).toBe(-1);
    expect(k.folios.mapcount(p1)).toBe(2);
    k.exit(child);
    k.exit(mm);
  });
});
