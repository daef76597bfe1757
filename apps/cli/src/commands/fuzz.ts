import { writeFileSync } from "node:fs";
import { parseArchSpec } from "@hugemm/scenario";
import { int, str } from "../cli/args";
import type { Command } from "../cli/command";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../cli/errors";
import { formatFuzzReport, fuzz, type FuzzOptions } from "../fuzz";

/** `hugemm fuzz`, over the real kernel or (for its tests) a kernel with a planted bug. */
export function makeFuzzCommand(kernelFactory?: FuzzOptions["kernelFactory"]): Command {
  return {
    name: "fuzz",
    summary: "run random operation sequences with the invariant checker on; shrink what breaks to a minimal scenario",
    description:
      "Generates random but valid operation sequences (mmap, munmap, mprotect, mremap, madvise, faults, fork,\n" +
      "exit, pins, migration, reclaim, splits, THP settings), runs each with the invariant checker after every\n" +
      "operation, and on a violation or a crash shrinks the sequence to a minimal one that fails the same way\n" +
      "and writes it as a scenario file that reproduces it (hugemm run <file>). Exits 1 on a finding.",
    positionals: [],
    options: {
      ops: { type: "string", value: "N", help: "operations per sequence (default 200)" },
      runs: { type: "string", value: "N", help: "sequences to run (default 10)" },
      seed: { type: "string", value: "S", help: "seed of the first sequence (default 1); sequence i uses one derived from it" },
      arch: { type: "string", value: "ARCH", help: "the arch (default x86-64)" },
      out: { type: "string", value: "FILE", help: "where to write the reproducer (default fuzz-<arch>-seed-<its seed>.yaml)" },
    },
    examples: ["hugemm fuzz", "hugemm fuzz --ops 500 --runs 50 --seed 7", "hugemm fuzz --arch arm64:4k --out repro.yaml && echo clean"],
    run(a, ctx) {
      const ops = int("fuzz", a, "ops", 1, 100_000) ?? 200;
      const runs = int("fuzz", a, "runs", 1, 1_000_000) ?? 10;
      const seed = int("fuzz", a, "seed", 0, 2 ** 32 - 1) ?? 1;
      const arch = str(a, "arch") ?? "x86-64";
      try {
        parseArchSpec(arch);
      } catch (e) {
        throw new UsageError(`fuzz: --arch: ${(e as Error).message}`);
      }
      const factory = kernelFactory === undefined ? {} : { kernelFactory };
      const report = fuzz({ ops, runs, seed, arch, ...factory, onProgress: (done, total, phase) => ctx.progress.update(done, total, phase) });
      ctx.progress.done();
      ctx.io.stdout(formatFuzzReport(report, { color: ctx.style.color }));
      const f = report.finding;
      if (f === undefined) return EXIT_OK;
      const out = str(a, "out") ?? `${f.name}.yaml`;
      try {
        writeFileSync(out, f.scenario);
      } catch (e) {
        throw new UsageError(`fuzz: cannot write --out ${out} (${(e as NodeJS.ErrnoException).code ?? String(e)}): expected a writable file path`);
      }
      ctx.out(`reproducer written to ${out}: hugemm run ${out}`);
      return EXIT_FAILED;
    },
  };
}

export const fuzzCommand = makeFuzzCommand();
