import {
  PTE,
  PTE_MARKER_GUARD,
  PTE_MARKER_POISONED,
  PTE_MARKER_UFFD_WP,
  SoftleafType,
  entryRegs,
  levelName,
  migrationDirty,
  migrationYoung,
  softleafHasPfn,
  softleafIsMigration,
  softleafName,
  softleafPfn,
  softleafTypeOf,
  tableIndex,
  type EntryField,
  type EntryKind,
  type Level,
  type WalkAccess,
  type HardwareFault,
  type HardwareTranslation,
} from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { LRU_NAMES } from "../folio/lru";
import { folioMaybeDmaPinned } from "../mm/fork";
import type { Mm } from "../mm/mm";
import { VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE } from "../mm/vm-flags";
import { PG_anon, PG_anon_exclusive, PG_head, PG_hwpoison, PG_swapbacked, PG_swapcache, PG_tail, PGTY_table, flagNames } from "../phys/page-flags";
import { ModelInputError } from "../util/errors";
import { formatSize } from "../util/size";

/**
 * The walk of one user address, for reading rather than for the MMU: each
 * table from the root with the entry's raw bits and the backend's decoding,
 * where the walk stops, what the MMU makes of the address (the backend's
 * hardware walk), and the folio the entry leads to with its refcount,
 * mapcounts and flags. Nothing is changed, not even accessed bits.
 */

/** Where an entry sends the walk. */
export type WalkEnd = "table" | "leaf" | "softleaf" | "none" | "bad";

export interface WalkLevel {
  /** The lowest logical level held in this table. */
  readonly level: Level;
  /** The logical levels sharing the table, top-down ("pgd/p4d"). */
  readonly name: string;
  readonly tablePa: number;
  readonly index: number;
  /** Where the entry starts (8xx 16K pages: the first of its four replicated cells). */
  readonly entryPa: number;
  /** Raw bits at the arch's width. */
  readonly raw: string;
  readonly kind: EntryKind;
  readonly summary: string;
  readonly fields: readonly EntryField[];
  readonly ends: WalkEnd;
}

export interface WalkSoftleaf {
  /** "swap", "migration-write", "device-private-read", "marker", ... */
  readonly type: string;
  readonly swpType: number;
  readonly offset: number;
  /** The page the entry stands for (migration, device-private, device-exclusive, hwpoison). */
  readonly pfn: number | null;
  readonly exclusive: boolean;
  readonly softDirty: boolean;
  readonly uffdWp: boolean;
  /** Migration entries carry the young and dirty bits where the arch has room. */
  readonly young: boolean;
  readonly dirty: boolean;
  /** PTE marker bits by name. */
  readonly markers: readonly string[];
  /** A swap entry's slot: entries referencing it (swap_count) and the swap-cache folio's head, or -1. */
  readonly swap: { readonly count: number; readonly cached: number } | null;
}

/** The MMU's view (the backend's walk for a user load, or the access given), without the address and the steps. */
export type WalkHardware =
  | Omit<HardwareTranslation, "va" | "setsYoung" | "setsDirty" | "steps">
  | Omit<HardwareFault, "va" | "steps">;

export type FolioType = "anon" | "shmem" | "file" | "zero" | "huge-zero";

/** The folio holding the page an entry reaches. */
export interface WalkFolio {
  /** The page reached. */
  readonly pfn: number;
  readonly head: number;
  readonly order: number;
  readonly nid: number;
  readonly type: FolioType;
  readonly refcount: number;
  /** folio_mapcount. */
  readonly mapcount: number;
  /** _large_mapcount and _entire_mapcount (large folios only). */
  readonly largeMapcount: number | null;
  readonly entireMapcount: number | null;
  /** The page's own mapcount (its PTE mappings). */
  readonly pageMapcount: number;
  /** _pincount (large folios; a small folio counts pins in its refcount). */
  readonly pincount: number | null;
  readonly maybeDmaPinned: boolean;
  /** Folio flags by name. */
  readonly flags: readonly string[];
  /** PageAnonExclusive and PageHWPoison of the page reached. */
  readonly anonExclusive: boolean;
  readonly hwpoison: boolean;
  readonly mapping: number;
  /** folio->index (the model keeps its low 32 bits; a walk restores the rest from the VMA). */
  readonly index: number;
  /** The LRU list it is on, or null. */
  readonly lru: string | null;
  readonly deferredSplit: boolean;
  /** The page's swap slot while the folio is in the swap cache. */
  readonly swapSlot: number | null;
}

