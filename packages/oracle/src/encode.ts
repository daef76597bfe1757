import { parseSize } from "@hugemm/core";
import { ADVICE, MAP_FLAGS, MREMAP_FLAGS, flagBits, parseAddressExpr, protBits, settingText, type Scenario, type Step } from "@hugemm/scenario";
import type { MachineProbe } from "./machine";

/**
 * The executor's step format: one line per step, "<index> <op> <args...>",
 * tokens separated by single spaces. Index -1 is setup (spawn, files,
 * settings and the judged-counter list), `steps.length` the end report.
 *
 *   I spawn PID                 I file NAME SIZE (a memfd)
 *   I set PATH VALUE            (a setting: saved, written, restored at exit)
 *   I poke PATH VALUE           (an action file: drop_caches, compact_memory)
 *   I judge KEY...              (global counters summed over steps)
 *   I report LABEL
 *   I mmap PID NAME|- ADDR LEN PROT FLAGS FILE|- OFFSET
 *   I munmap PID ADDR LEN       I mprotect PID ADDR LEN PROT
 *   I madvise PID ADDR LEN ADVICE
 *   I mremap PID NAME|- ADDR LEN NEWLEN FLAGS TO
 *   I touch PID ADDR LEN WRITE PATTERN
 *   I fork PID CHILD            I exit PID
 *
 * ADDR is "0", "=<hex>" (absolute) or "<name>[+|-<bytes>]" resolved by the
 * executor against the addresses the kernel returned for that name.
 */

/** A step the machine's kernel cannot run, and why. */
export interface Unsupported {
  /** The scenario step's index, or -1 for the scenario's settings and files. */
  readonly step: number;
  readonly line: number;
  readonly op: string;
  readonly why: string;
}

export interface Encoding {
  /** Executor lines for the steps before the first unsupported one. */
  readonly lines: string[];
  /** Every step the kernel cannot run; the kernel side stops at the first. */
  readonly unsupported: Unsupported[];
  /** Index of the first unsupported step (-1: the setup), or undefined when the whole scenario runs. */
  readonly stopAt: number | undefined;
}

/** Where the model's setting keys live on a machine, by prefix. */
export const SETTING_FILES: readonly (readonly [prefix: string, dir: string])[] = [
  ["transparent_hugepage/", "/sys/kernel/mm/transparent_hugepage/"],
  ["hugepages/", "/sys/kernel/mm/hugepages/"],
  ["vm/", "/proc/sys/vm/"],
];

/** The file a setting key is written to, or null when no kernel file corresponds. */
export function settingPath(key: string): string | null {
  for (const [prefix, dir] of SETTING_FILES) if (key.startsWith(prefix)) return dir + key.slice(prefix.length);
  return null;
}

/** Steps that change no kernel state: model-side checks. */
const MODEL_ONLY_CHECKS = new Set(["expect"]);

/** Why the executor does not run a step the scenario format has. */
const NOT_DRIVEN: Readonly<Record<string, string>> = {
  pin: "a model-only step: long-term pins need a driver (io_uring fixed buffers) the executor does not use",
  unpin: "a model-only step: long-term pins need a driver the executor does not use",
  pressure: "a model-only step: direct reclaim of a chosen number of pages cannot be asked of a running kernel",
  kswapd: "a model-only step: kswapd cannot be run on demand",
  migrate_finish: "a model-only step: a migration held behind migration entries cannot be held on a running kernel",
  split: "no /sys/kernel/debug/split_huge_pages (debugfs) driven by the executor",
};

/** Thrown for an argument the encoder cannot express; `kdiff` reports it as bad input. */
export class EncodeError extends Error {
  constructor(
    readonly step: number,
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = "EncodeError";
  }
}

function tok(v: string): string {
  if (!/^[A-Za-z0-9_./+=:-]+$/.test(v)) throw new RangeError(`cannot encode ${JSON.stringify(v)}: expected letters, digits and _./+=:-`);
  return v;
}

function addr(v: unknown): string {
  if (v === undefined) return "0";
  if (typeof v === "number") return v === 0 ? "0" : `=${v.toString(16)}`;
  const e = parseAddressExpr(String(v));
  if (e === null) throw new RangeError(`not an address: ${String(v)}`);
  if (typeof e.base === "number") return e.base + e.offset === 0 ? "0" : `=${(e.base + e.offset).toString(16)}`;
  return e.offset === 0 ? tok(e.base) : `${tok(e.base)}${e.offset > 0 ? "+" : "-"}${Math.abs(e.offset)}`;
}

function bytes(v: unknown, field: string): number {
  return parseSize(field, v as number | string);
}

type Arg = Record<string, unknown>;

