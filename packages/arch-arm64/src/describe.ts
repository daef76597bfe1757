import {
  entryHex,
  levelName,
  migrationDirty,
  migrationYoung,
  softleafHasPfn,
  softleafIsMigration,
  softleafName,
  softleafPfn,
  softleafTypeOf,
  PTE,
  P4D,
  type DescribedEntry,
  type EntryField,
  type EntryKind,
  type EntryReg,
  type Level,
} from "@hugemm/arch";
import type { Arm64Backend } from "./backend";
import { MT_NAMES } from "./bits";
import { leafAllowedAt } from "./geometry";
import { softleafOffset, softleafType } from "./softleaf";

/*
 * describe(): name every set bit of a 64-bit value as the kernel and the
 * MMU read it at a level. Not a hot path, so it works on a BigInt.
 */

const hex = (x: number | bigint): string => `0x${x.toString(16)}`;

class Fields {
  readonly list: EntryField[] = [];
  constructor(private readonly x: bigint) {}

  bits(lo: number, hi: number): bigint {
    return (this.x >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n);
  }

  /** Add a field; with `ifSet` only when some bit of it is set. */
  add(name: string, lo: number, hi: number, meaning: (value: bigint) => string, ifSet = false): bigint {
    const value = this.bits(lo, hi);
    if (ifSet && value === 0n) return value;
    this.list.push({ name, lo, hi, value: value < 2n ** 53n ? Number(value) : hex(value), meaning: meaning(value) });
    return value;
  }

  flag(name: string, bit: number, on: string, off: string, ifSet = false): boolean {
    return this.add(name, bit, bit, (v) => (v ? on : off), ifSet) !== 0n;
  }

  /** Name any set bit no field covers (cannot happen with the layouts below; kept as a guarantee). */
  finish(): EntryField[] {
    const covered = new Set<number>();
    for (const f of this.list) for (let b = f.lo; b <= f.hi; b++) covered.add(b);
    for (let b = 0; b < 64; b++) {
      if (((this.x >> BigInt(b)) & 1n) !== 0n && !covered.has(b)) {
        this.list.push({ name: `bit ${b}`, lo: b, hi: b, value: 1, meaning: "no meaning in this layout" });
      }
    }
    return this.list.sort((a, b) => a.lo - b.lo);
  }
}

const SHAREABILITY = ["non-shareable", "reserved", "outer shareable", "inner shareable"];

/** The output-address fields shared by leaves and tables: PTE_ADDR_LOW plus the 52-bit PA encodings. */
function addressFields(b: Arm64Backend, f: Fields, name: string, meaning: string): void {
  const c = b.config;
  const ps = c.pageShift;
  f.add(name, ps, 49, () => meaning);
  if (c.pa52In64k) {
    f.add("PTE_ADDR_HIGH (PA[51:48])", 12, 15, (v) => `physical address bits 51:48 = ${hex(v)}`);
  } else if (ps > 12) {
    f.add("RES0", 12, ps - 1, () => "below the granule: ignored by the kernel's address mask", true);
  }
}

