import type { ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel";
import type { Mm } from "../mm/mm";
import { MADV, MAP_ANONYMOUS, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_NONE, PROT_READ, PROT_WRITE } from "../mm/vm-flags";
import { PG_anon } from "../phys/page-flags";
import { mappedAt } from "../testing/inspect";
import { mapOk } from "../testing/vma";
import { smaps } from "./smaps";
import { contOrder, formatThpmaps, thpmaps, type ThpmapsStat } from "./thpmaps";

const KiB = 1024;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const HEADER = "       PID             START              END PROT   OFFSET   DEV    INODE OBJECT\n";

function kernel(backend: ArchBackend = createX86_64Backend(), memory = "1G"): Kernel {
  return new Kernel({ backend, memory, check: true });
}

/** Only the given mTHP size: the PMD size off. */
function mthpOnly(k: Kernel, size: string): void {
  k.thp.set("enabled", "never");
  k.thp.set(`hugepages-${size}/enabled`, "always");
}

function anon(k: Kernel, mm: Mm, len: number): number {
  return mapOk(k, mm, { len, prot: RW, flags: ANON });
}

/** The script's VMA line for an anonymous VMA. */
function vmaLine(pid: number, start: number, end: number, perms: string): string {
  const h = (v: number) => v.toString(16).padStart(16, "0");
  return `${String(pid).padStart(10, "0")}: ${h(start)}-${h(end)} ${perms} 00000000 00:00 00000000 \n`;
}

/** The non-zero statistics as [name, kB]. */
function nonZero(stats: readonly ThpmapsStat[]): [string, number][] {
  return stats.filter((s) => s.kb !== 0).map((s) => [s.name, s.kb]);
}

/** A PMD THP written whole in a 2 MiB VMA. */
function pmdThp(k: Kernel, mm: Mm): number {
  const a = anon(k, mm, 2 * MiB);
  expect(a % (2 * MiB)).toBe(0);
  k.touch(mm, a, 2 * MiB, true, 1);
  return a;
}

/** Four 64K mTHPs written whole in a 256K VMA. */
function mthps(k: Kernel, mm: Mm): number {
  mthpOnly(k, "64kB");
  const a = anon(k, mm, 256 * KiB);
  expect(a % (256 * KiB)).toBe(0);
  k.touch(mm, a, 256 * KiB, true, 1);
  return a;
}

describe("thpmaps: PMD-mapped THPs", () => {
  it("prints them as anon-thp-pmd-aligned, 100% of the anonymous memory", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = anon(k, mm, 4 * MiB);
    k.touch(mm, a, 4 * MiB, true, 1);
    expect(formatThpmaps(thpmaps(k, mm))).toBe(`${HEADER}${vmaLine(1, a, a + 4 * MiB, "rw-p")}anon-thp-pmd-aligned-2048kB:        4096 kB (100%)\n`);
  });

  it("generates the script's lines in its order with --inc-empty: orders 2 to PMD_ORDER, anon then file", () => {
    const k = kernel();
    const mm = k.createMm();
    pmdThp(k, mm);
    const t = thpmaps(k, mm, { incEmpty: true });
    const names = ["anon-thp-pmd-aligned-2048kB", "file-thp-pmd-aligned-2048kB"];
    for (const type of ["anon", "file"]) {
      for (const sub of ["aligned", "unaligned"]) for (const s of [16, 32, 64, 128, 256, 512, 1024, 2048]) names.push(`${type}-thp-pte-${sub}-${s}kB`);
      names.push(`${type}-thp-pte-partial`);
    }
    expect(t.vmas[0]!.stats.map((s) => s.name)).toEqual(names);
    const text = formatThpmaps(t).split("\n");
    expect(text.length).toBe(2 + names.length + 1);
    expect(text[2]).toBe("anon-thp-pmd-aligned-2048kB:        2048 kB (100%)");
    // No file memory: file lines have no percentage.
    expect(text[3]).toBe("file-thp-pmd-aligned-2048kB:           0 kB");
    expect(text[4]).toBe("anon-thp-pte-aligned-16kB:             0 kB ( 0%)");
    expect(text[11]).toBe("anon-thp-pte-aligned-2048kB:           0 kB ( 0%)");
  });

  it("counts a PMD-mapped THP's 64K blocks as cont-pmd, not cont-pte", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = pmdThp(k, mm);
    const t = thpmaps(k, mm, { cont: ["64K"] });
    expect(nonZero(t.vmas[0]!.stats)).toEqual([
      ["anon-thp-pmd-aligned-2048kB", 2048],
      ["anon-cont-pmd-aligned-64kB", 2048],
    ]);
    expect(formatThpmaps(t)).toBe(`${HEADER}${vmaLine(1, a, a + 2 * MiB, "rw-p")}anon-thp-pmd-aligned-2048kB:        2048 kB (100%)\nanon-cont-pmd-aligned-64kB:         2048 kB (100%)\n`);
  });

  it("shows a percentage of the VMA's anonymous memory, rounded as Python rounds (half to even)", () => {
    const k = kernel();
    const mm = k.createMm();
    // A PMD THP and 16 small pages past it: 2048 of 2112 kB.
    const a = anon(k, mm, 2 * MiB + 64 * KiB);
    k.touch(mm, a, 2 * MiB + 64 * KiB, true, 1);
    expect(formatThpmaps(thpmaps(k, mm)).split("\n")[2]).toBe("anon-thp-pmd-aligned-2048kB:        2048 kB (97%)");
    // One 64K mTHP in 512K of anonymous memory: 12.5% prints as 12%.
    const k2 = kernel();
    mthpOnly(k2, "64kB");
    const mm2 = k2.createMm();
    const b = anon(k2, mm2, 512 * KiB);
    k2.touch(mm2, b, 64 * KiB, true, 1);
    k2.thp.set("hugepages-64kB/enabled", "never");
    k2.touch(mm2, b + 64 * KiB, 448 * KiB, true, 1);
    expect(formatThpmaps(thpmaps(k2, mm2)).split("\n")[2]).toBe("anon-thp-pte-aligned-64kB:            64 kB (12%)");
  });
});

