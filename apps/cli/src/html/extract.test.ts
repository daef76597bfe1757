import type { ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MAP_ANONYMOUS, MAP_PRIVATE, NS, PROT_READ, PROT_WRITE } from "@hugemm/core";
import { describe, expect, it } from "vitest";
import { HtmlReportError, htmlReportFromRuns, valueText, type RunLike } from "./extract";
import { buildFixture } from "./testing/fixture";

/** A run with no processes: enough for the report's own checks. */
function emptyRun(over: Partial<RunLike> = {}): RunLike {
  return {
    archId: "x86-64:4level",
    seed: 1,
    scenarioName: "empty",
    kernel: new Kernel({ backend: createX86_64Backend(), memory: "64M", check: true }),
    processes: new Map(),
    checkpoints: [{ name: "start", counters: { pgfault: 0, nr_free_pages: 16381 } }],
    expects: [],
    ...over,
  };
}

describe("htmlReportFromRuns", () => {
  it("makes one column for a run, charting THP and fault counters by default", () => {
    const r = htmlReportFromRuns([buildFixture()]);
    expect(r).toMatchObject({ title: "hugemm run: fixture", scenarioName: "fixture", mode: "run" });
    expect(r.defaultCounters).toEqual(["thp_fault_alloc", "thp_fault_fallback", "pgfault", "thp_split_pmd"]);
    const c = r.columns[0]!;
    expect(c).toMatchObject({ archId: "x86-64:4level", archDescription: "x86-64, 4-level paging, 48-bit VA", seed: 7, maxOrder: 10 });
    expect(c.processes.map((p) => [p.pid, p.vmas.length])).toEqual([
      [1, 4],
      [2, 4],
    ]);
    expect(c.checkpoints.map((cp) => [cp.name, cp.counters["thp_fault_alloc"], cp.counters["thp_split_page"]])).toEqual([
      ["faulted", 2, 0],
      ["forked", 2, 0],
      ["split", 2, 1],
    ]);
    expect(c.expects).toEqual([
      { clause: "thp_fault_alloc == 2", pass: true, expected: "2", actual: "2" },
      { clause: "mapped_at(0x40000000) == pmd", pass: true, expected: "pmd", actual: "pmd" },
      { clause: 'counter("thp_split_page") > 5', pass: false, expected: "> 5", actual: "1" },
    ]);
    expect(c.phys.map((s) => s.zone)).toEqual(["Normal"]);
  });

  it("makes one column per arch in compare mode", () => {
    const r = htmlReportFromRuns([buildFixture(), buildFixture(createArm64Backend("4k-48"))]);
    expect(r.mode).toBe("compare");
    expect(r.title).toBe("hugemm compare: fixture");
    expect(r.columns.map((c) => [c.archId, c.sizes.cont])).toEqual([
      ["x86-64:4level", 4096],
      ["arm64:4k-48", 65536],
    ]);
  });

  it("takes the title, mode and counters it is given", () => {
    const r = htmlReportFromRuns([emptyRun()], { title: "mine", mode: "compare", counters: ["nr_free_pages"] });
    expect(r).toMatchObject({ title: "mine", mode: "compare", defaultCounters: ["nr_free_pages"] });
  });

  it("falls back to the first counters when none of the usual ones exist, and to none without counters", () => {
    expect(htmlReportFromRuns([emptyRun()]).defaultCounters).toEqual(["pgfault"]);
    const unusual = [{ name: "a", counters: { pswpin: 0, nr_zspages: 0, pgmajfault: 1, nr_free_pages: 5 } }];
    expect(htmlReportFromRuns([emptyRun({ checkpoints: unusual })]).defaultCounters).toEqual(["nr_free_pages", "nr_zspages", "pgmajfault"]);
    expect(htmlReportFromRuns([emptyRun({ checkpoints: [] })]).defaultCounters).toEqual([]);
  });

  it("refuses no runs, runs of different scenarios, unknown counters and bad limits, saying what it expected", () => {
    expect(() => htmlReportFromRuns([])).toThrow(new HtmlReportError("no runs to report: expected at least one finished run"));
    expect(() => htmlReportFromRuns([emptyRun(), emptyRun({ scenarioName: "other" })])).toThrow("runs of different scenarios (empty, other): expected runs of one scenario");
    expect(() => htmlReportFromRuns([emptyRun()], { counters: ["thp_fault_alloc"] })).toThrow(
      'unknown counter "thp_fault_alloc" to chart: expected one of the checkpoint counters (nr_free_pages, pgfault)',
    );
    expect(() => htmlReportFromRuns([emptyRun({ checkpoints: [] })], { counters: ["pgfault"] })).toThrow('unknown counter "pgfault" to chart: the checkpoints have no counters');
    expect(() => htmlReportFromRuns([emptyRun()], { maxRunsPerVma: 0 })).toThrow("maxRunsPerVma 0: expected a positive integer");
    expect(() => htmlReportFromRuns([emptyRun()], { maxCellsPerZone: 2.5 })).toThrow("maxCellsPerZone 2.5: expected a positive integer");
  });
});

describe("every arch", () => {
  const arches: [string, () => ArchBackend, string][] = [
    ["x86-64:5level", () => createX86_64Backend("5level"), "1G"],
    ["arm64:16k-47", () => createArm64Backend("16k-47"), "1G"],
    ["arm64:64k-42", () => createArm64Backend("64k-42"), "2G"],
    ["ppc8xx:4k", () => createPpc8xxBackend("4k"), "256M"],
    ["ppc8xx:16k", () => createPpc8xxBackend("16k"), "256M"],
  ];
  it.each(arches)("maps a touched and forked address space on %s: runs cover each VMA, mapped runs the RSS", (id, make, memory) => {
    const k = new Kernel({ backend: make(), memory, check: true });
    const mm = k.createMm();
    const r = k.mmap(mm, { len: 8 * 2 ** 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
    if (!r.ok) throw new Error(r.reason);
    k.touch(mm, r.value, 3 * 2 ** 20, true, 1);
    const child = k.fork(mm)!;
    const report = htmlReportFromRuns([{ ...emptyRun(), archId: id, kernel: k, processes: new Map([[1, mm], [2, child]]) }]);
    const c = report.columns[0]!;
    expect(c.archId).toBe(id);
    for (const p of c.processes) {
      for (const v of p.vmas) expect(v.runs.reduce((n, run) => n + run.size, 0)).toBe(v.end - v.start);
      expect(p.vmas.flatMap((v) => v.runs).filter((run) => run.kind !== "none").reduce((n, run) => n + run.size, 0)).toBe(p.rssPages * c.sizes.page);
      expect(p.rssPages * c.sizes.page).toBeGreaterThanOrEqual(3 * 2 ** 20);
    }
    const tables = c.phys.flatMap((s) => s.cells).filter((cell) => cell.kind === "pagetable").reduce((n, cell) => n + cell.pages, 0);
    expect(tables).toBe(k.phys.nodeStats(0)[NS.nr_page_table_pages]);
    expect(c.summary.tlbEntries).toBeGreaterThan(0);
  });
});

describe("valueText", () => {
  it("shows strings as they are and everything else as JSON", () => {
    expect(valueText("pmd")).toBe("pmd");
    expect(valueText(3)).toBe("3");
    expect(valueText({ order: 9, count: [1, 2] })).toBe('{"order":9,"count":[1,2]}');
    expect(valueText(undefined)).toBe("undefined");
    expect(valueText(null)).toBe("null");
    expect(valueText(10n)).toBe("10");
    const loop: { self?: unknown } = {};
    loop.self = loop;
    expect(valueText(loop)).toBe("[object Object]");
  });
});
