import {
  type DescribedEntry,
  type EntryField,
  type EntryKind,
  type EntryReg,
  entryHex,
  type Level,
  levelName,
  migrationDirty,
  migrationYoung,
  PMD,
  PTE,
  PUD,
  softleafHasPfn,
  softleafIsMigration,
  softleafName,
  softleafPfn,
  type SoftleafFormat,
  softleafTypeOf,
  SWP_PTE_MARKER,
} from "@hugemm/arch";
import {
  _PAGE_ACCESSED,
  _PAGE_BIT_NX,
  _PAGE_BIT_PKEY_BIT0,
  _PAGE_BIT_SAVED_DIRTY,
  _PAGE_BIT_SOFTW4,
  _PAGE_DIRTY,
  _PAGE_GLOBAL,
  _PAGE_NX_HI,
  _PAGE_PKEY_MASK_HI,
  _PAGE_PKEY_SHIFT_HI,
  _PAGE_PRESENT,
  _PAGE_PSE,
  _PAGE_RW,
  _PAGE_SAVED_DIRTY_HI,
  _PAGE_SOFT_DIRTY,
  _PAGE_SPECIAL,
  _PAGE_UFFD_WP,
  _PAGE_USER,
  PTE_PFN_MASK_LO,
  SWP_OFFSET_FIRST_BIT,
} from "./bits";
import { isBad, isNone, isWrite } from "./predicates";
import { entryAddress, needsInvert, pfnMaskLo, readPfn } from "./pfn";
import { decodeSwpOffset, decodeSwpType } from "./softleaf";

