import { PTE, entryRegs } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { NR_MM_COUNTERS } from "../mm/counters";
import type { Mm } from "../mm/mm";
import {
  PG_active,
  PG_allocated,
  PG_dirty,
  PG_hwpoison,
  PG_isolated,
  PG_lru,
  PG_mlocked,
  PG_partially_mapped,
  PG_reclaim,
  PG_referenced,
  PG_swapcache,
  PG_tail,
  PG_unevictable,
  PG_uptodate,
  PG_workingset,
  PG_writeback,
  PGTY_table,
  PGTY_zero,
} from "../phys/page-flags";
import { visitEntry, forgetRmapMemo, type EntrySeen, type Report } from "./entry";
import type { FolioSeen } from "./folio";
import { checkDeposits, checkHead, checkHugeZeroRefcount, checkMmCounts, checkTables, lruMembers, type Violation } from "./invariants";
import { FolioTotals, SHARE_WORDS, checkSwapSlot, compareTotals, folioShare, shmemSwapRefs } from "./totals";
import { LargeRowDiff } from "./large-diff";
import { VmaPrints } from "./vma-prints";

const R = entryRegs(1);

/** Page flags no entry check reads: a change to them needs the folio checked, not the entries mapping it. */
export const FOLIO_ONLY_FLAGS =
  PG_referenced | PG_uptodate | PG_dirty | PG_lru | PG_active | PG_workingset | PG_swapcache | PG_unevictable | PG_mlocked | PG_reclaim | PG_partially_mapped | PG_hwpoison | PG_writeback | PG_isolated;

/** Memmap words of a section, in MemSection's order: flags, refcount, mapcount, mapping, index, next, prev, tag. */
const W_FLAGS = 0;
const W_MAPPING = 3;
const W_INDEX = 4;

type Extra = Partial<Violation>;

/** What the checker last found in one page table: enough to take its contribution back out of the sums. */
interface TableSum {
  readonly pa: number;
  readonly mm: number;
  /** Index of its level in the geometry's tables, and the first address it maps. */
  readonly ti: number;
  readonly base: number;
  readonly span: number;
  /** Its entries when scanned. */
  readonly raw: Uint32Array;
  readonly childPa: number[];
  readonly childBase: number[];
  readonly pte: number[];
  readonly entire: number[];
  readonly swap: number[];
  readonly perMm: number[];
  readonly pmdKeys: number[];
  readonly pudKeys: number[];
  readonly rss: Float64Array;
  hugeZero: number;
  /** Pageblocks holding the folios its entries' checks read. */
  readonly pbs: number[];
  /** Violations its entries showed, reported again while they stand. */
  readonly violations: [string, string, Extra][];
}

/**
 * The invariant checker run on what an operation touched. While operations
 * run, the memmap records each pageblock whose page state it handed out
 * and the page tables each table whose entries it handed out (or that it
 * allocated, freed, deposited or withdrew). After each operation this
 * checker compares those pageblocks and tables with its copies to find the
 * pages and entries that changed, rescans only the changed tables (and
 * those mapping a changed folio or lying under a changed VMA), keeps every
 * count the full check rebuilds (mappings per page and per folio, swap
 * references, rss, deposits, node totals) up to date by taking each
 * rescanned table's old contribution out and its new one in, and checks
 * each folio and swap slot whose state or counts moved. The violations are
 * the full check's, with the same reports, for every invariant of state
 * an operation can reach through the model's own structures.
 *
 * Not incremental: the walk of the LRU lists (their order is only known by
 * walking them) and the checks over all page tables (not their entries),
 * VMAs, deposit stacks and feature invariants, all linear in things far
 * fewer than pages.
 */