describe("thpmaps: PTE-mapped THPs", () => {
  it("counts mTHPs mapped whole at aligned addresses as pte-aligned, and 64K blocks with --cont (a 128K block spans two folios)", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = mthps(k, mm);
    const t = thpmaps(k, mm, { cont: ["64K", "128K"] });
    expect(formatThpmaps(t)).toBe(`${HEADER}${vmaLine(1, a, a + 256 * KiB, "rw-p")}anon-thp-pte-aligned-64kB:           256 kB (100%)\nanon-cont-pte-aligned-64kB:          256 kB (100%)\n`);
    expect(t.vmas[0]!.stats.slice(-9).map((s) => s.name)).toEqual([
      "file-thp-pte-partial",
      "anon-cont-pmd-aligned-64kB",
      "file-cont-pmd-aligned-64kB",
      "anon-cont-pte-aligned-64kB",
      "file-cont-pte-aligned-64kB",
      "anon-cont-pmd-aligned-128kB",
      "file-cont-pmd-aligned-128kB",
      "anon-cont-pte-aligned-128kB",
      "file-cont-pte-aligned-128kB",
    ]);
  });

  it("counts mTHPs moved by mremap to an address not aligned to their size as pte-unaligned, with no aligned blocks", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = mthps(k, mm);
    const to = 0x1000_1000;
    const r = k.mremap(mm, a, 256 * KiB, 256 * KiB, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    expect(r).toEqual({ ok: true, value: to });
    expect(formatThpmaps(thpmaps(k, mm, { cont: ["64K"] }))).toBe(`${HEADER}${vmaLine(1, to, to + 256 * KiB, "rw-p")}anon-thp-pte-unaligned-64kB:         256 kB (100%)\n`);
  });

  it("counts a PMD THP moved by mremap to an unaligned address as one whole pte-unaligned 2048kB folio", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = pmdThp(k, mm);
    const to = 0x1000_1000;
    expect(k.mremap(mm, a, 2 * MiB, 2 * MiB, MREMAP_MAYMOVE | MREMAP_FIXED, to).ok).toBe(true);
    const t = thpmaps(k, mm);
    expect(nonZero(t.vmas[0]!.stats)).toEqual([["anon-thp-pte-unaligned-2048kB", 2048]]);
    expect(formatThpmaps(t)).toBe(`${HEADER}${vmaLine(1, to, to + 2 * MiB, "rw-p")}anon-thp-pte-unaligned-2048kB:      2048 kB (100%)\n`);
  });

  it("sees each half of a THP split by mprotect as partial: the script parses VMA by VMA", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = pmdThp(k, mm);
    expect(k.mprotect(mm, a, MiB, PROT_READ).ok).toBe(true);
    const t = thpmaps(k, mm, { cont: ["64K"] });
    expect(t.vmas.map((v) => nonZero(v.stats))).toEqual([
      [
        ["anon-thp-pte-partial", 1024],
        ["anon-cont-pte-aligned-64kB", 1024],
      ],
      [
        ["anon-thp-pte-partial", 1024],
        ["anon-cont-pte-aligned-64kB", 1024],
      ],
    ]);
    expect(formatThpmaps(t)).toBe(
      `${HEADER}${vmaLine(1, a, a + MiB, "r--p")}anon-thp-pte-partial:               1024 kB (100%)\nanon-cont-pte-aligned-64kB:         1024 kB (100%)\n` +
        `${vmaLine(1, a + MiB, a + 2 * MiB, "rw-p")}anon-thp-pte-partial:               1024 kB (100%)\nanon-cont-pte-aligned-64kB:         1024 kB (100%)\n`,
    );
    expect(formatThpmaps(thpmaps(k, mm, { rollup: true, cont: ["64K"] }))).toBe("anon-thp-pte-partial:               2048 kB (100%)\nanon-cont-pte-aligned-64kB:         2048 kB (100%)\n");
  });

  it("counts what a partial munmap leaves of a THP as partial, and of an mTHP run the untouched folios as aligned", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = pmdThp(k, mm);
    expect(k.munmap(mm, a + 2 * MiB - 64 * KiB, 64 * KiB).ok).toBe(true);
    expect(nonZero(thpmaps(k, mm).vmas[0]!.stats)).toEqual([["anon-thp-pte-partial", 1984]]);

    const k2 = kernel();
    const mm2 = k2.createMm();
    const b = mthps(k2, mm2);
    expect(k2.munmap(mm2, b, 4 * KiB).ok).toBe(true);
    // 15 pages of the first folio (not from its head), then three whole folios: 60 and 192 of 252 kB.
    expect(formatThpmaps(thpmaps(k2, mm2))).toBe(`${HEADER}${vmaLine(1, b + 4 * KiB, b + 256 * KiB, "rw-p")}anon-thp-pte-aligned-64kB:           192 kB (76%)\nanon-thp-pte-partial:                 60 kB (24%)\n`);
  });

  it("counts the huge zero folio as a file THP mapped by PTE, as the script does (smaps does not count it as PMD-mapped)", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = anon(k, mm, 4 * MiB);
    k.touch(mm, a, 2 * MiB, false);
    // A VMA with no Rss is not parsed at all.
    expect(formatThpmaps(thpmaps(k, mm))).toBe(`${HEADER}${vmaLine(1, a, a + 4 * MiB, "rw-p")}`);
    k.touch(mm, a + 2 * MiB, 2 * MiB, true, 1);
    expect(formatThpmaps(thpmaps(k, mm))).toBe(
      `${HEADER}${vmaLine(1, a, a + 4 * MiB, "rw-p")}anon-thp-pmd-aligned-2048kB:        2048 kB (100%)\nfile-thp-pte-aligned-2048kB:        2048 kB\n`,
    );
  });

  it("parses no VMA without permissions", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = pmdThp(k, mm);
    expect(k.mprotect(mm, a, 2 * MiB, PROT_NONE).ok).toBe(true);
    expect(formatThpmaps(thpmaps(k, mm, { incEmpty: true }))).toBe(`${HEADER}${vmaLine(1, a, a + 2 * MiB, "---p")}`);
  });
});

