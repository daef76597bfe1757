import { FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, MAP_ANONYMOUS, MAP_NORESERVE, MAP_HUGETLB, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, VM_FAULT_SIGBUS, type Kernel, type Mm } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { counters, hugetlbKernel, mapHuge } from "./test-helpers";

const HP = 2 << 20;

function setup(pool: number, overcommit = 0): { k: Kernel; ht: ReturnType<typeof hugetlbKernel>["ht"]; mm: Mm; a: number } {
  const { k, ht } = hugetlbKernel("x86-64", "128M");
  ht.setNrHugepages(ht.defaultHstate, pool);
  ht.setOvercommit(ht.defaultHstate, overcommit);
  const mm = k.createMm();
  const a = mapHuge(k, mm, HP);
  expect(k.touch(mm, a, HP, true, 11).error).toBe(0);
  return { k, ht, mm, a };
}

/** tools/testing/selftests/mm/cow.c, the hugetlb variants (run_with_hugetlb), and libhugetlbfs fork-cow. */
describe("COW of hugetlb pages (cow.c)", () => {
  it("Basic COW after fork(): the parent's write copies, the child keeps the old contents", () => {
    const { k, ht, mm, a } = setup(2);
    const child = k.fork(mm)!;
    expect(counters(ht)).toEqual([2, 1, 0, 0]);
    expect(ht.hugetlbPages(child)).toBe(2048);
    expect(k.touch(mm, a, HP, true, 22).error).toBe(0);
    expect(counters(ht)).toEqual([2, 0, 0, 0]);
    expect(k.peek(child, a)).not.toBe(k.peek(mm, a));
    expect(k.touch(child, a, HP, false).error).toBe(0);
    // The child's page is now exclusive to it: its write reuses it without a copy.
    expect(k.touch(child, a, HP, true, 33).error).toBe(0);
    expect(counters(ht)).toEqual([2, 0, 0, 0]);
    k.exit(child);
    k.exit(mm);
    expect(counters(ht)).toEqual([2, 2, 0, 0]);
  });

  it("Basic COW after fork() with mprotect(): read-only then writable again still copies on the parent's write", () => {
    const { k, ht, mm, a } = setup(2);
    const child = k.fork(mm)!;
    expect(k.mprotect(mm, a, HP, PROT_READ).ok).toBe(true);
    expect(k.mprotect(mm, a, HP, PROT_READ | PROT_WRITE).ok).toBe(true);
    const before = k.peek(child, a);
    expect(k.touch(mm, a, HP, true, 44).error).toBe(0);
    expect(k.peek(child, a)).toBe(before);
    expect(counters(ht)).toEqual([2, 0, 0, 0]);
  });

  it("COW needs a second free page: without one the owner takes the page and the child gets SIGBUS", () => {
    const { k, ht, mm, a } = setup(1);
    const child = k.fork(mm)!;
    expect(k.touch(mm, a, HP, true, 55).error).toBe(0);
    // The parent reused its page; the child lost its mapping.
    expect(counters(ht)).toEqual([1, 0, 0, 0]);
    expect(ht.hugetlbPages(child)).toBe(0);
    const r = k.touch(child, a, HP, false);
    expect(r.error).toBe(VM_FAULT_SIGBUS);
    expect(counters(ht)).toEqual([1, 0, 0, 0]);
  });

  it("the child writing first with no free page gets SIGBUS and the parent is unaffected", () => {
    const { k, ht, mm, a } = setup(1);
    const child = k.fork(mm)!;
    expect(k.touch(child, a, HP, true, 66).error).toBe(VM_FAULT_SIGBUS);
    expect(k.touch(mm, a, HP, true, 77).error).toBe(0);
    expect(ht.hugetlbPages(mm)).toBe(2048);
    expect(counters(ht)).toEqual([1, 0, 0, 0]);
  });

  it("a child's COW takes an unreserved page, from overcommit when the pool has none", () => {
    const { k, ht, mm, a } = setup(1, 1);
    const child = k.fork(mm)!;
    expect(k.touch(child, a, HP, true, 88).error).toBe(0);
    expect(counters(ht)).toEqual([2, 0, 0, 1]);
    k.exit(child);
    expect(counters(ht)).toEqual([1, 0, 0, 0]);
  });

  it("copies a pinned page for the child at fork, and fork fails without a free page", () => {
    const { k, ht, mm, a } = setup(2);
    const pin = k.gup(mm, a, 1, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM);
    expect(pin.error).toBeNull();
    const child = k.fork(mm)!;
    expect(counters(ht)).toEqual([2, 0, 0, 0]);
    expect(k.peek(child, a)).toBe(k.peek(mm, a));
    // Both are exclusive: writes copy nothing.
    expect(k.touch(mm, a, HP, true, 99).error).toBe(0);
    expect(k.touch(child, a, HP, true, 98).error).toBe(0);
    expect(counters(ht)).toEqual([2, 0, 0, 0]);
    k.exit(child);
    expect(k.fork(mm)).not.toBeNull();
    const k2 = setup(1);
    const pin2 = k2.k.gup(k2.mm, k2.a, 1, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM);
    expect(k2.k.fork(k2.mm)).toBeNull();
    expect(counters(k2.ht)).toEqual([1, 0, 0, 0]);
    k2.k.unpin(pin2, FOLL_PIN);
    k.unpin(pin, FOLL_PIN);
  });

  it("shares page-cache pages with a private read and copies them on write (libhugetlbfs private.c)", () => {
    const { k, ht } = hugetlbKernel("x86-64", "128M");
    ht.setNrHugepages(ht.defaultHstate, 2);
    const mm = k.createMm();
    const fd = ht.createFile("private", HP);
    const shared = k.mmap(mm, { len: HP, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, file: fd });
    const priv = k.mmap(mm, { len: HP, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE, file: fd });
    if (!shared.ok || !priv.ok) throw new Error("mmap");
    k.touch(mm, shared.value, HP, true, 1);
    const p = k.peek(mm, shared.value);
    k.touch(mm, priv.value, HP, false);
    expect(k.peek(mm, priv.value)).toBe(p);
    k.touch(mm, priv.value, HP, true, 2);
    expect(k.peek(mm, priv.value)).not.toBe(p);
    expect(k.peek(mm, shared.value)).toBe(p);
    k.touch(mm, shared.value, HP, true, 3);
    expect(k.peek(mm, priv.value)).not.toBe(k.peek(mm, shared.value));
    expect(counters(ht)).toEqual([2, 0, 0, 0]);
  });

  it("keeps MAP_NORESERVE private mappings unreserved: faults take what is free, then SIGBUS", () => {
    const { k, ht } = hugetlbKernel("x86-64", "128M");
    ht.setNrHugepages(ht.defaultHstate, 1);
    const mm = k.createMm();
    const a = mapHuge(k, mm, 2 * HP, false, MAP_NORESERVE);
    expect(counters(ht)).toEqual([1, 1, 0, 0]);
    const r = k.touch(mm, a, 2 * HP, true, 5);
    expect(r.error).toBe(VM_FAULT_SIGBUS);
    expect(r.errorAddr).toBe(a + HP);
    expect(counters(ht)).toEqual([1, 0, 0, 0]);
    expect(k.mmap(mm, { len: HP, prot: PROT_READ, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB })).toMatchObject({ ok: false, errno: "ENOMEM" });
  });

  it("the owner's exit while a child maps its page leaves Rsvd one short until the child lets go, as the kernel does (zapRestore)", () => {
    for (const mode of ["kernel", "last-mapping"] as const) {
      const { k, ht } = hugetlbKernel("x86-64", "128M");
      ht.config.zapRestore = mode;
      const h = ht.defaultHstate;
      ht.setNrHugepages(h, 2);
      const mm = k.createMm();
      const a = mapHuge(k, mm, HP);
      k.touch(mm, a, HP, true, 1);
      const child = k.fork(mm)!;
      k.exit(mm);
      // The kernel restores the reservation on the still-mapped folio and its close returns it at once.
      expect(h.resv).toBe(mode === "kernel" ? -1 : 0);
      k.exit(child);
      expect(counters(ht)).toEqual([2, 2, 0, 0]);
    }
  });
});
