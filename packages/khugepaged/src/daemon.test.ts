import { MMF_DISABLE_THP, MMF_VM_HUGEPAGE, PROT_READ, PROT_WRITE } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { MADV, MB2, anon, machine, madvise } from "./test-kernel";

describe("mm registration (khugepaged_enter_vma)", () => {
  it("MADV_HUGEPAGE registers an mm only once its VMA has an anon_vma", () => {
    const t = machine();
    const a = anon(t, 2 * MB2);
    madvise(t, a, 2 * MB2, MADV.HUGEPAGE);
    expect(t.kh.slots.list.length).toBe(0);
    madvise(t, a, 2 * MB2, MADV.NOHUGEPAGE);
    t.k.touch(t.mm, a, 4096, true, 1);
    expect(t.kh.slots.list.length).toBe(0);
    madvise(t, a, 2 * MB2, MADV.HUGEPAGE);
    expect(t.kh.slots.list).toEqual([t.mm]);
    expect(t.mm.flags & MMF_VM_HUGEPAGE).not.toBe(0);
    // MADV_NOHUGEPAGE does not unregister; the VMA is just skipped.
    madvise(t, a, 2 * MB2, MADV.NOHUGEPAGE);
    expect(t.kh.slots.list).toEqual([t.mm]);
  });

  it("a PMD-order anonymous fault registers the mm; a 4K fault does not", () => {
    const t = machine("x86-64", { enabled: "always" });
    const small = anon(t, 64 << 10);
    t.k.touch(t.mm, small, 4096, true, 1);
    expect(t.kh.slots.list.length).toBe(0);
    const big = anon(t, MB2);
    t.k.touch(t.mm, big, 4096, true, 1);
    expect(t.kh.slots.list).toEqual([t.mm]);
  });

  it("nothing registers while THP is off everywhere", () => {
    const t = machine("x86-64", { enabled: "never" });
    const a = anon(t, MB2);
    t.k.touch(t.mm, a, 4096, true, 1);
    madvise(t, a, MB2, MADV.HUGEPAGE);
    expect(t.kh.slots.list.length).toBe(0);
    // An mTHP size alone is enough (hugepage_enabled covers every anonymous order).
    t.k.thp.set("hugepages-64kB/enabled", "madvise");
    madvise(t, a, MB2, MADV.HUGEPAGE);
    expect(t.kh.slots.list.length).toBe(1);
  });

  it("a VMA merge registers the mm (vma_merge_existing_range); an mTHP fault does not", () => {
    const t = machine("x86-64", { enabled: "never" });
    t.k.thp.set("hugepages-64kB/enabled", "always");
    const a = anon(t, 2 * MB2);
    t.k.touch(t.mm, a, 64 << 10, true, 1);
    expect(t.kh.slots.list.length).toBe(0);
    // Splitting off a read-only piece and making it writable again merges it back.
    expect(t.k.mprotect(t.mm, a, 64 << 10, PROT_READ).ok).toBe(true);
    expect(t.kh.slots.list.length).toBe(0);
    expect(t.k.mprotect(t.mm, a, 64 << 10, PROT_READ | PROT_WRITE).ok).toBe(true);
    expect(t.mm.vmas.count).toBe(1);
    expect(t.kh.slots.list).toEqual([t.mm]);
  });

  it("fork registers the child of a registered mm; exit frees a slot unless the cursor holds it", () => {
    const t = machine();
    const a = anon(t, 2 * MB2);
    t.k.touch(t.mm, a, 2 * MB2, true, 1);
    madvise(t, a, 2 * MB2, MADV.HUGEPAGE);
    // One round collapses the first range and stops (the lock was dropped): the cursor stays on the mm.
    t.kh.s.set("pages_to_scan", "1");
    expect(t.kh.run({ scans: 1 }).collapsed).toBe(1);
    expect(t.kh.slots.cursor).toBe(t.mm);
    const child = t.k.fork(t.mm)!;
    expect(t.kh.slots.list).toEqual([t.mm, child]);
    expect(child.flags & MMF_VM_HUGEPAGE).not.toBe(0);
    t.k.exit(child);
    expect(t.kh.slots.list).toEqual([t.mm]);
    t.k.exit(t.mm);
    // The cursor's slot outlives its mm until khugepaged looks at it again.
    expect(t.kh.slots.list).toEqual([t.mm]);
    t.kh.run({ scans: 1 });
    expect(t.kh.slots.list).toEqual([]);
    expect(t.kh.slots.cursor).toBe(null);
  });

  it("a child of an unregistered mm is not registered", () => {
    const t = machine();
    const a = anon(t, MB2);
    t.k.touch(t.mm, a, MB2, true, 1);
    const child = t.k.fork(t.mm)!;
    expect(t.kh.slots.list).toEqual([]);
    expect(child.flags & MMF_VM_HUGEPAGE).toBe(0);
  });
});