describe("thpmaps: processes, rollup and smaps fields", () => {
  it("lists processes in pid order, sums them with --rollup, and puts the smaps fields first with --inc-smaps", () => {
    const k = kernel();
    const mm = k.createMm();
    const a = pmdThp(k, mm);
    const child = k.fork(mm)!;
    const t = thpmaps(k, [child, mm, child]);
    expect(t.vmas.map((v) => v.pid)).toEqual([1, 2]);
    // Under the pids a caller knows them by, still in pid order.
    const renamed = thpmaps(k, [mm, child], { pidOf: (x) => (x === mm ? 7 : 3) });
    expect(renamed.vmas.map((v) => v.pid)).toEqual([3, 7]);
    expect(formatThpmaps(renamed).startsWith(`${HEADER}${vmaLine(3, a, a + 2 * MiB, "rw-p")}`)).toBe(true);
    expect(formatThpmaps(t)).toBe(`${HEADER}${vmaLine(1, a, a + 2 * MiB, "rw-p")}anon-thp-pmd-aligned-2048kB:        2048 kB (100%)\n${vmaLine(2, a, a + 2 * MiB, "rw-p")}anon-thp-pmd-aligned-2048kB:        2048 kB (100%)\n`);
    // The folio is shared after fork: each process's Pss is half of it; the child's PMD starts old (copy_huge_pmd).
    expect(formatThpmaps(thpmaps(k, [mm, child], { rollup: true, incSmaps: true }))).toBe(
      [
        "Size:                               4096 kB",
        "Rss:                                4096 kB",
        "Pss:                                2048 kB",
        "Pss_Dirty:                          2048 kB",
        "Shared_Dirty:                       4096 kB",
        "Referenced:                         2048 kB",
        "Anonymous:                          4096 kB",
        "AnonHugePages:                      4096 kB",
        "anon-thp-pmd-aligned-2048kB:        4096 kB (100%)",
        "",
      ].join("\n"),
    );
    const smapsNames = thpmaps(k, mm, { incSmaps: true }).vmas[0]!.stats.slice(0, 20).map((s) => [s.name, s.type]);
    expect(smapsNames.map(([n]) => n)).toEqual([
      "Size", "Rss", "Pss", "Pss_Dirty", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty", "Referenced", "Anonymous",
      "KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked",
    ]);
    expect(smapsNames.every(([, type]) => type === null)).toBe(true);
  });

  it("reads the inode column back as hex and drops names with spaces, as the script's smaps parser does", () => {
    const k = kernel();
    const mm = k.createMm();
    const f = k.createFile("my file", 2 * MiB);
    for (let i = 0; i < 11; i++) k.createFile(`f${i}`, 4096);
    const g = k.createFile("/lib/data", 64 * KiB);
    const a = mapOk(k, mm, { len: 64 * KiB, prot: PROT_READ, flags: MAP_PRIVATE, file: f });
    const b = mapOk(k, mm, { len: 64 * KiB, prot: PROT_READ, flags: MAP_PRIVATE, file: g });
    k.touch(mm, a, 64 * KiB, false);
    expect(g.id).toBe(13);
    const t = thpmaps(k, mm);
    const byStart = new Map(t.vmas.map((v) => [v.start, v]));
    expect(byStart.get(a)).toMatchObject({ inode: 1, object: "" });
    expect(byStart.get(b)).toMatchObject({ inode: 0x13, object: "/lib/data" });
    expect(formatThpmaps(t)).toContain(`${b.toString(16).padStart(16, "0")}-${(b + 64 * KiB).toString(16).padStart(16, "0")} r--p 00000000 00:00 00000013 /lib/data\n`);
  });
});

