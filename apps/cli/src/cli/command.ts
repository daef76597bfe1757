import type { Style } from "../style";
import type { OptionSpec, ParsedArgs, PositionalSpec } from "./args";
import { EXIT_CODES_TEXT } from "./errors";
import type { Progress } from "./progress";

/** Where a command writes and what it knows of its surroundings. */
export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY?: boolean;
  readonly env: NodeJS.ProcessEnv;
}

export interface CommandContext {
  readonly io: Io;
  /** Colours for stdout (off for a pipe or with NO_COLOR). */
  readonly style: Style;
  /** A line on stdout. */
  out(line: string): void;
  /** A note on stderr, prefixed "hugemm: ". */
  note(line: string): void;
  /** The progress bar on stderr (silent off a terminal and with --quiet). */
  readonly progress: Progress;
}

export interface Command {
  readonly name: string;
  /** One line for `hugemm --help`. */
  readonly summary: string;
  /** What it does, a few lines for `hugemm <name> --help`. */
  readonly description: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples: readonly string[];
  run(args: ParsedArgs, ctx: CommandContext): number;
}

/** Options every command accepts. */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  help: { type: "boolean", short: "h", help: "show this help" },
  quiet: { type: "boolean", short: "q", help: "no progress bar and no notes on stderr" },
};

/** `hugemm <name> --help`. */
export function commandHelp(c: Command): string {
  const opts = { ...c.options, ...COMMON_OPTIONS };
  const synopsis = [`hugemm ${c.name}`, ...c.positionals.map((p) => (p.optional === true ? `[<${p.name}>]` : `<${p.name}>`)), Object.keys(c.options).length > 0 ? "[options]" : ""].filter((x) => x !== "");
  const lines = [`usage: ${synopsis.join(" ")}`, "", c.description];
  if (c.positionals.length > 0) {
    lines.push("", "arguments:");
    for (const p of c.positionals) lines.push(`  ${`<${p.name}>`.padEnd(24)} ${p.help}`);
  }
  lines.push("", "options:");
  for (const [name, o] of Object.entries(opts)) {
    const left = `${o.short === undefined ? "    " : `-${o.short}, `}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`;
    lines.push(`  ${left.padEnd(24)} ${o.help}${o.multiple === true ? " (repeatable)" : ""}`);
  }
  lines.push("", "examples:", ...c.examples.map((e) => `  ${e}`), "", EXIT_CODES_TEXT);
  return `${lines.join("\n")}\n`;
}