export class IncrementalChecker {
  private synced = false;
  private readonly sums = new Map<number, TableSum>();
  /** Pageblock -> tables whose entries' checks read a folio in it. */
  private readonly users = new Map<number, Set<number>>();
  private readonly pteMaps = new PfnCounts();
  private readonly entireMaps = new Map<number, number>();
  private readonly perMm = new Map<number, Map<number, number>>();
  private readonly swapRefs = new Map<number, number>();
  private readonly pmdWanted = new Map<number, number>();
  private readonly pudKeys = new Map<number, number>();
  private readonly rss = new Map<number, Float64Array>();
  private readonly hugeZeroMaps = new Map<number, number>();
  private totals: FolioTotals;
  /** Each folio's share in the totals, by head. */
  private readonly shares = new Map<number, Float64Array>();
  /** Copies of the memmap's sections, by pageblock. */
  private readonly sectionCopies = new Map<number, Uint32Array>();
  private readonly rows: LargeRowDiff;
  private readonly vmas = new VmaPrints();
  private heldCopy = new Map<number, number>();
  private migratingCopy = new Map<number, string>();
  private swapMapCopy: Uint16Array | null = null;
  private slotOfCopy = new Map<number, number>();
  private shmemCopy = new Map<number, number>();
  /** Folios and swap slots that failed a check: checked again until they pass. */
  private badHeads = new Set<number>();
  private badSlots = new Set<number>();
  private readonly pbShift: number;
  private readonly pbPages: number;

  constructor(private readonly k: Kernel) {
    this.totals = new FolioTotals(k.phys.nodes.length);
    this.rows = new LargeRowDiff(k.folios.large, FOLIO_ONLY_FLAGS);
    const m = k.folios.memmap;
    this.pbShift = m.pbShift;
    this.pbPages = m.pbPages;
  }

  /** Start recording what operations touch. */
  attach(): void {
    const m = this.k.folios.memmap;
    if (m.touched === null) m.touched = new Uint8Array(m.nrPageblocks);
    if (this.k.tables.touched === null) this.k.tables.touched = new Set();
  }

  /** Rebuild every kept count from the state as it is now (after a full check, or at the first check). */
  resync(): void {
    const k = this.k;
    this.detach();
    this.reset();
    k.folios.memmap.forEachSection((s, first) => this.sectionCopies.set(first >>> this.pbShift, new Uint32Array(s.flags.buffer).slice()));
    this.rows.sync();
    this.vmas.changed(k);
    this.heldCopy = new Map(k.heldRefs);
    this.migratingCopy = new Map(k.migrating);
    this.swapMapCopy = k.swap.device === null ? null : k.swap.device.mapWords.slice();
    this.slotOfCopy = new Map(k.swap.slotOf);
    this.shmemCopy = shmemSwapRefs(k);
    const ignore: Report = () => {};
    const reached = new Set<number>();
    forgetRmapMemo();
    for (const mm of k.mms.values()) this.walk(mm, mm.rootPa, 0, 0, reached, new Set(), new Set(), ignore, new Delta());
    const share = new Float64Array(SHARE_WORDS);
    const owned = k.features.owned(k);
    for (const head of k.folios.heads()) {
      const s = folioShare(k, head, share, owned).slice();
      this.shares.set(head, s);
      this.totals.add(s, 1);
    }
    this.synced = true;
    this.attach();
  }

  get isSynced(): boolean {
    return this.synced;
  }

  private reset(): void {
    this.sums.clear();
    this.users.clear();
    this.pteMaps.clear();
    this.entireMaps.clear();
    this.perMm.clear();
    this.swapRefs.clear();
    this.pmdWanted.clear();
    this.pudKeys.clear();
    this.rss.clear();
    this.hugeZeroMaps.clear();
    this.totals = new FolioTotals(this.k.phys.nodes.length);
    this.shares.clear();
    this.sectionCopies.clear();
    this.badHeads.clear();
    this.badSlots.clear();
  }

  private detach(): void {
    const m = this.k.folios.memmap;
    const t = m.touched;
    if (t !== null) for (const pb of m.touchedList) t[pb] = 0;
    m.touchedList.length = 0;
    this.k.tables.touched?.clear();
  }