export interface AddressWalk {
  readonly pid: number;
  readonly addr: number;
  readonly arch: string;
  readonly vma: { readonly start: number; readonly end: number; readonly perms: string } | null;
  readonly levels: readonly WalkLevel[];
  /** Where the walk ended. */
  readonly end: Exclude<WalkEnd, "table">;
  /** A present leaf: its level, the bytes it maps, and the pfn of the page at `addr`. */
  readonly leaf: { readonly level: Level; readonly size: number; readonly pfn: number } | null;
  readonly softleaf: WalkSoftleaf | null;
  readonly hardware: WalkHardware;
  readonly folio: WalkFolio | null;
}

const R = entryRegs(1);

function classify(k: Kernel, level: Level): WalkEnd {
  const b = k.backend;
  if (b.none(R, 0, level)) return "none";
  if (level === PTE) return b.present(R, 0, level) ? "leaf" : b.isSoftleaf(R, 0, level) ? "softleaf" : "bad";
  if (b.table(R, 0, level)) return "table";
  if (b.leaf(R, 0, level) || b.transHuge(R, 0, level)) return "leaf";
  return b.isSoftleaf(R, 0, level) ? "softleaf" : "bad";
}

function softleafOf(k: Kernel, level: Level, addr: number): WalkSoftleaf {
  const b = k.backend;
  const swpType = b.swpType(R, 0, level);
  const offset = b.swpOffset(R, 0, level);
  const type = softleafTypeOf(swpType);
  const size = 2 ** k.geometry.levels[level]!.shift;
  const pfn = softleafHasPfn(type) ? softleafPfn(b.softleaf, offset) + Math.floor((addr % size) / k.pageSize) : null;
  const markers: string[] = [];
  if (type === SoftleafType.MARKER) {
    if (offset & PTE_MARKER_UFFD_WP) markers.push("uffd-wp");
    if (offset & PTE_MARKER_POISONED) markers.push("poisoned");
    if (offset & PTE_MARKER_GUARD) markers.push("guard");
  }
  const dev = k.swap.device;
  const swap = type === SoftleafType.SWAP && dev !== null && dev.type === swpType && offset < dev.pages ? { count: dev.count(offset), cached: dev.lookup(offset) } : null;
  const mig = softleafIsMigration(type);
  return {
    type: softleafName(type),
    swpType,
    offset,
    pfn,
    exclusive: b.swpExclusive(R, 0, level),
    softDirty: b.swpSoftDirty(R, 0, level),
    uffdWp: b.swpUffdWp(R, 0, level),
    young: mig && migrationYoung(b.softleaf, offset),
    dirty: mig && migrationDirty(b.softleaf, offset),
    markers,
    swap,
  };
}

/**
 * The folio holding `pfn`, or null when no folio of this machine's memory is
 * there. `pageIndex` is the linear page index the page is mapped at, if known.
 */
export function folioAt(k: Kernel, pfn: number, pageIndex?: number): WalkFolio | null {
  const f = k.folios;
  const mem = k.phys.memmap;
  if (!Number.isSafeInteger(pfn) || pfn < mem.startPfn || pfn >= mem.endPfn || !f.isAllocated(pfn) || mem.pageFlags(pfn) & PGTY_table) return null;
  const head = f.head(pfn);
  const id = f.lid(head);
  const flags = f.flags(head);
  const type: FolioType = head === k.zeroPfn ? "zero" : k.hugeZero.is(head) ? "huge-zero" : flags & PG_anon ? "anon" : flags & PG_swapbacked ? "shmem" : "file";
  const slot = flags & PG_swapcache ? k.swap.slotOf.get(head) : undefined;
  const stored = f.index(head);
  const index = pageIndex !== undefined && (pageIndex - (pfn - head)) % 2 ** 32 === stored ? pageIndex - (pfn - head) : stored;
  return {
    pfn,
    head,
    order: f.order(head),
    nid: k.phys.nidOf(head),
    type,
    refcount: f.refcount(head),
    mapcount: f.mapcount(head),
    largeMapcount: id === 0 ? null : f.large.largeMapcount[id - 1]!,
    entireMapcount: id === 0 ? null : f.entireMapcount(head),
    pageMapcount: f.pageMapcount(pfn),
    pincount: id === 0 ? null : f.large.pincount[id - 1]!,
    maybeDmaPinned: folioMaybeDmaPinned(k, head),
    flags: flagNames(flags & ~(PG_anon_exclusive | PG_hwpoison | PG_head | PG_tail)),
    anonExclusive: f.pageTest(pfn, PG_anon_exclusive),
    hwpoison: f.pageTest(pfn, PG_hwpoison),
    mapping: f.mapping(head),
    index,
    lru: f.isOnLru(head) ? LRU_NAMES[k.lru.listOf(head)]! : null,
    deferredSplit: k.deferredSplit.has(head),
    swapSlot: slot === undefined ? null : slot + (pfn - head),
  };
}

