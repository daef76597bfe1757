import { MADV, MAP_ANONYMOUS, MAP_HUGETLB, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, type Kernel, type Mm } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from "./hugetlbfs";
import { hugetlbKernel } from "./test-helpers";

const HP = 2 << 20;
const N = 10;
const RW = PROT_READ | PROT_WRITE;

function mapOk(k: Kernel, mm: Mm, len: number, flags: number, file?: Parameters<Kernel["mmap"]>[1]["file"]): number {
  const r = k.mmap(mm, { len, prot: RW, flags, file });
  if (!r.ok) throw new Error(`${r.errno}: ${r.reason}`);
  return r.value;
}

/**
 * tools/testing/selftests/mm/hugetlb-madvise.c: MADV_DONTNEED and
 * MADV_REMOVE on hugetlb mappings, with free_hugepages checked after each
 * step (and the hidden Rsvd column of the shared reference's §7).
 */
describe("hugetlb-madvise.c", () => {
  it("frees and keeps exactly the pages the selftest expects at every step", () => {
    const { k, ht } = hugetlbKernel("x86-64", "256M");
    const h = ht.defaultHstate;
    ht.setNrHugepages(h, 24);
    const F0 = h.free;
    expect(F0).toBe(24);
    const mm = k.createMm();
    const free = (want: number, what: string) => expect(h.free, what).toBe(want);
    const anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;

    // Argument validity: a mapping with its first and last huge page unmapped.
    let addr = mapOk(k, mm, (N + 2) * HP, anon);
    expect(h.resv).toBe(N + 2);
    expect(k.munmap(mm, addr, HP).ok).toBe(true);
    expect(k.munmap(mm, addr + (N + 1) * HP, HP).ok).toBe(true);
    expect(h.resv).toBe(N);
    addr += HP;
    k.touch(mm, addr, N * HP, true, 1);
    free(F0 - N, "write faults");
    expect(h.resv).toBe(0);
    expect(k.madvise(mm, addr - k.pageSize, N * HP, MADV.DONTNEED).ok, "addr before the mapping").toBe(false);
    expect(k.madvise(mm, addr, N * HP + k.pageSize, MADV.DONTNEED).ok, "end after the mapping").toBe(false);
    k.munmap(mm, addr, N * HP);
    free(F0, "munmap");

    // Alignment: an unaligned start fails; the end is rounded down.
    addr = mapOk(k, mm, N * HP, anon);
    k.touch(mm, addr, N * HP, true, 2);
    free(F0 - N, "write faults");
    expect(k.madvise(mm, addr + k.pageSize, N * HP - k.pageSize, MADV.DONTNEED)).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(k.madvise(mm, addr, (N - 1) * HP + k.pageSize, MADV.DONTNEED).ok).toBe(true);
    free(F0 - 1, "all but the last page freed");
    // The zapped pages of the owner got their reservations back.
    expect(h.resv).toBe(N - 1);
    k.munmap(mm, addr, N * HP);
    free(F0, "munmap");
    expect(h.resv).toBe(0);

    // Anonymous private mapping: DONTNEED frees everything.
    addr = mapOk(k, mm, N * HP, anon);
    k.touch(mm, addr, N * HP, true, 3);
    free(F0 - N, "write faults");
    expect(k.madvise(mm, addr, N * HP, MADV.DONTNEED).ok).toBe(true);
    free(F0, "DONTNEED");
    expect(h.resv).toBe(N);
    k.munmap(mm, addr, N * HP);
    expect(h.resv).toBe(0);

    // Private mapping of a hugetlb file (memfd MFD_HUGETLB).
    const fd = ht.createFile("hugetlb-madvise", 0);
    expect(ht.fallocate(fd, 0, 0, N * HP).ok).toBe(true);
    free(F0 - N, "fallocate");
    expect(fd.size).toBe(N * HP);
    addr = mapOk(k, mm, N * HP, MAP_PRIVATE, fd);
    expect(h.resv).toBe(N);
    k.touch(mm, addr, N * HP, false);
    free(F0 - N, "read faults consume nothing");
    expect(k.madvise(mm, addr, N * HP, MADV.DONTNEED).ok).toBe(true);
    free(F0 - N, "DONTNEED of page-cache pages frees nothing");
    k.touch(mm, addr, N * HP, true, 4);
    free(F0 - 2 * N, "writes allocate private copies");
    expect(h.resv).toBe(0);
    expect(k.madvise(mm, addr, N * HP, MADV.DONTNEED).ok).toBe(true);
    free(F0 - N, "DONTNEED frees the private copies");
    k.touch(mm, addr, N * HP, true, 5);
    free(F0 - 2 * N, "writes allocate private copies again");
    // The hole punch frees the file's pages and, as it always has, the private copies too.
    expect(ht.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, N * HP).ok).toBe(true);
    free(F0, "punch hole");
    k.munmap(mm, addr, N * HP);
    free(F0, "munmap");
    expect(h.resv).toBe(0);

    // Shared mapping of the file: DONTNEED keeps the pages, MADV_REMOVE frees them.
    expect(ht.fallocate(fd, 0, 0, N * HP).ok).toBe(true);
    free(F0 - N, "fallocate");
    addr = mapOk(k, mm, N * HP, MAP_SHARED, fd);
    k.touch(mm, addr, N * HP, true, 6);
    free(F0 - N, "shared writes consume nothing more");
    expect(k.madvise(mm, addr, N * HP, MADV.DONTNEED).ok).toBe(true);
    free(F0 - N, "DONTNEED keeps the page cache");
    expect(k.madvise(mm, addr, N * HP, MADV.REMOVE).ok).toBe(true);
    free(F0, "MADV_REMOVE");
    k.munmap(mm, addr, N * HP);

    // Shared and private mappings together: MADV_REMOVE through the shared one frees both.
    expect(ht.fallocate(fd, 0, 0, N * HP).ok).toBe(true);
    free(F0 - N, "fallocate");
    addr = mapOk(k, mm, N * HP, MAP_SHARED, fd);
    k.touch(mm, addr, N * HP, true, 7);
    free(F0 - N, "shared writes");
    const addr2 = mapOk(k, mm, N * HP, MAP_PRIVATE, fd);
    k.touch(mm, addr2, N * HP, true, 8);
    free(F0 - 2 * N, "private copies");
    expect(k.madvise(mm, addr, N * HP, MADV.REMOVE).ok).toBe(true);
    free(F0, "MADV_REMOVE frees the file's pages and the private copies");
    k.munmap(mm, addr, N * HP);
    k.munmap(mm, addr2, N * HP);
    free(F0, "end");
    expect([h.nr, h.resv, h.surplus]).toEqual([24, 0, 0]);
  });

  it("refuses MADV_FREE, COLD and PAGEOUT on hugetlb mappings and splits only at huge-page boundaries", () => {
    const { k, ht } = hugetlbKernel("x86-64", "128M");
    ht.setNrHugepages(ht.defaultHstate, 4);
    const mm = k.createMm();
    const a = mapOk(k, mm, 4 * HP, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB);
    for (const adv of [MADV.FREE, MADV.COLD, MADV.PAGEOUT]) expect(k.madvise(mm, a, HP, adv)).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(k.munmap(mm, a + k.pageSize, HP)).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(k.mprotect(mm, a, HP + k.pageSize, PROT_READ)).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(k.munmap(mm, a + HP, HP).ok).toBe(true);
    expect(ht.defaultHstate.resv).toBe(3);
  });
});