  /** Check what the operation `op` touched; returns the violations found. */
  check(op: string): Violation[] {
    const k = this.k;
    if (!this.synced) throw new Error("the incremental checker needs a full check first");
    const out: Violation[] = [];
    const v: Report = (check, message, extra = {}) => out.push({ op, check, message, ...extra });
    const m = k.folios.memmap;
    // Stop recording while checking: the checker's own reads must not count.
    const marks = m.touched;
    const touchedTables = k.tables.touched;
    m.touched = null;
    k.tables.touched = null;
    forgetRmapMemo();

    const dirtyHeads = new Set<number>(this.badHeads);
    const folioPbs = new Set<number>();
    // Pages whose memmap words changed.
    for (const pb of m.touchedList) {
      marks![pb] = 0;
      const s = m.sectionIfAny(pb << this.pbShift);
      if (s === undefined) continue;
      const now = new Uint32Array(s.flags.buffer);
      const was = this.sectionCopies.get(pb);
      const first = pb << this.pbShift;
      let changed = false;
      for (let w = 0; w < now.length; w++) {
        if (was !== undefined && now[w] === was[w]) continue;
        const pfn = first + (w & (this.pbPages - 1));
        changed = true;
        if (this.shares.has(pfn)) dirtyHeads.add(pfn);
        if (k.folios.isAllocated(pfn)) dirtyHeads.add(k.folios.head(pfn));
        // Entries mapping the page need checking again only when what their checks read changed.
        const word = w >>> this.pbShift;
        if (was === undefined || word === W_MAPPING || word === W_INDEX || (word === W_FLAGS && ((now[w]! ^ was[w]!) & ~FOLIO_ONLY_FLAGS) !== 0)) folioPbs.add(pb);
      }
      if (changed) {
        if (was === undefined) this.sectionCopies.set(pb, now.slice());
        else was.set(now);
      }
    }
    m.touchedList.length = 0;
    // Large folios whose rows changed.
    this.rows.diff((head, order, entries) => {
      dirtyHeads.add(head);
      if (!entries) return;
      const first = head >>> this.pbShift;
      const last = (head + 2 ** order - 1) >>> this.pbShift;
      for (let pb = first; pb <= last; pb++) folioPbs.add(pb);
    });
    // Tables to rescan whatever their entries: those reading a changed folio, those under a changed VMA.
    const forced = new Set<number>();
    for (const pb of folioPbs) {
      const u = this.users.get(pb);
      if (u !== undefined) for (const pa of u) forced.add(pa);
    }
    const vmaChanges = this.vmas.changed(k);
    if (vmaChanges.size > 0) {
      for (const sum of this.sums.values()) {
        const ranges = vmaChanges.get(sum.mm);
        if (ranges === undefined) continue;
        for (let i = 0; i < ranges.length; i += 2) {
          if (ranges[i]! < sum.base + sum.span && sum.base < ranges[i + 1]!) {
            forced.add(sum.pa);
            break;
          }
        }
      }
    }
    const touched = touchedTables ?? new Set<number>();
    const delta = new Delta();
    const reached = new Set<number>();
    for (const mm of k.mms.values()) this.walk(mm, mm.rootPa, 0, 0, reached, touched, forced, v, delta);
    for (const [pa, sum] of this.sums) {
      if (reached.has(pa)) continue;
      this.remove(sum, delta);
      this.sums.delete(pa);
    }
    for (const id of this.rss.keys()) if (!k.mms.has(id)) this.rss.delete(id);
    for (const id of this.hugeZeroMaps.keys()) if (!k.mms.has(id)) this.hugeZeroMaps.delete(id);

    // Folios whose mappings, references or swap cache slot moved.
    for (const pfn of delta.pfns) if (k.folios.isAllocated(pfn)) dirtyHeads.add(k.folios.head(pfn));
    for (const head of delta.heads) dirtyHeads.add(head);
    this.heldCopy = diffMap(k.heldRefs, this.heldCopy, dirtyHeads);
    this.migratingCopy = diffMap(k.migrating, this.migratingCopy, dirtyHeads);
    const slotChanges = new Set<number>(this.badSlots);
    this.slotOfCopy = diffMap(k.swap.slotOf, this.slotOfCopy, dirtyHeads, (off) => slotChanges.add(off));

    // Mm-wide counts and the checks over all tables and deposit stacks.
    const tablesPerMm = new Map<number, number>();
    for (const pa of reached) {
      const id = this.sums.get(pa)!.mm;
      tablesPerMm.set(id, (tablesPerMm.get(id) ?? 0) + 1);
    }
    for (const mm of k.mms.values()) checkMmCounts(k, mm, this.rssOf(mm.id), tablesPerMm.get(mm.id) ?? 0, (this.hugeZeroMaps.get(mm.id) ?? 0) > 0, v);
    checkTables(k, reached, v);
    const wanted = new Map(this.pmdWanted);
    for (const key of this.pudKeys.keys()) if (k.tables.depositCount(key) > 0) wanted.set(key, 1);
    checkDeposits(k, wanted, v);
    for (const sum of this.sums.values()) for (const [check, message, extra] of sum.violations) v(check, message, extra);

    // Folios.
    const onLru = lruMembers(k, v);
    checkHugeZeroRefcount(k, v);
    const queued = new Set(k.deferredSplit.heads());
    const seen: FolioSeen = {
      pteMaps: (pfn) => this.pteMaps.get(pfn),
      entireMaps: (head) => this.entireMaps.get(head) ?? 0,
      perMm: (head) => this.perMm.get(head),
    };
    this.badHeads = new Set();
    const share = new Float64Array(SHARE_WORDS);
    const owned = k.features.owned(k);
    for (const head of dirtyHeads) {
      const old = this.shares.get(head);
      if (old !== undefined) this.totals.add(old, -1);
      if (!this.isHead(head)) {
        this.shares.delete(head);
        continue;
      }
      const before = out.length;
      checkHead(k, head, seen, onLru.has(head), queued.has(head), v, owned);
      if (out.length > before) this.badHeads.add(head);
      const s = folioShare(k, head, share, owned);
      if (old !== undefined) old.set(s);
      this.shares.set(head, old ?? s.slice());
      this.totals.add(s, 1);
    }
    for (const head of queued) if (!this.isHead(head)) v("deferred-split", `the deferred split queue holds ${head}, which is no folio`, { pfn: head });
    compareTotals(k, this.totals, v);

    // Swap slots whose references or state moved.
    this.checkSwap(delta, slotChanges, v);
    k.features.check(k, op, out);
    m.touched = marks;
    k.tables.touched = touched;
    touched.clear();
    return out;
  }

