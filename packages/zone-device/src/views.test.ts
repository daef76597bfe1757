import { MM_ANONPAGES, MM_SWAPENTS, meminfo, smaps } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { MiB, anon, machine } from "./test-helpers";

/* The kernel's views of device-private memory (zone-device.md section 5), oddities included. */

function entryFor(k: Parameters<typeof smaps>[0], mm: Parameters<typeof smaps>[1], addr: number) {
  return smaps(k, mm).entries.find((e) => e.start <= addr && addr < e.end)!.stats;
}

describe("views of device-private memory", () => {
  it("count a device THP as anonymous RSS and AnonHugePages, never as swap", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 2 * MiB, true);
    k.touch(mm, a, 2 * MiB, true, 1);
    dev.migrateToDevice(dev.mirror(mm), a, 512, true);
    expect(mm.rss[MM_ANONPAGES]).toBe(512);
    expect(mm.rss[MM_SWAPENTS]).toBe(0);
    const s = entryFor(k, mm, a);
    expect(s.resident).toBe(2 * MiB);
    expect(s.anonymous).toBe(2 * MiB);
    expect(s.anonymousThp).toBe(2 * MiB);
    expect(s.swap).toBe(0);
    expect(meminfo(k).fields.find(([n]) => n === "AnonHugePages")?.[1]).toBe(2048);
    k.exit(mm);
  });

  it("report an exclusive device-private PMD as shared (a non-present entry) but its PTEs as private", () => {
    const { k, dev, mm } = machine();
    const a = anon(k, mm, 2 * MiB, true);
    k.touch(mm, a, 2 * MiB, true, 1);
    dev.migrateToDevice(dev.mirror(mm), a, 512, true);
    const pmd = entryFor(k, mm, a);
    expect(pmd.privateClean + pmd.privateDirty).toBe(0);
    expect(pmd.sharedClean + pmd.sharedDirty).toBe(2 * MiB);
    expect(k.munmap(mm, a + MiB, MiB).ok).toBe(true);
    const ptes = entryFor(k, mm, a);
    expect(ptes.resident).toBe(MiB);
    expect(ptes.anonymousThp).toBe(0);
    expect(ptes.sharedClean + ptes.sharedDirty).toBe(0);
    expect(ptes.privateClean + ptes.privateDirty).toBe(MiB);
    k.exit(mm);
  });
});