describe("thpmaps: PUD THPs (model-only lines)", () => {
  it("gives PUD-mapped memory its own line, and PTE-mapped parts of a 1G folio the script's partial line", () => {
    const k = kernel(createX86_64Backend(), "4G");
    k.thp.set("hugepages-1048576kB/enabled", "always");
    const mm = k.createMm();
    const a = anon(k, mm, GiB);
    expect(a % GiB).toBe(0);
    k.touch(mm, a, 4096, true, 1);
    const t = thpmaps(k, mm, { cont: ["2M"] });
    expect(nonZero(t.vmas[0]!.stats)).toEqual([
      ["anon-thp-pud-aligned-1048576kB", GiB / KiB],
      ["anon-cont-pud-aligned-2048kB", GiB / KiB],
    ]);
    expect(k.munmap(mm, a + 2 * MiB, 2 * MiB).ok).toBe(true);
    expect(thpmaps(k, mm).vmas.map((v) => nonZero(v.stats))).toEqual([[["anon-thp-pte-partial", 2048]], [["anon-thp-pte-partial", GiB / KiB - 4096]]]);
  });
});

describe("thpmaps on other arches", () => {
  it("arm64 4K: a 64K mTHP is pte-aligned-64kB; arm64 64K: the orders run from 256kB to the 512M PMD size", () => {
    const k = kernel(createArm64Backend("4k-48"));
    const mm = k.createMm();
    const a = mthps(k, mm);
    expect(formatThpmaps(thpmaps(k, mm, { cont: ["64K"] }))).toBe(`${HEADER}${vmaLine(1, a, a + 256 * KiB, "rw-p")}anon-thp-pte-aligned-64kB:           256 kB (100%)\nanon-cont-pte-aligned-64kB:          256 kB (100%)\n`);

    const k64 = kernel(createArm64Backend("64k-48"), "2G");
    mthpOnly(k64, "2048kB");
    const mm64 = k64.createMm();
    const b = anon(k64, mm64, 4 * MiB);
    k64.touch(mm64, b, 4 * MiB, true, 1);
    const t = thpmaps(k64, mm64, { incEmpty: true });
    expect(t.vmas[0]!.stats.slice(0, 14).map((s) => s.name)).toEqual([
      "anon-thp-pmd-aligned-524288kB",
      "file-thp-pmd-aligned-524288kB",
      ...[256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288].map((s) => `anon-thp-pte-aligned-${s}kB`),
    ]);
    expect(nonZero(t.vmas[0]!.stats)).toEqual([["anon-thp-pte-aligned-2048kB", 4096]]);
  });

  it("refuses an arch without THP: ppc8xx has no hpage_pmd_size", () => {
    const k = kernel(createPpc8xxBackend("4k"), "64M");
    expect(() => thpmaps(k, k.createMm())).toThrow(
      'invalid arch "ppc8xx:4k": expected an arch with transparent hugepages (thpmaps reads /sys/kernel/mm/transparent_hugepage/hpage_pmd_size)',
    );
  });
});

