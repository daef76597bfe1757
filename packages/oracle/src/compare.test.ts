import { describe, expect, it } from "vitest";
import { compareCheckpoint, compareSteps, DAMON_UNJUDGED, FORKED_SHOWN, JUDGED_GLOBALS, modelJudged, type FieldRow } from "./compare";
import type { CheckpointView, ProcView, SideRun } from "./views";

const vma = (over: Partial<Record<string, number>> = {}) => ({ start: 0, end: 2097152, perms: "rw-p", fields: { Size: 2048, Rss: 2048, AnonHugePages: 2048, ...over }, vmFlags: "rd,wr,mr,mw,me,ac" });

function proc(status: Record<string, number>, rollup: Record<string, number>, census = "po9m1x*512", vmas = [vma()]): ProcView {
  return { status, rollup, ranges: new Map([["buf", { len: 2097152, vmas, census }]]) };
}

function cp(name: string, procs: Map<number, ProcView>, judged: Record<string, number> = {}, vmstat: Record<string, number> = {}): CheckpointView {
  return { name, procs, vmstat, meminfo: {}, judged };
}

const side = (baselines: SideRun["baselines"] = new Map(), parents = new Map<number, number>()): SideRun => ({ checkpoints: [], steps: new Map(), baselines, parents });

const find = (rows: readonly FieldRow[], view: string, field: string, pid: number | null = 1) => rows.find((r) => r.view === view && r.field === field && r.pid === pid);

