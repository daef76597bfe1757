import { PMD, PTE, entryRegs } from "@hugemm/arch";
import { LRU_NAMES, NR_LRU_LISTS } from "../folio/lru";
import type { Kernel } from "../kernel/kernel";
import { NR_MM_COUNTERS } from "../mm/counters";
import type { Mm } from "../mm/mm";
import { PG_lru } from "../phys/page-flags";
import { MMF_HUGE_ZERO_FOLIO } from "../mm/mm";
import { forgetRmapMemo, logicalEntrySize, visitEntry, visitLogicalEntry, type EntrySeen, type Report } from "./entry";
import { checkFolio, checkOwnedFolio, type FolioSeen } from "./folio";
import { IncrementalChecker } from "./incremental";
import { FolioTotals, SHARE_WORDS, checkSwapSlot, compareTotals, folioShare, shmemSwapRefs } from "./totals";

/** One broken invariant: where it was found and what was expected. */
export interface Violation {
  readonly op: string;
  readonly check: string;
  readonly message: string;
  readonly mm?: number;
  readonly addr?: number;
  readonly pfn?: number;
  readonly expected?: number | string;
  readonly found?: number | string;
}

/** Thrown by the checker: the model reached a state the kernel's invariants forbid. */
export class InvariantViolation extends Error {
  constructor(readonly violations: readonly Violation[]) {
    super(`${violations.length} invariant violation(s) after ${violations[0]?.op}: ${violations.slice(0, 5).map((v) => `[${v.check}] ${v.message}`).join("; ")}`);
    this.name = "InvariantViolation";
  }
}

const R = entryRegs(1);

/** What walking every page table found. */
interface Seen {
  /** PTE mappings per page. */
  readonly pteMaps: PfnCounts;
  /** PMD/PUD mappings per folio head. */
  readonly entireMaps: Map<number, number>;
  /** Swap entries per slot. */
  readonly swapRefs: Map<number, number>;
  /** Tables reached from roots. */
  readonly tables: Set<number>;
  /** Deposit stacks the huge entries found should hold, by key: deposits per PMD table; 1 per PUD entry that has one. */
  readonly depositsWanted: Map<number, number>;
  /** Mappings of each large folio per mm (head -> mm id -> mappings). */
  readonly perMm: Map<number, Map<number, number>>;
  /** Mms mapping the huge zero folio. */
  readonly hugeZeroMms: Set<number>;
}

/**
 * The model's CONFIG_DEBUG_VM: rebuild the truth from the page tables and
 * compare every count the kernel keeps. Returns the violations found (empty
 * when the state is consistent).
 */
export function checkInvariants(k: Kernel, op: string): Violation[] {
  const out: Violation[] = [];
  const v = (check: string, message: string, extra: Partial<Violation> = {}) => out.push({ op, check, message, ...extra });
  forgetRmapMemo();
  const seen: Seen = { pteMaps: pfnCountsOf(k), entireMaps: new Map(), swapRefs: new Map(), tables: new Set(), depositsWanted: new Map(), perMm: new Map(), hugeZeroMms: new Set() };
  for (const mm of k.mms.values()) walkMm(k, mm, seen, v);
  checkTables(k, seen.tables, v);
  checkDeposits(k, seen.depositsWanted, v);
  checkFolios(k, seen, v);
  checkSwap(k, seen, v);
  const totals = new FolioTotals(k.phys.nodes.length);
  const share = new Float64Array(SHARE_WORDS);
  const owned = k.features.owned(k);
  for (const head of k.folios.heads()) totals.add(folioShare(k, head, share, owned), 1);
  compareTotals(k, totals, v);
  k.features.check(k, op, out);
  return out;
}

