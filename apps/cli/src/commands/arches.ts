import { parseArchSpec } from "@hugemm/scenario";
import { list } from "../cli/args";
import type { Command } from "../cli/command";
import { EXIT_OK, UsageError } from "../cli/errors";
import { TOUR_ARCHES, archTour } from "./arch-tour";

export const archesCommand: Command = {
  name: "arches",
  summary: "build page-table chains on each arch and print every hardware walk, bit by bit",
  description:
    "For each arch, builds a table chain by hand (a base page, the huge leaves the arch has, a contiguous\n" +
    "run or a multi-slot hugetlb page) and prints the hardware walk with every entry's raw value and\n" +
    "decoded bits: the page-table formats on their own, without the MM core.",
  positionals: [],
  options: {
    arch: { type: "string", multiple: true, value: "A,B,...", help: `the arches (default ${TOUR_ARCHES.join(",")})` },
  },
  examples: ["hugemm arches", "hugemm arches --arch arm64:64k,ppc8xx:16k", "hugemm arches --arch x86-64:5level"],
  run(a, ctx) {
    const specs = list(a, "arch", true);
    for (const spec of specs) {
      try {
        parseArchSpec(spec);
      } catch (e) {
        throw new UsageError(`arches: --arch: ${(e as Error).message}`);
      }
    }
    archTour(ctx.style, ctx.out, specs.length === 0 ? TOUR_ARCHES : specs);
    return EXIT_OK;
  },
};
