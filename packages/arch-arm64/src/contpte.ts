import { PTE, type EntryReg, type Level, type PageTableContext, type ProtIndex } from "@hugemm/arch";
import type { Arm64Backend } from "./backend";
import { HI_ACCESS_FLAGS, LO_ACCESS_FLAGS, LO_RDONLY } from "./bits";
import {
  isCont,
  isDirty,
  isPresent,
  isSpecial,
  isValid,
  isValidCont,
  isWrite,
  isYoung,
  mkclean,
  mkcont,
  mkdirty,
  mkold,
  mknoncont,
  mkyoung,
  wrprotect,
} from "./entry-algebra";
import { loadEntry, storeEntry, storeWords } from "./table-storage";

/*
 * contpte (arch/arm64/mm/contpte.c): PTE_CONT is private to the arch. The
 * PTE-level page-table operations add it when a whole CONT_PTES block maps
 * one folio with identical attributes, and remove it (unfold) before a
 * change that would make the block inconsistent. Every change of the bit
 * goes through contpte_convert()'s break-before-make. Kernel mappings
 * (ctx.user false) never get the bit.
 *
 * Scratch registers in b.regs, one role each so that nested calls do not
 * clobber their callers.
 */
const R_SET = 0; // the entry set_ptes() writes
const R_ORIG = 2; // an entry read by a top-level operation
const R_TMP = 4; // loop reads
const R_EXP = 6; // fold: the expected entry
const R_SUB = 8; // fold: the entry compared; access flags: the old entry
const R_CONV = 10; // contpte_convert(): the entry re-made over the block
const R_ENTRY = 12; // access flags: the requested entry
const R_MOD = 14; // modify: the entry being re-protected

/** Write `nr` entries from `v`, advancing the pfn by `stride` pages per slot (__set_ptes_anysz()). */
export function setRun(b: Arm64Backend, table: Uint32Array, index: number, v: EntryReg, o: number, nr: number, stride: number): void {
  const r = b.regs;
  r[R_TMP] = v[o]!;
  r[R_TMP + 1] = v[o + 1]!;
  const pfn = b.rawPfn(r, R_TMP);
  for (let i = 0; ; i++) {
    storeEntry(table, index + i, r, R_TMP);
    if (i + 1 >= nr) break;
    b.replacePfn(r, R_TMP, pfn + (i + 1) * stride);
  }
}

/**
 * contpte_convert(): clear every entry of the block holding `index`,
 * gathering young and dirty; flush the block (unless the CPU has BBML2
 * without conflict aborts); then re-make it from `src` (CONT set to fold,
 * clear to unfold) with consecutive pfns from the block-aligned one.
 */
function convert(b: Arm64Backend, ctx: PageTableContext, table: Uint32Array, index: number, va: number, src: EntryReg, so: number): void {
  const n = b.contPtes;
  const r = b.regs;
  const ps = b.pageSize;
  const start = index - (index % n);
  const startVa = va - (index - start) * ps;
  r[R_CONV] = src[so]!;
  r[R_CONV + 1] = src[so + 1]!;
  const pfn = b.rawPfn(r, R_CONV);
  const base = pfn - (pfn % n);
  b.replacePfn(r, R_CONV, base);
  for (let i = 0; i < n; i++) {
    loadEntry(table, start + i, r, R_TMP);
    storeWords(table, start + i, 0, 0);
    if (isDirty(r, R_TMP)) mkdirty(r, R_CONV);
    if (isYoung(r, R_TMP)) mkyoung(r, R_CONV);
  }
  if (!b.config.bbml2NoAbort) ctx.flushTlbRange(startVa, startVa + n * ps, ps, PTE, "contpte-convert");
  for (let i = 0; ; i++) {
    storeEntry(table, start + i, r, R_CONV);
    if (i + 1 >= n) break;
    b.replacePfn(r, R_CONV, base + i + 1);
  }
}

