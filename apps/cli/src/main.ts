import { InvariantViolation } from "@hugemm/core";
import { ScenarioError } from "@hugemm/scenario";
import { registerZoneDeviceScenario } from "@hugemm/zone-device/scenario";
import { parseArgs } from "./cli/args";
import { COMMON_OPTIONS, commandHelp, type Command, type CommandContext, type Io } from "./cli/command";
import { EXIT_CODES_TEXT, EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UsageError } from "./cli/errors";
import { makeProgress } from "./cli/progress";
import { archesCommand } from "./commands/arches";
import { compareCommand } from "./commands/compare";
import { demoCommand } from "./commands/demo";
import { fuzzCommand } from "./commands/fuzz";
import { kdiffCommand } from "./commands/kdiff";
import { reportCommand } from "./commands/report";
import { runCommand } from "./commands/run";
import { walkCommand } from "./commands/walk";
import { colorWanted, makeStyle } from "./style";

export type { Io } from "./cli/command";

// The feature packages' steps, machine fields and counters, for every scenario the CLI runs.
registerZoneDeviceScenario();

export const COMMANDS: readonly Command[] = [demoCommand, runCommand, reportCommand, walkCommand, compareCommand, fuzzCommand, archesCommand, kdiffCommand];

export const USAGE = `usage: hugemm <command> [options]

An executable model of the Linux kernel's huge-page memory management.

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}

options:
  -h, --help  show help for hugemm or a command (hugemm run --help)
  -q, --quiet no progress bar and no notes on stderr

A scenario is a YAML or JSON file (packages/scenario/README.md), or the name of a shipped one
(apps/cli/scenarios: tour, pmd-thp, fork-cow, ...).

examples:
  hugemm demo
  hugemm run pmd-thp --arch arm64:4k
  hugemm report fork-cow --view smaps_rollup --pid 2
  hugemm walk tour --at pud-thp --addr huge
  hugemm compare compare-arches --arch x86-64,arm64:4k,arm64:64k,ppc8xx --html cmp.html
  hugemm fuzz --ops 200 --seed 7
  hugemm kdiff kdiff/fork-cow
  NO_COLOR=1 hugemm demo > tour.txt

${EXIT_CODES_TEXT}`;

/** Run `hugemm argv`; `commands` replaces the shipped ones (tests use doubles). */
export function main(argv: readonly string[], io: Io, commands: readonly Command[] = COMMANDS): number {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    io.stdout(`${USAGE}\n`);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const cmd = commands.find((c) => c.name === name);
  if (cmd === undefined) {
    io.stderr(`hugemm: unknown command "${name}": expected one of ${commands.map((c) => c.name).join(", ")} (see hugemm --help)\n`);
    return EXIT_USAGE;
  }
  const quiet = rest.includes("--quiet") || rest.includes("-q");
  const ctx: CommandContext = {
    io,
    style: makeStyle(colorWanted({ isTTY: io.stdoutIsTTY }, io.env)),
    out: (line) => io.stdout(`${line}\n`),
    note: (line) => {
      if (!quiet) io.stderr(`hugemm: ${line}\n`);
    },
    progress: makeProgress(io.stderrIsTTY === true && !quiet ? (s) => io.stderr(s) : null),
  };
  try {
    const args = parseArgs(cmd.name, rest, { ...cmd.options, ...COMMON_OPTIONS }, cmd.positionals.map((p) => ({ ...p, optional: true })));
    if (args.values.help === true) {
      io.stdout(commandHelp(cmd));
      return EXIT_OK;
    }
    // Positionals are checked after --help so that `hugemm run --help` needs no scenario.
    parseArgs(cmd.name, rest, { ...cmd.options, ...COMMON_OPTIONS }, cmd.positionals);
    return cmd.run(args, ctx);
  } catch (e) {
    ctx.progress.done();
    if (e instanceof UsageError || e instanceof ScenarioError) {
      io.stderr(`hugemm: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof InvariantViolation) {
      io.stderr(`hugemm: invariant violation: ${e.message}\n`);
      return EXIT_FAILED;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    io.stderr(`hugemm: internal error (a bug in hugemm; please report it with the command line): ${err.stack ?? err.message}\n`);
    return EXIT_INTERNAL;
  }
}