function perms(flags: number): string {
  return (flags & VM_READ ? "r" : "-") + (flags & VM_WRITE ? "w" : "-") + (flags & VM_EXEC ? "x" : "-") + (flags & VM_MAYSHARE ? "s" : "p");
}

/** Walk `addr` in `mm` from the root, then as the MMU would for `access` (default: a user load). */
export function walkAddress(k: Kernel, mm: Mm, addr: number, access: WalkAccess = {}): AddressWalk {
  if (mm.exited || k.mm(mm.id) !== mm) throw new ModelInputError("process", mm.id, "a live process of this kernel");
  if (!Number.isInteger(addr) || addr < 0 || addr >= mm.taskSize) throw new ModelInputError("address", addr, `a user address in [0, 0x${mm.taskSize.toString(16)})`);
  const b = k.backend;
  const g = k.geometry;
  const levels: WalkLevel[] = [];
  let tablePa = mm.rootPa;
  let end: Exclude<WalkEnd, "table"> = "bad";
  let leaf: AddressWalk["leaf"] = null;
  let softleaf: WalkSoftleaf | null = null;
  for (const t of g.tables) {
    const index = tableIndex(t, addr);
    b.readEntry(k.tables.get(tablePa), index, t.level, R, 0);
    const d = b.describe(R, 0, t.level);
    const ends = classify(k, t.level);
    levels.push({ level: t.level, name: t.folds.map(levelName).join("/"), tablePa, index, entryPa: tablePa + index * (t.tableBytes / t.entries), raw: d.hex, kind: d.kind, summary: d.summary, fields: d.fields, ends });
    if (ends === "table") {
      tablePa = b.tablePa(R, 0, t.level);
      continue;
    }
    end = ends;
    const size = 2 ** g.levels[t.level]!.shift;
    if (ends === "leaf") leaf = { level: t.level, size, pfn: b.pfn(R, 0, t.level) + Math.floor((addr % size) / k.pageSize) };
    else if (ends === "softleaf") softleaf = softleafOf(k, t.level, addr);
    break;
  }
  const hw = b.walk(k.tables, mm.rootPa, addr, access);
  const hardware: WalkHardware = hw.ok
    ? { ok: true, pa: hw.pa, level: hw.level, pageSize: hw.pageSize, tlbSize: hw.tlbSize, read: hw.read, write: hw.write, exec: hw.exec, user: hw.user, young: hw.young, dirty: hw.dirty }
    : { ok: false, fault: hw.fault, level: hw.level, reason: hw.reason };
  let pfn = leaf?.pfn ?? softleaf?.pfn ?? null;
  if (softleaf?.swap && softleaf.swap.cached >= 0) pfn = softleaf.swap.cached;
  const vma = mm.vmas.lookup(addr);
  return {
    pid: mm.id,
    addr,
    arch: b.id,
    vma: vma === undefined ? null : { start: vma.start, end: vma.end, perms: perms(vma.flags) },
    levels,
    end,
    leaf,
    softleaf,
    hardware,
    folio: pfn === null ? null : folioAt(k, pfn, vma?.pageIndex(addr - (addr % k.pageSize), k.pageSize)),
  };
}

const hex = (n: number) => `0x${n.toString(16)}`;
const yesNo = (v: boolean) => (v ? "yes" : "no");

