import { parseSize } from "@hugemm/core";
import type { Scenario } from "@hugemm/scenario";

/** Length of each name's mapping, by pid: what `as:` bound it to (mmap's len, mremap's newLen). */
export type NameLengths = Map<number, Map<string, number>>;

/**
 * The names' lengths right after step `upTo` (-1: before the first step),
 * replayed from the scenario: fork copies the parent's names, exit drops them.
 */
export function nameLengthsAt(s: Scenario, upTo: number): NameLengths {
  const out: NameLengths = new Map([[1, new Map()]]);
  for (let i = 0; i <= upTo && i < s.steps.length; i++) {
    const step = s.steps[i]!;
    const a = (step.arg ?? {}) as Record<string, unknown>;
    const pid = Number(a.pid);
    if ((step.op === "mmap" || step.op === "mremap") && a.as !== undefined) {
      const len = parseSize("len", (step.op === "mmap" ? a.len : a.newLen) as number | string);
      out.get(pid)?.set(String(a.as), len);
    } else if (step.op === "fork") {
      out.set(Number(a.child), new Map(out.get(pid)));
    } else if (step.op === "spawn") {
      out.set(pid, new Map());
    } else if (step.op === "exit") {
      out.delete(pid);
    }
  }
  return out;
}

/** Each forked process's parent, and the step index of every checkpoint by name ("start" -1, "end" the step count). */
export function scenarioShape(s: Scenario): { parents: Map<number, number>; checkpointStep: Map<string, number> } {
  const parents = new Map<number, number>();
  const checkpointStep = new Map<string, number>([["start", -1]]);
  s.steps.forEach((step, i) => {
    const a = (step.arg ?? {}) as Record<string, unknown>;
    if (step.op === "fork") parents.set(Number(a.child), Number(a.pid));
    if (step.op === "checkpoint") checkpointStep.set(String(step.arg), i);
  });
  checkpointStep.set("end", s.steps.length);
  return { parents, checkpointStep };
}