function leafFields(b: Arm64Backend, f: Fields, level: Level, valid: boolean): void {
  const c = b.config;
  const isPte = level === PTE;
  f.flag("PTE_VALID", 0, "valid for the MMU", "not valid: any access faults");
  f.flag(isPte ? "PTE_TYPE_PAGE (bit 1)" : "PMD_TYPE (bit 1)", 1, isPte ? "page descriptor" : "table", isPte ? "reserved at the last level" : "block (section) descriptor");
  f.add("PTE_ATTRINDX", 2, 4, (v) => MT_NAMES[Number(v)]!);
  f.flag("NS", 5, "non-secure (ignored in the non-secure EL1&0 regime)", "", true);
  f.flag("PTE_USER (AP[1])", 6, "EL0 may access", "no EL0 data access");
  f.flag("PTE_RDONLY (AP[2])", 7, "read-only for the MMU (clean, with DBM)", "writable for the MMU (hardware dirty, with DBM)");
  if (c.lpa2) f.add("PTE_ADDR_HIGH (PA[51:50])", 8, 9, (v) => `physical address bits 51:50 = ${v} (LPA2: no PTE_SHARED)`, true);
  else f.add("PTE_SHARED (SH[1:0])", 8, 9, (v) => SHAREABILITY[Number(v)]!);
  f.flag("PTE_AF", 10, "young (accessed)", "old");
  if (valid) f.flag("PTE_NG", 11, "not global (ASID-tagged)", "global");
  else f.flag("PTE_PRESENT_INVALID", 11, "present to the kernel, invalid for the MMU", "not present");
  const pa = b.codec.decode(Number(f.bits(0, 31)), Number(f.bits(32, 63)));
  const pfn = b.pfn(new Uint32Array([Number(f.bits(0, 31)), Number(f.bits(32, 63))]), 0, level);
  const blockNote = isPte ? "" : `, block-aligned pfn ${hex(pfn)}`;
  addressFields(b, f, "output address", `physical address ${hex(pa)}, pfn ${hex(pa / b.pageSize)}${blockNote}`);
  f.flag("PTE_GP", 50, "BTI guarded page", "not guarded", true);
  f.flag("PTE_DBM / PTE_WRITE", 51, "writable (Dirty Bit Management)", "not writable");
  f.flag(isPte ? "PTE_CONT" : "PMD_SECT_CONT", 52, "contiguous hint: part of an aligned run", "no contiguous hint");
  f.flag("PTE_PXN", 53, "privileged execute-never", "privileged execute allowed");
  f.flag("PTE_UXN", 54, "user execute-never", "user execute allowed");
  f.flag("PTE_DIRTY", 55, "software dirty", "not software dirty");
  f.flag("PTE_SPECIAL", 56, "special (no struct page refcounting)", "normal", true);
  f.flag("software bit 57", 57, "unused (was PTE_DEVMAP)", "", true);
  f.flag("PTE_UFFD_WP", 58, "userfaultfd write-protected", "not uffd write-protected", true);
  f.flag("PBHA[0]", 59, "page-based hardware attribute (ignored without FEAT_HPDS2)", "", true);
  f.add("PTE_PO_IDX (POIndex)", 60, 62, (v) => `permission overlay index ${v} (PBHA[3:1] without FEAT_S1POE)`, true);
  f.flag("software bit 63", 63, "ignored by the MMU (PTE_SWBITS_MASK)", "", true);
}

function tableFields(b: Arm64Backend, f: Fields, level: Level): void {
  const c = b.config;
  const lvl = levelName(level).toUpperCase();
  f.flag("PTE_VALID", 0, "valid for the MMU", "not valid");
  f.flag(`${lvl}_TYPE_TABLE (bit 1)`, 1, "table descriptor", "block");
  f.add("ignored", 2, c.lpa2 ? 7 : 9, () => "ignored in a table descriptor", true);
  if (c.lpa2) f.add("NLTA[51:50]", 8, 9, (v) => `next-level table address bits 51:50 = ${v}`, true);
  f.flag(`${lvl}_TABLE_AF`, 10, "table access flag (FEAT_HAFT)", "table not accessed (FEAT_HAFT)");
  f.flag("ignored", 11, "ignored in a table descriptor", "", true);
  addressFields(b, f, "next-level table address", `table at physical address ${hex(b.codec.decode(Number(f.bits(0, 31)), Number(f.bits(32, 63))))}`);
  f.add("ignored", 50, 58, () => "ignored in a table descriptor", true);
  f.flag(`${lvl}_TABLE_PXN (PXNTable)`, 59, "privileged execute-never below", "no PXN limit below");
  f.flag(`${lvl}_TABLE_UXN (UXNTable)`, 60, "user execute-never below", "no UXN limit below");
  f.add("APTable", 61, 62, (v) => ["no access limit below", "no EL0 access below", "read-only below", "read-only, no EL0 access below"][Number(v)]!);
  f.flag("NSTable", 63, "next level non-secure (ignored in the non-secure regime)", "", true);
}

