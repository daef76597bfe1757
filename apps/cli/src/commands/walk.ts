import { ModelInputError, formatWalk, walkAddress } from "@hugemm/core";
import { parseAddressExpr, resolveAddressExpr, type RunResult } from "@hugemm/scenario";
import { flag, str } from "../cli/args";
import type { Command } from "../cli/command";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../cli/errors";
import { processFromArgs } from "../cli/process";
import { ARCH_OPTION, AT_OPTION, RUN_OPTIONS, SCENARIO_ARG, runFromArgs } from "../cli/scenario-input";

/** --addr: a number, hex, or a name the process bound with `as:` plus or minus sizes. */
function addressFromArg(text: string, r: RunResult, pid: number): number {
  const e = parseAddressExpr(text);
  if (e === null) throw new UsageError(`walk: --addr "${text}": expected an address such as 0x7f0000200000, or a name bound by mmap "as:" with an optional +/- size (buf+2M)`);
  let base: number;
  if (typeof e.base === "number") base = e.base;
  else {
    const names = r.names.get(pid);
    const a = names?.get(e.base);
    if (a === undefined) {
      const known = names === undefined || names.size === 0 ? "it has bound none" : `it has ${[...names.keys()].join(", ")}`;
      throw new UsageError(`walk: --addr "${text}": process ${pid} has no name "${e.base}": expected a name bound by mmap "as:" (${known})`);
    }
    base = a;
  }
  return resolveAddressExpr(e, base);
}

export const walkCommand: Command = {
  name: "walk",
  summary: "walk one address of a process level by level: raw entries, decoded bits, and the folio it reaches",
  description:
    "Runs a scenario (to its end, or to a checkpoint with --at), then walks the page tables of one process\n" +
    "at one address: each table's entry with its raw bits and the arch's decoding, where the walk ends\n" +
    "(leaf, softleaf, none), what the MMU makes of the access, and the folio reached with its order,\n" +
    "refcount, mapcounts and flags. Nothing is changed by the walk, not even accessed bits.",
  positionals: [SCENARIO_ARG],
  options: {
    pid: { type: "string", value: "PID", help: "the process (default: the only live one)" },
    addr: { type: "string", value: "ADDR", help: "the address: 0x7f0000200000, or a bound name with offsets (buf+2M+4K)" },
    ...AT_OPTION,
    write: { type: "boolean", help: "the MMU's view of a store (default: a load)" },
    exec: { type: "boolean", help: "the MMU's view of an instruction fetch" },
    fields: { type: "boolean", help: "print every named bit field of each entry under it" },
    json: { type: "boolean", help: "print the walk as JSON" },
    ...ARCH_OPTION,
    ...RUN_OPTIONS,
  },
  examples: ["hugemm walk pmd-thp --pid 1 --addr buf", "hugemm walk tour --at pud-thp --addr huge+4K --fields", "hugemm walk mthp-64k --arch arm64:4k --addr buf+64K --write", "hugemm walk fork-cow --pid 2 --addr buf --json"],
  run(a, ctx) {
    const addrText = str(a, "addr");
    if (addrText === undefined) throw new UsageError("walk: --addr is needed: expected an address such as 0x7f0000200000 or a bound name (buf+2M)");
    const r = runFromArgs("walk", a, ctx);
    if (r.violation !== undefined) {
      ctx.note(`the run stopped at step ${r.violation.step} on an invariant violation: ${r.violation.message}`);
      return EXIT_FAILED;
    }
    const { pid, mm } = processFromArgs("walk", a, r);
    const addr = addressFromArg(addrText, r, pid);
    let w;
    try {
      // Under the scenario's pid rather than the model's mm id.
      w = { ...walkAddress(r.kernel, mm, addr, { write: flag(a, "write"), exec: flag(a, "exec") }), pid };
    } catch (e) {
      if (e instanceof ModelInputError) throw new UsageError(`walk: --addr "${addrText}": ${e.message}`);
      throw e;
    }
    if (flag(a, "json")) ctx.io.stdout(`${JSON.stringify(w, null, 2)}\n`);
    else ctx.io.stdout(formatWalk(w, { fields: flag(a, "fields") }));
    return EXIT_OK;
  },
};