/** The executor line of one step, or why it cannot run on this machine. */
function encodeStep(s: Scenario, i: number, step: Step, probe: MachineProbe): string | { why: string } | null {
  const a = (step.arg ?? {}) as Arg;
  const p = (k: string) => String(a[k] as number);
  switch (step.op) {
    case "mmap": {
      const file = a.file === undefined ? "-" : tok(String(a.file));
      return `${i} mmap ${p("pid")} ${a.as === undefined ? "-" : tok(String(a.as))} ${addr(a.addr)} ${bytes(a.len, "len")} ${protBits(a.prot as string)} ${flagBits(MAP_FLAGS, a.flags as string)} ${file} ${a.offset === undefined ? 0 : bytes(a.offset, "offset")}`;
    }
    case "munmap":
      return `${i} munmap ${p("pid")} ${addr(a.at)} ${bytes(a.len, "len")}`;
    case "mprotect":
      return `${i} mprotect ${p("pid")} ${addr(a.at)} ${bytes(a.len, "len")} ${protBits(a.prot as string)}`;
    case "madvise":
      return `${i} madvise ${p("pid")} ${addr(a.at)} ${bytes(a.len, "len")} ${ADVICE[String(a.advice)]!}`;
    case "pageout":
      if (s.machine.swap !== 0 && s.machine.swap !== "0" && !probe.swap) return { why: "no swap device: the model pages out to swap, the machine cannot" };
      return `${i} madvise ${p("pid")} ${addr(a.at)} ${bytes(a.len, "len")} ${ADVICE.pageout!}`;
    case "mremap": {
      const flags = a.flags === undefined ? 0 : flagBits(MREMAP_FLAGS, a.flags as string);
      return `${i} mremap ${p("pid")} ${a.as === undefined ? "-" : tok(String(a.as))} ${addr(a.at)} ${bytes(a.len, "len")} ${bytes(a.newLen, "newLen")} ${flags} ${addr(a.to)}`;
    }
    case "read":
      return `${i} touch ${p("pid")} ${addr(a.at)} ${bytes(a.len, "len")} 0 0`;
    case "write":
      return `${i} touch ${p("pid")} ${addr(a.at)} ${bytes(a.len, "len")} 1 ${p("pattern")}`;
    case "fork":
      return `${i} fork ${p("pid")} ${p("child")}`;
    case "spawn":
      return `${i} spawn ${p("pid")}`;
    case "exit":
      return `${i} exit ${p("pid")}`;
    case "checkpoint":
      return `${i} report ${tok(String(step.arg))}`;
    case "shrink":
      return `${i} poke /proc/sys/vm/drop_caches 2`;
    case "compact":
      return `${i} poke /proc/sys/vm/compact_memory 1`;
    case "set": {
      const lines: string[] = [];
      for (const [key, v] of Object.entries(a)) {
        const r = settingLine(i, key, settingText(v as string | number | boolean), probe);
        if (typeof r !== "string") return r;
        lines.push(r);
      }
      return lines.join("\n");
    }
    case "migrate": {
      const node = Number(a.node);
      return { why: probe.nodes > node ? "the executor does not drive move_pages" : `no NUMA node ${node}: the machine has ${probe.nodes === 1 ? "one node" : `${probe.nodes} nodes`}` };
    }
    default:
      if (MODEL_ONLY_CHECKS.has(step.op)) return null;
      return { why: NOT_DRIVEN[step.op] ?? `the executor has no step "${step.op}" (a feature package's step, not yet driven on the kernel)` };
  }
}

function settingLine(i: number, key: string, value: string, probe: MachineProbe): string | { why: string } {
  const path = settingPath(key);
  if (path === null) return { why: `a model-only setting: no kernel file for "${key}"` };
  if (!probe.exists(path)) return { why: `no such file ${path} on this kernel (setting "${key}")` };
  if (!probe.root) return { why: `not root: writing ${path} needs root` };
  return `${i} set ${tok(path)} ${tok(value)}`;
}

/** The global counters judged exactly (see compare.ts), sent to the executor so it sums them over the steps alone. */
export function judgeLine(keys: readonly string[]): string {
  return `-1 judge ${keys.map(tok).join(" ")}`;
}

/**
 * The executor lines for a scenario: setup (files, pid 1, settings), each
 * step, and the start and end reports. The kernel side stops before the
 * first step it cannot run; later checkpoints are not compared.
 */
export function encodeScenario(s: Scenario, probe: MachineProbe, judged: readonly string[]): Encoding {
  const lines: string[] = [judgeLine(judged)];
  const unsupported: Unsupported[] = [];
  let stopAt: number | undefined;
  const stop = (step: number, line: number, op: string, why: string) => {
    unsupported.push({ step, line, op, why });
    stopAt ??= step;
  };
  for (const [name, f] of Object.entries(s.files)) {
    if (f.shmem !== true) stop(-1, 0, "files", `file "${name}": a regular file's page cache holds whatever earlier runs left; only shmem files (memfd) are run on the kernel`);
    else lines.push(`-1 file ${tok(name)} ${bytes(f.size, "size")}`);
  }
  lines.push("-1 spawn 1");
  for (const [key, value] of s.settings) {
    const r = settingLine(-1, key, value, probe);
    if (typeof r === "string") lines.push(r);
    else stop(-1, 0, "settings", r.why);
  }
  if (stopAt === undefined) lines.push("-1 report start");
  s.steps.forEach((step, i) => {
    let r: string | { why: string } | null;
    try {
      r = encodeStep(s, i, step, probe);
    } catch (e) {
      throw new EncodeError(i, step.line, `${s.file}:${step.line}: ${step.op}: ${(e as Error).message}`);
    }
    if (r === null) return;
    if (typeof r === "string") {
      if (stopAt === undefined) lines.push(r);
    } else stop(i, step.line, step.op, r.why);
  });
  if (stopAt === undefined) lines.push(`${s.steps.length} report end`);
  return { lines, unsupported, stopAt };
}