  private checkSwap(delta: Delta, slots: Set<number>, v: Report): void {
    const k = this.k;
    const dev = k.swap.device;
    this.badSlots = new Set();
    if (dev === null) return;
    for (const off of delta.slots) slots.add(off);
    const words = dev.mapWords;
    const copy = this.swapMapCopy;
    if (copy === null || copy.length !== words.length) {
      for (let off = 1; off < words.length; off++) slots.add(off);
      this.swapMapCopy = words.slice();
    } else {
      for (let off = 1; off < words.length; off++) {
        if (words[off] === copy[off]) continue;
        slots.add(off);
        copy[off] = words[off]!;
      }
    }
    const shmem = shmemSwapRefs(k);
    for (const [off, n] of shmem) if (this.shmemCopy.get(off) !== n) slots.add(off);
    for (const off of this.shmemCopy.keys()) if (!shmem.has(off)) slots.add(off);
    this.shmemCopy = shmem;
    for (const off of dev.cache.keys()) slots.add(off);
    for (const off of slots) {
      checkSwapSlot(k, off, (this.swapRefs.get(off) ?? 0) + (shmem.get(off) ?? 0), (check, message, extra) => {
        this.badSlots.add(off);
        v(check, message, extra);
      });
    }
  }

  /** Whether `pfn` heads a folio, as Folios.heads() counts them. */
  private isHead(pfn: number): boolean {
    const f = this.k.folios;
    const m = f.memmap;
    const id = m.pbLarge[pfn >>> m.pbShift]!;
    if (id !== 0) return f.large.head[id - 1] === pfn;
    const s = m.sectionIfAny(pfn);
    if (s === undefined) return false;
    const fl = s.flags[pfn & m.pbMask]!;
    return (fl & PG_allocated) !== 0 && (fl & (PG_tail | PGTY_table | PGTY_zero)) === 0;
  }

