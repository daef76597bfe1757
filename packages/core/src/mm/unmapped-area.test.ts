import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import type { ArchBackend } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "./mm";
import { MAP_GROWSDOWN } from "./mmap";
import { getUnmappedArea, MMAP_MIN_ADDR, STACK_GUARD_GAP_PAGES, taskUnmappedBase, type AlignFor } from "./unmapped-area";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_NONE, PROT_READ, PROT_WRITE } from "./vm-flags";
import { mapOk } from "../testing/vma";

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function setup(backend: ArchBackend = createX86_64Backend(), memory = "64M"): { k: Kernel; mm: Mm } {
  const k = new Kernel({ backend, memory });
  return { k, mm: k.createMm() };
}


describe("get_unmapped_area", () => {
  it("places mappings top-down from mmap_base", () => {
    const { k, mm } = setup();
    expect(mm.mmapBase).toBe(0x7e00_0000_0000);
    expect(mapOk(k, mm, { len: 4 * KiB, prot: RW, flags: ANON })).toBe(0x7dff_ffff_f000);
    expect(mapOk(k, mm, { len: 12 * KiB, prot: PROT_READ, flags: ANON })).toBe(0x7dff_ffff_c000);
    expect(mm.vmas.count).toBe(2);
  });

  it("stays below DEFAULT_MAP_WINDOW unless a hint reaches above it (x86 LA57, arm64 52-bit VA)", () => {
    for (const [backend, window, top] of [
      [createX86_64Backend("5level"), 2 ** 47, 2 ** 56],
      [createArm64Backend("4k-52"), 2 ** 48, 2 ** 52],
    ] as const) {
      const { k, mm } = setup(backend);
      expect(mm.mapWindow).toBe(window);
      expect(mm.taskSize).toBe(top);
      expect(mm.mmapBase).toBe(window - window / 64);
      expect(mapOk(k, mm, { len: 4 * KiB, prot: RW, flags: ANON })).toBe(mm.mmapBase - 4 * KiB);
      // A hint above the window opens the whole space: taken as given when free...
      expect(mapOk(k, mm, { addr: window * 2, len: 4 * KiB, prot: RW, flags: ANON })).toBe(window * 2);
      // ...and a taken hint above it searches down from the raised mmap_base.
      expect(mapOk(k, mm, { addr: window * 2, len: 4 * KiB, prot: RW, flags: ANON })).toBe(mm.mmapBase + top - window - 4 * KiB);
    }
    // Below the window a taken hint falls back to the usual search.
    const { k, mm } = setup(createX86_64Backend("5level"));
    mapOk(k, mm, { addr: 0x1000_0000, len: 4 * KiB, prot: RW, flags: ANON });
    expect(mapOk(k, mm, { addr: 0x1000_0000, len: 4 * KiB, prot: RW, flags: ANON })).toBe(mm.mmapBase - 4 * KiB);
  });

  it("aligns anonymous private mappings that are a whole number of PMDs to the PMD size", () => {
    const { k, mm } = setup();
    mapOk(k, mm, { len: 4 * KiB, prot: RW, flags: ANON });
    // The padded search ends at 0x7dfffffff000; the first 2M boundary inside is 0x7dffffc00000.
    expect(mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON })).toBe(0x7dff_ffc0_0000);
    // Not a multiple of the PMD size: no alignment.
    expect(mapOk(k, mm, { len: 2 * MiB + 4 * KiB, prot: RW, flags: ANON })).toBe(0x7dff_ffc0_0000 - 2 * MiB - 4 * KiB);
    // An already aligned padded result puts the mapping at its top.
    const { k: k2, mm: mm2 } = setup();
    expect(mapOk(k2, mm2, { len: 4 * MiB, prot: RW, flags: ANON })).toBe(0x7e00_0000_0000 - 4 * MiB);
  });

  it("does not align shared anonymous mappings, hinted mappings, or mappings on arches without PMD THP", () => {
    const { k, mm } = setup();
    mapOk(k, mm, { len: 4 * KiB, prot: RW, flags: ANON });
    expect(mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS })).toBe(0x7dff_ffff_f000 - 2 * MiB);
    expect(mapOk(k, mm, { addr: 0x1000_1000, len: 2 * MiB, prot: RW, flags: ANON })).toBe(0x1000_1000);
    const p = setup(createPpc8xxBackend("4k"));
    expect(p.mm.mmapBase).toBe(2 ** 31 - 2 ** 27);
    mapOk(p.k, p.mm, { len: 4 * KiB, prot: RW, flags: ANON });
    expect(mapOk(p.k, p.mm, { len: 4 * MiB, prot: RW, flags: ANON })).toBe(2 ** 31 - 2 ** 27 - 4 * KiB - 4 * MiB);
  });

  it("aligns to the PMD size of the arch (arm64 64K pages: 512M)", () => {
    const { k, mm } = setup(createArm64Backend("64k-48"), "1G");
    mapOk(k, mm, { len: 64 * KiB, prot: RW, flags: ANON });
    const a = mapOk(k, mm, { len: 512 * MiB, prot: RW, flags: ANON });
    expect(a % (512 * MiB)).toBe(0);
    // The 64K mapping at the top leaves the highest 512M boundary that fits one PMD lower.
    expect(a).toBe(mm.mmapBase - 1024 * MiB);
    const b = setup(createArm64Backend("4k-48"));
    mapOk(b.k, b.mm, { len: 4 * KiB, prot: RW, flags: ANON });
    expect(mapOk(b.k, b.mm, { len: 4 * MiB, prot: RW, flags: ANON }) % (2 * MiB)).toBe(0);
  });

  it("asks the kernel's alignFor policy, which may want PUD alignment for long mappings", () => {
    const { k, mm } = setup();
    const asked: [number, number][] = [];
    const policy: AlignFor = (len, flags) => {
      asked.push([len, flags]);
      return len >= GiB ? GiB : 0;
    };
    (k as Kernel & { alignFor?: AlignFor }).alignFor = policy;
    mapOk(k, mm, { len: 4 * KiB, prot: RW, flags: ANON });
    const a = mapOk(k, mm, { len: GiB, prot: PROT_NONE, flags: ANON });
    expect(a % GiB).toBe(0);
    expect(a).toBe(0x7e00_0000_0000 - 2 * GiB);
    // 2M is below the policy's threshold: no alignment, so it goes in the gap the 1G alignment left above.
    expect(mapOk(k, mm, { len: 2 * MiB, prot: RW, flags: ANON })).toBe(0x7e00_0000_0000 - 4 * KiB - 2 * MiB);
    expect(asked).toEqual([
      [4 * KiB, ANON],
      [GiB, ANON],
      [2 * MiB, ANON],
    ]);
  });

  it("takes a free hint, raises a hint below mmap_min_addr, and ignores a hint that is taken", () => {
    const { k, mm } = setup();
    expect(mapOk(k, mm, { addr: 0x4000_0000, len: 8 * KiB, prot: RW, flags: ANON })).toBe(0x4000_0000);
    // An unaligned hint is rounded down to its page.
    expect(mapOk(k, mm, { addr: 0x5000_0123, len: 4 * KiB, prot: RW, flags: ANON })).toBe(0x5000_0000);
    expect(mapOk(k, mm, { addr: 0x1000, len: 4 * KiB, prot: RW, flags: ANON })).toBe(MMAP_MIN_ADDR);
    expect(mapOk(k, mm, { addr: 0x4000_1000, len: 4 * KiB, prot: RW, flags: ANON })).toBe(0x7dff_ffff_f000);
  });

  it("keeps the stack guard gap free below a MAP_GROWSDOWN mapping", () => {
    const { k, mm } = setup();
    const stack = mapOk(k, mm, { addr: 0x7000_0000_0000, len: 64 * KiB, prot: RW, flags: ANON | MAP_FIXED | MAP_GROWSDOWN });
    const gap = STACK_GUARD_GAP_PAGES * 4 * KiB;
    // A hint inside the gap is refused; one just below it is taken.
    expect(mapOk(k, mm, { addr: stack - 4 * KiB, len: 4 * KiB, prot: RW, flags: ANON })).not.toBe(stack - 4 * KiB);
    expect(mapOk(k, mm, { addr: stack - gap - 4 * KiB, len: 4 * KiB, prot: RW, flags: ANON })).toBe(stack - gap - 4 * KiB);
    // A top-down search below a stack stops short of its gap.
    const p = setup();
    const top = mapOk(p.k, p.mm, { addr: p.mm.mmapBase - 64 * KiB, len: 64 * KiB, prot: RW, flags: ANON | MAP_FIXED | MAP_GROWSDOWN });
    expect(mapOk(p.k, p.mm, { len: 4 * KiB, prot: RW, flags: ANON })).toBe(top - gap - 4 * KiB);
  });

  it("falls back to a bottom-up search above TASK_UNMAPPED_BASE when nothing fits below mmap_base", () => {
    const { k, mm } = setup(createPpc8xxBackend("4k"));
    const base = mm.mmapBase;
    expect(taskUnmappedBase(k, mm)).toBe(0x2aaa_b000);
    mapOk(k, mm, { addr: MMAP_MIN_ADDR, len: base - MMAP_MIN_ADDR, prot: PROT_NONE, flags: ANON | MAP_FIXED });
    expect(mapOk(k, mm, { len: 4 * KiB, prot: RW, flags: ANON })).toBe(base);
    expect(mapOk(k, mm, { len: 4 * KiB, prot: RW, flags: ANON })).toBe(base + 4 * KiB);
  });

  it("fails with ENOMEM, EINVAL or EPERM as __get_unmapped_area does", () => {
    const { k, mm } = setup();
    expect(getUnmappedArea(k, mm, null, 0, 2 ** 47 + 4096, 0, ANON)).toEqual({ ok: false, errno: "ENOMEM", reason: "len 0x800000001000 exceeds TASK_SIZE 0x800000000000" });
    expect(getUnmappedArea(k, mm, null, 0, 2 ** 47, 0, ANON)).toEqual({ ok: false, errno: "ENOMEM", reason: "len 0x800000000000 is larger than the address space above mmap_min_addr (0x7fffffff0000 bytes)" });
    expect(getUnmappedArea(k, mm, null, 2 ** 47 - 4096, 8192, 0, ANON | MAP_FIXED)).toEqual({ ok: false, errno: "ENOMEM", reason: "addr 0x7ffffffff000 + len 0x2000 ends above TASK_SIZE 0x800000000000" });
    expect(getUnmappedArea(k, mm, null, 0x10_0800, 4096, 0, ANON | MAP_FIXED)).toEqual({ ok: false, errno: "EINVAL", reason: "addr 0x100800 is not aligned to the page size (4096 bytes)" });
    expect(getUnmappedArea(k, mm, null, 0x1000, 4096, 0, ANON | MAP_FIXED)).toEqual({ ok: false, errno: "EPERM", reason: "addr 0x1000 is below mmap_min_addr (0x10000)" });
    expect(getUnmappedArea(k, mm, null, 0, 2 * MiB, 0, ANON | MAP_FIXED)).toEqual({ ok: false, errno: "EPERM", reason: "addr 0x0 is below mmap_min_addr (0x10000)" });
  });
});
