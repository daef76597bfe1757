/** One map/touch/unmap cycle of kbench. */
export interface KbenchRep {
  readonly faultNs: number;
  readonly munmapNs: number;
  /** Minor faults the touch took (getrusage). */
  readonly minflt: number;
  /** Bytes of the range mapped huge (AnonHugePages), or -1 when smaps was unreadable. */
  readonly anonHugeBytes: number;
}

export type KbenchRun =
  | { readonly mode: "4k" | "thp"; readonly bytes: number; readonly reps: readonly KbenchRep[] }
  /** fork() of a process holding `bytes` of populated base pages. */
  | { readonly mode: "fork"; readonly bytes: number; readonly reps: readonly { readonly forkNs: number }[] }
  /** debugfs split_huge_pages over `bytes` of THPs: its time and the THPs it split; or skipped, with the reason. */
  | { readonly mode: "split"; readonly bytes: number; readonly skipped?: string; readonly reps: readonly { readonly splitNs: number; readonly split: number }[] }
  /** MADV_COLLAPSE of `bytes` written in base pages: its time and the bytes then mapped huge (AnonHugePages, or -1 when smaps was unreadable). */
  | { readonly mode: "collapse"; readonly bytes: number; readonly reps: readonly { readonly collapseNs: number; readonly anonHugeBytes: number }[] };

/** What kbench prints. */
export interface KbenchOutput {
  readonly pageSize: number;
  readonly pmdSize: number;
  /** /sys/kernel/mm/transparent_hugepage/enabled, or "" when absent. */
  readonly thpEnabled: string;
  readonly thpAvailable: boolean;
  readonly runs: readonly KbenchRun[];
}

type Json = Record<string, unknown>;

function field(o: Json, key: string, where: string, kind: "number" | "string" | "boolean" | "array"): unknown {
  const v = o[key];
  const ok = kind === "array" ? Array.isArray(v) : kind === "number" ? typeof v === "number" && Number.isFinite(v) : typeof v === kind;
  if (!ok) throw new Error(`kbench output: ${where}${key}: expected ${kind === "array" ? "an array" : `a ${kind}`}, got ${JSON.stringify(v)}`);
  return v;
}

function object(v: unknown, where: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`kbench output: ${where}: expected an object, got ${JSON.stringify(v)}`);
  return v as Json;
}

/** Parse and check kbench's JSON; errors name the field that is wrong. */
export function parseKbench(text: string): KbenchOutput {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`kbench output is not JSON (${(e as Error).message}): ${JSON.stringify(text.slice(0, 120))}`);
  }
  const o = object(raw, "top level");
  if (o.schema !== "hugemm-kbench/1") throw new Error(`kbench output: schema: expected "hugemm-kbench/1", got ${JSON.stringify(o.schema)}`);
  const runs = (field(o, "runs", "", "array") as unknown[]).map((r, i): KbenchRun => {
    const run = object(r, `runs[${i}]`);
    const mode = run.mode;
    const bytes = field(run, "bytes", `runs[${i}].`, "number") as number;
    const reps = (field(run, "reps", `runs[${i}].`, "array") as unknown[]).map((p, j) => ({ rep: object(p, `runs[${i}].reps[${j}]`), at: `runs[${i}].reps[${j}].` }));
    const positive = (v: number, what: string) => {
      if (!(v > 0)) throw new Error(`kbench output: runs[${i}]: ${what} must be positive, got ${v}`);
      return v;
    };
    if (mode === "split" && run.skipped !== undefined) {
      const skipped = field(run, "skipped", `runs[${i}].`, "string") as string;
      return { mode, bytes, skipped, reps: [] };
    }
    if (reps.length === 0) throw new Error(`kbench output: runs[${i}].reps: no repetitions`);
    if (mode === "fork") return { mode, bytes, reps: reps.map(({ rep, at }) => ({ forkNs: positive(field(rep, "fork_ns", at, "number") as number, "fork_ns") })) };
    if (mode === "split") {
      return { mode, bytes, reps: reps.map(({ rep, at }) => ({ splitNs: positive(field(rep, "split_ns", at, "number") as number, "split_ns"), split: field(rep, "split", at, "number") as number })) };
    }
    if (mode === "collapse") {
      return {
        mode,
        bytes,
        reps: reps.map(({ rep, at }, j) => {
          const collapseNs = field(rep, "collapse_ns", at, "number") as number;
          if (!(collapseNs > 0)) throw new Error(`kbench output: runs[${i}].reps[${j}].collapse_ns: expected a positive time for a collapse run, got ${collapseNs}`);
          return { collapseNs, anonHugeBytes: field(rep, "anon_huge_bytes", at, "number") as number };
        }),
      };
    }
    if (mode !== "4k" && mode !== "thp") throw new Error(`kbench output: runs[${i}].mode: expected "4k", "thp", "fork", "split" or "collapse", got ${JSON.stringify(mode)}`);
    return {
      mode,
      bytes,
      reps: reps.map(({ rep, at }, j): KbenchRep => {
        const faultNs = field(rep, "fault_ns", at, "number") as number;
        const munmapNs = field(rep, "munmap_ns", at, "number") as number;
        if (faultNs <= 0 || munmapNs <= 0) throw new Error(`kbench output: runs[${i}].reps[${j}]: times must be positive, got fault_ns ${faultNs}, munmap_ns ${munmapNs}`);
        return { faultNs, munmapNs, minflt: field(rep, "minflt", at, "number") as number, anonHugeBytes: field(rep, "anon_huge_bytes", at, "number") as number };
      }),
    };
  });
  return {
    pageSize: field(o, "page_size", "", "number") as number,
    pmdSize: field(o, "pmd_size", "", "number") as number,
    thpEnabled: field(o, "thp_enabled", "", "string") as string,
    thpAvailable: field(o, "thp_available", "", "boolean") as boolean,
    runs,
  };
}
