import { ArchInputError, PMD, PTE, PUD, type EntryReg, type HugeSize, type Level, type PageTableContext } from "@hugemm/arch";
import type { Arm64Backend } from "./backend";
import { setAccessFlagsOne, setRun } from "./contpte";
import { isCont, isDirty, isPresent, isValid, isWrite, isYoung, mkcont, mkdirty, mkhugeBits, mkyoung, wrprotect } from "./entry-algebra";
import { loadEntry, storeEntry, storeWords } from "./table-storage";

/*
 * hugetlb on arm64 (arch/arm64/mm/hugetlbpage.c). Sizes of one slot are
 * plain PMD/PUD blocks; CONT_PTE_SIZE and CONT_PMD_SIZE span CONT_PTES /
 * CONT_PMDS slots carrying PTE_CONT, whose pfns advance by the slot size.
 * hugetlb manages the contiguous bit itself through the raw accessors, so
 * none of this goes through contpte.
 */
const R_HUGE = 16; // the entry being set
const R_HUGE2 = 18; // reads and the gathered old entry
const R_HUGE3 = 20; // get_clear_contig() loop reads

/**
 * The sizes hugetlbpage_init() registers, ascending: CONT_PTE, PMD,
 * CONT_PMD, and PUD with the 4K granule. Only the PMD size is also a THP size.
 */
export function arm64HugeSizes(b: Arm64Backend): HugeSize[] {
  const g = b.geometry;
  const c = b.config;
  const size = (level: Level, ncontig: number, thp: boolean): HugeSize => ({
    shift: g.levels[level]!.shift + Math.log2(ncontig),
    level,
    ncontig,
    cont: ncontig > 1,
    viaPteTables: false,
    thp,
    hugetlb: true,
  });
  const sizes = [size(PTE, b.contPtes, false), size(PMD, 1, true), size(PMD, b.contPmds, false)];
  if (c.granule === "4k" && c.levels > 2) sizes.push(size(PUD, 1, false));
  return sizes.sort((x, y) => x.shift - y.shift);
}

/** Throws unless `size` is one of the backend's huge sizes and `index` its first slot. */
function checkSize(b: Arm64Backend, size: HugeSize, index = 0): void {
  const sizes = b.hugeSizes;
  let known = false;
  for (let i = 0; i < sizes.length && !known; i++) {
    const s = sizes[i]!;
    known = s.shift === size.shift && s.level === size.level && s.ncontig === size.ncontig;
  }
  if (!known) {
    throw new ArchInputError("huge size", `2^${size.shift} at level ${size.level}`, `one of ${b.hugeSizes.map((s) => `2^${s.shift}`).join(", ")} for ${b.id}`);
  }
  if (index % size.ncontig !== 0) {
    throw new ArchInputError("huge entry index", index, `the first slot of a ${size.ncontig}-slot run (a multiple of ${size.ncontig})`);
  }
}

/** find_num_contig(): CONT_PMDS for a PMD slot, else CONT_PTES. */
function numContig(b: Arm64Backend, level: Level): number {
  if (level === PMD) return b.contPmds;
  return level === PTE ? b.contPtes : 1;
}

/** arch_make_huge_pte(): PTE_CONT for CONT_PTE; a block, with PMD_SECT_CONT for CONT_PMD. */
export function makeHuge(b: Arm64Backend, v: EntryReg, o: number, size: HugeSize): void {
  checkSize(b, size);
  if (size.cont) mkcont(v, o);
  if (size.level !== PTE) mkhugeBits(v, o);
}

/** get_clear_contig(): clear `n` slots; if the first was present, gather young/dirty from all. */
function getClearContig(b: Arm64Backend, table: Uint32Array, index: number, n: number, out: EntryReg, o: number): void {
  const r = b.regs;
  loadEntry(table, index, out, o);
  storeWords(table, index, 0, 0);
  const present = isPresent(out, o);
  for (let i = 1; i < n; i++) {
    loadEntry(table, index + i, r, R_HUGE3);
    storeWords(table, index + i, 0, 0);
    if (!present) continue;
    if (isDirty(r, R_HUGE3)) mkdirty(out, o);
    if (isYoung(r, R_HUGE3)) mkyoung(out, o);
  }
}

function flushRun(b: Arm64Backend, ctx: PageTableContext, va: number, n: number, level: Level): void {
  const bytes = 2 ** b.geometry.levels[level]!.shift;
  ctx.flushTlbRange(va, va + n * bytes, bytes, level, "hugetlb-clear-flush");
}

/**
 * set_huge_pte_at(): a non-present entry (migration, hwpoison, marker) is
 * written unchanged into every slot; a present one into consecutive slots
 * with the pfn advancing by the slot size. Re-setting a valid cont run
 * breaks it first (clear all slots and flush).
 */
