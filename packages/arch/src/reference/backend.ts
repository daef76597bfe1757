import type { HugeSize } from "../backend";
import { ArchBackendBase } from "../base";
import type { Capabilities } from "../capabilities";
import type { DescribedEntry } from "../describe";
import type { EntryReg } from "../entry";
import { ArchInputError, checkRange } from "../errors";
import { type Level, PTE, PMD, PUD } from "../level";
import type { ProtIndex } from "../prot";
import { softleafFormat } from "../softleaf";
import type { HardwareWalk, TableStore, WalkAccess } from "../walk";
import * as B from "./bits";
import { describeReference } from "./describe";
import { referenceGeometry } from "./geometry";
import { protBits, protName } from "./prot";
import { walkReference } from "./walk";

/** Bits pte_modify keeps: everything but the protection. */
const CHG_MASK = B.YOUNG | B.DIRTY | B.LEAF | B.SPECIAL | B.SOFT_DIRTY | B.UFFD_WP | ~0xfff;
const TWO_20 = 2 ** B.PFN_LO_BITS;
const TWO_16 = 2 ** 16;

export class ReferenceBackend extends ArchBackendBase {
  readonly arch = "reference";
  readonly variant = "4level";
  readonly description = "reference format: 64-bit, 4-level, 4K pages, one bit per kernel concept";
  readonly geometry = referenceGeometry();
  readonly capabilities: Capabilities = {
    softDirty: true,
    uffdWp: true,
    special: true,
    protnone: true,
    pmdThp: true,
    pudThp: true,
    pudLeaf: true,
    pmdSoftleaf: true,
    contPte: false,
    migrationYoungDirty: true,
  };
  readonly swapOffsetBits = B.SWP_OFFSET_BITS;
  readonly softleaf = softleafFormat(B.PFN_BITS, B.SWP_OFFSET_BITS);
  readonly hugeSizes: readonly HugeSize[] = [
    { shift: 21, level: PMD, ncontig: 1, cont: false, viaPteTables: false, thp: true, hugetlb: true },
    { shift: 30, level: PUD, ncontig: 1, cont: false, viaPteTables: false, thp: true, hugetlb: true },
  ];

  pfnEntry(out: EntryReg, o: number, level: Level, pfn: number, prot: ProtIndex): void {
    this.checkLevel(level);
    checkRange("pfn", pfn, 0, this.geometry.maxPfn);
    const bits = protBits(prot);
    this.setPfn(out, o, pfn, bits | (level === PTE ? B.LEAF : 0));
  }

  mkhuge(v: EntryReg, o: number, level: Level): void {
    if (level > PTE) v[o] = (v[o]! | B.LEAF) >>> 0;
  }

  tableEntry(out: EntryReg, o: number, level: Level, tablePa: number, user: boolean): void {
    this.checkLevel(level);
    const pfn = tablePa / this.geometry.pageSize;
    checkRange("table physical address / page size", pfn, 0, this.geometry.maxPfn);
    this.setPfn(out, o, pfn, B.PRESENT | B.WRITE | B.YOUNG | B.DIRTY | (user ? B.USER : 0));
  }

  modify(v: EntryReg, o: number, level: Level, prot: ProtIndex): void {
    const bits = protBits(prot);
    this.checkLevel(level);
    v[o] = ((v[o]! & CHG_MASK) | (bits & ~B.YOUNG)) >>> 0;
  }

  none(v: EntryReg, o: number): boolean {
    return (v[o]! | v[o + 1]!) === 0;
  }

  present(v: EntryReg, o: number, level: Level): boolean {
    const lo = v[o]!;
    return (lo & (B.PRESENT | B.PROTNONE)) !== 0 || (level > PTE && (lo & B.LEAF) !== 0);
  }

  leaf(v: EntryReg, o: number, level: Level): boolean {
    return this.present(v, o, level) && (level === PTE || (v[o]! & B.LEAF) !== 0);
  }

  transHuge(v: EntryReg, o: number, level: Level): boolean {
    return level > PTE && this.leaf(v, o, level);
  }

