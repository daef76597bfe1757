import { levelName } from "@hugemm/arch";
import { Slot, VM_SOFTDIRTY, WALK_LEAF, WALK_OK, WALK_SOFTLEAF, hex, mixTag, smaps, type MemSizeStats, type SmapsEntry } from "@hugemm/core";
import type { z } from "zod";
import type { StepContext } from "../context";
import { address, bindName, bool, count, leaf, obj, oneOf, pattern, pid } from "../fields";
import { plural } from "../steps/outcome";
import { COMPARISONS, type Comparison } from "./clauses";
import type { Verdict } from "./evaluate";
import { mappedLevel, mappingAt } from "./inspect";

/*
 * Expect clauses over the views a kernel tester reads: a VMA's smaps
 * fields, one page's pagemap-like entry, and what a pin's pages hold.
 */

const num = leaf<number>("a number", (v) => typeof v === "number" && Number.isFinite(v));

/** The smaps fields a clause may name, as /proc/pid/smaps prints them (kB, THPeligible 0 or 1). */
const SMAPS_STATS = {
  Rss: "resident",
  Pss: "pss",
  Pss_Dirty: "pssDirty",
  Shared_Clean: "sharedClean",
  Shared_Dirty: "sharedDirty",
  Private_Clean: "privateClean",
  Private_Dirty: "privateDirty",
  Referenced: "referenced",
  Anonymous: "anonymous",
  KSM: "ksm",
  LazyFree: "lazyfree",
  AnonHugePages: "anonymousThp",
  AnonPudHugePages: "anonymousPudThp",
  ShmemPmdMapped: "shmemThp",
  FilePmdMapped: "fileThp",
  Shared_Hugetlb: "sharedHugetlb",
  Private_Hugetlb: "privateHugetlb",
  Swap: "swap",
  SwapPss: "swapPss",
  Locked: "pssLocked",
} as const satisfies Record<string, keyof MemSizeStats>;
type StatField = keyof typeof SMAPS_STATS;
export const SMAPS_FIELDS = ["Size", "KernelPageSize", "MMUPageSize", ...(Object.keys(SMAPS_STATS) as StatField[]), "THPeligible"] as const;

/** Exactly one comparison among a clause's fields. */
function oneComparison(c: Partial<Record<Comparison, number>>, ctx: z.RefinementCtx): void {
  const n = Object.keys(COMPARISONS).filter((k) => c[k as Comparison] !== undefined).length;
  if (n !== 1) ctx.addIssue({ code: "custom", message: `expected exactly one of ${Object.keys(COMPARISONS).join(", ")}, got ${n}` });
}

const comparisons = { equals: num.optional(), atLeast: num.optional(), atMost: num.optional(), greaterThan: num.optional(), lessThan: num.optional() };

export const smapsClause = obj({
  smaps: obj({ pid, at: address, field: oneOf(SMAPS_FIELDS, `an smaps field: one of ${SMAPS_FIELDS.join(", ")}`), ...comparisons }).superRefine(oneComparison),
});
export type SmapsClause = z.output<typeof smapsClause>["smaps"];

/** What a pagemap clause may say the entry is: present, none, swap, migration, or another softleaf's name. */
const ENTRY_STATES = ["present", "none", "swap", "migration", "device-private", "device-exclusive", "hwpoison", "marker"] as const;

export const pagemapClause = obj({
  pagemap: obj({
    pid,
    at: address,
    entry: oneOf(ENTRY_STATES, `an entry state: one of ${ENTRY_STATES.join(", ")}`).optional(),
    level: oneOf(["pte", "pmd", "pud"] as const).optional(),
    pfn: count.optional(),
    node: count.optional(),
    order: count.optional(),
    cont: bool.optional(),
    dirty: bool.optional(),
    young: bool.optional(),
    write: bool.optional(),
    softDirty: bool.optional(),
  }),
});
export type PagemapClause = z.output<typeof pagemapClause>["pagemap"];

const pinPattern = leaf<number | "zero">('a pattern seed (a whole number in [0, 2^32)) or "zero"', (v) => v === "zero" || pattern.safeParse(v).success);
export const pinClause = obj({ pin: obj({ name: bindName, pattern: pinPattern, writtenAt: address.optional() }) });
export type PinClause = z.output<typeof pinClause>["pin"];

function compare(c: Partial<Record<Comparison, number>>, actual: number): { pass: boolean; expected: string } {
  const cmp = (Object.keys(COMPARISONS) as Comparison[]).find((k) => c[k] !== undefined)!;
  const want = c[cmp]!;
  const pass = cmp === "equals" ? actual === want : cmp === "atLeast" ? actual >= want : cmp === "atMost" ? actual <= want : cmp === "greaterThan" ? actual > want : actual < want;
  return { pass, expected: `${COMPARISONS[cmp]} ${want}` };
}

function smapsValue(e: SmapsEntry, field: "Size" | "KernelPageSize" | "MMUPageSize" | "THPeligible" | StatField): number {
  if (field === "THPeligible") return e.thpEligible;
  const bytes = field === "Size" ? e.size : field === "KernelPageSize" ? e.kernelPageSize : field === "MMUPageSize" ? e.mmuPageSize : e.stats[SMAPS_STATS[field]];
  return Math.floor(bytes / 1024);
}

