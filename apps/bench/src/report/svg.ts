/** Inline SVG charts for the HTML report: no library, no external resource. */

export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function n(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Tick labels of the log2 x axis. */
  readonly xTick: (x: number) => string;
  readonly yTick: (y: number) => string;
  /** A point's value in its tooltip (default: as a tick). */
  readonly yValue?: (y: number) => string;
  /** Horizontal reference lines (targets). */
  readonly refs?: readonly { readonly y: number; readonly label: string }[];
}

const W = 860;
const H = 400;
const M = { l: 80, r: 190, t: 36, b: 48 };

/** Log-log line chart: x doubles per tick (memory size), y on decades (bytes). */
export function lineChartSvg(c: LineChart): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0])).filter((x) => x > 0);
  const ys = [...c.series.flatMap((s) => s.points.map((p) => p[1])), ...(c.refs ?? []).map((r) => r.y)].filter((y) => y > 0);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(c.title)}">`, `<title>${esc(c.title)}</title>`];
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" class="title">${esc(c.title)}</text>`);
  if (xs.length === 0 || ys.length === 0) {
    out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text></svg>`);
    return out.join("\n");
  }
  const x0 = Math.floor(Math.log2(Math.min(...xs)));
  const x1 = Math.max(x0 + 1, Math.ceil(Math.log2(Math.max(...xs))));
  const y0 = Math.floor(Math.log10(Math.min(...ys)));
  const y1 = Math.max(y0 + 1, Math.ceil(Math.log10(Math.max(...ys))));
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const px = (x: number) => M.l + ((Math.log2(x) - x0) / (x1 - x0)) * pw;
  const py = (y: number) => M.t + ph - ((Math.log10(y) - y0) / (y1 - y0)) * ph;
  out.push(`<rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}" class="plot"/>`);
  for (let e = x0; e <= x1; e++) {
    const x = px(2 ** e);
    out.push(`<line x1="${n(x)}" y1="${M.t}" x2="${n(x)}" y2="${M.t + ph}" class="grid"/>`, `<text x="${n(x)}" y="${M.t + ph + 16}" text-anchor="middle">${esc(c.xTick(2 ** e))}</text>`);
  }
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    out.push(`<line x1="${M.l}" y1="${n(y)}" x2="${M.l + pw}" y2="${n(y)}" class="grid"/>`, `<text x="${M.l - 6}" y="${n(y + 4)}" text-anchor="end">${esc(c.yTick(10 ** e))}</text>`);
  }
  out.push(`<text x="${M.l + pw / 2}" y="${H - 10}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${M.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  for (const r of c.refs ?? []) {
    const y = py(r.y);
    out.push(`<line x1="${M.l}" y1="${n(y)}" x2="${M.l + pw}" y2="${n(y)}" class="ref"/>`, `<text x="${M.l + pw - 4}" y="${n(y - 4)}" text-anchor="end" class="reflabel">${esc(r.label)}</text>`);
  }
  c.series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[0] > 0 && p[1] > 0);
    out.push(`<g class="series" data-series="${esc(s.name)}">`);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${esc(s.color)}" stroke-width="2" points="${pts.map((p) => `${n(px(p[0]))},${n(py(p[1]))}`).join(" ")}"/>`);
    for (const p of pts) out.push(`<circle cx="${n(px(p[0]))}" cy="${n(py(p[1]))}" r="3.5" fill="${esc(s.color)}"><title>${esc(`${s.name} at ${c.xTick(p[0])}: ${(c.yValue ?? c.yTick)(p[1])}`)}</title></circle>`);
    out.push(`</g>`);
    const ly = M.t + 14 + i * 20;
    out.push(`<line x1="${W - M.r + 12}" y1="${ly - 4}" x2="${W - M.r + 32}" y2="${ly - 4}" stroke="${esc(s.color)}" stroke-width="2"/>`, `<text x="${W - M.r + 38}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push(`</svg>`);
  return out.join("\n");
}

export interface Bar {
  readonly label: string;
  /** Drawn on a log axis; 1 is the reference line. */
  readonly value: number;
  readonly text: string;
  readonly good: boolean;
}

/** Horizontal bars on a log axis around a reference at 1 (the target, or parity with the kernel). */
export function barChartSvg(title: string, bars: readonly Bar[], refLabel: string): string {
  const rowH = 26;
  const labelW = 210;
  const textW = 340;
  const h = 50 + bars.length * rowH + 30;
  const pw = W - labelW - textW;
  const vals = bars.map((b) => b.value).filter((v) => v > 0 && Number.isFinite(v));
  const e0 = Math.min(-1, Math.floor(Math.log10(Math.min(1, ...vals))));
  const e1 = Math.max(1, Math.ceil(Math.log10(Math.max(1, ...vals))));
  const px = (v: number) => labelW + ((Math.log10(Math.min(Math.max(v, 10 ** e0), 10 ** e1)) - e0) / (e1 - e0)) * pw;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${esc(title)}">`, `<title>${esc(title)}</title>`];
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" class="title">${esc(title)}</text>`);
  const top = 40;
  const bottom = top + bars.length * rowH;
  for (let e = e0; e <= e1; e++) {
    const x = px(10 ** e);
    out.push(`<line x1="${n(x)}" y1="${top}" x2="${n(x)}" y2="${bottom}" class="grid"/>`, `<text x="${n(x)}" y="${bottom + 16}" text-anchor="middle">${esc(`${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}×`)}</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const x1 = px(b.value > 0 ? b.value : 10 ** e0);
    const xr = px(1);
    out.push(`<g class="bar" data-label="${esc(b.label)}">`);
    out.push(`<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(b.label)}</text>`);
    out.push(`<rect x="${n(Math.min(x1, xr))}" y="${y + 5}" width="${n(Math.max(1, Math.abs(x1 - xr)))}" height="${rowH - 10}" class="${b.good ? "good" : "bad"}"><title>${esc(`${b.label}: ${b.text}`)}</title></rect>`);
    out.push(`<text x="${labelW + pw + 8}" y="${y + 17}">${esc(b.text)}</text>`);
    out.push(`</g>`);
  });
  const xr = px(1);
  out.push(`<line x1="${n(xr)}" y1="${top - 4}" x2="${n(xr)}" y2="${bottom + 2}" class="ref"/>`, `<text x="${n(xr)}" y="${top - 8}" text-anchor="middle" class="reflabel">${esc(refLabel)}</text>`);
  out.push(`</svg>`);
  return out.join("\n");
}
