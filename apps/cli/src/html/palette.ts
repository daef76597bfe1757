import type { MapKind, MappingSizes, PhysKind } from "./model";
import { shortSize } from "./format";

/** Colours of the address-space map (Tableau 10, distinguishable in greyscale order too). */
export const MAP_COLORS: Readonly<Record<MapKind, string>> = {
  pte: "#4e79a7",
  mthp: "#b07aa1",
  cont: "#76b7b2",
  pmd: "#e15759",
  pud: "#8c1c13",
  zero: "#bab0ac",
  "huge-zero": "#9c755f",
  swap: "#edc948",
  migration: "#f28e2b",
  device: "#59a14f",
  softleaf: "#ff9da7",
  none: "#ececec",
};

/** What each colour of the address-space map means, with the arch's sizes. */
export function mapLabels(s: MappingSizes): Readonly<Record<MapKind, string>> {
  return {
    pte: `PTE, base page (${shortSize(s.page)})`,
    mthp: "PTEs of a large folio (mTHP, PTE-mapped THP)",
    cont: s.cont > s.page ? `contiguous PTE run (${shortSize(s.cont)} per TLB entry)` : "contiguous PTE run (not on this arch)",
    pmd: `PMD leaf (${shortSize(s.pmd)})`,
    pud: s.pud > s.pmd ? `PUD leaf (${shortSize(s.pud)})` : "PUD leaf (folded on this arch)",
    zero: "shared zero page",
    "huge-zero": "huge zero folio (PMD)",
    swap: "swap entry",
    migration: "migration entry",
    device: "device-private or device-exclusive entry",
    softleaf: "other non-present entry (hwpoison, marker)",
    none: "not populated",
  };
}

/** Colours of allocated physical memory; free blocks take a green by order. */
export const PHYS_COLORS: Readonly<Record<Exclude<PhysKind, "free">, string>> = {
  pcp: "#a0cbe8",
  anon: "#f28e2b",
  mthp: "#b07aa1",
  thp: "#e15759",
  file: "#4e79a7",
  pagetable: "#3b3b3b",
  other: "#bab0ac",
};

export const PHYS_LABELS: Readonly<Record<PhysKind, string>> = {
  free: "free block (buddy), by order",
  pcp: "free, on a per-cpu list",
  anon: "anonymous, base page",
  mthp: "anonymous mTHP (below PMD order)",
  thp: "anonymous THP (PMD order and above)",
  file: "page cache and shmem",
  pagetable: "page tables",
  other: "other allocations (zero page, kernel)",
};

/** A free block of `order`: lighter for small blocks, darker for large ones. */
export function freeOrderColor(order: number, maxOrder: number): string {
  const t = maxOrder <= 0 ? 1 : Math.min(1, Math.max(0, order / maxOrder));
  const light = Math.round(88 - t * 58);
  return `hsl(130, 45%, ${light}%)`;
}
