import { PMD, PUD } from "@hugemm/arch";
import { formatSize } from "@hugemm/core";
import { loadScenario, runScenario, type RunResult } from "@hugemm/scenario";
import { flag, str } from "../cli/args";
import type { Command, CommandContext } from "../cli/command";
import { EXIT_FAILED, EXIT_OK } from "../cli/errors";
import { writeHtmlReport } from "../cli/html-out";
import { shippedPath } from "../cli/shipped";
import { counterDeltas, heading, indent, leakedPages, sectionState, stepText, type SectionState } from "./demo-report";

/** Print the tour's report: each section's steps, what changed, the footprint, a walk, thpmaps, expects, leaks. */
function printReport(r: RunResult, states: ReadonlyMap<string, SectionState>, ctx: CommandContext): boolean {
  const s = ctx.style;
  const sc = r.scenario;
  const start = r.checkpoints[0]!.counters;
  ctx.out(s.bold(`hugemm demo: ${sc.description ?? sc.name}`));
  ctx.out(
    s.dim(
      `${r.archId}, ${formatSize(start["meminfo.MemTotal"]! * 1024)} in ${sc.machine.nodes} node${sc.machine.nodes === 1 ? "" : "s"}, ` +
        `swap ${formatSize(start["meminfo.SwapTotal"]! * 1024)}; seed ${r.seed}; ${r.steps.length} steps, the invariant checker after every operation`,
    ),
  );
  let prev = start;
  let prevStep = 0;
  let n = 0;
  let lastWithProcesses: string | null = null;
  for (const cp of r.checkpoints.slice(1)) {
    const steps = r.steps.slice(prevStep, Math.max(prevStep, cp.step)).filter((x) => x.op !== "expect" && x.op !== "checkpoint");
    if (cp.name === "end" && steps.length === 0) break;
    ctx.out("");
    ctx.out(heading(s, ++n, cp.name));
    for (const x of steps) {
      const text = stepText(sc.steps[x.index]!);
      // A `set` step's detail repeats its arguments.
      const result = x.ok ? (x.detail === undefined || x.op === "set" ? "" : s.dim(` → ${x.detail}`)) : s.yellow(` → ${x.error ?? "failed"}${x.detail === undefined ? "" : `: ${x.detail}`}`);
      ctx.out(`   ${text}${result}`);
    }
    const deltas = counterDeltas(prev, cp.counters);
    if (deltas.length > 0) ctx.out(`   ${s.cyan("changed:")} ${deltas.join(", ")}`);
    const st = states.get(cp.name);
    if (st !== undefined) {
      for (const f of st.footprints) ctx.out(`   ${f}`);
      if (st.footprints.length > 0) lastWithProcesses = cp.name;
      if (st.walk !== undefined) {
        ctx.out(`   ${s.cyan(`walk of "${st.walk.name}" in pid ${st.walk.pid}:`)}`);
        ctx.out(indent(st.walk.text, "     "));
      }
    }
    prev = cp.counters;
    prevStep = cp.step + 1;
  }
  const peak = lastWithProcesses === null ? undefined : states.get(lastWithProcesses)?.thpmaps;
  if (peak !== undefined) {
    ctx.out("");
    ctx.out(s.bold(`thpmaps --rollup --cont 64K at "${lastWithProcesses}", before the processes exit`));
    ctx.out(indent(peak));
  }
  ctx.out("");
  const passed = r.expects.filter((e) => e.pass).length;
  ctx.out(`${s.bold("expects:")} ${passed} passed, ${r.expects.length - passed} failed`);
  for (const e of r.expects.filter((x) => !x.pass)) ctx.out(`   ${s.red("FAIL")} line ${e.line}: ${e.clause}: ${e.message}`);
  if (r.violation !== undefined) ctx.out(s.red(`invariant violation at step ${r.violation.step}: ${r.violation.message}`));
  const leaks = leakedPages(r);
  const clean = leaks.processes > 0 || (leaks.pages === 0 && leaks.swapSlots === 0 && leaks.tablePages === 0);
  const text = `${leaks.pages} pages, ${leaks.swapSlots} swap slots, ${leaks.tablePages} page-table pages held after ${leaks.processes === 0 ? "every process exited" : `the run (${leaks.processes} processes alive)`}`;
  ctx.out(`${s.bold("leaks:")} ${clean ? s.green(text) : s.red(text)}`);
  return clean;
}

export const demoCommand: Command = {
  name: "demo",
  summary: "the built-in tour: base pages, mTHP, PMD and PUD THP, fork/COW, split, migration, reclaim, exit",
  description:
    "Runs the shipped tour scenario on x86-64 with the invariant checker on after every operation and prints\n" +
    "its report: each section's steps and what they changed in the kernel's counters, each process's memory by\n" +
    "mapping size with its page tables and TLB entries, a page-table walk of the 1G THP, thpmaps, the expects,\n" +
    "and the pages, swap slots and page tables left once every process has exited (zero).",
  positionals: [],
  options: {
    html: { type: "string", value: "FILE", help: "also write the HTML report of the tour" },
    "no-check": { type: "boolean", help: "do not run the invariant checker (faster)" },
  },
  examples: ["hugemm demo", "NO_COLOR=1 hugemm demo > tour.txt", "hugemm demo --html tour.html", "hugemm run tour   # the same scenario with the step-by-step summary"],
  run(a, ctx) {
    const path = shippedPath("tour");
    if (path === null) throw new Error("the shipped tour scenario (scenarios/tour.yaml) is missing from this installation");
    const states = new Map<string, SectionState>();
    let walked = false;
    const r = runScenario(loadScenario(path), {
      check: !flag(a, "no-check"),
      onStep: (i, total, step) => ctx.progress.update(i, total, step.op),
      onCheckpoint(name, st) {
        if (name === "start" || name === "end") return;
        const g = st.kernel.geometry;
        const size = 2 ** g.levels[st.kernel.backend.capabilities.pudThp ? PUD : PMD]!.shift;
        const state = sectionState(st, { ...(walked ? {} : { walkSize: size }), thpmaps: true });
        if (state.walk !== undefined) walked = true;
        states.set(name, state);
      },
    });
    ctx.progress.done();
    const clean = printReport(r, states, ctx);
    const html = str(a, "html");
    if (html !== undefined) writeHtmlReport("demo", html, [r], "run", ctx);
    return r.passed && clean ? EXIT_OK : EXIT_FAILED;
  },
};
