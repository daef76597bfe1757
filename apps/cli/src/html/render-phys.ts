import { escapeHtml } from "./escape";
import { hex, shortSize } from "./format";
import type { ArchColumn, PhysCell, PhysStrip } from "./model";
import { PHYS_COLORS, PHYS_LABELS } from "./palette";
import { parsePhysKey } from "./phys-map";

function partText(kind: keyof typeof PHYS_LABELS, order: number): string {
  if (kind === "free") return `free, order ${order}`;
  if (kind === "pcp") return `free on a pcp list, order ${order}`;
  return PHYS_LABELS[kind];
}

/** The hover text of one cell. */
export function cellTitle(c: PhysCell, pageSize: number): string {
  const range = `pfn ${hex(c.start)}-${hex(c.start + c.pages)} (${shortSize(c.pages * pageSize)})`;
  if (c.mix === undefined) return `${range}: ${partText(c.kind, c.order)}`;
  const parts = c.mix.map(([key, pages]) => {
    const { kind, order } = parsePhysKey(key);
    return `${shortSize(pages * pageSize)} ${partText(kind, order)}`;
  });
  return `${range}, mixed: ${parts.join("; ")}`;
}

/** Pages of the strip by use other than free buddy blocks, parts of mixed cells included, in legend order. */
function usage(s: PhysStrip): [string, number][] {
  const pages = new Map<string, number>();
  const add = (kind: string, n: number) => pages.set(kind, (pages.get(kind) ?? 0) + n);
  for (const c of s.cells) {
    if (c.mix === undefined) add(c.kind, c.pages);
    else for (const [key, n] of c.mix) add(parsePhysKey(key).kind, n);
  }
  return Object.keys(PHYS_COLORS)
    .filter((k) => (pages.get(k) ?? 0) > 0)
    .map((k) => [k === "pagetable" ? "page tables" : k, pages.get(k)!]);
}

function strip(s: PhysStrip, pageSize: number): string {
  const span = s.endPfn - s.startPfn;
  const rects = s.cells
    .map((c) => {
      const mixed = c.mix === undefined ? "" : " data-mixed";
      return `<rect x="${c.start - s.startPfn}" y="0" width="${c.pages}" height="1" data-phys="${c.kind}" data-order="${c.order}"${mixed}><title>${escapeHtml(cellTitle(c, pageSize))}</title></rect>`;
    })
    .join("");
  const label = `Node ${s.nid}, zone ${s.zone}`;
  const used = span - s.freePages;
  const uses = usage(s)
    .map(([kind, pages]) => `${kind} ${shortSize(pages * pageSize)}`)
    .join(", ");
  const coarse = s.cellPages > 0 ? `; mixed cells cover ${shortSize(s.cellPages * pageSize)}, coloured by their largest part` : "";
  return (
    `<div class="zone" data-nid="${s.nid}" data-zone="${escapeHtml(s.zone)}"><h4>${escapeHtml(label)}</h4>` +
    `<svg class="strip" viewBox="0 0 ${span} 1" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(`${label}: ${shortSize(span * pageSize)}, ${shortSize(s.freePages * pageSize)} free in the buddy lists`)}">${rects}</svg>` +
    `<p class="strip-caption">pfn ${hex(s.startPfn)}-${hex(s.endPfn)}: ${shortSize(span * pageSize)}, ${shortSize(s.freePages * pageSize)} free in the buddy lists, the rest ${shortSize(used * pageSize)}${uses === "" ? "" : ` (${uses})`}${coarse}</p></div>`
  );
}

function legend(maxOrder: number): string {
  const orders: string[] = [];
  for (let o = 0; o <= maxOrder; o++) orders.push(`<span class="swatch" data-phys="free" data-order="${o}" title="order ${o}"></span>`);
  const free = `<li>${orders.join("")} ${escapeHtml(PHYS_LABELS.free)} 0 to ${maxOrder}</li>`;
  const kinds = Object.keys(PHYS_COLORS)
    .map((k) => `<li><span class="swatch" data-phys="${k}"></span>${escapeHtml(PHYS_LABELS[k as keyof typeof PHYS_COLORS])}</li>`)
    .join("");
  return `<ul class="legend" aria-label="physical memory colours">${free}${kinds}</ul>`;
}

/** One column's physical memory: a strip per node and zone. */
export function physColumn(c: ArchColumn, showHeading: boolean): string {
  const heading = showHeading ? `<h3>${escapeHtml(c.archId)}</h3>` : "";
  const strips = c.phys.map((s) => strip(s, c.sizes.page)).join("");
  return `<div class="col phys" data-arch="${escapeHtml(c.archId)}">${heading}${legend(c.maxOrder)}${strips}</div>`;
}
