import { USAGE, UsageError, parseArgs } from "./args";
import { blackhole } from "./harness";
import { runBench, type Io } from "./run";

const io: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  ...(process.stderr.isTTY ? { status: (s: string) => process.stderr.write(`\r${s.slice(0, 78).padEnd(79)}\r`) } : {}),
};

// Exit status: 0 ok; 1 a workload failed, an expected metric is missing, or --compare found a regression; 2 bad usage.
async function main(): Promise<number> {
  try {
    const args = parseArgs(process.argv.slice(2));
    if (args.help) {
      io.out(`${USAGE}\n`);
      return 0;
    }
    const status = await runBench(args, io);
    // Reading the sink keeps every workload's result alive.
    return blackhole() === 0.5 ? 1 : status;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`hugemm-bench: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    io.err(`hugemm-bench: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

process.exitCode = await main();
