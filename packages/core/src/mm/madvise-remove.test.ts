import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import { NS } from "../stats/counters";
import { mapOk } from "../testing/vma";
import { MM_SHMEMPAGES } from "./counters";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from "./vm-flags";

const KiB = 1024;
const RW = PROT_READ | PROT_WRITE;

function setup() {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "128M", swap: "16M", check: true });
  k.thp.set("enabled", "never");
  const shm = k.createFile("shm", "64K", { shmem: true });
  const a = k.createMm();
  const b = k.createMm();
  const sa = mapOk(k, a, { len: 64 * KiB, prot: RW, flags: MAP_SHARED, file: shm });
  const sb = mapOk(k, b, { len: 64 * KiB, prot: RW, flags: MAP_SHARED, file: shm });
  const pb = mapOk(k, b, { len: 64 * KiB, prot: RW, flags: MAP_PRIVATE, file: shm });
  k.touch(a, sa, 64 * KiB, true, 5);
  k.touch(b, sb, 64 * KiB, false);
  k.touch(b, pb, 64 * KiB, false);
  // A private COW copy of page 5 in b.
  k.touch(b, pb + 20 * KiB, 4 * KiB, true, 6);
  return { k, shm, a, b, sa, sb, pb };
}

describe("MADV_REMOVE", () => {
  it("punches a hole in a shmem file: every mapping of its pages goes, private COW copies stay, the pages read as zeroes", () => {
    const { k, shm, a, b, sa, sb, pb } = setup();
    const shmemBefore = k.phys.nodeStats(0)[NS.nr_shmem]!;
    expect(k.madvise(a, sa + 16 * KiB, 16 * KiB, MADV.REMOVE)).toEqual({ ok: true, value: 0 });
    expect(k.phys.nodeStats(0)[NS.nr_shmem]).toBe(shmemBefore - 4);
    expect([...shm.pages.keys()].filter((i) => i >= 4 && i < 8)).toEqual([]);
    expect(a.rss[MM_SHMEMPAGES]).toBe(12);
    // b's shared mapping of pages 4-7 and its private mapping of the file's pages 4, 6, 7 are gone; its COW copy of page 5 stays.
    expect(b.rss[MM_SHMEMPAGES]).toBe(12 + 12);
    expect(k.peek(b, pb + 20 * KiB)).not.toBe(0);
    for (const [mm, base] of [[a, sa], [b, sb], [b, pb]] as const) {
      for (const i of [4, 6, 7]) expect(k.peek(mm, base + i * 4 * KiB), `page ${i} is unmapped`).toBe(-1);
      expect(k.peek(mm, base + 8 * KiB)).toBeGreaterThan(0);
      // A fault on the hole finds a new zeroed page.
      k.touch(mm, base + 16 * KiB, 4 * KiB, false);
      expect(k.peek(mm, base + 16 * KiB)).toBe(0);
    }
    expect(shm.pages.has(4)).toBe(true);
  });

  it("frees the swap of swapped-out pages in the hole", () => {
    const { k, shm, a, b, sa, sb, pb } = setup();
    k.munmap(b, pb, 64 * KiB);
    k.munmap(b, sb, 64 * KiB);
    expect(k.madvise(a, sa, 64 * KiB, MADV.PAGEOUT).ok).toBe(true);
    const swapped = shm.swapped.size;
    expect(swapped).toBeGreaterThan(0);
    const free = k.swap.device!.free;
    expect(k.madvise(a, sa, 64 * KiB, MADV.REMOVE).ok).toBe(true);
    expect(shm.swapped.size).toBe(0);
    expect(k.swap.device!.free).toBe(free + swapped);
    k.touch(a, sa, 4 * KiB, false);
    expect(k.peek(a, sa)).toBe(0);
  });

  it("fails as the kernel does on private, anonymous, locked and regular-file mappings", () => {
    const { k, b, pb } = setup();
    expect(k.madvise(b, pb, 4 * KiB, MADV.REMOVE)).toMatchObject({ ok: false, errno: "EACCES" });
    const anon = mapOk(k, b, { len: 16 * KiB, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    expect(k.madvise(b, anon, 4 * KiB, MADV.REMOVE)).toMatchObject({ ok: false, errno: "EINVAL" });
    const shAnon = mapOk(k, b, { len: 16 * KiB, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS });
    k.touch(b, shAnon, 16 * KiB, true, 1);
    expect(k.madvise(b, shAnon, 16 * KiB, MADV.REMOVE).ok).toBe(true);
    expect(k.peek(b, shAnon)).toBe(-1);
    k.touch(b, shAnon, 4 * KiB, false);
    expect(k.peek(b, shAnon)).toBe(0);
    const reg = k.createFile("reg", "16K");
    const r = mapOk(k, b, { len: 16 * KiB, prot: RW, flags: MAP_SHARED, file: reg });
    expect(k.madvise(b, r, 4 * KiB, MADV.REMOVE)).toMatchObject({ ok: false, errno: "EOPNOTSUPP" });
  });
});
