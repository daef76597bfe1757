import { levelName } from "@hugemm/arch";
import { Slot, checkInvariants, formatSize, hex, logicalCensus, mixTag, parseSize } from "@hugemm/core";
import type { StepContext } from "../context";
import { PROCESS_COUNTERS } from "../counter-sources";
import { didYouMean } from "../suggest";
import { COMPARISONS, type Comparison, type CounterClause, type DataClause, type EntriesClause, type FoliosClause, type MappedClause } from "./clauses";
import { plural } from "../steps/outcome";
import { contentsAt, mappedLevel, mappingAt } from "./inspect";

/** How one clause came out. */
export interface Verdict {
  readonly pass: boolean;
  readonly expected: string | number;
  readonly actual: string | number;
  readonly message: string;
}

const PID_COUNTER = new RegExp(`^pid(\\d+)\\.(${PROCESS_COUNTERS.join("|")})$`);

/**
 * The value of a counter in a snapshot. A process's counters read 0 when
 * it is not alive; any other name missing is unknown.
 */
export function counterValue(snapshot: Readonly<Record<string, number>>, name: string): number | undefined {
  const v = snapshot[name];
  if (v !== undefined) return v;
  return PID_COUNTER.test(name) ? 0 : undefined;
}

/** "unknown counter ...: expected ..., did you mean ...". */
export function unknownCounter(name: string, snapshot: Readonly<Record<string, number>>): string {
  return `unknown counter "${name}": expected a vm event or node stat (pgfault, nr_anon_pages), meminfo.<Field>, hugepages-<size>kB.<stat>, model.<event>, pid<N>.rss_anon|rss_file|rss_shmem|swapents or tlb.flushes${didYouMean(name, Object.keys(snapshot))}`;
}

export function evalCounter(ctx: StepContext, c: CounterClause, now: Readonly<Record<string, number>>, path: readonly PropertyKey[]): Verdict {
  const v = counterValue(now, c.counter);
  if (v === undefined) throw ctx.error([...path, "counter"], unknownCounter(c.counter, now));
  let actual = v;
  let what = c.counter;
  if (c.since !== undefined) {
    const base = ctx.checkpointCounters.get(c.since);
    if (base === undefined) throw ctx.error([...path, "since"], `unknown checkpoint "${c.since}": expected "start" or an earlier checkpoint`);
    actual = v - (counterValue(base, c.counter) ?? 0);
    what = `${c.counter} since ${c.since}`;
  }
  const cmp = (Object.keys(COMPARISONS) as Comparison[]).find((k) => c[k] !== undefined)!;
  const want = c[cmp]!;
  const pass =
    cmp === "equals" ? actual === want : cmp === "atLeast" ? actual >= want : cmp === "atMost" ? actual <= want : cmp === "greaterThan" ? actual > want : actual < want;
  const expected = `${COMPARISONS[cmp]} ${want}`;
  return { pass, expected, actual, message: `${what} is ${actual}${pass ? "" : `, expected ${expected}`}` };
}

export function evalMapped(ctx: StepContext, c: MappedClause, path: readonly PropertyKey[]): Verdict {
  const mm = ctx.mm(c.pid, [...path, "pid"].join("."));
  const at = ctx.address(c.pid, c.at, [...path, "at"].join("."));
  const m = mappingAt(ctx.k, mm, at);
  const level = mappedLevel(m);
  // With `entry:`, also the level of the table slot holding it (a PMD migration entry, a PTE swap entry).
  const entry = m.kind === "none" ? "none" : levelName(m.level);
  const actual = c.entry === undefined ? level : `${level} at ${entry}`;
  const want = c.entry === undefined ? c.level : `${c.level} at ${c.entry}`;
  const pass = actual === want;
  return { pass, expected: want, actual, message: `${hex(at)} in pid ${c.pid} is mapped ${level === "none" ? "by nothing" : `by a ${actual} entry`}${pass ? "" : `, expected ${want}`}` };
}

/** "4K: 1, 2M: 1" in size order, "none" when empty. */
function formatCensus(census: ReadonlyMap<number, number>): string {
  const rows = [...census].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
  return rows.length === 0 ? "none" : rows.map(([s, n]) => `${formatSize(s)}: ${n}`).join(", ");
}