/** __contpte_try_unfold(): `src` is a valid cont entry of the block (it is modified). */
function unfold(b: Arm64Backend, ctx: PageTableContext, table: Uint32Array, index: number, va: number, src: EntryReg, so: number): void {
  if (!ctx.user) return;
  mknoncont(src, so);
  convert(b, ctx, table, index, va, src, so);
}

/**
 * contpte_try_fold() after set_ptes(nr == 1) wrote `src` at `index`. The
 * cheap checks come first: the entry is the last of its block both
 * virtually and physically, valid, not already cont and not special.
 */
function tryFold(b: Arm64Backend, ctx: PageTableContext, table: Uint32Array, index: number, va: number, src: EntryReg, so: number): void {
  const n = b.contPtes;
  const last = n - 1;
  if (index % n !== last) return;
  const pfn = b.rawPfn(src, so);
  if (pfn % n !== last) return;
  if (!isValid(src, so) || isCont(src, so) || isSpecial(src, so)) return;
  // __contpte_try_fold(): user mm, one folio over the block, every entry
  // equal to pfn_pte(first + i, prot) once young and dirty are ignored.
  if (!ctx.user) return;
  const first = pfn - last;
  if (!ctx.folioCovers(first, n)) return;
  const r = b.regs;
  r[R_EXP] = src[so]!;
  r[R_EXP + 1] = src[so + 1]!;
  mkclean(r, R_EXP);
  mkold(r, R_EXP);
  b.replacePfn(r, R_EXP, first);
  const start = index - last;
  for (let i = 0; i < n; i++) {
    loadEntry(table, start + i, r, R_SUB);
    mkclean(r, R_SUB);
    mkold(r, R_SUB);
    if (r[R_SUB] !== r[R_EXP] || r[R_SUB + 1] !== r[R_EXP + 1]) return;
    if (i < last) b.replacePfn(r, R_EXP, first + i + 1);
  }
  mkcont(src, so);
  convert(b, ctx, table, index, va, src, so);
}

/**
 * set_ptes(). nr == 1: unfold a block being overwritten, write, try to
 * fold. nr > 1 (into none entries): contpte_set_ptes() sets CONT on the
 * chunks that are whole blocks, virtually and physically aligned.
 */
export function setPtes(b: Arm64Backend, ctx: PageTableContext, table: Uint32Array, index: number, va: number, v: EntryReg, o: number, nr: number): void {
  const r = b.regs;
  r[R_SET] = v[o]!;
  r[R_SET + 1] = v[o + 1]!;
  mknoncont(r, R_SET);
  if (nr === 1) {
    loadEntry(table, index, r, R_ORIG);
    if (isValidCont(r, R_ORIG)) unfold(b, ctx, table, index, va, r, R_ORIG);
    storeEntry(table, index, r, R_SET);
    tryFold(b, ctx, table, index, va, r, R_SET);
    return;
  }
  if (!ctx.user) {
    setRun(b, table, index, r, R_SET, nr, 1);
    return;
  }
  const n = b.contPtes;
  const end = index + nr;
  let pfn = b.rawPfn(r, R_SET);
  for (let i = index; i < end; ) {
    const next = Math.min(i - (i % n) + n, end);
    b.replacePfn(r, R_SET, pfn);
    if (i % n === 0 && next % n === 0 && pfn % n === 0) mkcont(r, R_SET);
    else mknoncont(r, R_SET);
    setRun(b, table, i, r, R_SET, next - i, 1);
    pfn += next - i;
    i = next;
  }
}

/** ptep_get(): a valid cont entry returns with young and dirty gathered over its block. */
export function getPte(b: Arm64Backend, table: Uint32Array, index: number, out: EntryReg, o: number): void {
  loadEntry(table, index, out, o);
  if (!isValidCont(out, o)) return;
  const n = b.contPtes;
  const start = index - (index % n);
  const r = b.regs;
  for (let i = 0; i < n; i++) {
    loadEntry(table, start + i, r, R_TMP);
    if (isDirty(r, R_TMP)) mkdirty(out, o);
    if (isYoung(r, R_TMP)) mkyoung(out, o);
  }
}

