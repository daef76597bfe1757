import { MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, VM_FAULT_SIGBUS, type Kernel, type Mm } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import type { HugetlbfsMount } from "./hugetlbfs";
import { counters, hugetlbKernel } from "./test-helpers";

const HP = 2 << 20;
const RW = PROT_READ | PROT_WRITE;

function map(k: Kernel, mm: Mm, file: Parameters<Kernel["mmap"]>[1]["file"], pages: number, shared: boolean) {
  return k.mmap(mm, { len: pages * HP, prot: RW, flags: shared ? MAP_SHARED : MAP_PRIVATE, file });
}

/** libhugetlbfs tests the reference's §7 lists beside counters.c. */
describe("libhugetlbfs", () => {
  it("truncate_reserve_wraparound: truncating a touched page keeps Rsvd, and the fault past the end is SIGBUS without touching it", () => {
    const { k, ht } = hugetlbKernel("x86-64", "64M");
    ht.setNrHugepages(ht.defaultHstate, 2);
    const mm = k.createMm();
    const f = ht.createFile("wrap", HP);
    const r0 = ht.defaultHstate.resv;
    const a = map(k, mm, f, 1, true);
    if (!a.ok) throw new Error(a.reason);
    expect(ht.defaultHstate.resv).toBe(r0 + 1);
    k.touch(mm, a.value, HP, true, 1);
    expect(ht.defaultHstate.resv).toBe(r0);
    expect(ht.truncate(f, 0).ok).toBe(true);
    expect(ht.defaultHstate.resv).toBe(r0);
    expect(k.touch(mm, a.value, HP, false).error).toBe(VM_FAULT_SIGBUS);
    expect(ht.defaultHstate.resv).toBe(r0);
    expect(counters(ht)).toEqual([2, 2, 0, 0]);
  });

  it("quota: a mount of one huge page admits one page of shared or private mappings, and a COW map of a used page fails", () => {
    const { k, ht } = hugetlbKernel("x86-64", "64M");
    ht.setNrHugepages(ht.defaultHstate, 4);
    const mount = ht.mount({ size: HP }) as HugetlbfsMount;
    expect(mount.subpool).toMatchObject({ max: 1, used: 0 });
    const mm = k.createMm();
    for (const shared of [true, false]) {
      const f = ht.createFile(`q-${shared}`, 2 * HP, mount);
      // Untouched one-page mappings are fine, and so is touching one.
      const a = map(k, mm, f, 1, shared);
      if (!a.ok) throw new Error(a.reason);
      k.touch(mm, a.value, HP, true, 1);
      k.munmap(mm, a.value, HP);
      ht.truncate(f, 0);
      expect(mount.subpool!.used).toBe(0);
      // Two pages exceed the mount's size: mmap fails (the private reservation is charged too).
      ht.truncate(f, 2 * HP);
      expect(map(k, mm, f, 2, shared)).toMatchObject({ ok: false, errno: "ENOMEM" });
      ht.truncate(f, 0);
      expect(mount.subpool!.used).toBe(0);
    }
    // One page touched through a shared mapping uses the quota: a private mapping for COW cannot reserve.
    const f = ht.createFile("q-cow", HP, mount);
    const s = map(k, mm, f, 1, true);
    if (!s.ok) throw new Error(s.reason);
    k.touch(mm, s.value, HP, true, 2);
    expect(map(k, mm, f, 1, false)).toMatchObject({ ok: false, errno: "ENOMEM" });
    // Once the page is gone, a one-page mapping reserves again.
    k.munmap(mm, s.value, HP);
    ht.truncate(f, 0);
    expect(mount.subpool!.used).toBe(0);
    expect(map(k, mm, f, 1, false).ok).toBe(true);
    expect(mount.subpool!.used).toBe(1);
    expect(counters(ht)).toEqual([4, 4, 1, 0]);
  });
});
