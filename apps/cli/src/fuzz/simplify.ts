import type { Step } from "@hugemm/scenario";
import { addrText, nameOffset, sizeOf, sizeText } from "./text";

/** What the simplifications need to know about the arch: lengths stay whole pages, offsets land on PMD boundaries. */
export interface Units {
  readonly pageSize: number;
  readonly pmdSize: number;
}

type Arg = Record<string, unknown>;

const isArg = (v: unknown): v is Arg => v !== null && typeof v === "object" && !Array.isArray(v);

/** Smaller lengths: one page, one PMD, half (in whole pages). */
function shorter(len: number, u: Units): number[] {
  const unit = Math.max(4096, u.pageSize);
  const half = Math.floor(len / 2 / unit) * unit;
  return [unit, u.pmdSize, half].filter((n, i, all) => n >= unit && n < len && all.indexOf(n) === i);
}

/** Addresses nearer their name: the name itself, the PMD boundary below, half the offset (in whole pages). */
function nearer(v: unknown, u: Units): string[] {
  const e = nameOffset(v);
  if (e === null || e.offset <= 0) return [];
  const unit = Math.max(4096, u.pageSize);
  const offs = [0, Math.floor(e.offset / u.pmdSize) * u.pmdSize, Math.floor(e.offset / 2 / unit) * unit];
  return offs.filter((o, i, all) => o < e.offset && all.indexOf(o) === i).map((o) => addrText(e.name, o, u.pmdSize));
}

function without(a: Arg, ...keys: string[]): Arg {
  const out = { ...a };
  for (const k of keys) delete out[k];
  return out;
}

/** A flag set written "a|b|c" without `flag`, or null when it has no such flag. */
function dropFlag(flags: unknown, flag: string): string | null {
  if (typeof flags !== "string") return null;
  const parts = flags.split("|");
  if (!parts.includes(flag)) return null;
  return parts.filter((p) => p !== flag).join("|");
}

/** mmap flags that change how, not what, is mapped. */
const MMAP_EXTRA = ["populate", "noreserve", "stack", "growsdown", "fixed_noreplace", "fixed"];

function mmapArgs(a: Arg): Arg[] {
  const out: Arg[] = [];
  // Anonymous memory of the same type instead of a file: no file to declare.
  if ("file" in a && typeof a.flags === "string") out.push({ ...without(a, "file", "offset"), flags: `${a.flags.replace("shared_validate", "shared")}|anonymous` });
  for (const f of MMAP_EXTRA) {
    const flags = dropFlag(a.flags, f);
    if (flags === null) continue;
    // Without MAP_FIXED the address is only a hint: leave it out.
    out.push(f === "fixed" || f === "fixed_noreplace" ? { ...without(a, "addr"), flags } : { ...a, flags });
  }
  if (typeof a.flags === "string" && a.flags.includes("shared_validate")) out.push({ ...a, flags: a.flags.replace("shared_validate", "shared") });
  if ("offset" in a) out.push(without(a, "offset"));
  return out;
}

function mremapArgs(a: Arg): Arg[] {
  const out: Arg[] = [];
  if (a.flags !== undefined) out.push(without(a, "flags", "to"));
  const nodontunmap = dropFlag(a.flags, "dontunmap");
  if (nodontunmap !== null) out.push({ ...a, flags: nodontunmap });
  const nofixed = dropFlag(a.flags, "fixed");
  if (nofixed !== null) out.push({ ...without(a, "to"), flags: nofixed });
  return out;
}

/** Argument changes of one kind of step: fewer flags and options, defaults for counts. */
function opArgs(op: string, a: Arg): Arg[] {
  switch (op) {
    case "mmap":
      return mmapArgs(a);
    case "mremap":
      return mremapArgs(a);
    case "pin":
      return ["longterm", "write"].filter((k) => k in a).map((k) => without(a, k));
    case "migrate":
      return "hold" in a ? [without(a, "hold")] : [];
    case "split":
      return ["offset", "order"].filter((k) => k in a).map((k) => without(a, k));
    case "pressure": {
      const out = "node" in a ? [without(a, "node")] : [];
      const pages = typeof a.pages === "number" ? a.pages : 0;
      for (const p of [16, Math.floor(pages / 2)]) if (p >= 1 && p < pages) out.push({ ...a, pages: p });
      return out;
    }
    case "kswapd":
      return "node" in a ? [without(a, "node")] : [];
    case "set": {
      const keys = Object.keys(a);
      return keys.length > 1 ? keys.map((k) => ({ [k]: a[k] })) : [];
    }
    default:
      return [];
  }
}

/** A protection without exec ("rwx" to "rw", "x" to "none"). */
function plainerProt(v: unknown): string | null {
  if (typeof v !== "string" || !v.includes("x")) return null;
  return v.replace("x", "") || "none";
}

/**
 * The steps without the fork or spawn at `i`, its process's later steps
 * done by the parent (process 1 for a spawn) instead: one process fewer.
 * Null when step `i` makes no process.
 */
export function mergeProcess(steps: readonly Step[], i: number): Step[] | null {
  const s = steps[i];
  if (s === undefined || !isArg(s.arg)) return null;
  const a = s.arg;
  const from = s.op === "fork" ? a.child : s.op === "spawn" ? a.pid : undefined;
  const into = s.op === "fork" ? a.pid : 1;
  if (typeof from !== "number" || typeof into !== "number" || from === into) return null;
  const rename = (x: Step): Step => {
    if (!isArg(x.arg)) return x;
    const b = { ...x.arg };
    for (const f of ["pid", "child"]) if (b[f] === from) b[f] = into;
    return { ...x, arg: b };
  };
  return [...steps.slice(0, i), ...steps.slice(i + 1).map(rename)];
}

/**
 * Simpler versions of a step's argument, the boldest first: fewer flags and
 * options, then shorter lengths (whole pages), then addresses nearer the
 * name they are written against.
 */
export function simplerArgs(s: Step, u: Units): unknown[] {
  const a = s.arg;
  if (!isArg(a)) return [];
  const out: unknown[] = opArgs(s.op, a);
  const prot = plainerProt(a.prot);
  if (prot !== null) out.push({ ...a, prot });
  for (const field of ["len", "newLen"]) {
    const len = sizeOf(a[field]);
    if (len !== null) for (const n of shorter(len, u)) out.push({ ...a, [field]: sizeText(n) });
  }
  for (const field of ["at", "addr", "to"]) for (const v of nearer(a[field], u)) out.push({ ...a, [field]: v });
  return out;
}
