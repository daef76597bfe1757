import { PMD, PTE, SoftleafType, entryRegs, softleafIsDevicePrivate, softleafIsMigration, softleafPfn, softleafTypeOf, type Level } from "@hugemm/arch";
import { Slot, VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE, WALK_LEAF, WALK_OK, WALK_SOFTLEAF, vmFlagMnemonics, type Kernel, type Mm, type Vma } from "@hugemm/core";
import { AdaptiveCoarsener } from "./coarsen";
import type { MapKind, MapRun, ProcessMap, VmaMap } from "./model";

const R = entryRegs(1);

/** The key a run is merged by: its kind and folio order. */
export function mapKey(kind: MapKind, order: number): string {
  return `${kind}:${order}`;
}

/** The kind and order of a key made by mapKey. */
export function parseMapKey(key: string): { kind: MapKind; order: number } {
  const i = key.lastIndexOf(":");
  return { kind: key.slice(0, i) as MapKind, order: Number(key.slice(i + 1)) };
}

/** "rw-p" as /proc/pid/maps prints a VMA's flags. */
export function vmaPerms(flags: number): string {
  return (flags & VM_READ ? "r" : "-") + (flags & VM_WRITE ? "w" : "-") + (flags & VM_EXEC ? "x" : "-") + (flags & VM_MAYSHARE ? "s" : "p");
}

/**
 * Consecutive entries that map the same way, merged before they reach the
 * coarsener; counts the distinct folios they map.
 */
class RunBuilder {
  private key = "";
  private start = 0;
  private end = 0;
  private folios = 0;
  private lastHead = -1;

  constructor(private readonly c: AdaptiveCoarsener) {}

  add(start: number, end: number, kind: MapKind, order: number, head: number): void {
    const key = mapKey(kind, order);
    if (key !== this.key || start !== this.end) {
      this.flush();
      this.key = key;
      this.start = start;
      this.folios = 0;
      this.lastHead = -1;
    }
    this.end = end;
    if (head >= 0 && head !== this.lastHead) this.folios++;
    this.lastHead = head;
  }

  flush(): void {
    if (this.key !== "" && this.end > this.start) this.c.add(this.start, this.end - this.start, this.key, this.folios);
    this.key = "";
  }
}

/** What a non-present leaf is, by its swap type. */
function softleafKind(swpType: number): MapKind {
  const t = softleafTypeOf(swpType);
  if (t === SoftleafType.SWAP) return "swap";
  if (softleafIsMigration(t)) return "migration";
  if (softleafIsDevicePrivate(t) || t === SoftleafType.DEVICE_EXCLUSIVE) return "device";
  return "softleaf";
}

/** The head and order of the folio holding `pfn`, or [-1, -1] for a pfn outside the memmap or not allocated. */
function folioOf(k: Kernel, pfn: number): [head: number, order: number] {
  if (pfn < 0 || pfn >= k.phys.totalPages || !k.folios.isAllocated(pfn)) return [-1, -1];
  const head = k.folios.head(pfn);
  return [head, k.folios.order(head)];
}

/** The folio a migration or device entry at `level` (in R) refers to. */
function softleafFolio(k: Kernel, kind: MapKind, level: Level): [number, number] {
  if (kind !== "migration" && kind !== "device") return [-1, -1];
  return folioOf(k, softleafPfn(k.backend.softleaf, k.backend.swpOffset(R, 0, level)));
}

/** The PTEs of one table from `addr` up to `end`. */
function pteRange(k: Kernel, rb: RunBuilder, table: Uint32Array, index: number, addr: number, end: number): void {
  const b = k.backend;
  const ps = k.pageSize;
  for (let i = index; addr < end; i++, addr += ps) {
    b.readEntry(table, i, PTE, R, 0);
    if (b.none(R, 0, PTE)) {
      rb.add(addr, addr + ps, "none", -1, -1);
    } else if (b.present(R, 0, PTE)) {
      const pfn = b.pfn(R, 0, PTE);
      if (pfn === k.zeroPfn) {
        rb.add(addr, addr + ps, "zero", 0, pfn);
        continue;
      }
      const [head, order] = folioOf(k, pfn);
      const kind: MapKind = b.cont(R, 0, PTE) ? "cont" : order > 0 ? "mthp" : "pte";
      rb.add(addr, addr + ps, kind, order, head);
    } else if (b.isSoftleaf(R, 0, PTE)) {
      const kind = softleafKind(b.swpType(R, 0, PTE));
      const [head, order] = softleafFolio(k, kind, PTE);
      rb.add(addr, addr + ps, kind, order, head);
    } else {
      // Not none, not present, not a softleaf: a PROT_NONE-style leaf some arches keep non-present.
      const [head, order] = folioOf(k, b.pfn(R, 0, PTE));
      rb.add(addr, addr + ps, order > 0 ? "mthp" : "pte", order, head);
    }
  }
}