/** Walk one mm's tables: count mappings, rss by counter, tables reached. */
function walkMm(k: Kernel, mm: Mm, seen: Seen, v: Report): void {
  const b = k.backend;
  const g = k.geometry;
  const rss = new Float64Array(NR_MM_COUNTERS);
  let tables = 0;
  // VMAs whose kind maps with logical entries (hugetlb): their slots are read as one entry each.
  let logical = false;
  for (const vma of mm.vmas.all()) if (vma.kind?.entrySize !== undefined) logical = true;
  const sink: EntrySeen = {
    pte: (pfn) => seen.pteMaps.add(pfn),
    entire: (head) => void seen.entireMaps.set(head, (seen.entireMaps.get(head) ?? 0) + 1),
    swap: (off) => void seen.swapRefs.set(off, (seen.swapRefs.get(off) ?? 0) + 1),
    perMm: (head) => {
      let m = seen.perMm.get(head);
      if (m === undefined) seen.perMm.set(head, (m = new Map()));
      m.set(mm.id, (m.get(mm.id) ?? 0) + 1);
    },
    depositPmd: (key) => void seen.depositsWanted.set(key, (seen.depositsWanted.get(key) ?? 0) + 1),
    depositPud: (key) => {
      if (k.tables.depositCount(key) > 0) seen.depositsWanted.set(key, 1);
    },
    rss: (counter, pages) => void (rss[counter]! += pages),
    hugeZero: () => void seen.hugeZeroMms.add(mm.id),
    uses: () => {},
  };
  /** Count a table as reached; false if it was reached before. */
  const reach = (pa: number): boolean => {
    if (seen.tables.has(pa)) {
      v("pgtable", `table 0x${pa.toString(16)} is reached twice`, { mm: mm.id });
      return false;
    }
    seen.tables.add(pa);
    tables++;
    const info = k.tables.info.get(pa);
    if (info === undefined || info.mm !== mm.id) v("pgtable", `table 0x${pa.toString(16)} reached from mm ${mm.id} belongs to ${info?.mm}`, { mm: mm.id });
    return true;
  };
  const visit = (ti: number, pa: number, base: number): void => {
    if (!reach(pa)) return;
    const t = g.tables[ti]!;
    const table = k.tables.get(pa);
    const size = 2 ** t.shift;
    for (let i = 0; i < t.entries; i++) {
      b.readEntry(table, i, t.level, R, 0);
      if (b.none(R, 0, t.level)) continue;
      const addr = base + i * size;
      const es = logical ? logicalEntrySize(mm, addr) : undefined;
      if (t.level !== PTE && b.table(R, 0, t.level)) {
        if (es !== undefined && es.size.viaPteTables && es.size.level === t.level) {
          // The tables under an 8xx 8M entry hold its copies: they are part of the one logical entry.
          reach(b.tablePa(R, 0, t.level));
          visitLogicalEntry(k, mm, es.vma, es.size, table, i, addr, sink, v);
          continue;
        }
        visit(ti + 1, b.tablePa(R, 0, t.level), addr);
        continue;
      }
      if (es !== undefined && es.size.level === t.level) {
        visitLogicalEntry(k, mm, es.vma, es.size, table, i, addr, sink, v);
        continue;
      }
      visitEntry(k, mm, R, t.level, pa, i, addr, sink, v);
    }
  };
  visit(0, mm.rootPa, 0);
  checkMmCounts(k, mm, rss, tables, seen.hugeZeroMms.has(mm.id), v);
}

/** One mm's rss counters and page-table pages against what its tables hold, and its huge zero folio reference. */
export function checkMmCounts(k: Kernel, mm: Mm, rss: Float64Array, tables: number, mapsHugeZero: boolean, v: Report): void {
  for (let c = 0; c < NR_MM_COUNTERS; c++) {
    if (rss[c] !== mm.rss[c]) v("rss", `mm ${mm.id} rss counter ${c} is ${mm.rss[c]} but its tables map ${rss[c]}`, { mm: mm.id, expected: rss[c], found: mm.rss[c] });
  }
  let deposited = 0;
  for (const info of k.tables.info.values()) if (info.deposited && info.mm === mm.id) deposited++;
  if (tables + deposited !== mm.pgtablePages) {
    v("pgtable", `mm ${mm.id} counts ${mm.pgtablePages} table pages but reaches ${tables} and has ${deposited} deposited`, { mm: mm.id, expected: tables + deposited, found: mm.pgtablePages });
  }
  const zeroFlag = (mm.flags & MMF_HUGE_ZERO_FOLIO) !== 0;
  if (mapsHugeZero && !zeroFlag) v("zero-page", `mm ${mm.id} maps the huge zero folio without holding a reference`, { mm: mm.id });
}

