import { chartAssets } from "./assets";
import { CLIENT_SCRIPT } from "./client";
import { escapeHtml, inlineScript, jsonForScript } from "./escape";
import type { ArchColumn, HtmlReport } from "./model";
import { addressColumn } from "./render-address";
import { physColumn } from "./render-phys";
import { counterTable, expectTable, summaryTable } from "./render-tables";
import { reportCss } from "./style";

function cols(report: HtmlReport, fn: (c: ArchColumn, ci: number, showHeading: boolean) => string): string {
  const show = report.columns.length > 1 || report.mode === "compare";
  return `<div class="cols" style="--n:${report.columns.length}">${report.columns.map((c, i) => fn(c, i, show)).join("")}</div>`;
}

function counterNames(report: HtmlReport): string[] {
  const names = new Set<string>();
  for (const c of report.columns) for (const cp of c.checkpoints) for (const n of Object.keys(cp.counters)) names.add(n);
  return [...names].sort();
}

function counterSection(report: HtmlReport): string {
  // The defaults head the list in their own order; the script charts picked options in list order.
  const chosen = new Set(report.defaultCounters);
  const names = [...report.defaultCounters, ...counterNames(report).filter((n) => !chosen.has(n))];
  const options = names.map((n) => `<option value="${escapeHtml(n)}"${chosen.has(n) ? " selected" : ""}>${escapeHtml(n)}</option>`).join("");
  const picker =
    `<div class="picker"><div><label for="counter-pick">Counters to chart (Ctrl or Shift to pick several)</label><br>` +
    `<select id="counter-pick" multiple size="10">${options}</select></div>` +
    `<div><label for="counter-filter">Filter the list</label><br><input id="counter-filter" type="search" placeholder="thp_, pgfault, ..."></div></div>`;
  const charts = cols(report, (c, ci, show) => {
    const heading = show ? `<h3>${escapeHtml(c.archId)}</h3>` : "";
    return `<div class="col">${heading}<div class="chart" id="chart-${ci}" data-drawn="0"></div>${counterTable(c, ci, report.defaultCounters)}</div>`;
  });
  return `${picker}${charts}`;
}

function clientData(report: HtmlReport): unknown {
  return {
    defaults: report.defaultCounters,
    columns: report.columns.map((c) => ({ archId: c.archId, checkpoints: c.checkpoints })),
  };
}

/**
 * The whole report as one self-contained HTML file: styles, data, uPlot and
 * the page's script inline, nothing fetched. The maps and tables are static
 * HTML and SVG; only the counter charts need the script.
 */
export function renderHtml(report: HtmlReport): string {
  const assets = chartAssets();
  const maxOrder = Math.max(0, ...report.columns.map((c) => c.maxOrder));
  const compare = report.mode === "compare";
  const arches = report.columns.map((c) => `${c.archId} (${c.archDescription}, seed ${c.seed})`).join("; ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="hugemm">
<title>${escapeHtml(report.title)}</title>
<style>${assets.style}</style>
<style>${reportCss(maxOrder)}</style>
</head>
<body>
<header>
<h1>${escapeHtml(report.title)}</h1>
<p class="meta">Scenario <strong>${escapeHtml(report.scenarioName)}</strong> on ${escapeHtml(arches)}.</p>
<nav aria-label="sections"><ul><li><a href="#key-numbers">Key numbers</a></li><li><a href="#address-space">Address space</a></li><li><a href="#physical-memory">Physical memory</a></li><li><a href="#counters">Counters</a></li><li><a href="#expects">Expectations</a></li></ul></nav>
</header>
<main>
<section id="key-numbers"><h2>${compare ? "Comparison" : "Key numbers"}</h2>${summaryTable(report.columns, compare)}</section>
<section id="address-space"><h2>Address space by mapping size</h2><p class="note">Each VMA is a bar, runs in proportion to their size (at least one pixel); unmapped holes between VMAs are compressed to a line. Hover a run for its range, size and folio order.</p>${cols(report, (c, _i, show) => addressColumn(c, show))}</section>
<section id="physical-memory"><h2>Physical memory by free order and use</h2><p class="note">Each zone of each node is a strip in pfn order. Hover a cell for its pfns and use.</p>${cols(report, (c, _i, show) => physColumn(c, show))}</section>
<section id="counters"><h2>Counters across checkpoints</h2>${counterSection(report)}</section>
<section id="expects"><h2>Expectations</h2>${cols(report, (c, _i, show) => expectTable(c, show))}</section>
</main>
<script type="application/json" id="hugemm-data">${jsonForScript(clientData(report))}</script>
<script>${inlineScript(assets.script)}</script>
<script>${inlineScript(CLIENT_SCRIPT)}</script>
</body>
</html>
`;
}
