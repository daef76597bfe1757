import { FOLL_GET, FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, MM_ANONPAGES, mixTag } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { PROT } from "./mirror";
import { MiB, PAGE, anon, machine } from "./test-helpers";

describe("device-coherent memory", () => {
  it("is mapped by ordinary present PTEs the CPU reads and writes in place, and migrates back on request", () => {
    const { k, dev, mm } = machine({ type: "coherent" });
    const a = anon(k, mm, 16 * PAGE);
    k.touch(mm, a, 16 * PAGE, true, 4);
    const m = dev.mirror(mm);
    expect(dev.migrateToDevice(m, a, 16, true)).toMatchObject({ errno: 0, cpages: 16 });
    expect(m.snapshot(a, 2)).toEqual([PROT.DEV_COHERENT_LOCAL | PROT.WRITE, PROT.DEV_COHERENT_LOCAL | PROT.WRITE]);
    // The CPU reaches the device's memory directly: no fault, no migration.
    const faults = k.touch(mm, a, 16 * PAGE, false).faults;
    expect(faults).toBe(0);
    expect(k.peek(mm, a + 3 * PAGE)).toBe(mixTag(4, a / PAGE + 3));
    expect(dev.mem.allocated).toBe(16);
    expect(mm.rss[MM_ANONPAGES]).toBe(16);
    k.touch(mm, a, PAGE, true, 5);
    expect(dev.mem.allocated).toBe(16);
    expect(dev.migrateToSystem(m, a, 16)).toMatchObject({ errno: 0, cpages: 16 });
    expect(dev.mem.allocated).toBe(0);
    expect(k.peek(mm, a)).toBe(mixTag(5, a / PAGE));
    expect(m.snapshot(a, 1)).toEqual([PROT.WRITE]);
    k.exit(mm);
  });

  it("moves a THP whole to a coherent THP mapped by a present PMD", () => {
    const { k, dev, mm } = machine({ type: "coherent" });
    const a = anon(k, mm, 2 * MiB, true);
    k.touch(mm, a, 2 * MiB, true, 8);
    const m = dev.mirror(mm);
    expect(dev.migrateToDevice(m, a, 512, true)).toMatchObject({ errno: 0, cpages: 512 });
    expect(m.snapshot(a, 1)).toEqual([PROT.DEV_COHERENT_LOCAL | PROT.WRITE | PROT.PMD]);
    expect(k.peek(mm, a + 9 * PAGE)).toBe(mixTag(8, a / PAGE + 9));
    const child = k.fork(mm)!;
    k.touch(child, a, PAGE, true, 9);
    expect(k.peek(mm, a)).toBe(mixTag(8, a / PAGE));
    k.exit(child);
    k.exit(mm);
    expect(dev.mem.allocated).toBe(0);
  });
});

describe("GUP on device memory (hmm_gup_test)", () => {
  it("GUP of device-private pages faults them back to system memory", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 4 * PAGE);
    k.touch(mm, a, 4 * PAGE, true, 2);
    const m = dev.mirror(mm);
    expect(dev.migrateToDevice(m, a, 4, true).cpages).toBe(4);
    const got = k.gup(mm, a, 1, FOLL_GET | FOLL_WRITE);
    expect(got.pages).toHaveLength(1);
    k.unpin(got, FOLL_GET);
    const pinned = k.gup(mm, a + PAGE, 1, FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE);
    expect(pinned.pages).toHaveLength(1);
    k.unpin(pinned, FOLL_PIN | FOLL_LONGTERM);
    expect(m.snapshot(a, 4)).toEqual([PROT.WRITE, PROT.WRITE, PROT.DEV_PRIVATE_LOCAL | PROT.WRITE, PROT.DEV_PRIVATE_LOCAL | PROT.WRITE]);
    expect(dev.mem.allocated).toBe(2);
    k.exit(mm);
  });
});

describe("long-term pins of device-coherent memory", () => {
  it("migrate the pages to system memory first; plain GUP leaves them on the device", () => {
    const { k, dev, mm } = machine({ type: "coherent" });
    const a = anon(k, mm, 4 * PAGE);
    k.touch(mm, a, 4 * PAGE, true, 2);
    const m = dev.mirror(mm);
    expect(dev.migrateToDevice(m, a, 4, true).cpages).toBe(4);
    const got = k.gup(mm, a, 2, FOLL_GET | FOLL_WRITE);
    expect(got.pages).toHaveLength(2);
    k.unpin(got, FOLL_GET);
    const pinned = k.gup(mm, a + 2 * PAGE, 2, FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE);
    expect(pinned.pages).toHaveLength(2);
    expect(pinned.pages.every((p) => !k.phys.isZoneDevice(p))).toBe(true);
    expect(m.snapshot(a, 4)).toEqual([PROT.DEV_COHERENT_LOCAL | PROT.WRITE, PROT.DEV_COHERENT_LOCAL | PROT.WRITE, PROT.WRITE, PROT.WRITE]);
    expect(k.peek(mm, a + 3 * PAGE)).toBe(mixTag(2, a / PAGE + 3));
    k.unpin(pinned, FOLL_PIN | FOLL_LONGTERM);
    expect(dev.mem.allocated).toBe(2);
    k.exit(mm);
  });
});
