import type { ArchBackend } from "../backend";
import type { DescribedEntry, EntryField, EntryKind } from "../describe";
import { entryHex, type EntryReg } from "../entry";
import { type Level, PTE, levelName } from "../level";
import { softleafName, softleafTypeOf } from "../softleaf";
import * as B from "./bits";

const FLAG_NAMES: readonly [number, string, string][] = [
  [B.PRESENT, "PRESENT", "valid for the MMU"],
  [B.WRITE, "WRITE", "writable"],
  [B.USER, "USER", "user accessible"],
  [B.EXEC, "EXEC", "executable"],
  [B.YOUNG, "YOUNG", "accessed"],
  [B.DIRTY, "DIRTY", "written"],
  [B.LEAF, "LEAF", "maps a page or block"],
  [B.SPECIAL, "SPECIAL", "no struct page behind it"],
  [B.SOFT_DIRTY, "SOFT_DIRTY", "written since soft-dirty was cleared"],
  [B.UFFD_WP, "UFFD_WP", "userfaultfd write-protected"],
  [B.PROTNONE, "PROTNONE", "PROT_NONE / NUMA hint: present to the kernel, invalid to the MMU"],
];

/** Name every set bit of a reference-format entry. */
export function describeReference(b: ArchBackend, v: EntryReg, o: number, level: Level): DescribedEntry {
  const lo = v[o]!;
  const hi = v[o + 1]!;
  const hex = entryHex(v, o);
  const L = levelName(level).toUpperCase();
  const fields: EntryField[] = [];
  const kind = classify(b, v, o, level);
  if (kind === "none") return { level, kind, hex, summary: `${L} none`, fields };
  if (kind === "softleaf") {
    const type = b.swpType(v, o, level);
    const flags: [number, string, string][] = [
      [B.SWP_EXCLUSIVE, "SWP_EXCLUSIVE", "the swapped page was exclusive to this mm"],
      [B.SWP_SOFT_DIRTY, "SWP_SOFT_DIRTY", "soft-dirty carried through swap"],
      [B.SWP_UFFD_WP, "SWP_UFFD_WP", "uffd-wp carried through swap"],
    ];
    for (const [bit, name, meaning] of flags) if (lo & bit) fields.push(bitField(bit, name, meaning));
    const stray = lo & 0x7f1;
    for (let bit = 0; bit < 11; bit++) if (stray & (1 << bit)) fields.push({ name: `bit ${bit}`, lo: bit, hi: bit, value: 1, meaning: "stray bit in a softleaf" });
    fields.push({ name: "swap type", lo: B.SWP_TYPE_SHIFT, hi: B.SWP_TYPE_SHIFT + 4, value: type, meaning: softleafName(softleafTypeOf(type)) });
    fields.push({ name: "swap offset", lo: B.SWP_OFFSET_SHIFT, hi: 63, value: b.swpOffset(v, o, level), meaning: "offset (pfn for migration, device and hwpoison entries)" });
    return { level, kind, hex, summary: `${L} softleaf ${softleafName(softleafTypeOf(type))} offset 0x${b.swpOffset(v, o, level).toString(16)}`, fields };
  }
  for (const [bit, name, meaning] of FLAG_NAMES) if (lo & bit) fields.push(bitField(bit, name, meaning));
  if (lo & 0x800) fields.push({ name: "bit 11", lo: 11, hi: 11, value: 1, meaning: "reserved" });
  const pfn = b.pfn(v, o, level);
  if (pfn !== 0) fields.push({ name: kind === "table" ? "table address" : "pfn", lo: 12, hi: 47, value: pfn, meaning: kind === "table" ? `next table at 0x${(pfn * 4096).toString(16)}` : `page frame 0x${pfn.toString(16)}` });
  if (hi >>> 16) fields.push({ name: "bits 48..63", lo: 48, hi: 63, value: hi >>> 16, meaning: "reserved" });
  const summary = kind === "table" ? `${L} table -> 0x${(pfn * 4096).toString(16)}` : `${L} ${kind} pfn 0x${pfn.toString(16)}`;
  return { level, kind, hex, summary, fields };
}

function classify(b: ArchBackend, v: EntryReg, o: number, level: Level): EntryKind {
  if (b.none(v, o, level)) return "none";
  if (b.protnone(v, o, level)) return "protnone";
  if (!b.present(v, o, level)) return "softleaf";
  if (b.table(v, o, level)) return "table";
  if ((v[o]! & B.PRESENT) === 0) return "invalid-leaf";
  if (level !== PTE && !b.geometry.tables.some((t) => t.level === level && t.leafAllowed)) return "bad";
  return "leaf";
}

function bitField(bit: number, name: string, meaning: string): EntryField {
  const n = 31 - Math.clz32(bit);
  return { name, lo: n, hi: n, value: 1, meaning };
}
