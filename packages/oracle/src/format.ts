import type { FieldRow } from "./compare";
import type { KdiffResult } from "./kdiff";

export interface FormatOptions {
  /** Print every compared field, not only the differences (default: differences and shown fields of differing views). */
  readonly all?: boolean;
}

function cell(v: string | number, width: number): string {
  const s = String(v);
  return s.length > width ? `${s.slice(0, width - 1)}…` : s.padEnd(width);
}

/** The text report: per checkpoint and process, each field as model / kernel / match, then the summary. */
export function formatKdiff(r: KdiffResult, opts: FormatOptions = {}): string {
  const out: string[] = [`kdiff ${r.scenario.name} (${r.scenario.file})`];
  let group = "";
  const rows = opts.all === true ? r.rows : r.rows.filter((x) => x.judged && !x.equal);
  for (const x of rows) {
    const g = `${x.checkpoint}${x.pid === null ? "" : ` pid ${x.pid}`}`;
    if (g !== group) {
      out.push(`\n== ${g}`);
      out.push(`   ${cell("view", 18)} ${cell("field", 24)} ${cell("model", 28)} ${cell("kernel", 28)} match`);
      group = g;
    }
    const match = !x.judged ? `shown (${x.why ?? "not judged"})` : x.equal ? "=" : "DIFFERENT";
    out.push(`   ${cell(x.view, 18)} ${cell(x.field, 24)} ${cell(x.model, 28)} ${cell(x.kernel, 28)} ${match}`);
    if (x.judged && !x.equal && String(x.model).length > 28) out.push(`      model:  ${x.model}\n      kernel: ${x.kernel}`);
  }
  const s = r.summary;
  out.push("");
  out.push(`${s.compared} fields compared: ${s.equal} equal, ${s.different} different; ${s.shown} shown, not judged`);
  if (r.notCompared.length > 0) out.push(`not compared (after a step the kernel cannot run): ${r.notCompared.join(", ")}`);
  for (const u of r.unsupported) out.push(`unsupported: ${u.step < 0 ? u.op : `step ${u.step} ${u.op} (line ${u.line})`}: ${u.why}`);
  for (const n of r.kernel.notes) out.push(`note: ${n}`);
  for (const n of r.kernel.recovered) out.push(`recovered from a killed run: ${n}`);
  return out.join("\n");
}

export interface KdiffJson {
  readonly scenario: string;
  readonly file: string;
  readonly summary: KdiffResult["summary"];
  readonly unsupported: KdiffResult["unsupported"];
  readonly notCompared: readonly string[];
  readonly rows: readonly FieldRow[];
}

export function kdiffJson(r: KdiffResult): KdiffJson {
  return { scenario: r.scenario.name, file: r.scenario.file, summary: r.summary, unsupported: r.unsupported, notCompared: r.notCompared, rows: r.rows };
}
