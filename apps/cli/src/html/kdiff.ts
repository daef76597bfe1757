import type { FieldRow, KdiffResult } from "@hugemm/oracle";
import { escapeHtml as h } from "./escape";

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:0 0 1.5em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;font-family:ui-monospace,monospace;font-size:12px}
th{background:#f3f3f3}tr.diff td{background:#fde2e2}tr.shown td{color:#777}.ok{color:#17702a}.bad{color:#b00020}
details{margin:0 0 1em}summary{cursor:pointer;font-weight:600}`;

function rowHtml(r: FieldRow): string {
  const cls = !r.judged ? "shown" : r.equal ? "" : "diff";
  const match = !r.judged ? `shown: ${r.why ?? "not judged"}` : r.equal ? "=" : "different";
  return `<tr class="${cls}"><td>${h(r.view)}</td><td>${h(r.field)}</td><td>${h(String(r.model))}</td><td>${h(String(r.kernel))}</td><td>${h(match)}</td></tr>`;
}

/** The kdiff report as one self-contained page: the summary, then per checkpoint and process every field, differences first and open. */
export function kdiffHtml(r: KdiffResult): string {
  const groups = new Map<string, FieldRow[]>();
  for (const x of r.rows) {
    const g = `${x.checkpoint}${x.pid === null ? "" : ` — pid ${x.pid}`}`;
    const list = groups.get(g) ?? [];
    list.push(x);
    groups.set(g, list);
  }
  const s = r.summary;
  const parts = [
    `<!doctype html><html><head><meta charset="utf-8"><title>kdiff ${h(r.scenario.name)}</title><style>${STYLE}</style></head><body>`,
    `<h1>kdiff ${h(r.scenario.name)}</h1><p>${h(r.scenario.file)}</p>`,
    `<p class="${s.different === 0 ? "ok" : "bad"}">${s.compared} fields compared: ${s.equal} equal, ${s.different} different; ${s.shown} shown, not judged</p>`,
  ];
  if (r.unsupported.length > 0) parts.push(`<h2>Steps the machine's kernel cannot run</h2><ul>${r.unsupported.map((u) => `<li>${h(u.step < 0 ? u.op : `step ${u.step} ${u.op} (line ${u.line})`)}: ${h(u.why)}</li>`).join("")}</ul>`);
  if (r.notCompared.length > 0) parts.push(`<p>Not compared: ${h(r.notCompared.join(", "))}</p>`);
  for (const [g, rows] of groups) {
    const bad = rows.filter((x) => x.judged && !x.equal).length;
    parts.push(`<details${bad > 0 ? " open" : ""}><summary>${h(g)}: ${bad === 0 ? "all equal" : `${bad} different`}</summary>`);
    parts.push(`<table><tr><th>view</th><th>field</th><th>model</th><th>kernel</th><th>match</th></tr>${rows.map(rowHtml).join("")}</table></details>`);
  }
  parts.push("</body></html>\n");
  return parts.join("\n");
}
