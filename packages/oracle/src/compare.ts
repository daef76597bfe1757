import { censusSummary } from "./census";
import type { CheckpointView, ProcView, RangeView, SideRun } from "./views";

/*
 * What is compared, and how (the package README explains each rule).
 *
 * - Per-process views are judged exactly: each named range's smaps entries
 *   (offsets from the name, perms, every field, VmFlags) and its per-page
 *   census, and the step outcomes (ok, errno, fault).
 * - status and smaps_rollup cover the whole process, which on the machine
 *   includes the executor's own code, stack and buffers: both are compared
 *   as the change from the process's baseline (taken before the scenario
 *   touched it; a forked child's is its parent's), and only the fields the
 *   executor's own memory leaves unchanged are judged.
 * - Global counters are judged only from one list of counters that no other
 *   process on an idle machine moves, each summed over the run's steps
 *   alone; the rest are shown, not judged.
 */

/** status fields judged as the change from the baseline. */
export const STATUS_JUDGED = ["RssAnon", "RssShmem", "VmPTE", "HugetlbPages"] as const;
/** status fields shown only, and why. */
export const STATUS_SHOWN: Readonly<Record<string, string>> = {
  RssFile: "counts the executor's own code, which a child faults back in after fork",
};

/** smaps_rollup fields judged as the change from the baseline. */
export const ROLLUP_JUDGED = ["Anonymous", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped", "Swap", "Shared_Hugetlb", "Private_Hugetlb"] as const;
const ROLLUP_SHOWN_WHY = "includes the executor's own pages, which fork shares and its code faults in";

/**
 * The global counters judged exactly: events only the workload's own
 * faults, splits and collapses move on an idle machine, and the hugetlb pool.
 */
export const JUDGED_VMSTAT = [
  "thp_fault_alloc",
  "thp_fault_fallback",
  "thp_fault_fallback_charge",
  "thp_collapse_alloc",
  "thp_collapse_alloc_failed",
  "thp_split_page",
  "thp_split_page_failed",
  "thp_deferred_split_page",
  "thp_split_pmd",
  "thp_scan_exceed_none_pte",
  "thp_scan_exceed_swap_pte",
  "thp_scan_exceed_share_pte",
] as const;
export const JUDGED_MEMINFO = ["HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"] as const;
export const JUDGED_GLOBALS: readonly string[] = [...JUDGED_VMSTAT, ...JUDGED_MEMINFO];

/** Global counters shown (their change over the interval), not judged: other processes and the kernel itself move them. */
export const SHOWN_GLOBALS: Readonly<Record<string, string>> = {
  pgfault: "every process's faults",
  nr_anon_pages: "every process's anonymous memory",
  nr_anon_transparent_hugepages: "every process's THPs",
  nr_page_table_pages: "every process's page tables",
  thp_zero_page_alloc: "the huge zero folio outlives a run until the shrinker frees it",
  "meminfo.AnonHugePages": "every process's THPs",
  "meminfo.MemFree": "the whole machine",
};

export interface FieldRow {
  readonly checkpoint: string;
  /** Scenario pid, or null for a global counter or a step. */
  readonly pid: number | null;
  /** "step", "status", "rollup", "smaps <name>", "census <name>", "global". */
  readonly view: string;
  readonly field: string;
  readonly model: string | number;
  readonly kernel: string | number;
  readonly judged: boolean;
  readonly equal: boolean;
  /** Why a shown field is not judged. */
  readonly why?: string;
}

const MISSING = "-";

function row(checkpoint: string, pid: number | null, view: string, field: string, model: string | number | undefined, kernel: string | number | undefined, judged: boolean, why?: string): FieldRow {
  const m = model ?? MISSING;
  const k = kernel ?? MISSING;
  return { checkpoint, pid, view, field, model: m, kernel: k, judged, equal: m === k, ...(why === undefined ? {} : { why }) };
}

type Baseline = { readonly status: Readonly<Record<string, number>>; readonly rollup: Readonly<Record<string, number>> };

/** A process's baseline: its own, or for a forked child the baseline of the process it descends from. */
function baselineOf(side: SideRun, pid: number): Baseline | undefined {
  let p: number | undefined = pid;
  for (let hops = 0; p !== undefined && hops < 1000; hops++) {
    const parent = side.parents.get(p);
    if (parent === undefined) return side.baselines.get(p);
    p = parent;
  }
  return undefined;
}

function delta(v: number | undefined, base: number | undefined): number | undefined {
  return v === undefined ? undefined : v - (base ?? 0);
}

/** Why a field of the kernel's views is not judged on this machine (machine-level actors), by field name. */
export type Unjudged = Readonly<Record<string, string>>;

/** The smaps fields a running DAMON monitor moves, and why. */
export const DAMON_UNJUDGED: Unjudged = {
  Referenced: "a running kdamond (DAMON, paddr) samples access bits: it clears young PTEs and marks folios young at times of its own",
};

function compareRange(cp: string, pid: number, name: string, m: RangeView | undefined, k: RangeView | undefined, rows: FieldRow[], unjudged: Unjudged): void {
  const view = `smaps ${name}`;
  const mv = m?.vmas ?? [];
  const kv = k?.vmas ?? [];
  rows.push(row(cp, pid, view, "VMAs", mv.length, kv.length, true));
  for (let i = 0; i < Math.max(mv.length, kv.length); i++) {
    const a = mv[i];
    const b = kv[i];
    const at = `[${i}] `;
    rows.push(row(cp, pid, view, `${at}range`, a && `${a.start}-${a.end}`, b && `${b.start}-${b.end}`, true));
    rows.push(row(cp, pid, view, `${at}perms`, a?.perms, b?.perms, true));
    const keys = new Set([...Object.keys(a?.fields ?? {}), ...Object.keys(b?.fields ?? {})]);
    for (const key of keys) rows.push(row(cp, pid, view, `${at}${key}`, a?.fields[key], b?.fields[key], unjudged[key] === undefined, unjudged[key]));
    rows.push(row(cp, pid, view, `${at}VmFlags`, a?.vmFlags, b?.vmFlags, true));
  }
  const mc = m?.census;
  const kc = k?.census;
  rows.push(row(cp, pid, `census ${name}`, "pages", mc, kc, true));
  if (mc !== undefined && kc !== undefined && mc !== kc) {
    const ms = censusSummary(mc);
    const ks = censusSummary(kc);
    for (const key of new Set([...Object.keys(ms), ...Object.keys(ks)])) rows.push(row(cp, pid, `census ${name}`, key, ms[key] ?? 0, ks[key] ?? 0, false, "a summary of the pages row"));
  }
}

/** Fields of a forked child's status and rollup shown, not judged, and why. */
export const FORKED_SHOWN: Readonly<Record<string, string>> = {
  RssAnon: "a forked child's own executor pages (stack, buffers it writes after the fork) vary by a page; its named ranges are judged exactly",
  Anonymous: "a forked child's own executor pages vary by a page; its named ranges are judged exactly",
};

function compareProc(cp: string, pid: number, m: ProcView | undefined, k: ProcView | undefined, model: SideRun, kernel: SideRun, rows: FieldRow[], unjudged: Unjudged): void {
  const mb = baselineOf(model, pid);
  const kb = baselineOf(kernel, pid);
  const forked = kernel.parents.has(pid) || model.parents.has(pid);
  const shownWhy = (f: string) => (forked ? FORKED_SHOWN[f] : undefined);
  for (const f of STATUS_JUDGED) rows.push(row(cp, pid, "status", f, delta(m?.status[f], mb?.status[f]), delta(k?.status[f], kb?.status[f]), shownWhy(f) === undefined, shownWhy(f)));
  for (const [f, why] of Object.entries(STATUS_SHOWN)) rows.push(row(cp, pid, "status", f, delta(m?.status[f], mb?.status[f]), delta(k?.status[f], kb?.status[f]), false, why));
  const judged = new Set<string>(ROLLUP_JUDGED);
  const keys = new Set([...Object.keys(m?.rollup ?? {}), ...Object.keys(k?.rollup ?? {})]);
  for (const f of keys) {
    const why = !judged.has(f) ? ROLLUP_SHOWN_WHY : shownWhy(f);
    rows.push(row(cp, pid, "rollup", f, delta(m?.rollup[f], mb?.rollup[f]), delta(k?.rollup[f], kb?.rollup[f]), why === undefined, why));
  }
  const names = new Set([...(m?.ranges.keys() ?? []), ...(k?.ranges.keys() ?? [])]);
  for (const name of [...names].sort()) compareRange(cp, pid, name, m?.ranges.get(name), k?.ranges.get(name), rows, unjudged);
}

function globalValue(v: CheckpointView, key: string): number | undefined {
  return key.startsWith("meminfo.") ? v.meminfo[key.slice(8)] : (v.vmstat[key] ?? v.meminfo[key]);
}

/** Steps that act on the whole machine: the global counters over an interval holding one are shown, not judged. */
export const MACHINE_WIDE_STEPS: Readonly<Record<string, string>> = {
  shrink: "drop_caches=2 runs every shrinker, on every process's THPs",
  compact: "compact_memory compacts every zone, for every process",
};

/**
 * Compare one checkpoint of both sides; `prev` are the previous checkpoints,
 * for the shown globals' change; `machineWide` says why the judged globals
 * are only shown (a machine-wide step in the interval), when one was run.
 */
export function compareCheckpoint(
  m: CheckpointView,
  k: CheckpointView,
  mPrev: CheckpointView | undefined,
  kPrev: CheckpointView | undefined,
  model: SideRun,
  kernel: SideRun,
  machineWide?: string,
  unjudged: Unjudged = {},
): FieldRow[] {
  const rows: FieldRow[] = [];
  const cp = m.name;
  const pids = new Set([...m.procs.keys(), ...k.procs.keys()]);
  for (const pid of [...pids].sort((a, b) => a - b)) compareProc(cp, pid, m.procs.get(pid), k.procs.get(pid), model, kernel, rows, unjudged);
  for (const key of JUDGED_GLOBALS) {
    const mv = m.judged[key];
    const why = mv === undefined ? "the model has no such counter" : machineWide;
    rows.push(row(cp, null, "global", key, mv, k.judged[key], why === undefined, why));
  }
  for (const [key, why] of Object.entries(SHOWN_GLOBALS)) {
    const d = (v: CheckpointView, p: CheckpointView | undefined) => {
      const now = globalValue(v, key);
      return now === undefined ? undefined : now - (p === undefined ? now : (globalValue(p, key) ?? 0));
    };
    rows.push(row(cp, null, "global", key, d(m, mPrev), d(k, kPrev), false, why));
  }
  return rows;
}

/** How the model's and the kernel's step outcomes compare, for the steps both ran. */
export function compareSteps(model: SideRun, kernel: SideRun, ops: readonly string[]): FieldRow[] {
  const rows: FieldRow[] = [];
  for (const [i, k] of [...kernel.steps].sort((a, b) => a[0] - b[0])) {
    if (i < 0 || k.outcome === "unsupported" || ops[i] === "checkpoint") continue;
    const m = model.steps.get(i);
    rows.push(row("steps", null, "step", `${i} ${ops[i] ?? "?"}`, m?.outcome, k.outcome, true));
  }
  return rows;
}

/** The judged-globals change of each model checkpoint from the one before (the first: from its own values, so 0). */
export function modelJudged(cps: readonly Omit<CheckpointView, "judged">[]): CheckpointView[] {
  return cps.map((c, i) => {
    const prev = cps[i - 1];
    const judged: Record<string, number> = {};
    for (const key of JUDGED_GLOBALS) {
      const now = c.vmstat[key] ?? c.meminfo[key];
      if (now === undefined) continue;
      judged[key] = prev === undefined ? 0 : now - (prev.vmstat[key] ?? prev.meminfo[key] ?? 0);
    }
    return { ...c, judged };
  });
}
