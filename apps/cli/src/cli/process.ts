import type { Mm } from "@hugemm/core";
import type { RunResult } from "@hugemm/scenario";
import { int, type ParsedArgs } from "./args";
import { UsageError } from "./errors";

/** Live processes named in the message: "1, 2" or "none is alive". */
function liveList(r: RunResult): string {
  return r.processes.size === 0 ? "none is alive" : [...r.processes.keys()].sort((x, y) => x - y).join(", ");
}

/** Why a process is not there, and how to see it: the checkpoints to stop at. */
function gone(cmd: string, r: RunResult, pid: number): UsageError {
  const cps = r.scenario.steps.filter((s) => s.op === "checkpoint").map((s) => String(s.arg));
  const hint = cps.length > 0 && r.stoppedAt === undefined ? `; to see it part-way, stop at a checkpoint with --at (${cps.join(", ")})` : "";
  return new UsageError(`${cmd}: --pid ${pid}: no live process ${pid} at the ${r.stoppedAt === undefined ? "end of the run" : `checkpoint "${r.stoppedAt}"`}: expected one of the live pids (${liveList(r)})${hint}`);
}

/** The process --pid names; without --pid, the only live process (an error when there are several or none). */
export function processFromArgs(cmd: string, a: ParsedArgs, r: RunResult): { pid: number; mm: Mm } {
  const pid = int(cmd, a, "pid", 1);
  if (pid !== undefined) {
    const mm = r.processes.get(pid);
    if (mm === undefined) throw gone(cmd, r, pid);
    return { pid, mm };
  }
  if (r.processes.size === 1) {
    const [only] = r.processes;
    return { pid: only![0], mm: only![1] };
  }
  if (r.processes.size === 0) throw gone(cmd, r, 1);
  throw new UsageError(`${cmd}: --pid is needed: the live processes are ${liveList(r)}`);
}

/** Processes for a view over several: --pid's, else every live one, by pid. */
export function processesFromArgs(cmd: string, a: ParsedArgs, r: RunResult): [number, Mm][] {
  if (a.values.pid !== undefined) {
    const p = processFromArgs(cmd, a, r);
    return [[p.pid, p.mm]];
  }
  if (r.processes.size === 0) throw gone(cmd, r, 1);
  return [...r.processes].sort((x, y) => x[0] - y[0]);
}