export function setHuge(b: Arm64Backend, ctx: PageTableContext, table: Uint32Array, index: number, va: number, v: EntryReg, o: number, size: HugeSize): void {
  checkSize(b, size, index);
  const r = b.regs;
  const n = size.ncontig;
  r[R_HUGE] = v[o]!;
  r[R_HUGE + 1] = v[o + 1]!;
  if (!isPresent(r, R_HUGE)) {
    for (let i = 0; i < n; i++) storeEntry(table, index + i, r, R_HUGE);
    return;
  }
  if (isCont(r, R_HUGE)) {
    loadEntry(table, index, r, R_HUGE2);
    if (isValid(r, R_HUGE2)) {
      for (let i = 0; i < n; i++) storeWords(table, index + i, 0, 0);
      flushRun(b, ctx, va, n, size.level);
    }
  }
  setRun(b, table, index, r, R_HUGE, n, b.pagesPerEntry[size.level]!);
}

/** huge_ptep_get(): a present cont run returns with young/dirty gathered over its slots. */
export function getHuge(b: Arm64Backend, table: Uint32Array, index: number, out: EntryReg, o: number, size: HugeSize): void {
  checkSize(b, size, index);
  loadEntry(table, index, out, o);
  if (!isPresent(out, o) || !isCont(out, o)) return;
  const r = b.regs;
  const n = numContig(b, size.level);
  for (let i = 0; i < n; i++) {
    loadEntry(table, index + i, r, R_HUGE2);
    if (isDirty(r, R_HUGE2)) mkdirty(out, o);
    if (isYoung(r, R_HUGE2)) mkyoung(out, o);
  }
}

/** huge_ptep_get_and_clear(): no flush (the caller flushes). */
export function getAndClearHuge(b: Arm64Backend, table: Uint32Array, index: number, out: EntryReg, o: number, size: HugeSize): void {
  checkSize(b, size, index);
  getClearContig(b, table, index, size.ncontig, out, o);
}

/** huge_ptep_set_wrprotect(): in place for one slot; a cont run is broken, flushed and re-made read-only. */
export function wrprotectHuge(b: Arm64Backend, ctx: PageTableContext, table: Uint32Array, index: number, va: number, size: HugeSize): void {
  checkSize(b, size, index);
  const r = b.regs;
  loadEntry(table, index, r, R_HUGE);
  if (!isCont(r, R_HUGE)) {
    wrprotect(r, R_HUGE);
    storeEntry(table, index, r, R_HUGE);
    return;
  }
  const n = numContig(b, size.level);
  getClearContig(b, table, index, n, r, R_HUGE);
  flushRun(b, ctx, va, n, size.level);
  wrprotect(r, R_HUGE);
  setRun(b, table, index, r, R_HUGE, n, b.pagesPerEntry[size.level]!);
}

/**
 * huge_ptep_set_access_flags(): a non-cont entry is __ptep_set_access_flags().
 * A cont run changes only if the write bit of the first slot, or the young
 * or dirty state of any slot, differs from `v`; it is then broken, flushed
 * and re-made from `v` keeping the old young and dirty.
 */
export function setHugeAccessFlags(
  b: Arm64Backend,
  ctx: PageTableContext,
  table: Uint32Array,
  index: number,
  va: number,
  v: EntryReg,
  o: number,
  dirty: boolean,
  size: HugeSize,
): boolean {
  checkSize(b, size, index);
  if (!isCont(v, o)) return setAccessFlagsOne(b, ctx, table, index, size.level, va, v, o, dirty);
  const r = b.regs;
  const n = size.ncontig;
  loadEntry(table, index, r, R_HUGE2);
  let changed = isWrite(v, o) !== isWrite(r, R_HUGE2);
  for (let i = 0; i < n && !changed; i++) {
    loadEntry(table, index + i, r, R_HUGE2);
    changed = isDirty(v, o) !== isDirty(r, R_HUGE2) || isYoung(v, o) !== isYoung(r, R_HUGE2);
  }
  if (!changed) return false;
  getClearContig(b, table, index, n, r, R_HUGE2);
  flushRun(b, ctx, va, n, size.level);
  r[R_HUGE] = v[o]!;
  r[R_HUGE + 1] = v[o + 1]!;
  if (isDirty(r, R_HUGE2)) mkdirty(r, R_HUGE);
  if (isYoung(r, R_HUGE2)) mkyoung(r, R_HUGE);
  setRun(b, table, index, r, R_HUGE, n, b.pagesPerEntry[size.level]!);
  return true;
}