  private rssOf(mm: number): Float64Array {
    let r = this.rss.get(mm);
    if (r === undefined) this.rss.set(mm, (r = new Float64Array(NR_MM_COUNTERS)));
    return r;
  }

  /** Visit the table at `pa` and the tables under it, rescanning those that need it. */
  private walk(mm: Mm, pa: number, ti: number, base: number, reached: Set<number>, touched: ReadonlySet<number>, forced: ReadonlySet<number>, v: Report, delta: Delta): void {
    const k = this.k;
    if (reached.has(pa)) {
      v("pgtable", `table 0x${pa.toString(16)} is reached twice`, { mm: mm.id });
      return;
    }
    reached.add(pa);
    const info = k.tables.info.get(pa);
    if (info === undefined || info.mm !== mm.id) v("pgtable", `table 0x${pa.toString(16)} reached from mm ${mm.id} belongs to ${info?.mm}`, { mm: mm.id });
    let sum = this.sums.get(pa);
    const stale = sum === undefined || sum.mm !== mm.id || sum.ti !== ti || sum.base !== base || forced.has(pa) || (touched.has(pa) && !sameEntries(sum.raw, k.tables.get(pa)));
    if (stale) {
      const fresh = this.scan(mm, pa, ti, base);
      if (sum !== undefined) this.remove(sum, delta, fresh);
      this.add(fresh, delta, sum);
      this.sums.set(pa, fresh);
      sum = fresh;
    }
    const s = sum!;
    for (let i = 0; i < s.childPa.length; i++) this.walk(mm, s.childPa[i]!, ti + 1, s.childBase[i]!, reached, touched, forced, v, delta);
  }

  /** Read every entry of one table into a new summary. */
  private scan(mm: Mm, pa: number, ti: number, base: number): TableSum {
    const k = this.k;
    const b = k.backend;
    const t = k.geometry.tables[ti]!;
    const table = k.tables.get(pa);
    const size = 2 ** t.shift;
    const sum: TableSum = {
      pa,
      mm: mm.id,
      ti,
      base,
      span: size * t.entries,
      raw: table.slice(),
      childPa: [],
      childBase: [],
      pte: [],
      entire: [],
      swap: [],
      perMm: [],
      pmdKeys: [],
      pudKeys: [],
      rss: new Float64Array(NR_MM_COUNTERS),
      hugeZero: 0,
      pbs: [],
      violations: [],
    };
    const pbs = new Set<number>();
    const shift = this.pbShift;
    const seen: EntrySeen = {
      pte: (pfn) => void sum.pte.push(pfn),
      entire: (head) => void sum.entire.push(head),
      swap: (off) => void sum.swap.push(off),
      perMm: (head) => void sum.perMm.push(head),
      depositPmd: (key) => void sum.pmdKeys.push(key),
      depositPud: (key) => void sum.pudKeys.push(key),
      rss: (counter, pages) => void (sum.rss[counter]! += pages),
      hugeZero: () => void sum.hugeZero++,
      uses: (pfn) => void pbs.add(pfn >>> shift),
    };
    const report: Report = (check, message, extra = {}) => void sum.violations.push([check, message, extra]);
    for (let i = 0; i < t.entries; i++) {
      b.readEntry(table, i, t.level, R, 0);
      if (b.none(R, 0, t.level)) continue;
      const addr = base + i * size;
      if (t.level !== PTE && b.table(R, 0, t.level)) {
        sum.childPa.push(b.tablePa(R, 0, t.level));
        sum.childBase.push(addr);
        continue;
      }
      visitEntry(k, mm, R, t.level, pa, i, addr, seen, report);
    }
    for (const pb of pbs) sum.pbs.push(pb);
    return sum;
  }

