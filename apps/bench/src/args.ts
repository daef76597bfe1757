import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** Command-line options of hugemm-bench. */
export interface BenchArgs {
  readonly quick: boolean;
  /** Name patterns: a workload runs when its name contains any of them. */
  readonly only: readonly string[] | undefined;
  readonly json: string | undefined;
  readonly html: string | undefined;
  readonly compare: string | undefined;
  readonly help: boolean;
}

/** Bad command-line input: hugemm-bench prints it with the usage and exits 2. */
export class UsageError extends Error {}

export const USAGE = `usage: hugemm-bench [--quick] [--only <pattern>[,<pattern>...]] [--json <file>] [--html <file>] [--compare <earlier.json>]

  --quick              small sizes, well under a minute: checks that every metric is produced (CI)
  --only <patterns>    run only the workloads whose name contains one of the comma-separated
                       patterns (heap.4k_page, heap.pmd_thp, heap.pud_thp select the footprint,
                       kernel.* the machine's kernel)
  --json <file>        write the metrics, targets, footprint and machine description as JSON
  --html <file>        write a self-contained HTML page with the scaling and throughput charts
  --compare <file>     compare with an earlier --json report; exit 1 on a regression beyond the noise

examples:
  hugemm-bench --quick
  hugemm-bench --json run.json --html run.html
  hugemm-bench --only fault.anon,munmap --compare run.json`;

const OPTIONS = "--quick, --only <pattern>, --json <file>, --html <file>, --compare <file> or --help";
const VALUE_OPTIONS: Readonly<Record<string, string>> = { "--only": "<pattern>", "--json": "<file>", "--html": "<file>", "--compare": "<earlier.json>" };

/** An output file's directory must exist: better to hear it now than after the run. */
function outputPath(opt: string, path: string): string {
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${opt}: the directory ${JSON.stringify(dirname(path))} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`${opt}: ${JSON.stringify(path)} is a directory, expected a file to write`);
  return path;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  let quick = false;
  let only: string[] | undefined;
  let json: string | undefined;
  let html: string | undefined;
  let compare: string | undefined;
  let help = false;
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") continue;
    // --opt=value is the same as --opt value.
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const opt = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith("--"))) throw new UsageError(`${opt} needs a value: expected ${opt} ${VALUE_OPTIONS[opt]}`);
      if (v === "") throw new UsageError(`${opt} needs a value: expected ${opt} ${VALUE_OPTIONS[opt]}, got an empty string`);
      return v;
    };
    if (!opt.startsWith("-")) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}: hugemm-bench takes only options (${OPTIONS})`);
    if (seen.has(opt) && opt in VALUE_OPTIONS) throw new UsageError(`${opt} given twice`);
    seen.add(opt);
    if (opt === "--quick" && inline === undefined) quick = true;
    else if (opt === "--only") {
      const patterns = value()
        .split(",")
        .map((s) => s.trim());
      if (patterns.some((p) => p === "")) throw new UsageError(`--only: empty pattern in ${JSON.stringify(patterns.join(","))}: expected names or parts of names, separated by commas`);
      only = patterns;
    } else if (opt === "--json") json = outputPath(opt, value());
    else if (opt === "--html") html = outputPath(opt, value());
    else if (opt === "--compare") compare = value();
    else if ((opt === "--help" || opt === "-h") && inline === undefined) help = true;
    else throw new UsageError(`unknown option ${JSON.stringify(arg)}: expected ${OPTIONS}`);
  }
  return { quick, only, json, html, compare, help };
}