/** ptep_get_and_clear(): unfold first, so the returned entry carries the block's young/dirty. */
export function getAndClearPte(b: Arm64Backend, ctx: PageTableContext, table: Uint32Array, index: number, va: number, out: EntryReg, o: number): void {
  const r = b.regs;
  loadEntry(table, index, r, R_ORIG);
  if (isValidCont(r, R_ORIG)) unfold(b, ctx, table, index, va, r, R_ORIG);
  loadEntry(table, index, out, o);
  storeWords(table, index, 0, 0);
}

/** contpte_try_unfold_partial(): unfold blocks the range [index, index + nr) covers only in part, at either end. */
function unfoldPartial(b: Arm64Backend, ctx: PageTableContext, table: Uint32Array, index: number, va: number, nr: number): void {
  const n = b.contPtes;
  const r = b.regs;
  if (index % n !== 0 || nr < n) {
    loadEntry(table, index, r, R_ORIG);
    if (isValidCont(r, R_ORIG)) unfold(b, ctx, table, index, va, r, R_ORIG);
  }
  if ((index + nr) % n !== 0) {
    const last = index + nr - 1;
    loadEntry(table, last, r, R_ORIG);
    if (isValidCont(r, R_ORIG)) unfold(b, ctx, table, last, va + (nr - 1) * b.pageSize, r, R_ORIG);
  }
}

/**
 * get_and_clear_full_ptes(): whole blocks are cleared without unfolding;
 * the first entry is returned with young/dirty gathered from all `nr`.
 */
export function getAndClearPtes(b: Arm64Backend, ctx: PageTableContext, table: Uint32Array, index: number, va: number, nr: number, out: EntryReg, o: number): void {
  if (nr <= 1) {
    getAndClearPte(b, ctx, table, index, va, out, o);
    return;
  }
  unfoldPartial(b, ctx, table, index, va, nr);
  const r = b.regs;
  loadEntry(table, index, out, o);
  storeWords(table, index, 0, 0);
  for (let i = 1; i < nr; i++) {
    loadEntry(table, index + i, r, R_TMP);
    storeWords(table, index + i, 0, 0);
    if (!isPresent(r, R_TMP)) continue;
    if (isDirty(r, R_TMP)) mkdirty(out, o);
    if (isYoung(r, R_TMP)) mkyoung(out, o);
  }
}

function wrprotectAt(b: Arm64Backend, table: Uint32Array, index: number): void {
  const r = b.regs;
  loadEntry(table, index, r, R_TMP);
  if (!isPresent(r, R_TMP)) return;
  wrprotect(r, R_TMP);
  storeEntry(table, index, r, R_TMP);
}

/**
 * wrprotect_ptes(). nr == 1 unfolds a cont entry first. nr > 1 unfolds
 * only the partial blocks at the ends: a whole block is write-protected in
 * place, which keeps it consistent once the caller's flush lands.
 */
export function wrprotectPtes(b: Arm64Backend, ctx: PageTableContext, table: Uint32Array, index: number, va: number, nr: number): void {
  if (nr === 1) {
    const r = b.regs;
    loadEntry(table, index, r, R_ORIG);
    if (isValidCont(r, R_ORIG)) unfold(b, ctx, table, index, va, r, R_ORIG);
    wrprotectAt(b, table, index);
    return;
  }
  unfoldPartial(b, ctx, table, index, va, nr);
  for (let i = 0; i < nr; i++) wrprotectAt(b, table, index + i);
}

/**
 * __ptep_set_access_flags(): make one entry at least as permissive as `e`:
 * OR in AF, PTE_WRITE and PTE_DIRTY, and keep PTE_RDONLY only if both have
 * it. A dirty update flushes the local TLB entry for the page.
 */