/** Every table in use is reached from exactly one root, or is deposited under a huge mapping. */
export function checkTables(k: Kernel, reached: ReadonlySet<number>, v: Report): void {
  const deposited = new Set<number>();
  for (const stack of k.tables.allDeposits().values()) for (const pa of stack) deposited.add(pa);
  for (const [pa, info] of k.tables.info) {
    if (reached.has(pa)) continue;
    if (info.deposited && deposited.has(pa)) continue;
    v("pgtable", `table 0x${pa.toString(16)} of mm ${info.mm} (level ${info.level}) is neither linked nor deposited`, { mm: info.mm });
  }
}

/**
 * Deposited page tables: every anonymous huge PMD entry has one PTE table on
 * its PMD table's stack, a PUD THP that was given tables has one PMD table
 * holding a PTE table per PMD entry, and no stack belongs to nothing.
 */
export function checkDeposits(k: Kernel, wanted: ReadonlyMap<number, number>, v: Report): void {
  for (const [key, want] of wanted) {
    const have = k.tables.depositCount(key);
    if (have !== want) v("deposit", `deposit stack at 0x${key.toString(16)} holds ${have} tables, its huge entries need ${want}`, { expected: want, found: have });
  }
  const perPmd = tableEntriesOf(k, PMD);
  for (const [key, stack] of k.tables.allDeposits()) {
    if (stack.length === 0) continue;
    if (wanted.has(key)) {
      for (const pa of stack) {
        const info = k.tables.info.get(pa);
        if (info?.level === PMD && k.tables.depositCount(pa) !== perPmd) {
          v("deposit", `a PUD's deposited PMD table 0x${pa.toString(16)} holds ${k.tables.depositCount(pa)} PTE tables, not ${perPmd}`);
        }
      }
      continue;
    }
    const info = k.tables.info.get(key);
    if (info !== undefined && info.deposited && info.level === PMD) continue;
    v("deposit", `deposit stack at 0x${key.toString(16)} (${stack.length} tables) belongs to no huge entry`);
  }
}

function tableEntriesOf(k: Kernel, level: number): number {
  return k.geometry.tables.find((t) => t.level === level)?.entries ?? 0;
}

/** Mapcounts, refcounts, LRU and cache membership of every folio. */
function checkFolios(k: Kernel, seen: Seen, v: Report): void {
  const onLru = lruMembers(k, v);
  checkHugeZeroRefcount(k, v);
  const queued = new Set(k.deferredSplit.heads());
  const folioSeen: FolioSeen = {
    pteMaps: (pfn) => seen.pteMaps.get(pfn),
    entireMaps: (head) => seen.entireMaps.get(head) ?? 0,
    perMm: (head) => seen.perMm.get(head),
  };
  const owned = k.features.owned(k);
  for (const head of k.folios.heads()) checkHead(k, head, folioSeen, onLru.has(head), queued.delete(head), v, owned);
  for (const head of queued) v("deferred-split", `the deferred split queue holds ${head}, which is no folio`, { pfn: head });
}

/** Walk every LRU list: each folio on one list, the one its flags name, with PG_lru, and the lists' counts. Returns the folios found. */
export function lruMembers(k: Kernel, v: Report): Set<number> {
  const f = k.folios;
  const onLru = new Set<number>();
  for (const vec of k.lru.lruvecs) {
    for (let l = 0; l < NR_LRU_LISTS; l++) {
      let n = 0;
      for (const h of k.lru.fromTail(vec.nid, l)) {
        n++;
        if (onLru.has(h)) v("lru", `folio ${h} is on two LRU lists`, { pfn: h });
        onLru.add(h);
        if (!f.test(h, PG_lru)) v("lru", `folio ${h} is on ${LRU_NAMES[l]} without PG_lru`, { pfn: h });
        if (k.lru.listOf(h) !== l) v("lru", `folio ${h} is on ${LRU_NAMES[l]} but belongs on ${LRU_NAMES[k.lru.listOf(h)]}`, { pfn: h });
      }
      if (n !== vec.nrFolios[l]) v("lru", `node ${vec.nid} ${LRU_NAMES[l]} counts ${vec.nrFolios[l]} folios but holds ${n}`);
    }
  }
  return onLru;
}

/** huge_zero_refcount: the shrinker's reference and one per mm that took one. */
export function checkHugeZeroRefcount(k: Kernel, v: Report): void {
  const hz = k.hugeZero;
  if (hz.pfn < 0) return;
  let mms = 0;
  for (const mm of k.mms.values()) if (mm.flags & MMF_HUGE_ZERO_FOLIO) mms++;
  if (hz.refcount !== 1 + mms) v("zero-page", `huge_zero_refcount is ${hz.refcount}, expected 1 + ${mms} mms`, { expected: 1 + mms, found: hz.refcount });
}

