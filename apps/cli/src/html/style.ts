import { MAP_KINDS } from "./model";
import { MAP_COLORS, PHYS_COLORS, freeOrderColor } from "./palette";

const BASE = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
body { margin: 0 auto; max-width: 1700px; padding: 1rem 1.5rem 3rem; color: #1d1d1d; background: #fff; }
h1 { font-size: 1.45rem; margin: .2rem 0 .4rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: .8rem 0 .3rem; }
h4 { font-size: .95rem; margin: .8rem 0 .2rem; }
p.meta, p.note { color: #555; margin: .2rem 0; font-size: .9rem; }
nav ul { list-style: none; padding: 0; display: flex; gap: 1rem; flex-wrap: wrap; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.cols { display: grid; gap: 1.5rem; grid-template-columns: repeat(var(--n), minmax(0, 1fr)); }
.legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; list-style: none; padding: 0; margin: .4rem 0 .8rem; font-size: .82rem; }
.legend li { display: flex; align-items: center; gap: .35rem; }
.swatch { width: 14px; height: 14px; border: 1px solid #0004; display: inline-block; flex: none; }
.vma { margin: .3rem 0; }
.vma-label { font: 12px ui-monospace, Menlo, Consolas, monospace; display: flex; gap: .6rem; flex-wrap: wrap; color: #333; }
.bar { display: flex; height: 20px; border: 1px solid #888; overflow-x: auto; overflow-y: hidden; background: ${MAP_COLORS.none}; }
.bar > .run { flex-basis: 0; flex-shrink: 0; min-width: 1px; height: 100%; }
.run[data-mixed] { background-image: repeating-linear-gradient(45deg, #fff8 0 2px, transparent 2px 6px); }
.hole { font: 11px ui-monospace, Menlo, Consolas, monospace; color: #777; margin: .15rem 0 .15rem 1rem; }
svg.strip { width: 100%; height: 26px; display: block; border: 1px solid #888; background: #fff; }
.strip-caption { font-size: .8rem; color: #555; margin: .1rem 0 .6rem; }
table { border-collapse: collapse; font-size: .88rem; margin: .3rem 0 .8rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .2rem .55rem; text-align: left; vertical-align: top; }
th[scope="col"] { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #1b5e20; font-weight: 600; }
.fail { color: #b00020; font-weight: 600; }
.picker { display: flex; gap: 1rem; align-items: flex-start; flex-wrap: wrap; margin: .5rem 0 1rem; }
.picker select { min-width: 22rem; font: 12px ui-monospace, Menlo, Consolas, monospace; }
.chart { min-height: 60px; }
.scroll { overflow-x: auto; }
`;

/** The report's stylesheet: layout, then one colour rule per kind and free order. */
export function reportCss(maxOrder: number): string {
  const rules: string[] = [BASE];
  for (const kind of MAP_KINDS) rules.push(`.run[data-kind="${kind}"], .swatch[data-kind="${kind}"] { background-color: ${MAP_COLORS[kind]}; }`);
  for (const [kind, color] of Object.entries(PHYS_COLORS)) rules.push(`rect[data-phys="${kind}"] { fill: ${color}; } .swatch[data-phys="${kind}"] { background-color: ${color}; }`);
  for (let o = 0; o <= maxOrder; o++) {
    const c = freeOrderColor(o, maxOrder);
    rules.push(`rect[data-phys="free"][data-order="${o}"] { fill: ${c}; } .swatch[data-phys="free"][data-order="${o}"] { background-color: ${c}; }`);
  }
  return rules.join("\n");
}
