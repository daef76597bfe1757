import { censusFromRecords } from "./census";
import type { CheckpointView, ProcView, RangeView, SideRun, StepView, VmaView } from "./views";

/** What the executor printed, parsed. */
export interface KernelOutput extends SideRun {
  /** Where the executor's arena starts (scenario mappings lie below it). */
  readonly arena: number;
  /** The error that stopped the executor, with the step it was at (-1: setup). */
  readonly fatal?: { readonly step: number; readonly message: string };
  /** Settings a killed earlier run left, put back before this one. */
  readonly recovered: readonly string[];
  readonly notes: readonly string[];
  /** Build options of the machine's kernel, as the executor saw them (softdirty: CONFIG_MEM_SOFT_DIRTY). */
  readonly build: Readonly<Record<string, number>>;
}

function int(s: string | undefined, what: string, line: string): number {
  const n = Number(s);
  if (s === undefined || !Number.isFinite(n)) throw new Error(`executor output: expected ${what} in "${line}"`);
  return n;
}

function vmaOf(rest: string[], line: string): VmaView {
  const fields: Record<string, number> = {};
  let vmFlags = "";
  for (const kv of rest.slice(3)) {
    const eq = kv.indexOf("=");
    const k = kv.slice(0, eq);
    if (k === "VmFlags") vmFlags = kv.slice(eq + 1);
    else fields[k] = int(kv.slice(eq + 1), `a number for ${k}`, line);
  }
  return { start: int(rest[0], "a start offset", line), end: int(rest[1], "an end offset", line), perms: rest[2] ?? "", fields, vmFlags };
}

interface ProcBuild {
  status: Record<string, number>;
  rollup: Record<string, number>;
  ranges: Map<string, { len: number; vmas: VmaView[]; census: string }>;
}

/** Parse the executor's stdout (the format in native/kexec.c's header). */
export function parseKernelOutput(text: string): KernelOutput {
  const checkpoints: CheckpointView[] = [];
  const steps = new Map<number, StepView>();
  const baselines = new Map<number, { status: Record<string, number>; rollup: Record<string, number> }>();
  const recovered: string[] = [];
  const notes: string[] = [];
  const build: Record<string, number> = {};
  let arena = 0;
  let fatal: KernelOutput["fatal"];
  let cp: { name: string; procs: Map<number, ProcBuild>; vmstat: Record<string, number>; meminfo: Record<string, number>; judged: Record<string, number> } | null = null;
  let proc: ProcBuild | null = null;
  let base: { status: Record<string, number>; rollup: Record<string, number> } | null = null;
  let range: { len: number; vmas: VmaView[]; census: string } | null = null;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const sp = line.indexOf(" ");
    const kind = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? [] : line.slice(sp + 1).split(" ");
    switch (kind) {
      case "arena":
        arena = parseInt(rest[0] ?? "0", 16);
        break;
      case "build":
        build[rest[0] ?? ""] = int(rest[1], "a value", line);
        break;
      case "recovered":
        recovered.push(rest.join(" "));
        break;
      case "note":
        notes.push(rest.join(" "));
        break;
      case "ok":
      case "err":
      case "fault":
      case "unsupported": {
        const index = int(rest[0], "a step index", line);
        const outcome = kind === "ok" ? "ok" : kind === "unsupported" ? "unsupported" : (rest[1] ?? kind);
        const detail = rest.slice(kind === "ok" || kind === "unsupported" ? 1 : 2).join(" ");
        // A set step writes several files: the first failure is the step's outcome.
        const prev = steps.get(index);
        if (prev === undefined || prev.outcome === "ok") steps.set(index, { index, outcome, ...(detail === "" ? {} : { detail }) });
        break;
      }
      case "fatal":
        fatal = { step: int(rest[0], "a step index", line), message: rest.slice(1).join(" ") };
        break;
      case "baseline":
        base = { status: {}, rollup: {} };
        baselines.set(int(rest[0], "a pid", line), base);
        proc = null;
        break;
      case "checkpoint":
        cp = { name: rest.join(" "), procs: new Map(), vmstat: {}, meminfo: {}, judged: {} };
        base = null;
        proc = null;
        break;
      case "proc":
        if (cp === null) throw new Error(`executor output: "${line}" outside a checkpoint`);
        proc = { status: {}, rollup: {}, ranges: new Map() };
        cp.procs.set(int(rest[0], "a pid", line), proc);
        break;
      case "status":
      case "rollup": {
        const target = proc ?? base;
        if (target === null) throw new Error(`executor output: "${line}" outside a process`);
        target[kind][rest[0] ?? ""] = int(rest[1], "a value", line);
        break;
      }
      case "range":
        if (proc === null) throw new Error(`executor output: "${line}" outside a process`);
        range = { len: int(rest[1], "a length", line), vmas: [], census: "" };
        proc.ranges.set(rest[0] ?? "", range);
        break;
      case "vma":
        if (range === null) throw new Error(`executor output: "${line}" outside a range`);
        range.vmas.push(vmaOf(rest.slice(1), line));
        break;
      case "census":
        if (range === null) throw new Error(`executor output: "${line}" outside a range`);
        range.census = censusFromRecords(rest[1] ?? "");
        break;
      case "judged":
      case "vmstat":
      case "meminfo":
        if (cp === null) throw new Error(`executor output: "${line}" outside a checkpoint`);
        cp[kind][rest[0] ?? ""] = int(rest[1], "a value", line);
        break;
      case "endcheckpoint":
        if (cp === null) throw new Error("executor output: endcheckpoint without a checkpoint");
        checkpoints.push({
          name: cp.name,
          procs: new Map([...cp.procs].map(([pid, p]): [number, ProcView] => [pid, { status: p.status, rollup: p.rollup, ranges: p.ranges as ReadonlyMap<string, RangeView> }])),
          vmstat: cp.vmstat,
          meminfo: cp.meminfo,
          judged: cp.judged,
        });
        cp = null;
        proc = null;
        range = null;
        break;
      case "done":
        break;
      default:
        throw new Error(`executor output: unknown record "${line}"`);
    }
  }
  return { arena, checkpoints, steps, baselines, parents: new Map(), recovered, notes, build, ...(fatal === undefined ? {} : { fatal }) };
}