export function setAccessFlagsOne(
  b: Arm64Backend,
  ctx: PageTableContext,
  table: Uint32Array,
  index: number,
  level: Level,
  va: number,
  e: EntryReg,
  eo: number,
  dirty: boolean,
): boolean {
  const r = b.regs;
  loadEntry(table, index, r, R_SUB);
  if (r[R_SUB] === e[eo] && r[R_SUB + 1] === e[eo + 1]) return false;
  const eLo = (e[eo]! & LO_ACCESS_FLAGS) ^ LO_RDONLY;
  const lo = ((r[R_SUB]! ^ LO_RDONLY) | eLo) ^ LO_RDONLY;
  const hi = r[R_SUB + 1]! | (e[eo + 1]! & HI_ACCESS_FLAGS);
  storeWords(table, index, lo >>> 0, hi >>> 0);
  if (dirty) ctx.flushTlbRange(va, va + b.pageSize, b.pageSize, level, "access-flags");
  return true;
}

/**
 * ptep_set_access_flags() at the PTE level. In a cont block it is a no-op
 * only if every entry already has the requested RDONLY/AF/WRITE/DIRTY
 * bits; if the write permission is unchanged all entries of the block are
 * updated in place (one flush for the block when dirty); a change of the
 * write permission unfolds the block first.
 */
export function setAccessFlagsPte(
  b: Arm64Backend,
  ctx: PageTableContext,
  table: Uint32Array,
  index: number,
  va: number,
  v: EntryReg,
  o: number,
  dirty: boolean,
): boolean {
  const r = b.regs;
  r[R_ENTRY] = v[o]!;
  r[R_ENTRY + 1] = v[o + 1]!;
  mknoncont(r, R_ENTRY);
  loadEntry(table, index, r, R_ORIG);
  if (!isValidCont(r, R_ORIG)) return setAccessFlagsOne(b, ctx, table, index, PTE, va, r, R_ENTRY, dirty);

  const n = b.contPtes;
  const ps = b.pageSize;
  const start = index - (index % n);
  const startVa = va - (index - start) * ps;
  const wantLo = r[R_ENTRY]! & LO_ACCESS_FLAGS;
  const wantHi = r[R_ENTRY + 1]! & HI_ACCESS_FLAGS;
  let same = true;
  for (let i = 0; i < n && same; i++) {
    loadEntry(table, start + i, r, R_TMP);
    same = (r[R_TMP]! & LO_ACCESS_FLAGS) === wantLo && (r[R_TMP + 1]! & HI_ACCESS_FLAGS) === wantHi;
  }
  if (same) return false;

  if (isWrite(r, R_ORIG) === isWrite(r, R_ENTRY)) {
    for (let i = 0; i < n; i++) setAccessFlagsOne(b, ctx, table, start + i, PTE, startVa + i * ps, r, R_ENTRY, false);
    if (dirty) ctx.flushTlbRange(startVa, startVa + n * ps, ps, PTE, "access-flags");
  } else {
    unfold(b, ctx, table, index, va, r, R_ORIG);
    setAccessFlagsOne(b, ctx, table, index, PTE, va, r, R_ENTRY, dirty);
  }
  return true;
}

/** contpte_align_addr_ptep(), start: back to its block's start if the first entry is cont. */
function widenStart(b: Arm64Backend, table: Uint32Array, index: number): number {
  const r = b.regs;
  loadEntry(table, index, r, R_TMP);
  return isValidCont(r, R_TMP) ? index - (index % b.contPtes) : index;
}

/** contpte_align_addr_ptep(), end: on to its block's end if the last entry is cont. */
function widenEnd(b: Arm64Backend, table: Uint32Array, index: number, nr: number): number {
  const r = b.regs;
  const end = index + nr;
  loadEntry(table, end - 1, r, R_TMP);
  return isValidCont(r, R_TMP) ? Math.ceil(end / b.contPtes) * b.contPtes : end;
}

/**
 * ptep_test_and_clear_young() over `nr` entries: a cont block is aged as a
 * whole (the core tracks access per folio), without unfolding.
 */
