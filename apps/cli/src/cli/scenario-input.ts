import { existsSync } from "node:fs";
import { loadScenario, runScenario, type RunOptions, type RunResult, type Scenario } from "@hugemm/scenario";
import type { OptionSpec, ParsedArgs, PositionalSpec } from "./args";
import { flag, int, list, str } from "./args";
import type { CommandContext } from "./command";
import { UsageError } from "./errors";
import { shippedNames, shippedPath } from "./shipped";

export const SCENARIO_ARG: PositionalSpec = {
  name: "scenario",
  help: "a scenario file (.yaml or .json), or the name of a shipped scenario (pmd-thp, tour, ...)",
};

/** How a scenario runs: the options run, report, walk and compare share. */
export const RUN_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  set: { type: "string", multiple: true, value: "key=value", help: "a setting applied after the scenario's own (transparent_hugepage/enabled=never)" },
  seed: { type: "string", value: "N", help: "seed of every random choice (default: the scenario's)" },
  "no-check": { type: "boolean", help: "do not run the invariant checker after every operation (faster)" },
};

export const ARCH_OPTION: Readonly<Record<string, OptionSpec>> = {
  arch: { type: "string", value: "ARCH", help: "run on this arch instead of the scenario's: x86-64, x86-64:5level, arm64:4k, arm64:16k, arm64:64k, ppc8xx:4k, ppc8xx:16k" },
};

export const AT_OPTION: Readonly<Record<string, OptionSpec>> = {
  at: { type: "string", value: "CHECKPOINT", help: "stop right after this checkpoint and report the state there" },
};

/** The scenario a positional names: a file, else a shipped scenario. */
export function scenarioFromArg(cmd: string, arg: string): Scenario {
  if (existsSync(arg)) return loadScenario(arg);
  const shipped = shippedPath(arg);
  if (shipped !== null) return loadScenario(shipped);
  const names = shippedNames();
  throw new UsageError(`${cmd}: no scenario "${arg}": expected a path to a .yaml or .json file${names.length === 0 ? "" : `, or a shipped scenario: ${names.join(", ")}`}`);
}

/** --set key=value pairs. */
export function settingsFromArgs(cmd: string, a: ParsedArgs): [string, string][] {
  return list(a, "set").map((kv) => {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UsageError(`${cmd}: --set "${kv}": expected key=value, such as transparent_hugepage/enabled=madvise`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

/** Options for runScenario from the shared flags, with the progress bar wired in. */
export function runOptionsFromArgs(cmd: string, a: ParsedArgs, ctx: CommandContext, arch?: string): RunOptions {
  const seed = int(cmd, a, "seed", 0, 2 ** 32 - 1);
  const at = str(a, "at");
  const archSpec = arch ?? str(a, "arch");
  return {
    set: settingsFromArgs(cmd, a),
    check: !flag(a, "no-check"),
    ...(seed === undefined ? {} : { seed }),
    ...(archSpec === undefined ? {} : { arch: archSpec }),
    ...(at === undefined ? {} : { stopAfter: at }),
    onStep: (i, total, step) => ctx.progress.update(i, total, step.op),
  };
}

/** Run the scenario the arguments name, with the progress bar up while it runs. */
export function runFromArgs(cmd: string, a: ParsedArgs, ctx: CommandContext, extra: RunOptions = {}): RunResult {
  const s = scenarioFromArg(cmd, a.positionals[0]!);
  const opts = { ...runOptionsFromArgs(cmd, a, ctx), ...extra };
  try {
    return runScenario(s, opts);
  } finally {
    ctx.progress.done();
  }
}