export function evalFolios(ctx: StepContext, c: FoliosClause, path: readonly PropertyKey[]): Verdict {
  const k = ctx.k;
  const mm = ctx.mm(c.pid, [...path, "pid"].join("."));
  const start = ctx.address(c.pid, c.at, [...path, "at"].join("."));
  const end = start + ctx.size(c.len, [...path, "len"].join("."));
  const ps = k.pageSize;
  const slot = new Slot();
  const heads = new Set<number>();
  for (let va = start - (start % ps); va < end; ) {
    const m = mappingAt(k, mm, va, slot);
    if (m.kind === "leaf") {
      heads.add(k.folios.head(m.pfn));
      // A leaf above the PTE level maps one folio (or part of one): skip the rest of it.
      va = m.level === 0 ? va + ps : va - (va % m.size) + m.size;
    } else va = m.kind === "none" ? va - (va % m.size) + m.size : va + ps;
  }
  const actual = new Map<number, number>();
  for (const h of heads) {
    const bytes = k.folios.nrPages(h) * ps;
    actual.set(bytes, (actual.get(bytes) ?? 0) + 1);
  }
  const want = new Map<number, number>();
  for (const [s, n] of Object.entries(c.census)) want.set(parseSize("folio size", s), n);
  const sizes = new Set([...want.keys(), ...actual.keys()]);
  const pass = [...sizes].every((s) => (want.get(s) ?? 0) === (actual.get(s) ?? 0));
  const exp = formatCensus(want);
  const act = formatCensus(actual);
  return { pass, expected: exp, actual: act, message: `folios mapped in [${hex(start)}, ${hex(end)}) of pid ${c.pid}: ${act}${pass ? "" : `, expected ${exp}`}` };
}

/**
 * The pagemap-like census of the core's generic walk: present logical
 * entries by the bytes each maps — a PMD THP is one 2M entry, an arm64 64K
 * hugetlb page one 64K entry (16 PTEs), an 8xx 8M page one 8M entry (two
 * PMDs), whatever the slots behind them.
 */
export function evalEntries(ctx: StepContext, c: EntriesClause, path: readonly PropertyKey[]): Verdict {
  const k = ctx.k;
  const mm = ctx.mm(c.pid, [...path, "pid"].join("."));
  const start = ctx.address(c.pid, c.at, [...path, "at"].join("."));
  const end = start + ctx.size(c.len, [...path, "len"].join("."));
  const actual = logicalCensus(k, mm, start, end);
  const want = new Map<number, number>();
  for (const [s, n] of Object.entries(c.census)) want.set(parseSize("entry size", s), n);
  const sizes = new Set([...want.keys(), ...actual.keys()]);
  const pass = [...sizes].every((s) => (want.get(s) ?? 0) === (actual.get(s) ?? 0));
  const exp = formatCensus(want);
  const act = formatCensus(actual);
  return { pass, expected: exp, actual: act, message: `logical entries in [${hex(start)}, ${hex(end)}) of pid ${c.pid}: ${act}${pass ? "" : `, expected ${exp}`}` };
}

export function evalData(ctx: StepContext, c: DataClause, path: readonly PropertyKey[]): Verdict {
  const k = ctx.k;
  const mm = ctx.mm(c.pid, [...path, "pid"].join("."));
  const start = ctx.address(c.pid, c.at, [...path, "at"].join("."));
  const end = start + ctx.size(c.len, [...path, "len"].join("."));
  const written = c.writtenAt === undefined ? start : ctx.address(c.pid, c.writtenAt, [...path, "writtenAt"].join("."));
  const ps = k.pageSize;
  const slot = new Slot();
  let pages = 0;
  let bad = 0;
  let first = "";
  for (let va = start - (start % ps); va < end; va += ps, pages++) {
    const got = contentsAt(k, mm, va, slot);
    let want: number;
    if (c.pattern === "zero") want = 0;
    else if (c.pattern === "file") {
      const vma = mm.vmas.lookup(va);
      // A file's contents before any write: its blocks, or zeroes for a new shmem/memfd file.
      want = vma?.file ? (vma.file.shmem ? 0 : mixTag(vma.file.seed, vma.pgoff + Math.floor((va - vma.start) / ps))) : Number.NaN;
    } else want = mixTag(c.pattern, Math.floor((va - start + written) / ps));
    if (got === want) continue;
    if (bad++ === 0) first = got === null ? `${hex(va)} is outside every mapping` : `${hex(va)} holds ${got === -1 ? "no data (poisoned)" : hex(got)}, expected ${Number.isNaN(want) ? "file contents (not a file mapping)" : hex(want)}`;
  }
  const expected = c.pattern === "zero" ? "zero" : c.pattern === "file" ? "file" : `pattern ${c.pattern}`;
  const actual = bad === 0 ? expected : `${bad} of ${pages} pages differ`;
  return { pass: bad === 0, expected, actual, message: `${plural(pages, "page")} at ${hex(start)} of pid ${c.pid}: ${bad === 0 ? `all ${expected}` : `${bad} differ, first ${first}`}` };
}

export function evalInvariants(ctx: StepContext): Verdict {
  const vs = checkInvariants(ctx.k, "expect");
  const actual = vs.length === 0 ? "clean" : `${vs.length} violation${vs.length === 1 ? "" : "s"}: ${vs.slice(0, 3).map((v) => `[${v.check}] ${v.message}`).join("; ")}`;
  return { pass: vs.length === 0, expected: "clean", actual, message: `invariants ${actual}` };
}
