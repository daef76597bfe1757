import { parseMapKey } from "./address-map";
import { escapeHtml } from "./escape";
import { hex, mapsRange, shortSize } from "./format";
import { MAP_KINDS, type ArchColumn, type MapKind, type MapRun, type MappingSizes, type ProcessMap, type VmaMap } from "./model";
import { mapLabels } from "./palette";

function folioText(order: number, pageSize: number): string {
  return order < 0 ? "" : `, folio order ${order} (${shortSize(pageSize * 2 ** order)})`;
}

/** The hover text of one run or cell. */
export function runTitle(r: MapRun, labels: Readonly<Record<MapKind, string>>, pageSize: number): string {
  const range = `${hex(r.start)}-${hex(r.start + r.size)} (${shortSize(r.size)})`;
  if (r.mix !== undefined) {
    const parts = r.mix.map(([key, size]) => {
      const { kind, order } = parseMapKey(key);
      return `${shortSize(size)} ${labels[kind]}${folioText(order, pageSize)}`;
    });
    return `${range}, mixed: ${parts.join("; ")}`;
  }
  const folios = r.folios > 0 ? `, ${r.folios} folio${r.folios === 1 ? "" : "s"}` : "";
  return `${range}: ${labels[r.kind]}${folioText(r.order, pageSize)}${folios}`;
}

function vmaRow(v: VmaMap, labels: Readonly<Record<MapKind, string>>, sizes: MappingSizes, width: number): string {
  const size = v.end - v.start;
  const runs = v.runs
    .map((r) => {
      const mixed = r.mix === undefined ? "" : " data-mixed";
      const grow = r.size / sizes.page;
      return `<span class="run" data-kind="${r.kind}" data-order="${r.order}"${mixed} style="flex-grow:${grow}" title="${escapeHtml(runTitle(r, labels, sizes.page))}"></span>`;
    })
    .join("");
  const byKind = new Map<MapKind, number>();
  for (const r of v.runs) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + r.size);
  const aria = [...byKind].map(([k, b]) => `${shortSize(b)} ${labels[k]}`).join(", ");
  const coarse = v.cellBytes > 0 ? ` <span title="too many runs to draw one by one">cells of ${shortSize(v.cellBytes)}</span>` : "";
  const name = v.name === "" ? "" : ` <span>${escapeHtml(v.name)}</span>`;
  return (
    `<div class="vma" data-start="${hex(v.start)}" data-end="${hex(v.end)}">` +
    `<div class="vma-label"><span>${mapsRange(v.start, v.end, width)} ${escapeHtml(v.perms)}</span><span>${shortSize(size)}</span>${name}<span title="VmFlags">${escapeHtml(v.vmFlags)}</span>${coarse}</div>` +
    `<div class="bar" role="img" aria-label="${escapeHtml(`${mapsRange(v.start, v.end, width)}: ${aria}`)}">${runs}</div></div>`
  );
}

function processBlock(p: ProcessMap, labels: Readonly<Record<MapKind, string>>, sizes: MappingSizes): string {
  const head = `<h4>pid ${p.pid}</h4>`;
  if (p.exited) return `${head}<p class="note">exited: no address space</p>`;
  if (p.vmas.length === 0) return `${head}<p class="note">no VMAs</p>`;
  const width = Math.max(8, ...p.vmas.map((v) => v.end.toString(16).length));
  const parts: string[] = [head, `<p class="meta">${p.vmas.length} VMAs, RSS ${shortSize(p.rssPages * sizes.page)}, ${p.pgtablePages} page-table pages</p>`];
  p.vmas.forEach((v, i) => {
    const prev = p.vmas[i - 1];
    if (prev !== undefined && v.start > prev.end) parts.push(`<div class="hole">… ${shortSize(v.start - prev.end)} unmapped …</div>`);
    parts.push(vmaRow(v, labels, sizes, width));
  });
  return `<div class="process" data-pid="${p.pid}">${parts.join("")}</div>`;
}

/** The legend: every kind the column's arch can show. */
function legend(labels: Readonly<Record<MapKind, string>>): string {
  const items = MAP_KINDS.map((k) => `<li><span class="swatch" data-kind="${k}"></span>${escapeHtml(labels[k])}</li>`).join("");
  return `<ul class="legend" aria-label="address-space colours">${items}</ul>`;
}

/** One column's address spaces: each process's VMAs as bars, holes between them compressed. */
export function addressColumn(c: ArchColumn, showHeading: boolean): string {
  const labels = mapLabels(c.sizes);
  const heading = showHeading ? `<h3>${escapeHtml(c.archId)}</h3>` : "";
  const body = c.processes.length === 0 ? `<p class="note">no processes</p>` : c.processes.map((p) => processBlock(p, labels, c.sizes)).join("");
  return `<div class="col address" data-arch="${escapeHtml(c.archId)}">${heading}${legend(labels)}${body}</div>`;
}
