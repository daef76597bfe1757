import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../cli/errors";
import { cli, tempDir, tempScenario, testdata } from "../testing/cli";
import type { CompareColumn } from "./compare";

const THP = testdata("thp.yaml");

describe("hugemm compare", () => {
  it("puts the arches side by side: table pages, memory by TLB entry size, TLB entries, counters", () => {
    const r = cli(["compare", THP, "--at", "forked"]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toBe(
      [
        `cli-thp: ${THP}, seed 1, at checkpoint "forked"`,
        "                         x86-64:4level  arm64:4k-48  arm64:64k-48  ppc8xx:4k",
        "expects                       0/0 pass     0/0 pass      0/0 pass   0/0 pass",
        "page-table pages                    12           12             6          6",
        "mapped by 4K entries             2560K          64K             -      8704K",
        "mapped by 64K entries                -        2496K         8704K          -",
        "mapped by 2M entries                6M           6M             -          -",
        "TLB entries to cover it            643           58           136       2176",
        "pgfault                              7            7            69       1089",
        "thp_fault_alloc                      2            2             0          0",
        "thp_fault_fallback                   0            0             0          0",
        "thp_split_pmd                        1            1             0          0",
        "meminfo.AnonHugePages             4096         4096             0        n/a",
        "meminfo.PageTables                  48           48           384         24",
        "",
      ].join("\n"),
    );
    // Sizes an arch lacks are skipped there with a note; the 8xx has no THP settings at all.
    expect(r.err).toContain('hugemm: arm64:64k: setting transparent_hugepage/hugepages-64kB/enabled skipped: invalid transparent_hugepage directory "hugepages-64kB"');
    expect(r.err).toContain("hugemm: ppc8xx:4k: setting transparent_hugepage/enabled skipped: invalid transparent_hugepage/enabled");
  });

  it("agrees with the HTML report's numbers, and prints JSON", () => {
    const file = join(tempDir(), "c.html");
    const r = cli(["compare", THP, "--at", "forked", "--arch", "x86-64,arm64:4k", "--counter", "nr_anon_pages", "--json", "--html", file, "-q"]);
    expect(r.code).toBe(EXIT_OK);
    const j = JSON.parse(r.out) as { columns: CompareColumn[] };
    expect(j.columns.map((c) => [c.arch, c.tlbEntries, c.tablePages, c.counters])).toEqual([
      ["x86-64:4level", 643, 12, { nr_anon_pages: 1089 }],
      ["arm64:4k-48", 58, 12, { nr_anon_pages: 1089 }],
    ]);
    const html = readFileSync(file, "utf8");
    expect(html).toContain("x86-64:4level");
    expect(html).toContain("arm64:4k-48");
  });

  it("exits 1 when the scenario fails on any arch", () => {
    // The expects hold on x86-64 only: the 8xx has no THP.
    const r = cli(["compare", THP, "--arch", "x86-64,ppc8xx", "-q"]);
    expect(r.code).toBe(EXIT_FAILED);
    expect(r.out).toMatch(/expects +6\/6 pass +3\/6 pass/);
  });

  it("refuses one arch, an unknown counter and a setting no arch takes", () => {
    expect(cli(["compare", THP, "--arch", "x86-64"]).err).toBe("hugemm: compare: --arch x86-64: expected at least two arches to compare (use hugemm run for one)\n");
    const c = cli(["compare", THP, "--arch", "x86-64,arm64", "--counter", "thp_fault_allocs", "-q"]);
    expect([c.code, c.err]).toEqual([EXIT_USAGE, "hugemm: compare: --counter thp_fault_allocs: no such counter on any of the arches (see the names hugemm run --json prints)\n"]);
    const p = tempScenario("name: x\nsettings:\n  transparent_hugepage/hugepages-3kB/enabled: always\nsteps: []\n");
    const s = cli(["compare", p, "--arch", "x86-64,arm64"]);
    expect(s.code).toBe(EXIT_USAGE);
    expect(s.err).toContain('3:47: settings.transparent_hugepage/hugepages-3kB/enabled: invalid transparent_hugepage directory "hugepages-3kB"');
    expect(cli(["compare", THP, "--arch", "x86-64,sparc"]).err).toBe('hugemm: --arch: unknown arch "sparc": expected one of x86-64, arm64, ppc8xx, optionally with ":variant"\n');
  });
});