  table(v: EntryReg, o: number, level: Level): boolean {
    return level > PTE && (v[o]! & (B.PRESENT | B.LEAF)) === B.PRESENT;
  }

  bad(v: EntryReg, o: number, level: Level): boolean {
    return level > PTE && this.present(v, o, level) && (v[o]! & B.LEAF) !== 0;
  }

  write(v: EntryReg, o: number): boolean {
    return (v[o]! & B.WRITE) !== 0;
  }
  dirty(v: EntryReg, o: number): boolean {
    return (v[o]! & B.DIRTY) !== 0;
  }
  young(v: EntryReg, o: number): boolean {
    return (v[o]! & B.YOUNG) !== 0;
  }
  special(v: EntryReg, o: number): boolean {
    return (v[o]! & B.SPECIAL) !== 0;
  }
  softDirty(v: EntryReg, o: number): boolean {
    return (v[o]! & B.SOFT_DIRTY) !== 0;
  }
  uffdWp(v: EntryReg, o: number): boolean {
    return (v[o]! & B.UFFD_WP) !== 0;
  }
  protnone(v: EntryReg, o: number): boolean {
    return (v[o]! & (B.PRESENT | B.PROTNONE)) === B.PROTNONE;
  }
  user(v: EntryReg, o: number): boolean {
    return (v[o]! & B.USER) !== 0;
  }
  exec(v: EntryReg, o: number): boolean {
    return (v[o]! & B.EXEC) !== 0;
  }
  cont(): boolean {
    return false;
  }

  pfn(v: EntryReg, o: number): number {
    return (v[o]! >>> B.PFN_SHIFT) + (v[o + 1]! & B.PFN_HI_MASK) * TWO_20;
  }

  tablePa(v: EntryReg, o: number): number {
    return this.pfn(v, o) * this.geometry.pageSize;
  }

  mkwrite(v: EntryReg, o: number): void {
    v[o] = (v[o]! | B.WRITE) >>> 0;
  }
  wrprotect(v: EntryReg, o: number): void {
    v[o] = (v[o]! & ~B.WRITE) >>> 0;
  }
  mkdirty(v: EntryReg, o: number): void {
    v[o] = (v[o]! | B.DIRTY) >>> 0;
  }
  mkclean(v: EntryReg, o: number): void {
    v[o] = (v[o]! & ~B.DIRTY) >>> 0;
  }
  mkyoung(v: EntryReg, o: number): void {
    v[o] = (v[o]! | B.YOUNG) >>> 0;
  }
  mkold(v: EntryReg, o: number): void {
    v[o] = (v[o]! & ~B.YOUNG) >>> 0;
  }
  mkspecial(v: EntryReg, o: number): void {
    v[o] = (v[o]! | B.SPECIAL) >>> 0;
  }
  mksoftDirty(v: EntryReg, o: number): void {
    v[o] = (v[o]! | B.SOFT_DIRTY) >>> 0;
  }
  clearSoftDirty(v: EntryReg, o: number): void {
    v[o] = (v[o]! & ~B.SOFT_DIRTY) >>> 0;
  }
  /** As pte_mkuffd_wp: the flag and a write-protect. */
  mkuffdWp(v: EntryReg, o: number): void {
    v[o] = ((v[o]! | B.UFFD_WP) & ~B.WRITE) >>> 0;
  }
  clearUffdWp(v: EntryReg, o: number): void {
    v[o] = (v[o]! & ~B.UFFD_WP) >>> 0;
  }
  mkinvalid(v: EntryReg, o: number): void {
    v[o] = (v[o]! & ~(B.PRESENT | B.PROTNONE)) >>> 0;
  }
  advancePfn(v: EntryReg, o: number, _level: Level, nr: number): void {
    this.setPfn(v, o, this.pfn(v, o) + nr, v[o]! & 0xfff);
  }

