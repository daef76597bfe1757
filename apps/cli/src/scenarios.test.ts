import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatRunSummary, loadScenario, runScenario, type RunResult } from "@hugemm/scenario";
import { describe, expect, it } from "vitest";

/*
 * The scenarios shipped in apps/cli/scenarios: each one runs with the
 * invariant checker on and must pass every expect it states; the README
 * lists exactly the files there are.
 */

const DIR = fileURLToPath(new URL("../scenarios/", import.meta.url));
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

/** The scenario files the README's table lists, in its order: rows starting "| [`name.yaml`](name.yaml) |". */
function readmeFiles(text: string): string[] {
  return [...text.matchAll(/^\| \[`([a-z0-9-]+\.yaml)`\]\(([^)]*)\) \|/gm)].map((m) => {
    if (m[2] !== m[1]) throw new Error(`README row for ${m[1]} links to ${m[2]}`);
    return m[1]!;
  });
}

/** What `hugemm run` would print, shown when a run did not pass. */
function summary(r: RunResult): string {
  return formatRunSummary(r, { color: false });
}

/** Run a shipped scenario; on another arch, settings that arch lacks are skipped as hugemm compare does. */
function run(file: string, arch?: string): RunResult {
  return runScenario(loadScenario(join(DIR, file)), arch === undefined ? {} : { arch, skipSetting: () => true });
}

const TIMEOUT = 30_000;

describe("the shipped scenarios", () => {
  for (const file of FILES) {
    it(
      file,
      () => {
        const r = run(file);
        expect(r.violation, summary(r)).toBeUndefined();
        expect(r.passed, summary(r)).toBe(true);
        expect(r.expects.length).toBeGreaterThan(0);
        // A lesson says what it shows, and ends by checking the invariants.
        const s = r.scenario;
        expect(s.name).toBe(file.slice(0, -".yaml".length));
        expect(s.description ?? "").not.toBe("");
        const last = r.expects[r.expects.length - 1]!;
        expect(last.kind).toBe("invariants");
        expect(last.step).toBe(s.steps.length - 1);
      },
      TIMEOUT,
    );
  }

  it("are exactly the files the README lists", () => {
    const listed = readmeFiles(readFileSync(join(DIR, "README.md"), "utf8"));
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(FILES);
    // The topics the README promises, whatever else is added.
    for (const topic of ["tour", "base-pages", "mthp-64k", "pmd-thp", "pud-thp-deposit", "fork-cow", "split-mprotect", "migration", "reclaim-swap", "compare-arches"]) {
      expect(FILES).toContain(`${topic}.yaml`);
    }
  });

  it("the tour has a checkpoint per section, in the order the demo tells them", () => {
    const s = loadScenario(join(DIR, "tour.yaml"));
    const names = s.steps.filter((x) => x.op === "checkpoint").map((x) => x.arg);
    expect(names).toEqual(["base-pages", "mthp", "pmd-thp", "pud-thp", "fork-cow", "split", "migration", "reclaim", "exit", "shrink"]);
    expect(s.machine.arch).toBe("x86-64");
  });

  it.each(["x86-64:5level", "arm64:4k", "arm64:16k", "arm64:64k", "ppc8xx:4k", "ppc8xx:16k"])(
    "compare-arches.yaml passes on %s too",
    (arch) => {
      const r = run("compare-arches.yaml", arch);
      expect(r.passed, summary(r)).toBe(true);
    },
    TIMEOUT,
  );
});
