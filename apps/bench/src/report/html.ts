import { sizeLabel } from "../footprint/sizes";
import { bytes, si, times } from "./format";
import type { BenchReport } from "./json";
import { KERNEL_PAIRS } from "./metrics";
import { barChartSvg, esc, lineChartSvg, type Bar } from "./svg";
import { perOp } from "./table";

const COLORS: Readonly<Record<string, string>> = { "4k": "#1f77b4", pmd: "#d62728", pud: "#2ca02c" };
const KIND_LABEL: Readonly<Record<string, string>> = { "4k": "bytes per 4K page", pmd: "bytes per PMD THP", pud: "bytes per PUD THP" };

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:64em;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}table{border-collapse:collapse;margin:.5em 0}
td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}
td.t,th.t{text-align:left}.met{color:#217a21}.missed{color:#b22222}.nm{color:#777}dl{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em}
dt{font-weight:600}dd{margin:0}svg{max-width:100%;height:auto;font-size:12px}svg .title{font-size:14px;font-weight:600}
svg .plot{fill:#fafafa;stroke:#999}svg .grid{stroke:#e3e3e3}svg .ref{stroke:#555;stroke-dasharray:5 4}svg .reflabel{fill:#555}
svg .good{fill:#5fa35f}svg .bad{fill:#d9534f}code{font-size:.95em}`;

/** Axis ticks on decades: 10 B, 1 kB, 100 kB. */
function decimalBytes(y: number): string {
  return y >= 1e6 ? `${y / 1e6} MB` : y >= 1e3 ? `${y / 1e3} kB` : `${y} B`;
}

/** A bar per target: how far the figure is from it (right of the line: met). */
function targetBars(r: BenchReport): Bar[] {
  return r.targets
    .filter((t) => t.measured !== undefined && t.measured > 0)
    .map((t) => ({ label: t.metric, value: t.op === ">=" ? t.measured! / t.value : t.value / t.measured!, text: t.text, good: t.state === "met" }));
}

function ratioBars(r: BenchReport): Bar[] {
  return KERNEL_PAIRS.filter((w) => r.metrics[`ratio.${w}`] !== undefined).map((w) => {
    const v = r.metrics[`ratio.${w}`]!;
    return { label: w, value: v, text: `${times(v)} the kernel`, good: v >= 1 };
  });
}

function table(head: readonly string[], rows: readonly (readonly string[])[], textCols: readonly number[] = []): string {
  const th = head.map((h, i) => `<th${textCols.includes(i) ? ' class="t"' : ""}>${esc(h)}</th>`).join("");
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${textCols.includes(i) ? ' class="t"' : ""}>${c}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

function stateClass(state: string): string {
  return state === "met" ? "met" : state === "missed" ? "missed" : "nm";
}

/** The report as one self-contained HTML page: machine, targets, charts of the scaling and the throughput, tables. */
export function renderHtml(r: BenchReport): string {
  const m = r.machine;
  const thp = m.thp === null ? "unreadable" : Object.entries(m.thp).map(([k, v]) => `${k}: ${v}`).join("; ");
  const machine = [
    ["CPU", `${m.cpuModel} (${m.cpus} cores, ${m.cpuArch})`],
    ["memory", bytes(m.memoryBytes)],
    ["OS kernel", `${m.platform} ${m.kernel}`],
    ["Node.js / V8", `${m.node} / ${m.v8}`],
    ["THP", thp],
    ["C compiler", m.cc ?? "none"],
    ["model", m.model],
  ];
  const parts: string[] = [];
  parts.push(`<h1>hugemm benchmark: ${esc(r.mode)} mode</h1>`, `<p>${esc(r.date)}, ${r.durationSeconds.toFixed(0)} s${r.only ? `, only ${esc(r.only.join(", "))}` : ""}</p>`);
  parts.push(`<dl>${machine.map(([k, v]) => `<dt>${esc(k!)}</dt><dd>${esc(v!)}</dd>`).join("")}</dl>`);
  parts.push(`<h2>Targets</h2>`);
  parts.push(table(["target", "metric", "status"], r.targets.map((t) => [esc(t.what), `<code>${esc(t.metric)}</code>`, `<span class="${stateClass(t.state)}">${esc(t.text)}</span>`]), [0, 1, 2]));
  if (r.mode === "quick") parts.push(`<p>Quick mode runs small sizes: the targets are for full mode.</p>`);
  const bars = targetBars(r);
  if (bars.length > 0) parts.push(barChartSvg("Throughput and footprint against the targets (right of the line: met)", bars, "target"));
  const ratios = ratioBars(r);
  if (ratios.length > 0) parts.push(barChartSvg("The model against the machine's kernel, same run", ratios, "parity"));
  const k = r.kernel;
  parts.push(`<h2>The machine's kernel</h2>`);
  parts.push(k.status === "measured" ? `<ul>${(k.notes ?? []).map((x) => `<li>${esc(x)}</li>`).join("")}<li>compiler: ${esc(k.compiler ?? "")}</li></ul>` : `<p>${esc(k.status)}${k.reason ? `: ${esc(k.reason)}` : ""}</p>`);

  if (r.footprint !== null && r.footprint.points.length > 0) {
    const pts = r.footprint.points;
    parts.push(`<h2>Heap footprint</h2>`, `<p>${esc(r.footprint.method)}</p>`);
    const series = (["4k", "pmd", "pud"] as const)
      .map((kind) => ({ name: KIND_LABEL[kind]!, color: COLORS[kind]!, points: pts.filter((p) => p.kind === kind).map((p) => [p.mappedBytes, p.bytesPerUnit] as const) }))
      .filter((s) => s.points.length > 0);
    parts.push(lineChartSvg({ title: "Model heap per mapped page or folio against memory size", xLabel: "memory mapped", yLabel: "heap bytes per unit (log)", series, xTick: sizeLabel, yTick: decimalBytes, yValue: bytes, refs: [{ y: 32, label: "target: 32 B per 4K page" }] }));
    const sizes = [...new Set(pts.map((p) => p.mappedBytes))].sort((a, b) => a - b);
    parts.push(
      table(
        ["heap per", ...sizes.map(sizeLabel)],
        (["4k", "pmd", "pud"] as const)
          .filter((kind) => pts.some((p) => p.kind === kind))
          .map((kind) => [esc(KIND_LABEL[kind]!), ...sizes.map((s) => pts.find((p) => p.kind === kind && p.mappedBytes === s)).map((p) => (p ? esc(bytes(p.bytesPerUnit)) : ""))]),
      ),
    );
  }

  parts.push(`<h2>Throughput</h2>`);
  const rows = r.measurements.map((x) => [`<code>${esc(x.name)}</code>`, si(x.opsPerSecond.median), si(x.opsPerSecond.min), si(x.opsPerSecond.max), esc(perOp(x.nsPerOp.median)), esc(`${x.unit}/s`)]);
  for (const w of KERNEL_PAIRS) {
    const v = r.metrics[`ratio.${w}`];
    const g = r.ranges[`ratio.${w}`];
    if (v !== undefined) rows.push([`<code>ratio.${esc(w)}</code>`, times(v), g ? times(g.min) : "", g ? times(g.max) : "", "", "model/kernel"]);
  }
  parts.push(table(["workload", "median", "min", "max", "per op", "unit"], rows, [5]));
  if (r.missing.length > 0) parts.push(`<p class="missed">Metrics not produced: ${esc(r.missing.join(", "))}</p>`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hugemm benchmark (${esc(r.mode)}, ${esc(r.date)})</title>
<style>${CSS}</style>
</head>
<body>
${parts.join("\n")}
</body>
</html>
`;
}