  softleafEntry(out: EntryReg, o: number, level: Level, swpType: number, offset: number): void {
    this.checkLevel(level);
    checkRange("swap type", swpType, 0, B.SWP_TYPE_MASK);
    checkRange("swap offset", offset, 0, this.softleaf.maxOffset);
    out[o] = ((swpType << B.SWP_TYPE_SHIFT) | ((offset % TWO_16) << B.SWP_OFFSET_SHIFT)) >>> 0;
    out[o + 1] = Math.floor(offset / TWO_16);
  }
  isSoftleaf(v: EntryReg, o: number, level: Level): boolean {
    return !this.none(v, o) && !this.present(v, o, level);
  }
  swpType(v: EntryReg, o: number): number {
    return (v[o]! >>> B.SWP_TYPE_SHIFT) & B.SWP_TYPE_MASK;
  }
  swpOffset(v: EntryReg, o: number): number {
    return (v[o]! >>> B.SWP_OFFSET_SHIFT) + v[o + 1]! * TWO_16;
  }
  swpExclusive(v: EntryReg, o: number): boolean {
    return (v[o]! & B.SWP_EXCLUSIVE) !== 0;
  }
  swpMkExclusive(v: EntryReg, o: number): void {
    v[o] = (v[o]! | B.SWP_EXCLUSIVE) >>> 0;
  }
  swpClearExclusive(v: EntryReg, o: number): void {
    v[o] = (v[o]! & ~B.SWP_EXCLUSIVE) >>> 0;
  }
  swpSoftDirty(v: EntryReg, o: number): boolean {
    return (v[o]! & B.SWP_SOFT_DIRTY) !== 0;
  }
  swpMkSoftDirty(v: EntryReg, o: number): void {
    v[o] = (v[o]! | B.SWP_SOFT_DIRTY) >>> 0;
  }
  swpClearSoftDirty(v: EntryReg, o: number): void {
    v[o] = (v[o]! & ~B.SWP_SOFT_DIRTY) >>> 0;
  }
  swpUffdWp(v: EntryReg, o: number): boolean {
    return (v[o]! & B.SWP_UFFD_WP) !== 0;
  }
  swpMkUffdWp(v: EntryReg, o: number): void {
    v[o] = (v[o]! | B.SWP_UFFD_WP) >>> 0;
  }
  swpClearUffdWp(v: EntryReg, o: number): void {
    v[o] = (v[o]! & ~B.SWP_UFFD_WP) >>> 0;
  }

  readEntry(table: Uint32Array, index: number, _level: Level, out: EntryReg, o: number): void {
    out[o] = table[2 * index]!;
    out[o + 1] = table[2 * index + 1]!;
  }
  writeEntry(table: Uint32Array, index: number, _level: Level, v: EntryReg, o: number): void {
    table[2 * index] = v[o]!;
    table[2 * index + 1] = v[o + 1]!;
  }

  /** The reference MMU tests PRESENT alone (PROTNONE and LEAF make present() true for the kernel). */
  protected override mmuValid(v: EntryReg, o: number): boolean {
    return (v[o]! & B.PRESENT) !== 0;
  }

  walk(store: TableStore, rootPa: number, va: number, access?: WalkAccess): HardwareWalk {
    return walkReference(this, store, rootPa, va, access);
  }
  describe(v: EntryReg, o: number, level: Level): DescribedEntry {
    this.checkLevel(level);
    return describeReference(this, v, o, level);
  }
  protName(prot: ProtIndex): string {
    return protName(prot);
  }

  /** Write pfn and the low-word flags `flags` (bits 0..11) into a register. */
  private setPfn(v: EntryReg, o: number, pfn: number, flags: number): void {
    v[o] = (((pfn % TWO_20) << B.PFN_SHIFT) | (flags & 0xfff)) >>> 0;
    v[o + 1] = Math.floor(pfn / TWO_20);
  }
}

/** The factory: the reference format has one variant, "4level". */
export function createReferenceBackend(options?: string | Record<string, never>): ReferenceBackend {
  if (typeof options === "string" && options !== "4level") {
    throw new ArchInputError("reference variant", options, 'one of "4level"');
  }
  return new ReferenceBackend();
}