describe("thpmaps bad input", () => {
  it("checks --cont sizes as the script's size2order does", () => {
    const k = kernel();
    expect(contOrder(k, "64K")).toBe(4);
    expect(contOrder(k, "2m")).toBe(9);
    expect(contOrder(k, 8192)).toBe(1);
    expect(() => contOrder(k, "64KB")).toThrow('invalid --cont size "64KB": expected an integer size with optional KMG unit');
    expect(() => contOrder(k, "4K")).toThrow('invalid --cont size "4K": expected a size of at least 2 pages (8192 bytes)');
    expect(() => contOrder(k, "48K")).toThrow('invalid --cont size "48K": expected a power-of-2 number of 4096-byte pages');
    expect(() => contOrder(k, "4M")).toThrow('invalid --cont size "4M": expected a size less than or equal to the PMD size (2097152 bytes)');
    expect(() => contOrder(k, 1.5)).toThrow("invalid --cont size 1.5: expected an integer size with optional KMG unit");
    expect(() => thpmaps(k, k.createMm(), { cont: ["0"] })).toThrow('invalid --cont size "0": expected a size of at least 2 pages (8192 bytes)');
  });

  it("refuses a process that has exited", () => {
    const k = kernel();
    const mm = k.createMm();
    k.exit(mm);
    expect(() => thpmaps(k, mm)).toThrow("invalid process 1: expected a live process of this kernel");
  });
});

