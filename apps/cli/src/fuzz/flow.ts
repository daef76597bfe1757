import type { Step } from "@hugemm/scenario";

const PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_+\-|/.]*$/;
const YAML_WORDS = /^(true|false|null|yes|no|on|off|y|n|~)$/i;
/** What YAML 1.2 would read as a number rather than a string. */
const NUMERIC = /^([-+]?(\.\d+|\d+(\.\d*)?)([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/;

/** A value in YAML flow style as a scenario file writes it: plain scalars where YAML reads them back as the same string. */
export function flow(v: unknown): string {
  if (typeof v === "string") return PLAIN.test(v) && !YAML_WORDS.test(v) && !NUMERIC.test(v) ? v : JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return `[${v.map(flow).join(", ")}]`;
  const entries = Object.entries(v as Record<string, unknown>);
  return entries.length === 0 ? "{}" : `{ ${entries.map(([k, x]) => `${flow(k)}: ${flow(x)}`).join(", ")} }`;
}

/** One step on one line: "mmap: { pid: 1, as: m0, len: 2M, prot: rw, flags: private|anonymous }". */
export function stepLine(s: Step): string {
  return `${s.op}: ${flow(s.arg)}`;
}
