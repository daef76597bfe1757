/** Command-line options of hugemm-bench. */
export interface BenchArgs {
  readonly quick: boolean;
  readonly only: string | undefined;
  readonly json: string | undefined;
  readonly help: boolean;
}

export const USAGE = `usage: hugemm-bench [--quick] [--only <pattern>] [--json <file>]

  --quick           a short run that checks every metric is produced (CI)
  --only <pattern>  run only workloads whose name contains <pattern>
  --json <file>     also write the metrics and the machine description as JSON

examples:
  hugemm-bench --quick
  hugemm-bench --only arch.arm64 --json arm64.json`;

export function parseArgs(argv: readonly string[]): BenchArgs {
  let quick = false;
  let only: string | undefined;
  let json: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") quick = true;
    else if (a === "--only") only = value();
    else if (a === "--json") json = value();
    else if (a === "--help" || a === "-h") help = true;
    else if (a === "--") continue;
    else throw new Error(`unknown option ${JSON.stringify(a)}: expected --quick, --only <pattern>, --json <file> or --help`);
  }
  return { quick, only, json, help };
}