/** The invariants of the folio at `head`: the huge zero folio's refcount, a feature-owned folio's, or every folio invariant. */
export function checkHead(k: Kernel, head: number, seen: FolioSeen, onLru: boolean, queued: boolean, v: Report, owned: ReadonlySet<number>): void {
  if (owned.has(head)) {
    checkOwnedFolio(k, head, seen, queued, v);
    return;
  }
  if (k.hugeZero.is(head)) {
    const f = k.folios;
    const want = 1 + (k.heldRefs.get(head) ?? 0);
    if (f.refcount(head) !== want) v("refcount", `the huge zero folio has refcount ${f.refcount(head)}, expected ${want}`, { pfn: head, expected: want, found: f.refcount(head) });
    return;
  }
  checkFolio(k, head, seen, onLru, queued, v);
}

/** swap_map counts and the swap cache agree with the entries found. */
function checkSwap(k: Kernel, seen: Seen, v: Report): void {
  const dev = k.swap.device;
  if (dev === null) return;
  const shmemRefs = shmemSwapRefs(k);
  for (let off = 1; off < dev.pages; off++) checkSwapSlot(k, off, (seen.swapRefs.get(off) ?? 0) + (shmemRefs.get(off) ?? 0), v);
}

/**
 * Install the checker on a kernel: it throws InvariantViolation after any
 * operation that breaks one. In the incremental mode (the default) each
 * operation is checked on what it touched, and the full check runs first,
 * every `checkFullEvery` operations and at each checkpoint.
 */
export function installChecker(k: Kernel): void {
  const full = (op: string): Violation[] => checkInvariants(k, op);
  if (k.config.checkMode === "full") {
    k.afterOp = k.fullCheck = (op) => {
      const vs = full(op);
      if (vs.length > 0) throw new InvariantViolation(vs);
    };
    return;
  }
  const inc = new IncrementalChecker(k);
  inc.attach();
  let since = 0;
  // The incremental checker does not read logical entries (hugetlb): while a VMA maps with them every
  // check is full, and its sums are rebuilt at the first full check after the last such VMA goes.
  let stale = false;
  k.fullCheck = (op) => {
    const vs = full(op);
    stale = hasLogicalVmas(k);
    if (!stale) inc.resync();
    since = 0;
    if (vs.length > 0) throw new InvariantViolation(vs);
  };
  k.afterOp = (op) => {
    if (!inc.isSynced || stale || ++since >= k.config.checkFullEvery || hasLogicalVmas(k)) return k.fullCheck(op);
    const vs = inc.check(op);
    if (vs.length > 0) throw new InvariantViolation(vs);
  };
}

function hasLogicalVmas(k: Kernel): boolean {
  for (const mm of k.mms.values()) for (const vma of mm.vmas.all()) if (vma.kind?.entrySize !== undefined) return true;
  return false;
}

/** Counts per pfn, in blocks of 4096 allocated on first use and kept for the next check. */
class PfnCounts {
  private readonly blocks: (Int32Array | undefined)[] = [];
  /** Blocks written since the last clear. */
  private readonly used: number[] = [];
  private readonly isUsed: boolean[] = [];

  add(pfn: number): void {
    const b = pfn >>> 12;
    let a = this.blocks[b];
    if (a === undefined) a = this.blocks[b] = new Int32Array(4096);
    if (this.isUsed[b] !== true) {
      this.isUsed[b] = true;
      this.used.push(b);
    }
    a[pfn & 4095]!++;
  }

  get(pfn: number): number {
    const a = this.blocks[pfn >>> 12];
    return a === undefined ? 0 : a[pfn & 4095]!;
  }

  /** Zero what the last check counted. */
  clear(): void {
    for (const b of this.used) {
      this.blocks[b]!.fill(0);
      this.isUsed[b] = false;
    }
    this.used.length = 0;
  }
}

const countsByKernel = new WeakMap<Kernel, PfnCounts>();

function pfnCountsOf(k: Kernel): PfnCounts {
  let c = countsByKernel.get(k);
  if (c === undefined) countsByKernel.set(k, (c = new PfnCounts()));
  c.clear();
  return c;
}