describe("khugepaged_do_scan", () => {
  it("spends pages_to_scan progress units, stops after a dropped lock, resumes where it was", () => {
    const t = machine();
    const a = anon(t, 4 * MB2);
    t.k.touch(t.mm, a, 4 * MB2, true, 1);
    madvise(t, a, 4 * MB2, MADV.HUGEPAGE);
    t.kh.s.set("pages_to_scan", "600");
    // mm (1) + 512 PTEs, collapse drops the lock; again mm (1) + 512: 1026 >= 600.
    let r = t.kh.run({ scans: 1 }, true);
    expect(r.ranges.map((x) => x.addr - a)).toEqual([0, MB2]);
    expect(t.kh.progressTotal).toBe(1026);
    expect(t.kh.slots.address).toBe(a + 2 * MB2);
    r = t.kh.run({ scans: 1 }, true);
    expect(r.ranges.map((x) => x.addr - a)).toEqual([2 * MB2, 3 * MB2]);
    expect(t.kh.pagesCollapsed).toBe(4);
    expect(t.kh.clockMs).toBe(20000);
    expect(t.kh.fullScans).toBe(0);
  });

  it("counts a VMA it may not collapse and a range without a PTE table as one unit each", () => {
    const t = machine();
    const a = anon(t, 4 * MB2);
    t.k.touch(t.mm, a + 3 * MB2, 4096, true, 1);
    madvise(t, a, 4 * MB2, MADV.HUGEPAGE);
    madvise(t, a, MB2, MADV.NOHUGEPAGE);
    t.kh.s.set("max_ptes_none", "0");
    const r = t.kh.run({ passes: 1 }, true);
    // mm 1, the NOHUGEPAGE VMA 1, two ranges with no table 1 each, one table failing at its second PTE 2.
    expect(r.ranges.map((x) => x.result)).toEqual([2, 2, 4]);
    expect(t.kh.progressTotal).toBe(1 + 1 + 1 + 1 + 2);
  });

  it("stops when THP goes off: the thread exits and drops its cursor", () => {
    const t = machine();
    const a = anon(t, 2 * MB2);
    t.k.touch(t.mm, a, 2 * MB2, true, 1);
    madvise(t, a, 2 * MB2, MADV.HUGEPAGE);
    t.kh.s.set("pages_to_scan", "1");
    t.kh.run({ scans: 1 });
    expect(t.kh.slots.cursor).toBe(t.mm);
    t.k.thp.set("enabled", "never");
    expect(t.kh.run({ scans: 5 })).toMatchObject({ rounds: 0, idle: "stopped" });
    expect(t.kh.slots.cursor).toBe(null);
    t.k.thp.set("enabled", "madvise");
    const r = t.kh.run({ scans: 1 }, true);
    // Restarted from the head: the first range again (already a PMD).
    expect(r.ranges[0]!.addr).toBe(a);
  });

  it("untilIdle runs whole passes until one collapses nothing", () => {
    const t = machine();
    const a = anon(t, 2 * MB2);
    t.k.touch(t.mm, a, 2 * MB2, true, 1);
    madvise(t, a, 2 * MB2, MADV.HUGEPAGE);
    const r = t.kh.run({ untilIdle: true });
    expect(r.collapsed).toBe(2);
    expect(r.passes).toBe(2);
  });

  it("an mm with THP disabled is passed over", () => {
    const t = machine();
    const a = anon(t, MB2);
    t.k.touch(t.mm, a, MB2, true, 1);
    madvise(t, a, MB2, MADV.HUGEPAGE);
    t.mm.flags |= MMF_DISABLE_THP;
    const r = t.kh.run({ passes: 1 }, true);
    expect(r.ranges).toEqual([]);
    expect(t.kh.progressTotal).toBe(1);
  });
});
