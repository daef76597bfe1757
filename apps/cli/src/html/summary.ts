import { PMD, PTE, PUD } from "@hugemm/arch";
import { NS, type Kernel } from "@hugemm/core";
import { parseMapKey } from "./address-map";
import type { ArchSummary, MapKind, MappingSizes, ProcessMap } from "./model";

/** The mapping sizes of the kernel's arch. */
export function mappingSizes(k: Kernel): MappingSizes {
  const g = k.geometry;
  const pteTable = g.tables[g.tables.length - 1]!;
  return {
    page: k.pageSize,
    cont: k.pageSize * (pteTable.level === PTE ? pteTable.contEntries : 1),
    pmd: 2 ** g.levels[PMD]!.shift,
    pud: 2 ** g.levels[PUD]!.shift,
  };
}

/** Bytes one TLB entry covers for a present mapping of `kind`, or 0 for what the MMU cannot use. */
export function tlbSpan(kind: MapKind, s: MappingSizes): number {
  switch (kind) {
    case "pte":
    case "mthp":
    case "zero":
      return s.page;
    case "cont":
      return s.cont;
    case "pmd":
    case "huge-zero":
      return s.pmd;
    case "pud":
      return s.pud;
    default:
      return 0;
  }
}

/**
 * The numbers compared across arches: page-table pages (NR_PAGETABLE, so
 * deposited tables count), bytes mapped at each size, and the TLB entries
 * covering them from the hardware's view, where a contiguous-hint run needs
 * one entry. Coarsened cells count by their largest part.
 */
export function summarize(k: Kernel, processes: readonly ProcessMap[], sizes: MappingSizes): ArchSummary {
  const mapped = { pte: 0, mthp: 0, cont: 0, pmd: 0, pud: 0, zero: 0, "huge-zero": 0 };
  let swap = 0;
  let tlb = 0;
  for (const p of processes) {
    for (const v of p.vmas) {
      for (const r of v.runs) {
        const parts = r.mix === undefined ? [[r.kind, r.size] as const] : r.mix.map(([key, size]) => [parseMapKey(key).kind, size] as const);
        for (const [kind, size] of parts) {
          if (kind === "swap") swap += size;
          const span = tlbSpan(kind, sizes);
          if (span === 0) continue;
          mapped[kind as keyof typeof mapped] += size;
          tlb += Math.ceil(size / span);
        }
      }
    }
  }
  let pgtable = 0;
  for (const n of k.phys.nodes) pgtable += n.stats[NS.nr_page_table_pages]!;
  return { pgtablePages: pgtable, mappedBytes: mapped, swapBytes: swap, tlbEntries: tlb, totalPages: k.phys.totalPages, freePages: k.phys.nrFreePages };
}
