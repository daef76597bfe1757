import {
  type DescribedEntry,
  type EntryField,
  type EntryKind,
  type Level,
  levelName,
  migrationDirty,
  migrationYoung,
  type SoftleafFormat,
  softleafHasPfn,
  softleafIsMigration,
  softleafName,
  softleafPfn,
  softleafTypeOf,
} from "@hugemm/arch";
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_EXEC,
  _PAGE_GUARDED,
  _PAGE_HUGE,
  _PAGE_NA,
  _PAGE_NO_CACHE,
  _PAGE_PRESENT,
  _PAGE_SH,
  _PAGE_SPECIAL,
  _PAGE_SPS,
  _PAGE_SWP_EXCLUSIVE,
  _PMD_ACCESSED,
  _PMD_BAD,
  _PMD_PAGE_MASK,
  _PMD_PRESENT,
  _PMD_USER,
  MD_WT,
  PMD_TABLE_MASK,
  PP_MASK,
} from "./bits";
import type { Ppc8xxConfig } from "./config";
import { pmdHoldsHugePte } from "./entry-algebra";
import { swpExclusiveWord, swpOffsetOfWord, swpTypeOfWord } from "./softleaf";

const hex = (n: number): string => `0x${n.toString(16)}`;

function bit(fields: EntryField[], w: number, mask: number, name: string, meaning: string): void {
  if ((w & mask) === 0) return;
  const b = Math.log2(mask);
  fields.push({ name, lo: b, hi: b, value: 1, meaning });
}

const PP_MEANINGS = [
  "_PAGE_RW: PP 00, PowerPC encoding: supervisor read/write (users of a _PMD_USER segment get supervisor rights)",
  "_PAGE_NA: PP 00, extended encoding: no access for anyone",
  "PP bit 21 alone (not a kernel encoding): PowerPC encoding 01, supervisor read/write, user read-only",
  "_PAGE_RO: PP 01, extended encoding: supervisor read-only",
] as const;

/** "rwx" from the PP field and _PAGE_EXEC, as pte_read/pte_write/pte_exec see them. */
export function ptePermString(w: number): string {
  const pp = w & PP_MASK;
  return (pp !== _PAGE_NA ? "r" : "-") + (pp === 0 ? "w" : "-") + ((w & _PAGE_EXEC) !== 0 ? "x" : "-");
}

function leafFields(cfg: Ppc8xxConfig, w: number): EntryField[] {
  const f: EntryField[] = [];
  bit(f, w, _PAGE_PRESENT, "_PAGE_PRESENT", "V: valid for the MMU");
  bit(f, w, _PAGE_NO_CACHE, "_PAGE_NO_CACHE", "CI: cache-inhibited");
  bit(f, w, _PAGE_SH, "_PAGE_SH", "SH: no ASID compare (kernel/global mapping)");
  bit(f, w, _PAGE_SPS, "_PAGE_SPS", "SPS: large page (16K, or 512K/8M with _PAGE_HUGE or _PMD_PAGE_8M)");
  bit(f, w, _PAGE_GUARDED, "_PAGE_GUARDED", "software: copied to the L1 G bit (no speculative access, no instruction fetch)");
  bit(f, w, _PAGE_ACCESSED, "_PAGE_ACCESSED", "software young bit: copied to APG bit 1; clear makes every access fault");
  bit(f, w, _PAGE_EXEC, "_PAGE_EXEC", "software: the ITLB miss handler turns it into PP bit 21 (executable)");
  bit(f, w, _PAGE_SPECIAL, "_PAGE_SPECIAL", "software: pte_special()");
  bit(f, w, _PAGE_DIRTY, "_PAGE_DIRTY", "C: changed; a store with C clear raises a DTLB error");
  const pp = (w & PP_MASK) >>> 9;
  f.push({ name: "PP", lo: 9, hi: 10, value: pp, meaning: PP_MEANINGS[pp]! });
  bit(f, w, _PAGE_HUGE, "_PAGE_HUGE", "512K page: the TLB miss handlers copy it into the L1 PS field");
  if (cfg.pageShift > 12 && (w & 0x3000) !== 0) {
    f.push({ name: "RPN bits 12..13", lo: 12, hi: 13, value: (w >>> 12) & 3, meaning: "below PAGE_SHIFT: the 4K slice a large-page cell maps; not part of the pfn" });
  }
  const pfn = w >>> cfg.pageShift;
  if (pfn !== 0) f.push({ name: "RPN", lo: cfg.pageShift, hi: 31, value: pfn, meaning: `real page number: pfn ${hex(pfn)}, physical ${hex((w & ~(cfg.pageSize - 1)) >>> 0)}` });
  return f;
}

function leafSummary(cfg: Ppc8xxConfig, w: number, level: Level, huge8M: boolean): string {
  const size = huge8M
    ? "8M huge pte"
    : (w & _PAGE_HUGE) !== 0
      ? "512K leaf"
      : (w & _PAGE_SPS) !== 0
        ? "16K leaf"
        : "4K leaf";
  const flags = [
    (w & _PAGE_ACCESSED) !== 0 ? "young" : "",
    (w & _PAGE_DIRTY) !== 0 ? "dirty" : "",
    (w & _PAGE_SPECIAL) !== 0 ? "special" : "",
    (w & _PAGE_SH) !== 0 ? "kernel" : "",
    (w & PP_MASK) === _PAGE_NA ? "no-access" : "",
  ].filter((s) => s !== "");
  return `${levelName(level)} ${size} pfn ${hex(w >>> cfg.pageShift)} ${ptePermString(w)}${flags.length > 0 ? ` ${flags.join(" ")}` : ""}`;
}