  private add(s: TableSum, d: Delta, was?: TableSum): void {
    this.apply(s, 1, d, was);
    for (const pb of s.pbs) {
      let u = this.users.get(pb);
      if (u === undefined) this.users.set(pb, (u = new Set()));
      u.add(s.pa);
    }
  }

  private remove(s: TableSum, d: Delta, next?: TableSum): void {
    this.apply(s, -1, d, next);
    for (const pb of s.pbs) {
      const u = this.users.get(pb);
      if (u === undefined) continue;
      u.delete(s.pa);
      if (u.size === 0) this.users.delete(pb);
    }
  }

  /**
   * Add (1) or take out (-1) one table's contribution to the kept counts,
   * noting what moved; `other` is the summary replacing it or replaced by
   * it, and a list equal in both moves nothing.
   */
  private apply(s: TableSum, sign: number, d: Delta, other: TableSum | undefined): void {
    const note = (a: readonly number[], b: readonly number[] | undefined) => b === undefined || !sameList(a, b);
    const pte = note(s.pte, other?.pte);
    for (const pfn of s.pte) {
      this.pteMaps.add(pfn, sign);
      if (pte) d.pfns.add(pfn);
    }
    const entire = note(s.entire, other?.entire);
    for (const head of s.entire) {
      bump(this.entireMaps, head, sign);
      if (entire) d.heads.add(head);
    }
    const swap = note(s.swap, other?.swap);
    for (const off of s.swap) {
      bump(this.swapRefs, off, sign);
      if (swap) d.slots.add(off);
    }
    const perMm = note(s.perMm, other?.perMm) || s.mm !== other?.mm;
    for (const head of s.perMm) {
      let m = this.perMm.get(head);
      if (m === undefined) this.perMm.set(head, (m = new Map()));
      bump(m, s.mm, sign);
      if (m.size === 0) this.perMm.delete(head);
      if (perMm) d.heads.add(head);
    }
    for (const key of s.pmdKeys) bump(this.pmdWanted, key, sign);
    for (const key of s.pudKeys) bump(this.pudKeys, key, sign);
    const rss = this.rssOf(s.mm);
    for (let c = 0; c < NR_MM_COUNTERS; c++) rss[c]! += sign * s.rss[c]!;
    if (s.hugeZero !== 0) bump(this.hugeZeroMaps, s.mm, sign * s.hugeZero);
  }
}

/** What rescanning tables moved: pages, folios and swap slots whose counts may have changed. */
class Delta {
  readonly pfns = new Set<number>();
  readonly heads = new Set<number>();
  readonly slots = new Set<number>();
}

function bump(m: Map<number, number>, key: number, by: number): void {
  const n = (m.get(key) ?? 0) + by;
  if (n === 0) m.delete(key);
  else m.set(key, n);
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameEntries(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The keys whose values differ between `now` and `was` go to `dirty` (and their old and new values to `values`); returns a copy of `now`. */
function diffMap<V>(now: ReadonlyMap<number, V>, was: ReadonlyMap<number, V>, dirty: Set<number>, values?: (v: V) => void): Map<number, V> {
  if (now.size !== 0 || was.size !== 0) {
    for (const [key, val] of now) {
      const old = was.get(key);
      if (old === val) continue;
      dirty.add(key);
      if (values !== undefined) {
        values(val);
        if (old !== undefined) values(old);
      }
    }
    for (const [key, old] of was) {
      if (now.has(key)) continue;
      dirty.add(key);
      values?.(old);
    }
  }
  return new Map(now);
}

/** Counts per pfn in blocks of 4096, kept between checks and moved up and down. */
class PfnCounts {
  private readonly blocks: (Int32Array | undefined)[] = [];

  add(pfn: number, by: number): void {
    const b = pfn >>> 12;
    let a = this.blocks[b];
    if (a === undefined) a = this.blocks[b] = new Int32Array(4096);
    a[pfn & 4095]! += by;
  }

  get(pfn: number): number {
    const a = this.blocks[pfn >>> 12];
    return a === undefined ? 0 : a[pfn & 4095]!;
  }

  clear(): void {
    this.blocks.length = 0;
  }
}