function softleafFields(f: Fields, b: Arm64Backend): void {
  f.add("must be 0 (not valid, no type)", 0, 1, () => "a softleaf has bits 1:0 clear", true);
  f.flag("PTE_SWP_EXCLUSIVE", 2, "anon page exclusive (PG_anon_exclusive)", "not exclusive");
  f.flag("PTE_SWP_UFFD_WP", 3, "userfaultfd write-protected", "not uffd write-protected");
  f.add("unused", 4, 5, () => "unused in a swap entry (must be 0)", true);
  const type = Number(f.add("swap type", 6, 10, (v) => softleafName(softleafTypeOf(Number(v)))));
  const lo = Number(f.bits(0, 31));
  const hi = Number(f.bits(32, 63));
  const reg = new Uint32Array([lo, hi]);
  const offset = softleafOffset(reg, 0);
  const t = softleafTypeOf(type);
  f.add("swap offset", 12, 61, () => {
    if (!softleafHasPfn(t)) return `offset ${hex(offset)}`;
    const sf = b.softleaf;
    let s = `pfn ${hex(softleafPfn(sf, offset))}`;
    if (softleafIsMigration(t)) {
      if (migrationYoung(sf, offset)) s += ", young";
      if (migrationDirty(sf, offset)) s += ", dirty";
    }
    return s;
  });
  f.add("unused", 62, 63, () => "above the 50-bit offset (must be 0)", true);
}

function perms(b: Arm64Backend, v: EntryReg, level: Level): string {
  const r = "r";
  const w = b.write(v, 0, level) ? "w" : "-";
  const x = b.exec(v, 0, level) ? "x" : "-";
  return `${r}${w}${x}${b.user(v, 0, level) ? " user" : ""}`;
}

export function arm64Describe(b: Arm64Backend, v: EntryReg, o: number, level: Level): DescribedEntry {
  const reg = new Uint32Array([v[o]!, v[o + 1]!]);
  const x = (BigInt(reg[1]!) << 32n) | BigInt(reg[0]!);
  const eff = b.eff[level] as Level;
  const f = new Fields(x);
  const name = levelName(level);
  let kind: EntryKind;
  let summary: string;
  const lo = reg[0]!;
  if (x === 0n) {
    kind = "none";
    summary = `${name} none`;
  } else if ((lo & 1) !== 0 && eff !== PTE && (lo & 3) === 3) {
    kind = "table";
    tableFields(b, f, eff);
    summary = `${name} table -> ${hex(b.tablePa(reg, 0, level))}`;
  } else if ((lo & 1) !== 0) {
    leafFields(b, f, eff, true);
    // The kernel's view decides the kind (pte_present / pmd_leaf / pud_leaf).
    const ok = eff === PTE ? (lo & 3) === 3 : b.leaf(reg, 0, level);
    const mmuNote = ok && !leafAllowedAt(b.config, eff) ? " (the MMU has no block at this level)" : "";
    kind = ok ? "leaf" : "bad";
    summary = ok
      ? `${name} leaf pfn ${hex(b.pfn(reg, 0, level))} ${perms(b, reg, level)}${flags(b, reg, level)}${mmuNote}`
      : `${name} bad: ${eff === PTE ? "reserved type 0b01 at the last level" : "block descriptor where the MMU allows none"}`;
  } else if (eff >= P4D) {
    leafFields(b, f, eff, false);
    kind = "bad";
    summary = `${name} bad: invalid and not none (no softleaves at this level)`;
  } else if ((lo & 0x800) !== 0) {
    leafFields(b, f, eff, false);
    kind = b.protnone(reg, 0, level) ? "protnone" : "invalid-leaf";
    summary = `${name} ${kind === "protnone" ? "protnone (PROT_NONE / NUMA hint)" : "present-invalid"} pfn ${hex(b.pfn(reg, 0, level))}${flags(b, reg, level)}`;
  } else {
    softleafFields(f, b);
    const garbage = f.bits(1, 1) | f.bits(4, 5) | f.bits(62, 63);
    kind = garbage === 0n ? "softleaf" : "bad";
    const type = softleafType(reg, 0);
    summary = `${name} ${kind === "softleaf" ? "softleaf" : "bad softleaf"} ${softleafName(softleafTypeOf(type))} type ${type} offset ${hex(softleafOffset(reg, 0))}`;
  }
  return { level, kind, hex: entryHex(reg, 0), summary, fields: f.finish() };
}

function flags(b: Arm64Backend, v: EntryReg, level: Level): string {
  let s = "";
  if (b.young(v, 0, level)) s += " young";
  if (b.dirty(v, 0, level)) s += " dirty";
  if (b.cont(v, 0, level)) s += " cont";
  if (b.special(v, 0, level)) s += " special";
  if (b.uffdWp(v, 0, level)) s += " uffd-wp";
  return s;
}
