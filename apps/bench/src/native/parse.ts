/** One map/touch/unmap cycle of kbench. */
export interface KbenchRep {
  readonly faultNs: number;
  readonly munmapNs: number;
  /** The MADV_COLLAPSE of the whole range (mode "collapse"; 0 otherwise). */
  readonly collapseNs: number;
  /** Minor faults the touch took (getrusage). */
  readonly minflt: number;
  /** Bytes of the range mapped huge (AnonHugePages), or -1 when smaps was unreadable. */
  readonly anonHugeBytes: number;
}

export interface KbenchRun {
  readonly mode: "4k" | "thp" | "collapse";
  readonly bytes: number;
  readonly reps: readonly KbenchRep[];
}

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
    if (mode !== "4k" && mode !== "thp" && mode !== "collapse") throw new Error(`kbench output: runs[${i}].mode: expected "4k", "thp" or "collapse", got ${JSON.stringify(mode)}`);
    const reps = (field(run, "reps", `runs[${i}].`, "array") as unknown[]).map((p, j): KbenchRep => {
      const rep = object(p, `runs[${i}].reps[${j}]`);
      const at = `runs[${i}].reps[${j}].`;
      const faultNs = field(rep, "fault_ns", at, "number") as number;
      const munmapNs = field(rep, "munmap_ns", at, "number") as number;
      if (faultNs <= 0 || munmapNs <= 0) throw new Error(`kbench output: runs[${i}].reps[${j}]: times must be positive, got fault_ns ${faultNs}, munmap_ns ${munmapNs}`);
      const collapseNs = rep.collapse_ns === undefined ? 0 : (field(rep, "collapse_ns", at, "number") as number);
      if (mode === "collapse" && !(collapseNs > 0)) throw new Error(`kbench output: runs[${i}].reps[${j}].collapse_ns: expected a positive time for a collapse run, got ${collapseNs}`);
      return { faultNs, munmapNs, collapseNs, minflt: field(rep, "minflt", at, "number") as number, anonHugeBytes: field(rep, "anon_huge_bytes", at, "number") as number };
    });
    if (reps.length === 0) throw new Error(`kbench output: runs[${i}].reps: no repetitions`);
    return { mode, bytes: field(run, "bytes", `runs[${i}].`, "number") as number, reps };
  });
  return {
    pageSize: field(o, "page_size", "", "number") as number,
    pmdSize: field(o, "pmd_size", "", "number") as number,
    thpEnabled: field(o, "thp_enabled", "", "string") as string,
    thpAvailable: field(o, "thp_available", "", "boolean") as boolean,
    runs,
  };
}
