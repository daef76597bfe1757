import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../cli/errors";
import { cli, tempDir, tempScenario, testdata } from "../testing/cli";

const THP = testdata("thp.yaml");

describe("hugemm run", () => {
  it("prints each step, each expect with the value found, and the verdict", () => {
    const r = cli(["run", THP]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.err).toBe("");
    expect(r.out).toContain("cli-thp on x86-64:4level, seed 1");
    expect(r.out).toContain("   1     9  write       ok       1024 pages, 2 faults");
    expect(r.out).toContain("  PASS  line 19  { counter: thp_split_pmd, equals: 1 }  thp_split_pmd is 1");
    expect(r.out).toMatch(/10 of 10 steps run, 0 with errors; 6 expects: 6 passed, 0 failed — PASSED\n$/);
  });

  it("exits 1 when an expect fails, printing the clause and the actual value", () => {
    const r = cli(["run", THP, "--set", "transparent_hugepage/enabled=never"]);
    expect(r.code).toBe(EXIT_FAILED);
    expect(r.out).toContain("  FAIL  line 17  { counter: thp_fault_alloc, equals: 2 }  thp_fault_alloc is 0, expected = 2");
    expect(r.out).toContain("  FAIL  line 21  { mapped: { pid: 1, at: buf, level: pmd } }");
    expect(r.out).toMatch(/FAILED\n$/);
  });

  it("runs on another arch, with another seed, and as JSON", () => {
    const r = cli(["run", THP, "--arch", "arm64:4k", "--seed", "9", "--json"]);
    expect(r.code).toBe(EXIT_OK);
    const j = JSON.parse(r.out) as { archId: string; seed: number; passed: boolean; checkpoints: { name: string; counters: Record<string, number> }[] };
    expect([j.archId, j.seed, j.passed]).toEqual(["arm64:4k-48", 9, true]);
    expect(j.checkpoints.map((c) => c.name)).toEqual(["start", "populated", "forked", "end"]);
    expect(j.checkpoints[1]!.counters.thp_fault_alloc).toBe(2);
  });

  it("stops at a checkpoint with --at", () => {
    const r = cli(["run", THP, "--at", "populated", "--json"]);
    const j = JSON.parse(r.out) as { stoppedAt: string; steps: unknown[] };
    expect(j.stoppedAt).toBe("populated");
    expect(j.steps).toHaveLength(5);
  });

  it("writes the HTML report with --html and says where", () => {
    const file = join(tempDir(), "r.html");
    const r = cli(["run", THP, "--html", file]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.err).toMatch(/^hugemm: wrote .*r\.html \(\d+ KiB\)\n$/);
    const html = readFileSync(file, "utf8");
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain("cli-thp");
    expect(cli(["run", THP, "--html", file, "--quiet"]).err).toBe("");
  });

  it("runs a shipped scenario by its name", () => {
    const r = cli(["run", "pmd-thp"]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out.startsWith("pmd-thp on x86-64:4level, seed 1")).toBe(true);
    expect(cli(["run", "no-such-one"]).err).toMatch(/^hugemm: run: no scenario "no-such-one": expected a path to a \.yaml or \.json file, or a shipped scenario: base-pages, .*, compare-arches, .*, tour\n$/);
  });

});

describe("hugemm run: bad input is exit 2 with the file, line and field", () => {
  const bad = (text: string) => {
    const p = tempScenario(text, "bad.yaml");
    const r = cli(["run", p]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.out).toBe("");
    return r.err.replace(p, "bad.yaml");
  };

  it("malformed YAML", () => {
    expect(bad("name: x\nsteps:\n  - mmap: { pid: 1\n  - read: {}\n")).toBe("hugemm: bad.yaml:4:3: malformed YAML: Flow map in block collection must be sufficiently indented and end with a }\n");
  });
  it("an unknown field", () => {
    expect(bad("name: x\nsteps:\n  - mmap: { pid: 1, lenn: 8M, prot: rw, flags: private|anonymous }\n")).toBe(
      'hugemm: bad.yaml:3:21: steps[0].mmap.lenn: unknown field "lenn": expected one of pid, as, addr, len, prot, flags, file, offset\n',
    );
  });
  it("an unknown arch, in the file or on the command line", () => {
    expect(bad("name: x\nmachine: { arch: sparc }\nsteps: []\n")).toBe('hugemm: bad.yaml:2:18: machine.arch: unknown arch "sparc": expected one of x86-64, arm64, ppc8xx, optionally with ":variant"\n');
    const r = cli(["run", THP, "--arch", "arm64:8k"]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toMatch(/^hugemm: --arch: unknown arm64 variant "8k": expected one of 4k-39, 4k-48/);
  });
  it("a misaligned mmap length", () => {
    expect(bad("name: x\nsteps:\n  - mmap: { pid: 1, len: 5000, prot: rw, flags: private|anonymous }\n")).toBe(
      "hugemm: bad.yaml:3:26: steps[0].mmap.len: expected a length in whole 4K pages, got 5000: the kernel rounds a length up to the page size, so write 8192 (8K) if that is what you mean\n",
    );
  });
  it("an expect on a counter that does not exist", () => {
    expect(bad("name: x\nsteps:\n  - expect:\n      - counter: thp_fault_allocs\n        equals: 1\n")).toBe(
      'hugemm: bad.yaml:4:18: steps[0].expect[0].counter: unknown counter "thp_fault_allocs": expected a vm event or node stat (pgfault, nr_anon_pages), meminfo.<Field>, hugepages-<size>kB.<stat>, model.<event>, pid<N>.rss_anon|rss_file|rss_shmem|swapents or tlb.flushes; did you mean thp_fault_alloc, thp_fault_fallback or thp_file_alloc?\n',
    );
  });
  it("a file that is not there, a bad --set, a bad --seed, an unknown checkpoint", () => {
    expect(cli(["run", "/nonexistent/x.yaml"]).err).toMatch(/^hugemm: run: no scenario "\/nonexistent\/x\.yaml": expected a path to a \.yaml or \.json file/);
    expect(cli(["run", THP, "--set", "enabled"]).err).toBe('hugemm: run: --set "enabled": expected key=value, such as transparent_hugepage/enabled=madvise\n');
    expect(cli(["run", THP, "--set", "transparent_hugepage/enabled=sometimes"]).err).toBe(
      'hugemm: --set: transparent_hugepage/enabled: invalid transparent_hugepage/enabled "sometimes": expected one of always, madvise, never\n',
    );
    expect(cli(["run", THP, "--seed", "x"]).err).toBe('hugemm: run: --seed "x": expected a whole number from 0 to 4294967295\n');
    expect(cli(["run", THP, "--at", "nope"]).err).toBe('hugemm: --at: no checkpoint "nope" in ' + THP + ": expected one of populated, forked\n");
  });
});
