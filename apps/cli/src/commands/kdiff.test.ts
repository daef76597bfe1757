import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createX86_64Backend } from "@hugemm/arch-x86-64";
import { Kernel, MADV, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "@hugemm/core";
import { findCompiler, unavailableReason, probeMachine, type KdiffJson } from "@hugemm/oracle";
import { describe, expect, it } from "vitest";
import { EXIT_OK, EXIT_USAGE } from "../cli/errors";
import { shippedDir } from "../cli/shipped";
import { cli, tempDir, tempScenario } from "../testing/cli";

const SUITE = join(shippedDir()!, "kdiff");
const NAMES = readdirSync(SUITE)
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => f.slice(0, -5))
  .sort();
const why = unavailableReason(probeMachine(), findCompiler());

/** Every THP and hugetlb setting of the machine, to check a run leaves them as it found them. */
function machineSettings(): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory() && e.name !== "stats") walk(p);
      else if (e.isFile() && !/pages_collapsed|full_scans|hpage_pmd_size|free_hugepages|resv_hugepages|surplus_hugepages/.test(e.name)) {
        try {
          out.push(`${p}: ${readFileSync(p, "utf8").trim()}`);
        } catch {
          // Write-only files (demote) have no value to keep.
        }
      }
    }
  };
  for (const d of ["/sys/kernel/mm/transparent_hugepage", "/sys/kernel/mm/hugepages"]) walk(d);
  return out.join("\n");
}

/** MADV_COLLAPSE comes with the khugepaged feature: without it the model refuses the advice. */
function modelCollapses(): boolean {
  const k = new Kernel({ backend: createX86_64Backend(), memory: "64M" });
  const mm = k.createMm();
  const r = k.mmap(mm, { addr: 0, len: 2 << 20, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, file: null, offset: 0 });
  return r.ok && k.madvise(mm, r.value, 2 << 20, MADV.COLLAPSE).ok;
}

const NEEDS: Readonly<Record<string, () => string | null>> = {
  collapse: () => (modelCollapses() ? null : "the model has no MADV_COLLAPSE until the khugepaged feature is installed"),
};

it("the differential suite has at least 12 scenarios", () => {
  expect(NAMES.length).toBeGreaterThanOrEqual(12);
});

describe.skipIf(why !== null)(`hugemm kdiff on this machine's kernel${why === null ? "" : ` (skipped: ${why})`}`, () => {
  for (const name of NAMES) {
    const need = NEEDS[name]?.() ?? null;
    it.skipIf(need !== null)(`kdiff/${name}: 0 differences, the machine's settings as they were${need === null ? "" : ` (skipped: ${need})`}`, () => {
      const before = machineSettings();
      const json = join(tempDir(), `${name}.json`);
      let r = cli(["kdiff", `kdiff/${name}`, "--json", json, "-q"]);
      let j = JSON.parse(readFileSync(json, "utf8")) as KdiffJson;
      // Other processes on a shared machine can move a judged global counter during a step (they fault THPs too
      // while the run has enabled=always): such a run is repeated, at most twice. A difference in a process's own
      // views is never retried.
      for (let attempt = 0; attempt < 2 && j.summary.different > 0 && j.rows.every((x) => !x.judged || x.equal || x.view === "global"); attempt++) {
        r = cli(["kdiff", `kdiff/${name}`, "--json", json, "-q"]);
        j = JSON.parse(readFileSync(json, "utf8")) as KdiffJson;
      }
      expect(
        j.rows.filter((x) => x.judged && !x.equal),
        r.out,
      ).toEqual([]);
      expect(r.code).toBe(EXIT_OK);
      expect(r.out).toMatch(new RegExp(`^${j.summary.compared} fields compared: ${j.summary.compared} equal, 0 different;`, "m"));
      expect(j.summary.compared).toBeGreaterThan(200);
      expect(j.unsupported).toEqual([]);
      expect(machineSettings()).toBe(before);
    });
  }

  it("lists the steps the kernel cannot run and compares up to the first", () => {
    const file = tempScenario(`name: unsupported
machine: { arch: x86-64, memory: 1G }
steps:
  - mmap: { pid: 1, as: buf, len: 2M, prot: rw, flags: private|anonymous }
  - write: { pid: 1, at: buf, len: 2M, pattern: 1 }
  - checkpoint: before
  - pressure: { pages: 10 }
  - checkpoint: after
`);
    const r = cli(["kdiff", file, "-q"]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain("not compared (after a step the kernel cannot run): after, end");
    expect(r.out).toContain("unsupported: step 3 pressure (line 7): a model-only step: direct reclaim of a chosen number of pages cannot be asked of a running kernel");
  });

  it("writes an HTML report", () => {
    const file = join(tempDir(), "k.html");
    expect(cli(["kdiff", "kdiff/mthp", "--html", file, "-q"]).code).toBe(EXIT_OK);
    const html = readFileSync(file, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("fields compared:");
    expect(html).toContain("sixty-four — pid 1: all equal");
  });
});

describe("hugemm kdiff with bad input", () => {
  it("names a bad scenario by file, line and field before anything runs", () => {
    const file = tempScenario("name: bad\nsteps:\n  - mmap: { pid: 1, as: buf, len: 2M, prot: rw, flags: private|anonymous }\n  - write: { pid: 1, at: nosuch, len: 4K, pattern: 1 }\n");
    const r = cli(["kdiff", file]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toBe(`hugemm: ${file}:4:26: steps[1].write.at: unknown name "nosuch" in process 1: expected a name bound by an earlier mmap or mremap "as:" (bound: buf)\n`);
  });

  it("names an unknown scenario", () => {
    const r = cli(["kdiff", "no-such-scenario"]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toMatch(/^hugemm: kdiff: no scenario "no-such-scenario": expected a path/);
  });
});