function softleafFields(f: SoftleafFormat, w: number): { fields: EntryField[]; summary: string } {
  const fields: EntryField[] = [];
  bit(fields, w, 0x2, "bit 1", "not part of the swap format: __pte_to_swp_entry() shifts it out");
  bit(fields, w, _PAGE_SWP_EXCLUSIVE, "_PAGE_SWP_EXCLUSIVE", "the swapped-out anonymous page was exclusive");
  const type = swpTypeOfWord(w);
  const offset = swpOffsetOfWord(w);
  const kind = softleafTypeOf(type);
  const name = softleafName(kind);
  if (type !== 0) fields.push({ name: "swap type", lo: 3, hi: 7, value: type, meaning: name });
  let detail = `offset ${hex(offset)}`;
  if (softleafHasPfn(kind)) {
    const pfn = softleafPfn(f, offset);
    detail = `pfn ${hex(pfn)}`;
    if (softleafIsMigration(kind)) {
      if (migrationYoung(f, offset)) detail += " young";
      if (migrationDirty(f, offset)) detail += " dirty";
    }
  }
  if (offset !== 0) fields.push({ name: "swap offset", lo: 8, hi: 31, value: offset, meaning: detail });
  const excl = swpExclusiveWord(w) ? " exclusive" : "";
  return { fields, summary: `${name} ${detail}${excl}` };
}

const PS_MEANINGS = [
  "",
  "_PMD_PAGE_512K: PS 01, never stored (the miss handlers insert it from _PAGE_HUGE)",
  "PS 10: reserved",
  "_PMD_PAGE_8M: PS 11, one of the two PMDs of an 8M page",
] as const;

function pmdFields(w: number): EntryField[] {
  const f: EntryField[] = [];
  bit(f, w, _PMD_PRESENT, "_PMD_PRESENT", "V: segment valid");
  bit(f, w, MD_WT, "MD_WT", "writethrough (never set by the kernel)");
  const ps = (w & _PMD_PAGE_MASK) >>> 2;
  if (ps !== 0) f.push({ name: "PS", lo: 2, hi: 3, value: ps, meaning: PS_MEANINGS[ps]! });
  bit(f, w, 0x10, "_PMD_BAD bit 4", "G position of MD_TWC, filled from the PTE by the miss handlers; must be 0 here");
  bit(f, w, _PMD_ACCESSED, "_PMD_ACCESSED", "APG bit 1: set in MD_TWC from _PAGE_ACCESSED, not meant to be stored");
  bit(f, w, _PMD_USER, "_PMD_USER", "APG bit 2: user segment (pmd_populate)");
  for (let b = 7; b <= 11; b++) bit(f, w, 1 << b, `_PMD_BAD bit ${b}`, b <= 8 ? "upper APG bit, unused: pmd_bad()" : "reserved: pmd_bad()");
  const pa = (w & PMD_TABLE_MASK) >>> 0;
  if (pa !== 0) f.push({ name: "L2 table", lo: 12, hi: 31, value: pa >>> 12, meaning: `PTE table at physical ${hex(pa)}` });
  return f;
}

function entryHex32(lo: number, hi: number): string {
  const l = lo.toString(16).padStart(8, "0");
  return hi === 0 ? `0x${l}` : `0x${hi.toString(16).padStart(8, "0")}${l}`;
}

/** describe(): every set bit of the word named, at the PTE or the (folded) PMD level. */
export function describeWord(cfg: Ppc8xxConfig, softleaf: SoftleafFormat, lo: number, hi: number, level: Level, isPte: boolean): DescribedEntry {
  let kind: EntryKind;
  let fields: EntryField[];
  let summary: string;
  const lname = levelName(level);
  if (lo === 0) {
    kind = "none";
    fields = [];
    summary = `${lname} none`;
  } else if ((lo & _PAGE_PRESENT) === 0) {
    kind = "softleaf";
    const s = softleafFields(softleaf, lo);
    fields = s.fields;
    summary = `${lname} softleaf ${s.summary}${isPte ? "" : " (8M hugetlb entry)"}`;
  } else if (isPte || pmdHoldsHugePte(lo)) {
    kind = "leaf";
    fields = leafFields(cfg, lo);
    summary = leafSummary(cfg, lo, level, !isPte);
  } else {
    fields = pmdFields(lo);
    const bad = (lo & _PMD_BAD) !== 0;
    kind = bad ? "bad" : "table";
    const pa = (lo & PMD_TABLE_MASK) >>> 0;
    const ps = (lo & _PMD_PAGE_MASK) === _PMD_PAGE_MASK ? " 8M" : "";
    summary = bad
      ? `${lname} bad 0x${lo.toString(16)} (_PMD_BAD bits 0x${(lo & _PMD_BAD).toString(16)})`
      : `${lname} table 0x${pa.toString(16)}${(lo & _PMD_USER) !== 0 ? " user" : " kernel"}${ps}`;
  }
  if (hi !== 0) {
    fields = [...fields, { name: "high word", lo: 32, hi: 63, value: hex(hi), meaning: "not part of an 8xx entry: entries are 32 bits, the high register word must be 0" }];
  }
  return { level, kind, hex: entryHex32(lo, hi), summary, fields };
}
