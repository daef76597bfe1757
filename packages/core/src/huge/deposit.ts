import { PMD, PTE, PUD, type Level } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { GFP_PGTABLE_USER, __GFP_RECLAIM } from "../phys/gfp";
import type { Mm } from "../mm/mm";
import { ModelBug } from "../util/errors";

/*
 * Page tables kept aside under huge mappings so that splitting them never
 * needs memory (pgtable_trans_huge_deposit / _withdraw):
 *
 * - a PMD THP deposits one PTE table on the stack of the PMD table holding
 *   its entry (the kernel keeps one stack per PMD table page);
 * - a PUD THP (the 2026 RFC) deposits one PMD table, which itself holds one
 *   deposited PTE table per PMD entry: a two-level deposit. It is kept per
 *   PUD entry, keyed by the entry's physical address, because the model's
 *   deposit policy can change while PUD THPs exist and each PUD must know
 *   whether it was given tables.
 *
 * Deposited tables belong to the mm and count in its page-table pages
 * (mm_inc_nr_ptes), and in the machine's PageTables.
 */

/** pte_alloc_one / pmd_alloc_one for `mm`: a zeroed table counted as the mm's, or -1. */
export function allocTableFor(k: Kernel, mm: Mm, level: Level, gfp = GFP_PGTABLE_USER): number {
  const pa = k.tables.alloc(level, mm.id, mm.nid, gfp);
  if (pa >= 0) mm.walker.allocated++;
  return pa;
}

/** pte_free / pmd_free of a table of `mm` that is linked nowhere. */
export function freeTableOf(k: Kernel, mm: Mm, pa: number): void {
  k.tables.free(pa);
  mm.tablesFreed++;
}

/** The physical address of the entry at `index` of the table at `tablePa`: the key of a PUD's deposit. */
export function entryPa(k: Kernel, tablePa: number, index: number): number {
  return tablePa + index * k.geometry.entryBytes;
}

/** Entries in the table of `level` (PTRS_PER_PMD for PMD). */
export function tableEntries(k: Kernel, level: Level): number {
  const t = k.geometry.tables.find((x) => x.level === level);
  if (t === undefined) throw new ModelBug(`${k.backend.id} has no level-${level} table`);
  return t.entries;
}

/** The tables a huge mapping at `level` reserves for its split, not yet deposited. */
export interface SplitTables {
  /** A PTE table (PMD level) or a PMD table holding deposited PTE tables (PUD level). */
  readonly pa: number;
}

/**
 * Allocate what a split of a huge entry at `level` will need: one PTE table
 * for a PMD, or a PMD table with a PTE table deposited for each of its
 * entries for a PUD. All or nothing: null when memory runs out.
 */
export function allocSplitTables(k: Kernel, mm: Mm, level: Level, gfp = GFP_PGTABLE_USER): SplitTables | null {
  if (level === PMD) {
    const pa = allocTableFor(k, mm, PTE, gfp);
    return pa < 0 ? null : { pa };
  }
  if (level !== PUD) throw new ModelBug(`no huge mappings at level ${level}`);
  const pmd = allocTableFor(k, mm, PMD, gfp);
  if (pmd < 0) return null;
  const n = tableEntries(k, PMD);
  const ptes: number[] = [];
  if (!k.tables.allocMany(PTE, mm.id, n, mm.nid, gfp, ptes)) {
    freeTableOf(k, mm, pmd);
    return null;
  }
  mm.walker.allocated += n;
  k.tables.depositMany(pmd, ptes);
  return { pa: pmd };
}

/** Page tables allocated where the caller holds page-table or rmap locks: no reclaim (it would take rmap locks). */
export const GFP_PGTABLE_ATOMIC = GFP_PGTABLE_USER & ~__GFP_RECLAIM;

/**
 * Before taking the locks a split runs under: the tables a PUD THP without
 * deposited tables will need (the "at-split" policy), allocated while
 * reclaim may still run. Null when none are needed; "enomem" when they
 * cannot be had.
 */
export function prepareSplitTables(k: Kernel, mm: Mm, anon: boolean, level: Level, tablePa: number, index: number): SplitTables | null | "enomem" {
  if (level !== PUD || !anon || hasDeposit(k, PUD, tablePa, index)) return null;
  return allocSplitTables(k, mm, PUD) ?? "enomem";
}

/** Give back tables that were allocated for a split but not used (pte_free of the preallocated table). */
export function freeSplitTables(k: Kernel, mm: Mm, level: Level, t: SplitTables): void {
  if (level === PUD) {
    for (let pte = k.tables.withdraw(t.pa); pte >= 0; pte = k.tables.withdraw(t.pa)) freeTableOf(k, mm, pte);
  }
  freeTableOf(k, mm, t.pa);
}

/** The deposit key of a huge entry: its PMD table for a PMD, the entry itself for a PUD. */
export function depositKey(k: Kernel, level: Level, tablePa: number, index: number): number {
  return level === PUD ? entryPa(k, tablePa, index) : tablePa;
}

/** pgtable_trans_huge_deposit for the huge entry at (`tablePa`, `index`). */
export function depositSplitTables(k: Kernel, level: Level, tablePa: number, index: number, t: SplitTables): void {
  k.tables.deposit(depositKey(k, level, tablePa, index), t.pa);
}

/** Whether the huge entry holds deposited tables (always for anon PMDs; per PUD as the policy was when it was made). */
export function hasDeposit(k: Kernel, level: Level, tablePa: number, index: number): boolean {
  return k.tables.depositCount(depositKey(k, level, tablePa, index)) > 0;
}

/** pgtable_trans_huge_withdraw for the huge entry at (`tablePa`, `index`): the tables, or null if it has none. */
export function withdrawSplitTables(k: Kernel, level: Level, tablePa: number, index: number): SplitTables | null {
  const pa = k.tables.withdraw(depositKey(k, level, tablePa, index));
  return pa < 0 ? null : { pa };
}

/** zap_deposited_table: withdraw the entry's tables, if any, and free them. */
export function zapDeposited(k: Kernel, mm: Mm, level: Level, tablePa: number, index: number): void {
  const t = withdrawSplitTables(k, level, tablePa, index);
  if (t !== null) freeSplitTables(k, mm, level, t);
}

/** Move a huge entry's deposit to its new place (move_huge_pmd / move_huge_pud under mremap). */
export function moveDeposit(k: Kernel, level: Level, oldTablePa: number, oldIndex: number, newTablePa: number, newIndex: number): void {
  const from = depositKey(k, level, oldTablePa, oldIndex);
  const to = depositKey(k, level, newTablePa, newIndex);
  if (from === to) return;
  const pa = k.tables.withdraw(from);
  if (pa >= 0) k.tables.deposit(to, pa);
}
