import { writeFileSync } from "node:fs";
import { EncodeError, formatKdiff, kdiff, kdiffJson, KernelRunError, OracleUnavailable, type KdiffOptions, type KdiffResult } from "@hugemm/oracle";
import { flag, str } from "../cli/args";
import type { Command } from "../cli/command";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../cli/errors";
import { SCENARIO_ARG, scenarioFromArg } from "../cli/scenario-input";
import { kdiffHtml } from "../html/kdiff";

/** Run kdiff, turning what the oracle cannot do into bad-input errors (exit 2) that name the step. */
export function runKdiff(name: string, opts: KdiffOptions): KdiffResult {
  const s = scenarioFromArg("kdiff", name);
  try {
    return kdiff(s, opts);
  } catch (e) {
    if (e instanceof OracleUnavailable) throw new UsageError(`kdiff: the kernel oracle cannot run here: ${e.message}`);
    if (e instanceof KernelRunError || e instanceof EncodeError) throw new UsageError(`kdiff: ${e.message}`);
    throw e;
  }
}

export const kdiffCommand: Command = {
  name: "kdiff",
  summary: "run a scenario on this machine's kernel and on the model, and diff every view",
  description:
    "Runs the scenario on the model and, through a small C executor compiled with cc, on the machine's\n" +
    "own kernel, then compares at every checkpoint and for every process: each named range's smaps\n" +
    "entries and per-page census (pagemap, kpageflags, kpagecount), status and smaps_rollup as changes\n" +
    "from the process's start, each step's outcome, and the global counters no other process moves.\n" +
    "Settings are written to sysfs, restored afterwards (also on error and on SIGINT/SIGTERM), under a\n" +
    "machine-wide lock. Steps the kernel cannot run are listed with why. Exits 0 when every compared\n" +
    "field is equal, 1 on any difference, 2 on bad input or when the oracle cannot run (not Linux, no\n" +
    "compiler, not root). Needs root.",
  positionals: [SCENARIO_ARG],
  options: {
    all: { type: "boolean", help: "print every compared field, not only the differences" },
    json: { type: "string", value: "FILE", help: "also write every field as JSON" },
    html: { type: "string", value: "FILE", help: "also write a self-contained HTML report" },
    "no-check": { type: "boolean", help: "do not run the invariant checker on the model side (faster)" },
  },
  examples: ["hugemm kdiff kdiff/thp-fault", "hugemm kdiff kdiff/fork-cow --all", "hugemm kdiff my.yaml --json diff.json --html diff.html"],
  run(a, ctx) {
    const r = runKdiff(a.positionals[0]!, { check: !flag(a, "no-check") });
    const json = str(a, "json");
    if (json !== undefined) writeFileSync(json, `${JSON.stringify(kdiffJson(r), null, 2)}\n`);
    const html = str(a, "html");
    if (html !== undefined) writeFileSync(html, kdiffHtml(r));
    ctx.io.stdout(`${formatKdiff(r, { all: flag(a, "all") })}\n`);
    return r.summary.different === 0 ? EXIT_OK : EXIT_FAILED;
  },
};