/** What describe() needs to know about the backend. */
export interface DescribeContext {
  readonly l5: boolean;
  readonly shadowStack: boolean;
  readonly softleaf: SoftleafFormat;
  /** The logical level of the root table's entries (P4D when 4-level, PGD when 5-level). */
  readonly rootLevel: Level;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

function bitSet(lo: number, hi: number, b: number): boolean {
  return b < 32 ? ((lo >>> b) & 1) === 1 : ((hi >>> (b - 32)) & 1) === 1;
}

/** Value of bits lo..hi (inclusive) of the entry, as a number (spans here stay below 53 bits). */
function bitsValue(lo: number, hi: number, from: number, to: number): number {
  const x = (BigInt(hi) << 32n) | BigInt(lo);
  return Number((x >> BigInt(from)) & ((1n << BigInt(to - from + 1)) - 1n));
}

class FieldList {
  readonly fields: EntryField[] = [];
  constructor(
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  /** Add a one-bit field if the bit is set. */
  bit(b: number, name: string, meaning: string): void {
    if (bitSet(this.lo, this.hi, b)) this.fields.push({ name, lo: b, hi: b, value: 1, meaning });
  }

  /** Add a run of bits if any is set (or always, with `always`). */
  run(from: number, to: number, name: string, meaning: string, always = false, value?: number | string): void {
    const v = bitsValue(this.lo, this.hi, from, to);
    if (v !== 0 || always) this.fields.push({ name, lo: from, hi: to, value: value ?? v, meaning });
  }
}

function classify(lo: number, hi: number, level: Level, ctx: DescribeContext): EntryKind {
  if (isNone(lo, hi, level, ctx.l5)) return "none";
  const present = (lo & _PAGE_PRESENT) !== 0;
  if (level === PTE) {
    if (present) return "leaf";
    return (lo & _PAGE_GLOBAL) !== 0 ? "protnone" : "softleaf";
  }
  if (level === PMD || level === PUD) {
    if (present) {
      if ((lo & _PAGE_PSE) !== 0) return "leaf";
      return isBad(lo, hi, level, ctx.l5) ? "bad" : "table";
    }
    if ((lo & _PAGE_GLOBAL) !== 0) return "protnone";
    return (lo & _PAGE_PSE) !== 0 ? "invalid-leaf" : "softleaf";
  }
  return present && !isBad(lo, hi, level, ctx.l5) ? "table" : "bad";
}

/** Bits 0..6 and 9..11 read the same in every present-format entry. */
function lowFlags(f: FieldList, tableFormat: boolean): void {
  f.bit(0, "_PAGE_PRESENT", "valid for the MMU");
  f.bit(1, "_PAGE_RW", tableFormat ? "writes allowed in the range below" : "writable");
  f.bit(2, "_PAGE_USER", tableFormat ? "user access allowed in the range below" : "user accessible");
  f.bit(3, "_PAGE_PWT", "write-through (cache index bit 0)");
  f.bit(4, "_PAGE_PCD", "cache disabled (cache index bit 1)");
  f.bit(5, "_PAGE_ACCESSED", tableFormat ? "accessed: set by the MMU when a walk uses this entry" : "young: set by the MMU on access");
  f.bit(6, "_PAGE_DIRTY", tableFormat ? "ignored by the MMU in a table entry (part of _PAGE_TABLE)" : "dirty: set by the MMU on write");
  f.bit(9, "_PAGE_SPECIAL", tableFormat ? "software bit 1 (ignored in a table entry)" : "special mapping (no struct page refcounting)");
  f.bit(10, "_PAGE_UFFD_WP", tableFormat ? "software bit 2 (ignored in a table entry)" : "userfaultfd write-protected");
  f.bit(11, "_PAGE_SOFT_DIRTY", tableFormat ? "software bit 3 (ignored in a table entry)" : "soft-dirty (written since clear_refs)");
}

function leafFields(f: FieldList, lo: number, hi: number, level: Level): void {
  const pse = level !== PTE && (lo & _PAGE_PSE) !== 0;
  const present = (lo & _PAGE_PRESENT) !== 0;
  lowFlags(f, false);
  if (level === PTE) f.bit(7, "_PAGE_PAT", "PAT (cache index bit 2) of a 4K page");
  else f.bit(7, "_PAGE_PSE", `huge leaf (${level === PMD ? "2M" : "1G"})`);
  f.bit(8, present ? "_PAGE_GLOBAL" : "_PAGE_PROTNONE", present ? "global: kept in the TLB across CR3 switches" : "PROT_NONE mapping: pte_present() is still true");
  const maskLo = pfnMaskLo(level, lo);
  const firstPfnBit = 31 - Math.clz32(maskLo & -maskLo);
  if (pse) {
    f.bit(12, "_PAGE_PAT_LARGE", "PAT (cache index bit 2) of a huge page");
    f.run(13, firstPfnBit - 1, "reserved", "reserved address bits of a huge leaf: must be 0");
  }
  const inverted = needsInvert(lo, hi);
  const pfn = readPfn(toReg(lo, hi), 0, level);
  f.run(firstPfnBit, 51, "pfn", inverted ? `page frame ${hex(pfn)}, stored inverted (L1TF: a non-present entry points at no memory)` : `page frame ${hex(pfn)}`, true, pfn);
  upperFlags(f, false);
}

function upperFlags(f: FieldList, tableFormat: boolean, root = false): void {
  f.run(52, 56, "_PAGE_SOFTW (52-56)", "ignored by the MMU, unused by Linux");
  f.bit(_PAGE_BIT_SOFTW4, "_PAGE_SOFTW4", tableFormat ? "ignored by the MMU" : "unused since _PAGE_DEVMAP was removed (v6.17)");
  if (tableFormat) f.bit(_PAGE_BIT_SAVED_DIRTY, root ? "_PAGE_NOPTISHADOW" : "_PAGE_SOFTW5", root ? "not copied to the PTI user page tables" : "ignored by the MMU in a table entry");
  else f.bit(_PAGE_BIT_SAVED_DIRTY, "_PAGE_SAVED_DIRTY", "dirty while write-protected (Write=0,Dirty=1 would mean shadow stack)");
  if (tableFormat) f.run(_PAGE_BIT_PKEY_BIT0, 62, "ignored (59-62)", "ignored by the MMU in a table entry");
  else f.run(_PAGE_BIT_PKEY_BIT0, 62, "_PAGE_PKEY", "protection key (checked against PKRU for user pages)");
  f.bit(_PAGE_BIT_NX, "_PAGE_NX", tableFormat ? "no execute anywhere below" : "no execute");
}

function tableFields(f: FieldList, lo: number, hi: number, level: Level, root: boolean): void {
  lowFlags(f, true);
  f.bit(7, "_PAGE_PSE", level > PUD ? "page size: reserved at this level" : "page size");
  f.bit(8, "_PAGE_GLOBAL", "ignored in a table entry");
  const pa = entryAddress(lo, hi, PTE_PFN_MASK_LO);
  f.run(12, 51, "table address", `next-level table at ${hex(pa)}`, true, pa);
  upperFlags(f, true, root);
}

function softleafFields(f: FieldList, ctx: DescribeContext, swpType: number, offset: number): string {
  f.bit(1, "_PAGE_SWP_SOFT_DIRTY", "soft-dirty carried across swap/migration");
  f.bit(2, "_PAGE_SWP_UFFD_WP", "userfaultfd write-protect carried across swap/migration");
  f.bit(3, "_PAGE_SWP_EXCLUSIVE", "anonymous page was exclusive (PG_anon_exclusive)");
  f.bit(4, "bit 4", "unused in swap entries");
  f.bit(5, "_PAGE_ACCESSED", "stray Accessed (Knights Landing erratum): not part of the swap entry");
  f.bit(6, "_PAGE_DIRTY", "stray Dirty (Knights Landing erratum): not part of the swap entry");
  f.bit(7, "bit 7", "must be 0 in a swap entry (PSE would make a PMD present)");
  const t = softleafTypeOf(swpType);
  let what = softleafName(t);
  if (softleafHasPfn(t)) {
    what += ` pfn ${hex(softleafPfn(ctx.softleaf, offset))}`;
    if (softleafIsMigration(t)) {
      if (migrationYoung(ctx.softleaf, offset)) what += " young";
      if (migrationDirty(ctx.softleaf, offset)) what += " dirty";
    }
  } else if (swpType === SWP_PTE_MARKER) {
    what += ` ${hex(offset)}`;
  }
  f.run(SWP_OFFSET_FIRST_BIT, 58, "swap offset", `offset ${hex(offset)}, stored inverted (L1TF)`, true, offset);
  f.run(59, 63, "swap type", `type ${swpType}: ${what}`, true, swpType);
  return what;
}

function toReg(lo: number, hi: number): EntryReg {
  const r = new Uint32Array(2);
  r[0] = lo;
  r[1] = hi;
  return r;
}

function perms(lo: number, hi: number, level: Level, ctx: DescribeContext): string {
  return `r${isWrite(lo, level, ctx.shadowStack) ? "w" : "-"}${(hi & _PAGE_NX_HI) === 0 ? "x" : "-"}`;
}

function leafSummary(lo: number, hi: number, level: Level, ctx: DescribeContext): string {
  const words = [`pfn ${hex(readPfn(toReg(lo, hi), 0, level))}`, perms(lo, hi, level, ctx)];
  words.push((lo & _PAGE_USER) !== 0 ? "user" : "kernel");
  words.push((lo & _PAGE_ACCESSED) !== 0 ? "young" : "old");
  if ((lo & _PAGE_DIRTY) !== 0) words.push((lo & _PAGE_RW) === 0 ? "shadow-stack" : "dirty");
  if ((hi & _PAGE_SAVED_DIRTY_HI) !== 0) words.push("saved-dirty");
  if ((lo & _PAGE_SPECIAL) !== 0) words.push("special");
  if ((lo & _PAGE_SOFT_DIRTY) !== 0) words.push("soft-dirty");
  if ((lo & _PAGE_UFFD_WP) !== 0) words.push("uffd-wp");
  if ((lo & (_PAGE_PRESENT | _PAGE_GLOBAL)) === (_PAGE_PRESENT | _PAGE_GLOBAL)) words.push("global");
  const pkey = (hi & _PAGE_PKEY_MASK_HI) >>> _PAGE_PKEY_SHIFT_HI;
  if (pkey !== 0) words.push(`pkey ${pkey}`);
  return words.join(" ");
}

/** Name every set bit of an entry at `level`. */
export function describeEntry(v: EntryReg, o: number, level: Level, ctx: DescribeContext): DescribedEntry {
  const lo = v[o]!;
  const hi = v[o + 1]!;
  const kind = classify(lo, hi, level, ctx);
  const f = new FieldList(lo, hi);
  const name = levelName(level).toUpperCase();
  let summary: string;
  switch (kind) {
    case "none":
      f.bit(5, "_PAGE_ACCESSED", "stray Accessed (Knights Landing erratum): ignored by pte_none()");
      f.bit(6, "_PAGE_DIRTY", "stray Dirty (Knights Landing erratum): ignored by pte_none()");
      summary = `${name} none`;
      break;
    case "leaf":
    case "protnone":
    case "invalid-leaf": {
      leafFields(f, lo, hi, level);
      const size = level === PTE ? "" : (lo & _PAGE_PSE) !== 0 ? (level === PMD ? " 2M" : " 1G") : "";
      const label = kind === "leaf" ? "leaf" : kind === "protnone" ? "PROT_NONE" : "invalidated leaf";
      summary = `${name}${size} ${label} ${leafSummary(lo, hi, level, ctx)}`;
      break;
    }
    case "softleaf": {
      const swpType = decodeSwpType(v, o);
      const offset = decodeSwpOffset(v, o);
      const what = softleafFields(f, ctx, swpType, offset);
      const flags = [(lo & 2) !== 0 ? " soft-dirty" : "", (lo & 4) !== 0 ? " uffd-wp" : "", (lo & 8) !== 0 ? " exclusive" : ""].join("");
      summary = `${name} softleaf type ${swpType} (${what}) offset ${hex(offset)}${flags}`;
      break;
    }
    case "table":
    case "bad": {
      tableFields(f, lo, hi, level, level === ctx.rootLevel || level > ctx.rootLevel);
      const pa = entryAddress(lo, hi, PTE_PFN_MASK_LO);
      summary = kind === "table" ? `${name} table -> ${hex(pa)}${(lo & _PAGE_USER) !== 0 ? " user" : " kernel"}` : `${name} bad entry (not a valid table pointer)`;
      break;
    }
  }
  return { level, kind, hex: entryHex(v, o, 64), summary, fields: f.fields };
}