/** One field of the smaps entry of the VMA holding `at`, in the units smaps prints. */
export function evalSmaps(ctx: StepContext, c: SmapsClause, path: readonly PropertyKey[]): Verdict {
  const mm = ctx.mm(c.pid, [...path, "pid"].join("."));
  const at = ctx.address(c.pid, c.at, [...path, "at"].join("."));
  const e = smaps(ctx.k, mm).entries.find((x) => x.start <= at && at < x.end);
  if (e === undefined) throw ctx.error([...path, "at"].join("."), `${hex(at)} is in no VMA of pid ${c.pid}: expected an address inside a mapping`);
  const actual = smapsValue(e, c.field);
  const { pass, expected } = compare(c, actual);
  const unit = c.field === "THPeligible" ? "" : " kB";
  return { pass, expected, actual, message: `${c.field} of the VMA [${hex(e.start)}, ${hex(e.end)}) of pid ${c.pid} is ${actual}${unit}${pass ? "" : `, expected ${expected}`}` };
}

const R = new Uint32Array(2);

/** What one page's entry says, as the pagemap clause names it. */
interface PageEntry {
  entry: string;
  level: string;
  pfn?: number;
  node?: number;
  order?: number;
  cont?: boolean;
  dirty?: boolean;
  young?: boolean;
  write?: boolean;
  softDirty: boolean;
}

function pageEntry(ctx: StepContext, pidNo: number, va: number): PageEntry {
  const k = ctx.k;
  const b = k.backend;
  const mm = ctx.mm(pidNo);
  const slot = new Slot();
  const m = mappingAt(k, mm, va, slot);
  // pagemap_pte_range: a VM_SOFTDIRTY VMA reports every page soft-dirty.
  const vma = mm.vmas.lookup(va);
  const vmaSoftDirty = vma !== undefined && (vma.flags & VM_SOFTDIRTY) !== 0;
  if (m.kind === "none") return { entry: "none", level: "none", softDirty: vmaSoftDirty };
  const st = mm.walker.find(va, 0, false, slot);
  if (st !== WALK_OK && st !== WALK_LEAF && st !== WALK_SOFTLEAF) return { entry: "none", level: "none", softDirty: vmaSoftDirty };
  const level = slot.level;
  // ptep_get: on arm64 a contpte block's access and dirty bits gathered.
  if (level === 0) b.getEntry(slot.table, slot.index, level, R, 0);
  else b.readEntry(slot.table, slot.index, level, R, 0);
  const caps = b.capabilities;
  if (m.kind === "softleaf") {
    return { entry: mappedLevel(m), level: levelName(level), softDirty: vmaSoftDirty || (caps.softDirty && b.swpSoftDirty(R, 0, level)) };
  }
  const head = k.folios.head(m.pfn);
  return {
    entry: "present",
    level: levelName(level),
    pfn: m.pfn,
    node: k.phys.nidOf(m.pfn),
    order: k.folios.isAllocated(head) ? k.folios.order(head) : 0,
    cont: b.cont(R, 0, level),
    dirty: b.dirty(R, 0, level),
    young: b.young(R, 0, level),
    write: b.write(R, 0, level),
    softDirty: vmaSoftDirty || (caps.softDirty && b.softDirty(R, 0, level)),
  };
}

const PAGEMAP_KEYS = ["entry", "level", "pfn", "node", "order", "cont", "dirty", "young", "write", "softDirty"] as const;

/** The page at `at`: each field the clause gives must match the entry that maps it. */
export function evalPagemap(ctx: StepContext, c: PagemapClause, path: readonly PropertyKey[]): Verdict {
  ctx.mm(c.pid, [...path, "pid"].join("."));
  const at = ctx.address(c.pid, c.at, [...path, "at"].join("."));
  const got = pageEntry(ctx, c.pid, at);
  const want: string[] = [];
  const have: string[] = [];
  let pass = true;
  for (const key of PAGEMAP_KEYS) {
    const w = c[key];
    if (w === undefined) continue;
    const g = got[key];
    want.push(`${key}: ${String(w)}`);
    have.push(`${key}: ${g === undefined ? "-" : String(g)}`);
    if (g !== w) pass = false;
  }
  const expected = want.join(", ");
  const actual = have.join(", ");
  return { pass, expected, actual, message: `${hex(at)} in pid ${c.pid}: ${actual}${pass ? "" : `, expected ${expected}`}` };
}

/** What a device reading through a pin sees: each pinned page's contents. */
export function evalPin(ctx: StepContext, c: PinClause, path: readonly PropertyKey[]): Verdict {
  const p = ctx.pins.get(c.name);
  if (p === undefined) throw ctx.error([...path, "name"].join("."), `unknown pin "${c.name}": expected a pin held here`);
  const k = ctx.k;
  const ps = k.pageSize;
  const written = c.writtenAt === undefined ? p.start : ctx.address(p.pid, c.writtenAt, [...path, "writtenAt"].join("."));
  let bad = 0;
  let first = "";
  p.res.pages.forEach((pfn, i) => {
    const got = k.folios.readTag(pfn);
    const want = c.pattern === "zero" ? 0 : mixTag(c.pattern, Math.floor(written / ps) + i);
    if (got === want) return;
    if (bad++ === 0) first = `page ${i} (pfn ${hex(pfn)}) holds ${hex(got)}, expected ${hex(want)}`;
  });
  const expected = c.pattern === "zero" ? "zero" : `pattern ${c.pattern}`;
  const n = p.res.pages.length;
  return { pass: bad === 0, expected, actual: bad === 0 ? expected : `${bad} of ${n} pages differ`, message: `${plural(n, "pinned page")} of "${c.name}": ${bad === 0 ? `all ${expected}` : `${bad} differ, first ${first}`}` };
}
