import { ArchSpecError } from "./arch";
import { demo } from "./commands/demo";
import { colorWanted, makeStyle } from "./style";

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  readonly stdoutIsTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
}

/** Exit codes: 0 success, 1 an expect failed or the model found a violation, 2 bad usage or input. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const USAGE = `usage: hugemm <command> [options]

commands:
  demo        a built-in tour of the model, printing its report

options:
  -h, --help  show help for hugemm or a command

examples:
  hugemm demo
  NO_COLOR=1 hugemm demo > tour.txt

exit codes: 0 success, 1 a failed expectation or violation, 2 bad usage or input`;

export function main(argv: readonly string[], io: Io): number {
  const style = makeStyle(colorWanted({ isTTY: io.stdoutIsTTY }, io.env));
  const out = (line: string) => io.stdout(`${line}\n`);
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === "-h" || cmd === "--help" || cmd === "help") {
      io.stdout(`${USAGE}\n`);
      return cmd === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (cmd === "demo") {
      if (rest.includes("--help") || rest.includes("-h")) {
        io.stdout("usage: hugemm demo\n\nRuns the built-in tour and prints its report.\n\nexample:\n  hugemm demo\n");
        return EXIT_OK;
      }
      if (rest.length > 0) throw new UsageError(`demo takes no arguments (got ${JSON.stringify(rest[0])})`);
      return demo(style, out);
    }
    throw new UsageError(`unknown command ${JSON.stringify(cmd)}: expected demo (see hugemm --help)`);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ArchSpecError) {
      io.stderr(`hugemm: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

export class UsageError extends Error {}