describe("the comparison rules", () => {
  const status = { RssAnon: 2048, RssFile: 0, RssShmem: 0, VmPTE: 12, HugetlbPages: 0 };
  const rollup = { Rss: 2048, Anonymous: 2048, AnonHugePages: 2048, Shared_Clean: 0 };

  it("judges status and rollup as the change from each side's baseline, a forked child from its parent's", () => {
    const kBase = new Map([[1, { status: { RssAnon: 200, RssFile: 900, VmPTE: 40 }, rollup: { Rss: 1100, Anonymous: 200, Shared_Clean: 880 } }]]);
    const kStatus = { RssAnon: 2248, RssFile: 1200, RssShmem: 0, VmPTE: 52, HugetlbPages: 0 };
    const kRollup = { Rss: 3448, Anonymous: 2248, AnonHugePages: 2048, Shared_Clean: 1000 };
    const m = cp("c", new Map([[1, proc(status, rollup)], [2, proc(status, rollup)]]));
    const k = cp("c", new Map([[1, proc(kStatus, kRollup)], [2, proc(kStatus, kRollup)]]));
    const rows = compareCheckpoint(m, k, undefined, undefined, side(), side(kBase, new Map([[2, 1]])));
    expect(find(rows, "status", "RssAnon", 1)).toMatchObject({ model: 2048, kernel: 2048, judged: true, equal: true });
    // A forked child's own executor pages vary by a page: its anonymous total is shown, its named ranges judged.
    expect(find(rows, "status", "RssAnon", 2)).toMatchObject({ model: 2048, kernel: 2048, judged: false, why: FORKED_SHOWN.RssAnon });
    for (const pid of [1, 2]) {
      expect(find(rows, "status", "VmPTE", pid)).toMatchObject({ model: 12, kernel: 12, judged: true, equal: true });
      // The executor's own code: shown with the reason, never judged.
      expect(find(rows, "status", "RssFile", pid)).toMatchObject({ model: 0, kernel: 300, judged: false });
      expect(find(rows, "rollup", "AnonHugePages", pid)).toMatchObject({ judged: true, equal: true });
      expect(find(rows, "rollup", "Shared_Clean", pid)).toMatchObject({ judged: false });
    }
  });

  it("judges every smaps field of a named range and its census exactly, with a summary when they differ", () => {
    const m = cp("c", new Map([[1, proc(status, rollup, "po9m1x*512")]]));
    const k = cp("c", new Map([[1, proc(status, rollup, "pm1x*512", [vma({ AnonHugePages: 0 }), { ...vma(), start: 2097152, end: 4194304 }])]]));
    const rows = compareCheckpoint(m, k, undefined, undefined, side(), side());
    expect(find(rows, "smaps buf", "VMAs")).toMatchObject({ model: 1, kernel: 2, equal: false, judged: true });
    expect(find(rows, "smaps buf", "[0] AnonHugePages")).toMatchObject({ model: 2048, kernel: 0, equal: false });
    expect(find(rows, "smaps buf", "[1] range")).toMatchObject({ model: "-", kernel: "2097152-4194304", equal: false });
    expect(find(rows, "census buf", "pages")).toMatchObject({ equal: false, judged: true });
    expect(find(rows, "census buf", "order-9")).toMatchObject({ model: 512, kernel: 0, judged: false });
  });

  it("shows Referenced, not judged, where a running DAMON monitor samples access bits", () => {
    const m = cp("c", new Map([[1, proc(status, rollup, "po9m1x*512", [vma({ Referenced: 0 })])]]));
    const k = cp("c", new Map([[1, proc(status, rollup, "po9m1x*512", [vma({ Referenced: 2048 })])]]));
    expect(find(compareCheckpoint(m, k, undefined, undefined, side(), side()), "smaps buf", "[0] Referenced")).toMatchObject({ judged: true, equal: false });
    expect(find(compareCheckpoint(m, k, undefined, undefined, side(), side(), undefined, DAMON_UNJUDGED), "smaps buf", "[0] Referenced")).toMatchObject({ judged: false, why: DAMON_UNJUDGED.Referenced });
  });

  it("judges only the listed global counters, and none over an interval with a machine-wide step", () => {
    const judged = Object.fromEntries(JUDGED_GLOBALS.map((k) => [k, 0]));
    const m = cp("c", new Map(), { ...judged, thp_split_pmd: 1 }, { pgfault: 10 });
    const k = cp("c", new Map(), { ...judged, thp_split_pmd: 1 }, { pgfault: 99999 });
    const rows = compareCheckpoint(m, k, cp("p", new Map(), {}, { pgfault: 5 }), cp("p", new Map(), {}, { pgfault: 90000 }), side(), side());
    expect(find(rows, "global", "thp_split_pmd", null)).toMatchObject({ judged: true, equal: true });
    expect(find(rows, "global", "pgfault", null)).toMatchObject({ model: 5, kernel: 9999, judged: false });
    const wide = compareCheckpoint(m, { ...k, judged: { ...judged, thp_split_pmd: 17 } }, undefined, undefined, side(), side(), "drop_caches");
    expect(find(wide, "global", "thp_split_pmd", null)).toMatchObject({ judged: false, equal: false, why: "drop_caches" });
  });

  it("compares step outcomes the kernel ran, leaving out unsupported steps and checkpoints", () => {
    const m: SideRun = { ...side(), steps: new Map([[0, { index: 0, outcome: "ok" }], [1, { index: 1, outcome: "ENOMEM" }], [2, { index: 2, outcome: "ok" }], [3, { index: 3, outcome: "ok" }]]) };
    const k: SideRun = { ...side(), steps: new Map([[-1, { index: -1, outcome: "ok" }], [0, { index: 0, outcome: "ok" }], [1, { index: 1, outcome: "ok" }], [2, { index: 2, outcome: "ok" }], [3, { index: 3, outcome: "unsupported" }]]) };
    const rows = compareSteps(m, k, ["mmap", "mprotect", "checkpoint", "pin"]);
    expect(rows.map((r) => [r.field, r.model, r.kernel, r.equal])).toEqual([
      ["0 mmap", "ok", "ok", true],
      ["1 mprotect", "ENOMEM", "ok", false],
    ]);
  });

  it("turns the model's counters at checkpoints into changes since the previous one", () => {
    const views = modelJudged([
      { name: "start", procs: new Map(), vmstat: { thp_fault_alloc: 3 }, meminfo: { HugePages_Total: 0 } },
      { name: "a", procs: new Map(), vmstat: { thp_fault_alloc: 5 }, meminfo: { HugePages_Total: 2 } },
    ]);
    expect(views[0]!.judged).toMatchObject({ thp_fault_alloc: 0, HugePages_Total: 0 });
    expect(views[1]!.judged).toMatchObject({ thp_fault_alloc: 2, HugePages_Total: 2 });
  });
});
