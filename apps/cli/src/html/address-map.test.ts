import { createArm64Backend } from "@hugemm/arch-arm64";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_PRIVATE, PROT_READ, PROT_WRITE, type Mm } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { mapProcess, mapVma, parseMapKey, vmaPerms } from "./address-map";
import type { MapRun } from "./model";
import { AT, buildFixture } from "./testing/fixture";

const KiB = 1024;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const RW = PROT_READ | PROT_WRITE;
const ANON_FIXED = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;

/** Runs as [start, size, kind, order, folios] rows, the way the tests state layouts. */
function rows(runs: readonly MapRun[]): [number, number, string, number, number][] {
  return runs.map((r) => [r.start, r.size, r.kind, r.order, r.folios]);
}

function mapAt(k: Kernel, mm: Mm, addr: number, len: number, flags = ANON_FIXED): void {
  const r = k.mmap(mm, { addr, len, prot: RW, flags });
  if (!r.ok) throw new Error(`mmap: ${r.errno} ${r.reason}`);
}

describe("address-space map", () => {
  it("shows base pages, 64K mTHP, a PMD THP, a split THP and swap entries exactly (x86-64)", () => {
    const f = buildFixture();
    const p = mapProcess(f.kernel, 1, f.parent, 1024);
    expect(p).toMatchObject({ pid: 1, exited: false, pgtablePages: 9 });
    expect(p.vmas.map((v) => [v.start, v.end, v.perms, v.cellBytes])).toEqual([
      [AT.base, AT.base + 16 * KiB, "rw-p", 0],
      [AT.mthp, AT.mthp + MiB, "rw-p", 0],
      [AT.thp, AT.thp + 4 * MiB, "rw-p", 0],
      [AT.swapped, AT.swapped + 32 * KiB, "rw-p", 0],
    ]);
    expect(p.vmas.flatMap((v) => rows(v.runs))).toEqual([
      [AT.base, 16 * KiB, "pte", 0, 4],
      [AT.mthp, 256 * KiB, "mthp", 4, 4],
      [AT.mthp + 256 * KiB, 768 * KiB, "none", -1, 0],
      [AT.thp, 2 * MiB, "pmd", 9, 1],
      [AT.thp + 2 * MiB, 2 * MiB, "pte", 0, 512],
      [AT.swapped, 32 * KiB, "swap", -1, 0],
    ]);
  });

  it("shows the child's COW copy of one page out of a shared 64K folio (x86-64)", () => {
    const f = buildFixture();
    const c = mapProcess(f.kernel, 2, f.child, 1024);
    expect(rows(c.vmas[1]!.runs)).toEqual([
      [AT.mthp, 4 * KiB, "pte", 0, 1],
      [AT.mthp + 4 * KiB, 252 * KiB, "mthp", 4, 4],
      [AT.mthp + 256 * KiB, 768 * KiB, "none", -1, 0],
    ]);
  });

  it("shows arm64 contpte runs, and the run a COW write unfolds", () => {
    const f = buildFixture(createArm64Backend("4k-48"));
    const p = mapProcess(f.kernel, 1, f.parent, 1024);
    expect(rows(p.vmas[1]!.runs)).toEqual([
      [AT.mthp, 256 * KiB, "cont", 4, 4],
      [AT.mthp + 256 * KiB, 768 * KiB, "none", -1, 0],
    ]);
    const c = mapProcess(f.kernel, 2, f.child, 1024);
    expect(rows(c.vmas[1]!.runs)).toEqual([
      [AT.mthp, 4 * KiB, "pte", 0, 1],
      [AT.mthp + 4 * KiB, 60 * KiB, "mthp", 4, 1],
      [AT.mthp + 64 * KiB, 192 * KiB, "cont", 4, 3],
      [AT.mthp + 256 * KiB, 768 * KiB, "none", -1, 0],
    ]);
  });

  it("shows a PUD THP as one run of one folio", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "4G", check: true });
    k.thp.set("hugepages-1048576kB/enabled", "always");
    const mm = k.createMm();
    mapAt(k, mm, 4 * GiB, GiB);
    k.touch(mm, 4 * GiB + 5 * MiB, 4 * KiB, true, 1);
    expect(rows(mapVma(k, mm, mm.vmas.all()[0]!, 1024).runs)).toEqual([[4 * GiB, GiB, "pud", 18, 1]]);
    k.exit(mm);
  });

  it("shows the zero page and the huge zero folio that read faults map", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    k.thp.set("enabled", "always");
    const mm = k.createMm();
    mapAt(k, mm, 0x40000000, 4 * MiB);
    k.touch(mm, 0x40000000, 4 * KiB, false);
    expect(k.madvise(mm, 0x40200000, 2 * MiB, MADV.NOHUGEPAGE).ok).toBe(true);
    k.touch(mm, 0x40200000, 8 * KiB, false);
    const p = mapProcess(k, 1, mm, 1024);
    expect(p.vmas.flatMap((v) => rows(v.runs))).toEqual([
      [0x40000000, 2 * MiB, "huge-zero", 9, 1],
      [0x40200000, 8 * KiB, "zero", 0, 1],
      [0x40202000, 2 * MiB - 8 * KiB, "none", -1, 0],
    ]);
    k.exit(mm);
  });

  it("shows migration entries while a migration is held, with the folio's order", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", nodes: 2, check: true });
    const mm = k.createMm();
    mapAt(k, mm, 0x10000000, 64 * KiB);
    k.touch(mm, 0x10000000, 64 * KiB, true, 3);
    const job = k.migrateRange(mm, 0x10000000, 16 * KiB, 1, true);
    expect(rows(mapVma(k, mm, mm.vmas.all()[0]!, 1024).runs)).toEqual([
      [0x10000000, 16 * KiB, "migration", 0, 4],
      [0x10004000, 48 * KiB, "pte", 0, 12],
    ]);
    k.finishMigration(job);
    expect(rows(mapVma(k, mm, mm.vmas.all()[0]!, 1024).runs)).toEqual([[0x10000000, 64 * KiB, "pte", 0, 16]]);
    k.exit(mm);
  });

  it("skips a missing table's whole span, so a huge sparse VMA is a few runs", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    const mm = k.createMm();
    const start = 2 ** 40;
    mapAt(k, mm, start, 64 * GiB, ANON_FIXED | MAP_NORESERVE);
    k.touch(mm, start + 40 * GiB, 4 * KiB, true, 1);
    const t0 = performance.now();
    const v = mapVma(k, mm, mm.vmas.all()[0]!, 1024);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(rows(v.runs)).toEqual([
      [start, 40 * GiB, "none", -1, 0],
      [start + 40 * GiB, 2 * MiB, "pmd", 9, 1],
      [start + 40 * GiB + 2 * MiB, 24 * GiB - 2 * MiB, "none", -1, 0],
    ]);
    expect(v.cellBytes).toBe(0);
    k.exit(mm);
  });

  it("folds a fragmented VMA into cells with what each holds when it has too many runs", () => {
    const k = new Kernel({ backend: createX86_64Backend(), memory: "1G", check: true });
    const mm = k.createMm();
    mapAt(k, mm, 0x10000000, MiB);
    for (let a = 0x10000000; a < 0x10000000 + MiB; a += 8 * KiB) k.touch(mm, a, 4 * KiB, true, 1);
    const v = mapVma(k, mm, mm.vmas.all()[0]!, 16);
    expect(v.cellBytes).toBe(64 * KiB);
    expect(v.runs.length).toBe(16);
    expect(v.runs[3]).toEqual({
      start: 0x10000000 + 3 * 64 * KiB,
      size: 64 * KiB,
      // What is mapped shows, however little: the mix says how much.
      kind: "pte",
      order: 0,
      folios: 8,
      mix: [
        ["none:-1", 32 * KiB],
        ["pte:0", 32 * KiB],
      ],
    });
    // Exact when the limit allows: 256 alternating runs.
    expect(mapVma(k, mm, mm.vmas.all()[0]!, 256).runs.length).toBe(256);
    k.exit(mm);
  });

  it("reports an exited process with no VMAs", () => {
    const f = buildFixture();
    f.kernel.exit(f.child);
    expect(mapProcess(f.kernel, 2, f.child, 1024)).toEqual({ pid: 2, exited: true, vmas: [], pgtablePages: 0, rssPages: 0 });
  });

  it("names keys and permissions as the kernel prints them", () => {
    expect(parseMapKey("huge-zero:9")).toEqual({ kind: "huge-zero", order: 9 });
    expect(parseMapKey("none:-1")).toEqual({ kind: "none", order: -1 });
    expect(vmaPerms(0x1 | 0x2 | 0x80)).toBe("rw-s");
    expect(vmaPerms(0x1 | 0x4)).toBe("r-xp");
  });
});