/**
 * The script's own algorithm, literally: arrays of present THP pages, ranges
 * where both vfn and pfn step by one, heads, the kpageflags tail test after
 * each range, then the smaps subtractions. Non-zero statistics per VMA.
 */
function scriptOracle(k: Kernel, mm: Mm, contOrders: readonly number[]): [string, number][][] {
  const ps = k.pageSize;
  const f = k.folios;
  const pmd = k.thp.pmdOrder;
  const isTail = (pfn: number) => f.isAllocated(pfn) && f.head(pfn) !== pfn && f.order(f.head(pfn)) > 0;
  return smaps(k, mm).entries.map((e) => {
    if (e.perms.startsWith("---") || Math.floor(e.stats.resident / 1024) === 0) return [];
    const vfns: number[] = [];
    const pfns: number[] = [];
    for (let va = e.start; va < e.end; va += ps) {
      const m = mappedAt(k, mm, va);
      if (typeof m === "string") continue;
      if (f.order(f.head(m.pfn)) === 0) continue;
      vfns.push(va / ps);
      pfns.push(m.pfn);
    }
    const anon = (i: number) => f.test(f.head(pfns[i]!), PG_anon);
    const head = (i: number) => f.head(pfns[i]!) === pfns[i];
    const ranges: [number, number][] = [];
    for (let i = 0; i < vfns.length; i++) {
      if (i > 0 && vfns[i]! - vfns[i - 1]! === 1 && pfns[i]! - pfns[i - 1]! === 1) ranges[ranges.length - 1]![1] = i + 1;
      else ranges.push([i, i + 1]);
    }
    const partial = [0, 0];
    const aligned = [new Map<number, number>(), new Map<number, number>()];
    const unaligned = [new Map<number, number>(), new Map<number, number>()];
    const add = (m: Map<number, number>, o: number, n: number) => m.set(o, (m.get(o) ?? 0) + n);
    for (const [start, end0] of ranges) {
      let end = end0;
      let folios: number[] = [];
      for (let i = start; i < end; i++) if (head(i)) folios.push(i);
      partial[anon(start) ? 0 : 1]! += (folios.length > 0 ? folios[0]! : end) - start;
      if (folios.length > 0 && isTail(pfns[end - 1]! + 1)) {
        const nr = end - folios[folios.length - 1]!;
        folios = folios.slice(0, -1);
        end -= nr;
        partial[anon(end - 1 + nr) ? 0 : 1]! += nr;
      }
      folios.forEach((idx, j) => {
        const nr = (j + 1 < folios.length ? folios[j + 1]! : end) - idx;
        const order = Math.floor(Math.log2(nr));
        add(vfns[idx]! % 2 ** order === 0 ? aligned[anon(idx) ? 0 : 1]! : unaligned[anon(idx) ? 0 : 1]!, order, 2 ** order);
      });
    }
    const kb = (b: number) => Math.floor(b / 1024);
    const anonPmd = kb(e.stats.anonymousThp);
    const filePmd = kb(e.stats.shmemThp) + kb(e.stats.fileThp);
    aligned[0]!.set(pmd, Math.max(0, (aligned[0]!.get(pmd) ?? 0) - (anonPmd * 1024) / ps));
    aligned[1]!.set(pmd, Math.max(0, (aligned[1]!.get(pmd) ?? 0) - (filePmd * 1024) / ps));
    const out: [string, number][] = [];
    const push = (name: string, v: number) => v !== 0 && out.push([name, v]);
    const odkb = (o: number) => (ps * 2 ** o) / 1024;
    push(`anon-thp-pmd-aligned-${odkb(pmd)}kB`, anonPmd);
    push(`file-thp-pmd-aligned-${odkb(pmd)}kB`, filePmd);
    for (const t of [0, 1]) {
      const type = t === 0 ? "anon" : "file";
      for (const [sub, m] of [["aligned", aligned[t]!], ["unaligned", unaligned[t]!]] as const) for (let o = 2; o <= pmd; o++) push(`${type}-thp-pte-${sub}-${odkb(o)}kB`, ((m.get(o) ?? 0) * ps) / 1024);
      push(`${type}-thp-pte-partial`, (partial[t]! * ps) / 1024);
    }
    for (const c of contOrders) {
      const nc = 2 ** c;
      let nrAnon = 0;
      let nrFile = 0;
      for (const [start, end] of ranges) {
        if (pfns[start]! % nc !== vfns[start]! % nc) continue;
        let i = start + ((nc - (vfns[start]! % nc)) % nc);
        for (; i + nc <= end; i += nc) {
          let boundary = false;
          for (let j = i + 1; j < i + nc; j++) boundary ||= head(j);
          if (!boundary) {
            if (anon(i)) nrAnon += nc;
            else nrFile += nc;
          }
        }
      }
      const size = (nc * ps) / 1024;
      push(`anon-cont-pmd-aligned-${size}kB`, anonPmd);
      push(`file-cont-pmd-aligned-${size}kB`, filePmd);
      push(`anon-cont-pte-aligned-${size}kB`, (Math.max(0, nrAnon - (anonPmd * 1024) / ps) * ps) / 1024);
      push(`file-cont-pte-aligned-${size}kB`, (Math.max(0, nrFile - (filePmd * 1024) / ps) * ps) / 1024);
    }
    return out;
  });
}

