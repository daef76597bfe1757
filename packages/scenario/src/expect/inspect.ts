import { PTE, SoftleafType, entryRegs, levelName, softleafIsMigration, softleafName, softleafPfn, softleafTypeOf, type Level } from "@hugemm/arch";
import { Slot, WALK_LEAF, WALK_NONE, WALK_OK, WALK_SOFTLEAF, mixTag, type Kernel, type Mm } from "@hugemm/core";

/*
 * Looking at a process's page tables and memory without changing anything:
 * no faults, no accessed bits, no counters move.
 */

const R = entryRegs(1);

/** What maps one address: a present leaf, a softleaf, or nothing. */
export type Mapping =
  | { readonly kind: "leaf"; readonly level: Level; readonly pfn: number; readonly size: number }
  | { readonly kind: "softleaf"; readonly level: Level; readonly type: SoftleafType; readonly offset: number; readonly size: number }
  | { readonly kind: "none"; readonly size: number };

/**
 * The entry mapping `va` in `mm`. `size` is how far from the start of that
 * entry's span the answer holds (a missing table answers for its whole span).
 */
export function mappingAt(k: Kernel, mm: Mm, va: number, slot = new Slot()): Mapping {
  const w = mm.walker;
  const b = k.backend;
  const st = w.find(va, PTE, false, slot);
  const size = w.levelSize(slot.level);
  if (st === WALK_NONE) return { kind: "none", size };
  if (st !== WALK_OK && st !== WALK_LEAF && st !== WALK_SOFTLEAF) return { kind: "none", size };
  b.readEntry(slot.table, slot.index, slot.level, R, 0);
  const l = slot.level;
  if (b.none(R, 0, l)) return { kind: "none", size };
  if (b.present(R, 0, l)) return { kind: "leaf", level: l, pfn: b.pfn(R, 0, l) + Math.floor((va % size) / k.pageSize), size };
  if (b.isSoftleaf(R, 0, l)) return { kind: "softleaf", level: l, type: softleafTypeOf(b.swpType(R, 0, l)), offset: b.swpOffset(R, 0, l), size };
  // Invalidated or PROT_NONE huge entries the arch does not call present still map their folio.
  return { kind: "leaf", level: l, pfn: b.pfn(R, 0, l) + Math.floor((va % size) / k.pageSize), size };
}

/** How `va` is mapped, as an expect clause names it: pte, pmd, pud, none, swap, migration (or another softleaf's name). */
export function mappedLevel(m: Mapping): string {
  if (m.kind === "none") return "none";
  if (m.kind === "leaf") return levelName(m.level);
  if (m.type === SoftleafType.SWAP) return "swap";
  if (softleafIsMigration(m.type)) return "migration";
  return softleafName(m.type);
}

/** The contents tag of the page at swap slot `off` (the swap cache's folio if it holds one). */
function swapTag(k: Kernel, off: number): number {
  const dev = k.swap.device;
  if (dev === null) return -1;
  const head = dev.lookup(off);
  if (head >= 0) {
    const base = k.swap.slotOf.get(head);
    if (base !== undefined) return k.folios.readTag(head + (off - base));
  }
  return dev.contents[off] ?? -1;
}

/** What a load from an unmapped page of the VMA would read: zeroes, or the file's page. */
function unmappedTag(k: Kernel, mm: Mm, va: number): number | null {
  const vma = mm.vmas.lookup(va);
  if (vma === undefined) return null;
  const as = vma.file;
  if (as === null) return 0;
  const index = vma.pgoff + Math.floor((va - vma.start) / k.pageSize);
  const head = as.pages.get(index);
  if (head !== undefined) return k.folios.readTag(head + (index - k.folios.index(head)));
  const swapped = as.swapped.get(index);
  if (swapped !== undefined) return swapTag(k, swapped % 2 ** 32);
  if (as.shmem) return 0;
  return as.disk.get(index) ?? mixTag(as.seed, index);
}

/**
 * The contents a load from `va` would return, without the load: from the
 * mapped page, the swap slot or cache, a migrating folio, the page cache, or
 * zeroes; null outside every VMA, -1 where the data is gone (hwpoison).
 */
export function contentsAt(k: Kernel, mm: Mm, va: number, slot = new Slot()): number | null {
  const m = mappingAt(k, mm, va, slot);
  if (m.kind === "leaf") return k.folios.readTag(m.pfn);
  if (m.kind === "none") return unmappedTag(k, mm, va);
  const pageOff = Math.floor((va % m.size) / k.pageSize);
  if (m.type === SoftleafType.SWAP) return swapTag(k, m.offset + pageOff);
  if (m.type === SoftleafType.MARKER) return unmappedTag(k, mm, va);
  if (m.type === SoftleafType.HWPOISON) return -1;
  return k.folios.readTag(softleafPfn(k.backend.softleaf, m.offset) + pageOff);
}
