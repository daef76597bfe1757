import { PTE, SoftleafType, entryRegs, softleafTypeOf, type Level } from "@hugemm/arch";
import { PG_anon, PGTY_table, Slot, WALK_LEAF, WALK_OK, WALK_SOFTLEAF, type Kernel, type Mm } from "@hugemm/core";
import { encodeRuns } from "./census";

const R = entryRegs(1);

/** A present page's census token (census.ts), the way modelPageToken reads it through walkAddress, from the memmap directly. */
function presentToken(k: Kernel, pfn: number, leafLevel: Level, leafFirstPfn: number): string {
  const f = k.folios;
  const mem = k.phys.memmap;
  if (pfn < mem.startPfn || pfn >= mem.endPfn || !f.isAllocated(pfn) || mem.pageFlags(pfn) & PGTY_table) return "pm0";
  const head = f.head(pfn);
  const order = f.order(head);
  const o = order > 0 ? `o${order}` : "";
  if (head === k.zeroPfn) return `p${o}zm0`;
  if (k.hugeZero.is(head)) return `p${o}Zfm0`;
  const file = f.flags(head) & PG_anon ? "" : "f";
  const entire = f.lid(head) === 0 ? 0 : f.entireMapcount(head);
  const mapcount = f.pageMapcount(pfn) + entire;
  // Under a huge entry, PM_MMAP_EXCLUSIVE follows the page the entry starts at.
  const exclusive = leafLevel > PTE ? f.pageMapcount(leafFirstPfn) + entire === 1 : mapcount === 1;
  return `p${o}${file}m${mapcount}${exclusive ? "x" : ""}`;
}

/**
 * The census of [addr, addr+len) of a model process, page by page as
 * modelPageToken gives it, walking the tables once per table instead of
 * once per page: none spans are skipped whole.
 */
export function modelCensus(k: Kernel, mm: Mm, addr: number, len: number): string {
  const b = k.backend;
  const w = mm.walker;
  const ps = k.pageSize;
  const slot = new Slot();
  const tokens: string[] = [];
  const end = addr + len;
  for (let a = addr; a < end; ) {
    const st = w.find(a, PTE, false, slot);
    if (st === WALK_OK) {
      b.getEntry(slot.table, slot.index, PTE, R, 0);
      if (b.none(R, 0, PTE)) tokens.push("n");
      else if (b.present(R, 0, PTE)) {
        const pfn = b.pfn(R, 0, PTE);
        tokens.push(presentToken(k, pfn, PTE, pfn));
      } else tokens.push(b.isSoftleaf(R, 0, PTE) && softleafTypeOf(b.swpType(R, 0, PTE)) !== SoftleafType.MARKER ? "s" : "n");
      a += ps;
      continue;
    }
    const size = w.levelSize(slot.level);
    const next = Math.min(end, a - (a % size) + size);
    if (st === WALK_LEAF) {
      b.getEntry(slot.table, slot.index, slot.level, R, 0);
      const first = b.pfn(R, 0, slot.level);
      const base = a - (a % size);
      for (let p = a; p < next; p += ps) tokens.push(presentToken(k, first + (p - base) / ps, slot.level, first));
    } else {
      const t = st === WALK_SOFTLEAF ? "s" : "n";
      for (let p = a; p < next; p += ps) tokens.push(t);
    }
    a = next;
  }
  return encodeRuns(tokens);
}