export function testAndClearYoungPtes(b: Arm64Backend, table: Uint32Array, index: number, nr: number): boolean {
  if (nr < 1) return false;
  const start = widenStart(b, table, index);
  const end = widenEnd(b, table, index, nr);
  const r = b.regs;
  let young = false;
  for (let i = start; i < end; i++) {
    loadEntry(table, i, r, R_TMP);
    if (!isPresent(r, R_TMP) || !isYoung(r, R_TMP)) continue;
    young = true;
    mkold(r, R_TMP);
    storeEntry(table, i, r, R_TMP);
  }
  return young;
}

/** clear_young_dirty_ptes(): widened to whole cont blocks, no unfold. */
export function clearYoungDirtyPtes(b: Arm64Backend, table: Uint32Array, index: number, nr: number, young: boolean, dirty: boolean): void {
  if (nr < 1 || (!young && !dirty)) return;
  const start = widenStart(b, table, index);
  const end = widenEnd(b, table, index, nr);
  const r = b.regs;
  for (let i = start; i < end; i++) {
    loadEntry(table, i, r, R_TMP);
    if (!isPresent(r, R_TMP)) continue;
    if (young) mkold(r, R_TMP);
    if (dirty) mkclean(r, R_TMP);
    storeEntry(table, i, r, R_TMP);
  }
}

/**
 * Do the `nr` entries form one folio batch (what mprotect hands to
 * modify_prot_start_ptes): all present, consecutive pfns, and the same
 * attributes once young, dirty and CONT are ignored?
 */
function isFolioBatch(b: Arm64Backend, table: Uint32Array, index: number, nr: number): boolean {
  const r = b.regs;
  loadEntry(table, index, r, R_EXP);
  if (!isPresent(r, R_EXP)) return false;
  mkclean(r, R_EXP);
  mkold(r, R_EXP);
  mknoncont(r, R_EXP);
  const first = b.rawPfn(r, R_EXP);
  for (let i = 1; i < nr; i++) {
    loadEntry(table, index + i, r, R_SUB);
    if (!isPresent(r, R_SUB)) return false;
    mkclean(r, R_SUB);
    mkold(r, R_SUB);
    mknoncont(r, R_SUB);
    b.replacePfn(r, R_EXP, first + i);
    if (r[R_SUB] !== r[R_EXP] || r[R_SUB + 1] !== r[R_EXP + 1]) return false;
  }
  return true;
}

/**
 * modify_prot_start_ptes() + pte_modify() + modify_prot_commit_ptes(): a
 * folio batch is cleared with get_and_clear_ptes() (unfolding only partial
 * blocks), re-protected once and re-set with set_ptes(nr), which re-folds
 * whole blocks. Anything else is done entry by entry, skipping non-present ones.
 */
export function modifyPtes(b: Arm64Backend, ctx: PageTableContext, table: Uint32Array, index: number, va: number, nr: number, prot: ProtIndex): void {
  const r = b.regs;
  if (nr > 1 && isFolioBatch(b, table, index, nr)) {
    getAndClearPtes(b, ctx, table, index, va, nr, r, R_MOD);
    b.modify(r, R_MOD, PTE, prot);
    setPtes(b, ctx, table, index, va, r, R_MOD, nr);
    return;
  }
  for (let i = 0; i < nr; i++) {
    loadEntry(table, index + i, r, R_MOD);
    if (!isPresent(r, R_MOD)) continue;
    const va1 = va + i * b.pageSize;
    getAndClearPte(b, ctx, table, index + i, va1, r, R_MOD);
    b.modify(r, R_MOD, PTE, prot);
    setPtes(b, ctx, table, index + i, va1, r, R_MOD, 1);
  }
}

/** pte_batch_hint(): how many entries from `index` to the end of its cont block. */
export function batchHint(b: Arm64Backend, table: Uint32Array, index: number): number {
  const r = b.regs;
  loadEntry(table, index, r, R_TMP);
  if (!isValidCont(r, R_TMP)) return 1;
  return b.contPtes - (index % b.contPtes);
}