describe("thpmaps against the script's algorithm", () => {
  it("agrees after random faults, splits, partial unmaps and moves of mTHPs and THPs", () => {
    // Offsets and lengths in pages; moves take whole 64K-aligned runs to page-aligned places.
    const op = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant("touch" as const), at: fc.nat(1023), n: fc.integer({ min: 1, max: 512 }), write: fc.boolean() }), weight: 3 },
      fc.record({ kind: fc.constant("mprotect" as const), at: fc.nat(1023), n: fc.integer({ min: 1, max: 64 }), prot: fc.constantFrom(PROT_NONE, PROT_READ, RW) }),
      fc.record({ kind: fc.constant("munmap" as const), at: fc.nat(1023), n: fc.integer({ min: 1, max: 16 }) }),
      { arbitrary: fc.record({ kind: fc.constant("mremap" as const), at: fc.nat(63).map((x) => x * 16), n: fc.integer({ min: 1, max: 8 }).map((x) => x * 16), to: fc.nat(4095) }), weight: 2 },
      fc.record({ kind: fc.constant("dontneed" as const), at: fc.nat(1023), n: fc.integer({ min: 1, max: 16 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 10 }), fc.subarray(["16kB", "32kB", "64kB", "128kB"]), fc.nat(3), fc.boolean(), (ops, sizes, first, pmdOff) => {
        const k = kernel();
        for (const s of sizes) k.thp.set(`hugepages-${s}/enabled`, "always");
        if (pmdOff) k.thp.set("enabled", "never");
        const mm = k.createMm();
        const a = anon(k, mm, 4 * MiB);
        // Start from PMD THPs, the huge zero folio, or nothing.
        if (first < 2) k.touch(mm, a, 4 * MiB, first === 0, 5);
        const ps = k.pageSize;
        const target = 0x1000_0000;
        for (const o of ops) {
          const start = a + o.at * ps;
          const len = Math.min(o.n * ps, a + 4 * MiB - start);
          if (o.kind === "touch") k.touch(mm, start, len, o.write, 5);
          else if (o.kind === "mprotect") k.mprotect(mm, start, len, o.prot);
          else if (o.kind === "munmap") k.munmap(mm, start, len);
          else if (o.kind === "dontneed") k.madvise(mm, start, len, MADV.DONTNEED);
          else k.mremap(mm, start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, target + o.to * ps);
        }
        const cont = [1, 2, 4, 9];
        const t = thpmaps(k, mm, { cont: cont.map((c) => 2 ** c * ps) });
        expect(t.vmas.map((v) => nonZero(v.stats))).toEqual(scriptOracle(k, mm, cont));
      }),
      { seed: 5, numRuns: 60 },
    );
  });
});