function folioText(fo: WalkFolio): string {
  const mc = fo.largeMapcount === null ? `${fo.mapcount}` : `${fo.mapcount} (large ${fo.largeMapcount}, entire ${fo.entireMapcount}, page ${fo.pageMapcount})`;
  const pins = fo.pincount === null ? `maybe pinned ${yesNo(fo.maybeDmaPinned)}` : `pincount ${fo.pincount}`;
  const page = [fo.anonExclusive ? "anon_exclusive" : "", fo.hwpoison ? "hwpoison" : ""].filter((x) => x !== "");
  let t = `folio: head pfn ${hex(fo.head)}, order ${fo.order}, ${fo.type}, node ${fo.nid}; page pfn ${hex(fo.pfn)} (+${fo.pfn - fo.head})\n`;
  t += `  refcount ${fo.refcount}, mapcount ${mc}, ${pins}\n`;
  t += `  flags: ${fo.flags.join("|") || "-"}; page: ${page.join("|") || "-"}\n`;
  t += `  lru: ${fo.lru ?? "none"}, deferred split: ${yesNo(fo.deferredSplit)}, swap slot: ${fo.swapSlot === null ? "none" : hex(fo.swapSlot)}\n`;
  return t;
}

function softleafText(s: WalkSoftleaf): string {
  const bits = [s.exclusive ? "exclusive" : "", s.young ? "young" : "", s.dirty ? "dirty" : "", s.softDirty ? "soft-dirty" : "", s.uffdWp ? "uffd-wp" : "", ...s.markers].filter((x) => x !== "");
  let t = `${s.type} (swap type ${s.swpType}, offset ${hex(s.offset)})`;
  if (s.pfn !== null) t += `, pfn ${hex(s.pfn)}`;
  if (bits.length > 0) t += `, ${bits.join(" ")}`;
  if (s.swap !== null) t += `; swap_count ${s.swap.count}, swap cache: ${s.swap.cached < 0 ? "none" : `folio ${hex(s.swap.cached)}`}`;
  return t;
}

/** The walk for a terminal: one line per table (with `fields`, every named bit under it), the end, the MMU's view, the folio. */
export function formatWalk(w: AddressWalk, opts: { readonly fields?: boolean } = {}): string {
  let t = `pid ${w.pid} ${hex(w.addr)} on ${w.arch}: ${w.vma === null ? "no vma" : `vma ${hex(w.vma.start)}-${hex(w.vma.end)} ${w.vma.perms}`}\n`;
  const nameWidth = Math.max(...w.levels.map((l) => l.name.length));
  const idxWidth = Math.max(...w.levels.map((l) => String(l.index).length));
  for (const l of w.levels) {
    t += `${l.name.padEnd(nameWidth)} [${String(l.index).padStart(idxWidth)}] ${l.raw}  ${l.summary}\n`;
    if (opts.fields) {
      for (const f of l.fields) t += `    ${(f.lo === f.hi ? `${f.lo}` : `${f.hi}:${f.lo}`).padStart(5)} ${f.name} = ${typeof f.value === "number" && f.value > 9 ? hex(f.value) : f.value}: ${f.meaning}\n`;
    }
  }
  // Levels by the name of the table holding them, as the lines above show them.
  const at = (level: Level) => w.levels.find((l) => l.level === level)?.name ?? levelName(level);
  const last = w.levels[w.levels.length - 1]!;
  if (w.leaf !== null) t += `ends: leaf at ${at(w.leaf.level)} mapping ${formatSize(w.leaf.size)}, page pfn ${hex(w.leaf.pfn)}\n`;
  else if (w.softleaf !== null) t += `ends: softleaf at ${last.name}: ${softleafText(w.softleaf)}\n`;
  else t += `ends: ${w.end === "none" ? "none" : "bad entry"} at ${last.name}\n`;
  const h = w.hardware;
  if (h.ok) {
    const perm = (h.read ? "r" : "-") + (h.write ? "w" : "-") + (h.exec ? "x" : "-");
    t += `hardware: pa ${hex(h.pa)}, ${formatSize(h.pageSize)} page, ${formatSize(h.tlbSize)} TLB entry, ${perm}${h.user ? " user" : ""}${h.young ? " young" : ""}${h.dirty ? " dirty" : ""}\n`;
  } else t += `hardware: ${h.fault} fault at ${at(h.level)}: ${h.reason}\n`;
  t += w.folio === null ? "folio: none\n" : folioText(w.folio);
  return t;
}
