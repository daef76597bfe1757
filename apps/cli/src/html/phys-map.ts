import { MIGRATE_PCPTYPES, PG_anon, type Kernel, type Zone } from "@hugemm/core";
import { AdaptiveCoarsener } from "./coarsen";
import type { PhysCell, PhysKind, PhysStrip } from "./model";

/** A block of pfns with one use. */
interface Block {
  readonly pfn: number;
  readonly pages: number;
  readonly kind: PhysKind;
  readonly order: number;
}

export function physKey(kind: PhysKind, order: number): string {
  return `${kind}:${order}`;
}

export function parsePhysKey(key: string): { kind: PhysKind; order: number } {
  const i = key.lastIndexOf(":");
  return { kind: key.slice(0, i) as PhysKind, order: Number(key.slice(i + 1)) };
}

/** The free blocks of a zone's buddy lists and its pcp lists. */
function freeBlocks(z: Zone, out: Block[]): void {
  for (let order = 0; order <= z.maxOrder; order++) {
    for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) {
      for (const pfn of z.freeBlocks(order, mt)) out.push({ pfn, pages: 2 ** order, kind: "free", order });
    }
  }
  z.pcp.lists.forEach((list, pindex) => {
    const order = z.pcp.orderOf(pindex);
    for (const pfn of list) out.push({ pfn, pages: 2 ** order, kind: "pcp", order });
  });
}

/**
 * Allocated memory by use, from the memmap: anonymous folios by size (base
 * pages, mTHP below PMD order, THP at PMD order and above), file and shmem
 * folios, and page-table pages. The zero pages count as "other".
 */
function allocatedBlocks(k: Kernel, out: Block[]): void {
  const f = k.folios;
  const pmdOrder = k.thp.pmdOrder;
  for (const head of f.heads()) {
    const order = f.order(head);
    let kind: PhysKind = "file";
    if (k.hugeZero.is(head)) kind = "other";
    else if (f.flags(head) & PG_anon) kind = order === 0 ? "anon" : pmdOrder > 0 && order >= pmdOrder ? "thp" : "mthp";
    out.push({ pfn: head, pages: 2 ** order, kind, order: -1 });
  }
  const tablePages = new Map<number, number>();
  for (const t of k.geometry.tables) tablePages.set(t.level, Math.max(1, t.tableBytes / k.pageSize));
  const seen = new Set<number>();
  for (const info of k.tables.info.values()) {
    // Fragments of one page (8xx 16K mode) share it: count the page once.
    if (seen.has(info.pfn)) continue;
    seen.add(info.pfn);
    out.push({ pfn: info.pfn, pages: tablePages.get(info.level) ?? 1, kind: "pagetable", order: -1 });
  }
}

/**
 * Each zone of each node as a strip of cells: free blocks by order, pcp
 * pages, allocated memory by kind, and "other" for pages allocated to
 * anything else (the zero page, in-flight allocations). Runs are exact while
 * a strip has at most `maxCells` of them, else folded into cells.
 */
export function physMap(k: Kernel, maxCells: number): PhysStrip[] {
  const blocks: Block[] = [];
  for (const z of k.phys.zones) freeBlocks(z, blocks);
  allocatedBlocks(k, blocks);
  blocks.sort((a, b) => a.pfn - b.pfn);
  const strips: PhysStrip[] = [];
  let bi = 0;
  for (const z of k.phys.zones) {
    const c = new AdaptiveCoarsener(z.startPfn, z.endPfn, 1, maxCells);
    let cursor = z.startPfn;
    while (bi < blocks.length && blocks[bi]!.pfn < z.endPfn) {
      const b = blocks[bi++]!;
      const end = Math.min(b.pfn + b.pages, z.endPfn);
      // Blocks never overlap in a consistent model; clip rather than fail a report if one does.
      if (end <= cursor) continue;
      const start = Math.max(b.pfn, cursor);
      if (start > cursor) c.add(cursor, start - cursor, physKey("other", -1));
      c.add(start, end - start, physKey(b.kind, b.order), 1);
      cursor = end;
    }
    if (cursor < z.endPfn) c.add(cursor, z.endPfn - cursor, physKey("other", -1));
    const cells: PhysCell[] = c.finish().map((cell) => {
      const { kind, order } = parsePhysKey(cell.key);
      const base = { start: cell.start, pages: cell.size, kind, order };
      return cell.mix === undefined ? base : { ...base, mix: cell.mix };
    });
    strips.push({ nid: z.nid, zone: z.name, startPfn: z.startPfn, endPfn: z.endPfn, freePages: z.freePages, cellPages: c.cellSize, cells });
  }
  return strips;
}