/** A leaf or non-present leaf above the PTE level, in `slot`. */
function hugeEntry(k: Kernel, rb: RunBuilder, slot: Slot, st: number, addr: number, end: number): void {
  const b = k.backend;
  const level = slot.level;
  b.readEntry(slot.table, slot.index, level, R, 0);
  if (st === WALK_SOFTLEAF) {
    const kind = softleafKind(b.swpType(R, 0, level));
    const [head, order] = softleafFolio(k, kind, level);
    rb.add(addr, end, kind, order, head);
    return;
  }
  const pfn = b.pfn(R, 0, level);
  const [head, order] = folioOf(k, pfn);
  const kind: MapKind = level > PMD ? "pud" : k.hugeZero.is(pfn) ? "huge-zero" : "pmd";
  rb.add(addr, end, kind, order, head);
}

/**
 * One VMA's map: walk its page tables with the core's walker, a whole table
 * of PTEs at a time, skipping a missing table's or a huge leaf's whole span.
 * Runs are exact while there are at most `maxCells`, else folded into cells.
 */
export function mapVma(k: Kernel, mm: Mm, vma: Vma, maxCells: number): VmaMap {
  const c = new AdaptiveCoarsener(vma.start, vma.end, k.pageSize, maxCells);
  const rb = new RunBuilder(c);
  const w = mm.walker;
  const slot = new Slot();
  const pteTable = k.geometry.tables[k.geometry.tables.length - 1]!;
  const pteSpan = 2 ** pteTable.shift * pteTable.entries;
  for (let addr = vma.start; addr < vma.end; ) {
    const st = w.find(addr, PTE, false, slot);
    if (st === WALK_OK) {
      const tableEnd = Math.min(vma.end, addr - (addr % pteSpan) + pteSpan);
      pteRange(k, rb, slot.table, slot.index, addr, tableEnd);
      addr = tableEnd;
      continue;
    }
    const size = w.levelSize(slot.level);
    const next = Math.min(vma.end, addr - (addr % size) + size);
    if (st === WALK_LEAF || st === WALK_SOFTLEAF) hugeEntry(k, rb, slot, st, addr, next);
    else rb.add(addr, next, "none", -1, -1);
    addr = next;
  }
  rb.flush();
  const runs: MapRun[] = c.finish().map((cell) => {
    // A mixed cell shows what is mapped in it: "none" is the background.
    const shown = cell.mix?.find(([key]) => !key.startsWith("none:"))?.[0] ?? cell.key;
    const { kind, order } = parseMapKey(shown);
    const run = { start: cell.start, size: cell.size, kind, order, folios: cell.count };
    return cell.mix === undefined ? run : { ...run, mix: cell.mix };
  });
  return {
    start: vma.start,
    end: vma.end,
    perms: vmaPerms(vma.flags),
    name: vma.name !== "" ? vma.name : (vma.file?.name ?? ""),
    vmFlags: vmFlagMnemonics(vma.flags),
    runs,
    cellBytes: c.cellSize,
  };
}

/** Every VMA of a process, mapped. An exited process has none. */
export function mapProcess(k: Kernel, pid: number, mm: Mm, maxCells: number): ProcessMap {
  if (mm.exited) return { pid, exited: true, vmas: [], pgtablePages: 0, rssPages: 0 };
  return {
    pid,
    exited: false,
    vmas: mm.vmas.all().map((v) => mapVma(k, mm, v, maxCells)),
    pgtablePages: mm.pgtablePages,
    rssPages: mm.rssPages,
  };
}
