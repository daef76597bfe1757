import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError, parseArgs } from "./args";
import { packageRoot } from "./paths";
import type { BenchReport } from "./report/json";
import { runBench } from "./run";

function capture() {
  let out = "";
  let err = "";
  return { io: { out: (s: string) => void (out += s), err: (s: string) => void (err += s) }, out: () => out, err: () => err };
}

describe("a bench run", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-run-"));
  const json = join(dir, "r.json");
  const html = join(dir, "r.html");
  const one = "arch.ppc8xx.4k.pte_test";

  it("measures the selected workloads and writes JSON and HTML", async () => {
    const c = capture();
    const status = await runBench(parseArgs(["--quick", "--only", one, "--json", json, "--html", html]), c.io);
    expect(c.err()).toBe("");
    expect(status).toBe(0);
    expect(c.out()).toMatch(new RegExp(`^${one.replace(/\./g, "\\.")}\\s+\\S+`, "m"));
    const r = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    expect(r).toMatchObject({ schema: "hugemm-bench/2", mode: "quick", only: [one], missing: [], footprint: null, kernel: { status: "not selected" } });
    expect(Object.keys(r.metrics)).toEqual([`${one}.ops_per_s`, `${one}.ns_per_op`]);
    expect(r.ranges[`${one}.ops_per_s`]!.min).toBeLessThanOrEqual(r.metrics[`${one}.ops_per_s`]!);
    expect(r.machine.cpus).toBeGreaterThan(0);
    expect(r.targets.every((t) => t.state === "not measured")).toBe(true);
    expect(readFileSync(html, "utf8")).toContain(`<code>${one}</code>`);
  });

  it("exits 1 when --compare finds a regression beyond the noise", async () => {
    const earlier = JSON.parse(readFileSync(json, "utf8")) as BenchReport & { metrics: Record<string, number> };
    earlier.metrics[`${one}.ops_per_s`] = earlier.metrics[`${one}.ops_per_s`]! * 100;
    const file = join(dir, "fast.json");
    writeFileSync(file, JSON.stringify(earlier));
    const c = capture();
    expect(await runBench(parseArgs(["--quick", "--only", one, "--compare", file]), c.io)).toBe(1);
    expect(c.out()).toMatch(new RegExp(`${one.replace(/\./g, "\\.")}\\.ops_per_s .* REGRESSION`));
  });

  it("refuses a missing or corrupt --compare file, and a pattern that matches nothing, before running", async () => {
    const c = capture();
    await expect(runBench(parseArgs(["--compare", join(dir, "none.json")]), c.io)).rejects.toThrow(new UsageError(`--compare: cannot read ${JSON.stringify(join(dir, "none.json"))}: no such file`));
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{");
    await expect(runBench(parseArgs(["--compare", bad]), c.io)).rejects.toThrow(/is not valid JSON/);
    await expect(runBench(parseArgs(["--only", "zzz"]), c.io)).rejects.toThrow(/^--only zzz: nothing matches; names: fault\.anon\.4k, /);
    expect(c.out()).toBe("");
  });

  it("exits 2 on bad usage, naming the option", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/bin.ts", "--fast"], { cwd: packageRoot(), encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('hugemm-bench: unknown option "--fast": expected --quick');
    expect(r.stderr).toContain("usage: hugemm-bench");
  });
});
