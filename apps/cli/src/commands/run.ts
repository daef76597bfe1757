import { formatRunSummary, runResultJson } from "@hugemm/scenario";
import { flag, str } from "../cli/args";
import type { Command } from "../cli/command";
import { EXIT_FAILED, EXIT_OK } from "../cli/errors";
import { writeHtmlReport } from "../cli/html-out";
import { ARCH_OPTION, AT_OPTION, RUN_OPTIONS, SCENARIO_ARG, runFromArgs } from "../cli/scenario-input";

export const runCommand: Command = {
  name: "run",
  summary: "run a scenario and print what each step did and whether its expects hold",
  description:
    "Runs a scenario deterministically with the invariant checker on after every operation, then prints\n" +
    "one line per step, each expect clause with the value found, and the verdict. Exits 1 when an expect\n" +
    "fails or an invariant breaks, printing the clause and the actual value.",
  positionals: [SCENARIO_ARG],
  options: {
    ...ARCH_OPTION,
    ...RUN_OPTIONS,
    ...AT_OPTION,
    json: { type: "boolean", help: "print the result as JSON (steps, checkpoints with every counter, expects)" },
    html: { type: "string", value: "FILE", help: "also write a self-contained HTML report with pictures" },
  },
  examples: [
    "hugemm run pmd-thp",
    "hugemm run apps/cli/scenarios/fork-cow.yaml --arch arm64:4k",
    "hugemm run my.yaml --set transparent_hugepage/enabled=never --seed 7",
    "hugemm run tour --html tour.html",
    "hugemm run my.yaml --json | jq '.checkpoints[-1].counters.thp_fault_alloc'",
  ],
  run(a, ctx) {
    const r = runFromArgs("run", a, ctx);
    const html = str(a, "html");
    if (html !== undefined) writeHtmlReport("run", html, [r], "run", ctx);
    if (flag(a, "json")) ctx.io.stdout(`${JSON.stringify(runResultJson(r), null, 2)}\n`);
    else ctx.io.stdout(formatRunSummary(r, { color: ctx.style.color }));
    return r.passed ? EXIT_OK : EXIT_FAILED;
  },
};
