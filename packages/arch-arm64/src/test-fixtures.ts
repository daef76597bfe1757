import {
  allocRoot,
  ensureSlot,
  entryRegs,
  entryToBigInt,
  simpleContext,
  TableMemory,
  PMD,
  PTE,
  type EntryReg,
  type Level,
  type RecordingContext,
} from "@hugemm/arch";
import type { Arm64Backend } from "./backend";
import { createArm64Backend } from "./index";

/*
 * Shared set-up for this package's tests (not part of the public API): a
 * backend with a PTE table linked under a fresh root, and short-hands to
 * build and inspect entries.
 */

export const CONT = 1n << 52n;
export const WRITE = 1n << 51n;
export const DIRTY = 1n << 55n;
export const RDONLY = 1n << 7n;
export const AF = 1n << 10n;

export function big(v: EntryReg, o = 0): bigint {
  return entryToBigInt(v, o);
}

export interface TableFixture {
  readonly b: Arm64Backend;
  readonly mem: TableMemory;
  readonly root: number;
  readonly table: Uint32Array;
  /** The va of index 0 of `table`. */
  readonly va0: number;
  readonly ctx: RecordingContext;
  readonly level: Level;
  va(i: number): number;
  /** The raw entry at `i`. */
  raw(i: number): bigint;
  /** An entry for `pfn` with `prot`, then `edit` applied. */
  entry(pfn: number, prot: number, edit?: (v: EntryReg) => void): EntryReg;
  /** set_ptes(nr = 1) (or set_pmd_at) of entry(pfn, prot, edit) at `i`. */
  set(i: number, pfn: number, prot: number, edit?: (v: EntryReg) => void): void;
}

export interface FixtureOptions {
  readonly level?: Level;
  readonly user?: boolean;
  readonly folioCovers?: (pfn: number, nr: number) => boolean;
}

/** A table at `level` (PTE by default) whose index 0 maps a PMD-aligned (or PUD-aligned) va. */
export function tableFixture(variant = "4k-48", opts: FixtureOptions = {}): TableFixture {
  const b = createArm64Backend(variant);
  const level = opts.level ?? PTE;
  const mem = new TableMemory();
  const root = allocRoot(b, mem);
  const va0 = level === PTE ? 3 * 2 ** b.geometry.levels[PMD]!.shift : 2 ** b.geometry.levels[level + 1]!.shift;
  const slot = ensureSlot(b, mem, root, va0, level);
  const ctx = simpleContext({ user: opts.user ?? true, ...(opts.folioCovers ? { folioCovers: opts.folioCovers } : {}) });
  const levelBytes = 2 ** b.geometry.levels[level]!.shift;
  const f: TableFixture = {
    b,
    mem,
    root,
    table: slot.table,
    va0: va0 - slot.index * levelBytes,
    ctx,
    level,
    va: (i) => f.va0 + i * levelBytes,
    raw(i) {
      const r = entryRegs(1);
      b.readEntry(slot.table, i, level, r, 0);
      return big(r);
    },
    entry(pfn, prot, edit) {
      const r = entryRegs(1);
      b.pfnEntry(r, 0, level, pfn, prot);
      if (level !== PTE) b.mkhuge(r, 0, level);
      edit?.(r);
      return r;
    },
    set(i, pfn, prot, edit) {
      b.setEntries(ctx, slot.table, i, level, f.va(i), f.entry(pfn, prot, edit), 0, 1);
    },
  };
  return f;
}

/** Map CONT_PTES entries one by one from `start` (block-aligned) so the last write folds them. */
export function foldBlock(f: TableFixture, start: number, pfn: number, prot: number, edit?: (v: EntryReg, i: number) => void): void {
  const n = f.b.contPtes;
  for (let i = 0; i < n; i++) f.set(start + i, pfn + i, prot, edit ? (v) => edit(v, i) : undefined);
}

export function contBits(f: TableFixture, start: number, n: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push((f.raw(start + i) & CONT) !== 0n);
  return out;
}
