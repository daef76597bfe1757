import {
  ModelInputError,
  buddyinfo,
  formatBuddyinfo,
  formatMeminfo,
  formatPagetypeinfo,
  formatSmaps,
  formatSmapsRollup,
  formatThpStats,
  formatThpmaps,
  formatVmstat,
  meminfo,
  pagetypeinfo,
  smaps,
  smapsRollup,
  thpmaps,
  vmstat,
  type Mm,
} from "@hugemm/core";
import { hugetlbOf } from "@hugemm/hugetlb";
import type { RunResult } from "@hugemm/scenario";
import { flag, list, str, type ParsedArgs } from "../cli/args";
import type { Command } from "../cli/command";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../cli/errors";
import { processFromArgs, processesFromArgs } from "../cli/process";
import { ARCH_OPTION, AT_OPTION, RUN_OPTIONS, SCENARIO_ARG, runFromArgs } from "../cli/scenario-input";

type View = (r: RunResult, a: ParsedArgs) => string;

/** The views, each printed as the kernel prints its file. */
const VIEWS: Readonly<Record<string, { readonly file: string; readonly show: View }>> = {
  smaps: { file: "/proc/<pid>/smaps", show: (r, a) => formatSmaps(smaps(r.kernel, processFromArgs("report", a, r).mm)) },
  smaps_rollup: { file: "/proc/<pid>/smaps_rollup", show: (r, a) => formatSmapsRollup(smapsRollup(r.kernel, processFromArgs("report", a, r).mm)) },
  meminfo: { file: "/proc/meminfo", show: (r) => formatMeminfo(meminfo(r.kernel)) },
  vmstat: { file: "/proc/vmstat", show: (r) => formatVmstat(vmstat(r.kernel)) },
  "thp-stats": { file: "/sys/kernel/mm/transparent_hugepage/**", show: (r) => formatThpStats(r.kernel) },
  thpmaps: { file: "tools/mm/thpmaps", show: thpmapsView },
  buddyinfo: { file: "/proc/buddyinfo", show: (r) => formatBuddyinfo(buddyinfo(r.kernel)) },
  pagetypeinfo: { file: "/proc/pagetypeinfo", show: (r) => formatPagetypeinfo(pagetypeinfo(r.kernel)) },
  hugetlb: { file: "/sys/kernel/mm/hugepages/**, node<N>/hugepages, /proc/sys/vm/nr_*hugepages", show: (r) => hugetlbOf(r.kernel).formatSysfs() },
  status: { file: "/proc/<pid>/status (HugetlbPages)", show: (r, a) => hugetlbOf(r.kernel).formatStatus(processFromArgs("report", a, r).mm) },
};

function thpmapsView(r: RunResult, a: ParsedArgs): string {
  const procs = processesFromArgs("report", a, r);
  const pidOf = new Map<Mm, number>(procs.map(([pid, mm]) => [mm, pid]));
  const opts = { rollup: flag(a, "rollup"), cont: list(a, "cont"), incSmaps: flag(a, "inc-smaps"), incEmpty: flag(a, "inc-empty"), pidOf: (mm: Mm) => pidOf.get(mm) ?? mm.id };
  return formatThpmaps(thpmaps(r.kernel, procs.map(([, mm]) => mm), opts));
}

const VIEW_NAMES = Object.keys(VIEWS);

export const reportCommand: Command = {
  name: "report",
  summary: "run a scenario and print one of the kernel's views of the result (smaps, meminfo, vmstat, thpmaps, ...)",
  description:
    "Runs a scenario (to its end, or to a checkpoint with --at) and prints a view with the kernel's field\n" +
    "names, units and layout, so it can be diffed against a real machine:\n" +
    VIEW_NAMES.map((v) => `  ${v.padEnd(14)} ${VIEWS[v]!.file}`).join("\n") +
    "\nsmaps and smaps_rollup are per process (--pid, or the only live one); thpmaps covers --pid or every\nlive process and takes the script's --rollup, --cont, --inc-smaps and --inc-empty.",
  positionals: [SCENARIO_ARG],
  options: {
    view: { type: "string", value: "VIEW", help: `the view: ${VIEW_NAMES.join(", ")}` },
    pid: { type: "string", value: "PID", help: "the process (a pid of the scenario)" },
    ...AT_OPTION,
    ...ARCH_OPTION,
    ...RUN_OPTIONS,
    rollup: { type: "boolean", help: "thpmaps: one summary over every VMA of every process" },
    cont: { type: "string", multiple: true, value: "SIZE", help: "thpmaps: also count contiguous blocks of SIZE (64K, 2M)" },
    "inc-smaps": { type: "boolean", help: "thpmaps: include the smaps fields" },
    "inc-empty": { type: "boolean", help: "thpmaps: include statistics that are 0" },
  },
  examples: [
    "hugemm report pmd-thp --view smaps_rollup",
    "hugemm report fork-cow --view smaps --pid 2",
    "hugemm report tour --at pud-thp --view thpmaps --rollup --cont 64K",
    "hugemm report mthp-64k --arch arm64:4k --view thp-stats",
    "hugemm report my.yaml --view meminfo > meminfo.model && diff meminfo.model /proc/meminfo",
  ],
  run(a, ctx) {
    const view = str(a, "view");
    if (view === undefined) throw new UsageError(`report: --view is needed: expected one of ${VIEW_NAMES.join(", ")}`);
    const v = VIEWS[view];
    if (v === undefined) throw new UsageError(`report: unknown view "${view}": expected one of ${VIEW_NAMES.join(", ")}`);
    const r = runFromArgs("report", a, ctx);
    if (r.violation !== undefined) {
      ctx.note(`the run stopped at step ${r.violation.step} on an invariant violation: ${r.violation.message}`);
      return EXIT_FAILED;
    }
    let text: string;
    try {
      text = v.show(r, a);
    } catch (e) {
      // A view the arch's kernel has not (thp-stats on 8xx), a bad --cont size.
      if (e instanceof ModelInputError) throw new UsageError(`report --view ${view} on ${r.archId}: ${e.message}`);
      throw e;
    }
    ctx.io.stdout(text);
    const failed = r.expects.filter((e) => !e.pass).length;
    if (failed > 0) ctx.note(`${failed} expect${failed === 1 ? "" : "s"} failed in this run (hugemm run shows them)`);
    return EXIT_OK;
  },
};
