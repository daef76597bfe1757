import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { InvariantViolation, Kernel, ModelInputError, mixTag } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { installZoneDevice } from "./feature";
import { MiB, PAGE, anon, machine } from "./test-helpers";

describe("devices and their pgmaps", () => {
  it("place each device above RAM and the devices before it, in its node's ZONE_DEVICE", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", nodes: 2, check: true });
    const zd = installZoneDevice(k);
    expect(installZoneDevice(k)).toBe(zd);
    const d0 = zd.addDevice({ name: "gpu0", type: "private", size: 32 * MiB, node: 1 });
    const d1 = zd.addDevice({ name: "gpu1", type: "coherent", size: 32 * MiB, align: 1024 * MiB });
    expect(d0.pgmap.startPfn).toBe(k.phys.totalPages);
    expect(d1.pgmap.startPfn * PAGE).toBe(2 * 1024 * MiB);
    expect(k.phys.zoneOf(d0.pgmap.startPfn).nid).toBe(1);
    expect(k.phys.zoneOf(d1.pgmap.startPfn).name).toBe("Device");
    expect(zd.device("gpu1")).toBe(d1);
    expect(() => zd.device("gpu2")).toThrow('invalid device "gpu2": expected one of gpu0, gpu1');
  });

  it("refuse bad configuration with an error naming the field, and leave the kernel as it was", () => {
    const { k, zd } = machine();
    const bad: [Parameters<typeof zd.addDevice>[0], string][] = [
      [{ name: "dev0", type: "private", size: 2 * MiB }, "device name"],
      [{ name: "Bad!", type: "private", size: 2 * MiB }, "device name"],
      [{ name: "x", type: "floppy" as "private", size: 2 * MiB }, "device type"],
      [{ name: "x", type: "private", size: 3 * MiB }, "device size"],
      [{ name: "x", type: "private", size: 2 * MiB, node: 4 }, "device node"],
      [{ name: "x", type: "private", size: 2 * MiB, align: 3 * MiB }, "device align"],
      [{ name: "x", type: "private", size: 2 * MiB, start: 0 }, "device range"],
      [{ name: "x", type: "private", size: 2 * MiB, start: 1024 * MiB + 2 * MiB }, "device range"],
      [{ name: "x", type: "fsdax", size: 2 * MiB }, "device type"],
    ];
    for (const [c, field] of bad) {
      let err: unknown;
      try {
        zd.addDevice(c);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ModelInputError);
      expect((err as ModelInputError).input).toBe(field);
    }
    expect([...zd.devices.keys()]).toEqual(["dev0"]);
    expect(k.phys.pagemaps.all()).toHaveLength(1);
  });

  it("the RAM overlap is the kernel's ENXIO, another device's range its ENOMEM", () => {
    const { zd } = machine();
    expect(() => zd.addDevice({ name: "a", type: "private", size: 2 * MiB, start: 0 })).toThrow(/ENXIO/);
    expect(() => zd.addDevice({ name: "b", type: "private", size: 2 * MiB, start: 1024 * MiB })).toThrow(/ENOMEM/);
  });
});

describe("the checker's ZONE_DEVICE invariants", () => {
  it("catch unbalanced pgmap references", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 16 * PAGE);
    k.touch(mm, a, 16 * PAGE, true, 1);
    dev.migrateToDevice(dev.mirror(mm), a, 16, true);
    dev.pgmap.refs++;
    expect(() => k.op("poke", () => 0)).toThrow(InvariantViolation);
    dev.pgmap.refs--;
    expect(k.op("poke", () => 0)).toBe(0);
  });

  it("catch an idle device page with a refcount and a device folio on no entry's terms", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 16 * PAGE);
    k.touch(mm, a, 16 * PAGE, true, 1);
    dev.migrateToDevice(dev.mirror(mm), a, 16, true);
    const idle = dev.pgmap.startPfn + dev.pgmap.nrPages - 1;
    k.folios.section(idle).refcount[idle & k.phys.memmap.pbMask] = 1;
    let err: unknown;
    try {
      k.op("poke", () => 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvariantViolation);
    expect((err as InvariantViolation).violations.map((v) => v.check)).toContain("zone-device:idle-refcount");
    k.folios.section(idle).refcount[idle & k.phys.memmap.pbMask] = 0;
    expect(dev.mem.allocated).toBe(16);
  });
});

describe("removing a device", () => {
  it("evicts every page to system memory, THPs and split pages alike, then unmaps the pgmap", () => {
    const { k, zd, dev, mm } = machine();
    const a = anon(k, mm, 2 * MiB, true);
    k.touch(mm, a, 2 * MiB, true, 3);
    const b = anon(k, mm, 64 * PAGE);
    k.touch(mm, b, 64 * PAGE, true, 4);
    dev.migrateToDevice(dev.mirror(mm), a, 512, true);
    dev.migrateToDevice(dev.mirror(mm), b, 64, true);
    const child = k.fork(mm)!;
    expect(k.munmap(child, a + MiB, MiB).ok).toBe(true);
    expect(dev.mem.allocated).toBe(512 + 64);
    expect(zd.removeDevice("dev0")).toBe(0);
    expect(zd.devices.size).toBe(0);
    expect(k.phys.pgmapOf(dev.pgmap.startPfn)).toBeUndefined();
    expect(dev.pgmap.refs).toBe(0);
    k.touch(mm, a, 2 * MiB, false);
    expect(k.peek(mm, a + 300 * PAGE)).toBe(mixTag(3, a / PAGE + 300));
    expect(k.peek(child, b + 5 * PAGE)).toBe(mixTag(4, b / PAGE + 5));
    expect(() => zd.device("dev0")).toThrow(ModelInputError);
    k.exit(child);
    k.exit(mm);
  });
});
