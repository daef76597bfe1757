import { writeFileSync } from "node:fs";
import { USAGE, parseArgs, type BenchArgs } from "./args";
import { benchBackends } from "./backends";
import { FULL, QUICK, blackhole, measure, type Measurement, type Workload } from "./harness";
import { describeMachine } from "./machine";
import { metrics, table, type BenchReport } from "./report";
import { archWorkloads } from "./suites/arch";
import { coreWorkloads } from "./suites/core";

function workloads(quick: boolean): Workload[] {
  return [...coreWorkloads(quick), ...benchBackends().flatMap(archWorkloads)];
}

function main(args: BenchArgs): number {
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const selected = workloads(args.quick).filter((w) => args.only === undefined || w.name.includes(args.only));
  if (selected.length === 0) {
    process.stderr.write(`hugemm-bench: no workload matches --only ${JSON.stringify(args.only)}\n`);
    return 2;
  }
  const opts = args.quick ? QUICK : FULL;
  const results: Measurement[] = [];
  for (const w of selected) {
    if (process.stderr.isTTY) process.stderr.write(`\r${w.name}`.padEnd(70));
    results.push(measure(w, opts));
  }
  if (process.stderr.isTTY) process.stderr.write("\r".padEnd(71) + "\r");
  process.stdout.write(`${table(results)}\n`);
  const report: BenchReport = {
    schema: "hugemm-bench/1",
    mode: args.quick ? "quick" : "full",
    date: new Date().toISOString(),
    machine: describeMachine(),
    metrics: metrics(results),
    measurements: results,
  };
  if (args.json !== undefined) {
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`wrote ${Object.keys(report.metrics).length} metrics to ${args.json}\n`);
  }
  return blackhole() === 0.5 ? 1 : 0;
}

let args: BenchArgs;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`hugemm-bench: ${(e as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
process.exit(main(args));
