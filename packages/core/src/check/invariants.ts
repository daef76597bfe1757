import { PMD, PTE, PUD, SoftleafType, entryRegs, softleafIsDevicePrivate, softleafIsMigration, softleafPfn, softleafTypeOf } from "@hugemm/arch";
import { LRU_NAMES, NR_LRU_LISTS } from "../folio/lru";
import type { Kernel } from "../kernel/kernel";
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS, NR_MM_COUNTERS } from "../mm/counters";
import type { Mm } from "../mm/mm";
import type { Vma } from "../mm/vma";
import { PG_anon, PG_anon_exclusive, PG_isolated, PG_locked, PG_lru, PG_partially_mapped, PG_swapbacked, PG_swapcache } from "../phys/page-flags";
import { depositKey } from "../huge/deposit";
import { MMF_HUGE_ZERO_FOLIO } from "../mm/mm";
import { MS, MTHP_MAX_ORDER, MTHP_STRIDE, NS } from "../stats/counters";

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
  linkMemo.k = null;
  const seen: Seen = { pteMaps: pfnCountsOf(k), entireMaps: new Map(), swapRefs: new Map(), tables: new Set(), depositsWanted: new Map(), perMm: new Map(), hugeZeroMms: new Set() };
  for (const mm of k.mms.values()) walkMm(k, mm, seen, v);
  checkTables(k, seen, v);
  checkDeposits(k, seen, v);
  checkFolios(k, seen, v);
  checkSwap(k, seen, v);
  checkCounters(k, v);
  checkConservation(k, v);
  k.features.check(k, op, out);
  return out;
}

type Report = (check: string, message: string, extra?: Partial<Violation>) => void;

/** Walk one mm's tables: count mappings, rss by counter, tables reached. */
function walkMm(k: Kernel, mm: Mm, seen: Seen, v: Report): void {
  const b = k.backend;
  const g = k.geometry;
  const f = k.folios;
  const rss = new Float64Array(NR_MM_COUNTERS);
  let tables = 0;
  const visit = (ti: number, pa: number, base: number): void => {
    if (seen.tables.has(pa)) {
      v("pgtable", `table 0x${pa.toString(16)} is reached twice`, { mm: mm.id });
      return;
    }
    seen.tables.add(pa);
    tables++;
    const info = k.tables.info.get(pa);
    if (info === undefined || info.mm !== mm.id) v("pgtable", `table 0x${pa.toString(16)} reached from mm ${mm.id} belongs to ${info?.mm}`, { mm: mm.id });
    const t = g.tables[ti]!;
    const table = k.tables.get(pa);
    const size = 2 ** t.shift;
    for (let i = 0; i < t.entries; i++) {
      b.readEntry(table, i, t.level, R, 0);
      if (b.none(R, 0, t.level)) continue;
      const addr = base + i * size;
      if (t.level !== PTE && b.table(R, 0, t.level)) {
        visit(ti + 1, b.tablePa(R, 0, t.level), addr);
        continue;
      }
      const vma = mm.vmas.lookup(addr);
      if (vma === undefined) v("pgtable", `entry at 0x${addr.toString(16)} lies outside every VMA`, { mm: mm.id, addr });
      const huge = t.level !== PTE;
      // Anonymous huge entries (leaves, the huge zero folio, PMD softleaves) keep tables for their split.
      if (huge && vma?.isAnonymous) {
        const key = depositKey(k, t.level, pa, i);
        if (t.level === PUD) {
          if (k.tables.depositCount(key) > 0) seen.depositsWanted.set(key, 1);
        } else {
          seen.depositsWanted.set(key, (seen.depositsWanted.get(key) ?? 0) + 1);
        }
      }
      if (b.present(R, 0, t.level) || (huge && b.leaf(R, 0, t.level))) {
        const pfn = b.pfn(R, 0, t.level);
        if (k.hugeZero.is(pfn)) {
          if (b.write(R, 0, t.level)) v("zero-page", `the huge zero folio is mapped writable at 0x${addr.toString(16)}`, { mm: mm.id, addr });
          if (t.level !== PMD) v("zero-page", `the huge zero folio is mapped at level ${t.level} at 0x${addr.toString(16)}`, { mm: mm.id, addr });
          seen.hugeZeroMms.add(mm.id);
          continue;
        }
        if (b.special(R, 0, t.level) || pfn === k.zeroPfn) {
          if (pfn === k.zeroPfn && b.write(R, 0, t.level)) v("zero-page", `the zero page is mapped writable at 0x${addr.toString(16)}`, { mm: mm.id, addr });
          continue;
        }
        const head = f.head(pfn);
        if (!f.isAllocated(pfn)) {
          v("mapping", `0x${addr.toString(16)} maps free page ${pfn}`, { mm: mm.id, addr, pfn });
          continue;
        }
        const pages = huge ? k.pagesAt(t.level) : 1;
        if (huge) {
          if (head !== pfn || f.nrPages(head) !== pages) v("mapping", `a level-${t.level} entry at 0x${addr.toString(16)} maps pfn ${pfn}, not a whole folio of ${pages} pages`, { mm: mm.id, addr, pfn });
          seen.entireMaps.set(head, (seen.entireMaps.get(head) ?? 0) + 1);
        } else {
          seen.pteMaps.add(pfn);
        }
        if (vma !== undefined && !rmapReaches(k, head, pfn, vma, addr)) v("rmap", `0x${addr.toString(16)} maps page ${pfn} of folio ${head}, which its rmap (anon_vma or i_mmap, and index) does not reach there`, { mm: mm.id, addr, pfn });
        if (f.order(head) > 0) {
          let m = seen.perMm.get(head);
          if (m === undefined) seen.perMm.set(head, (m = new Map()));
          m.set(mm.id, (m.get(mm.id) ?? 0) + 1);
        }
        const anon = f.test(head, PG_anon);
        // A writable anonymous mapping is always of an exclusive page (the head page for a huge one).
        if (anon && b.write(R, 0, t.level) && !f.pageTest(pfn, PG_anon_exclusive)) {
          v("anon-exclusive", `0x${addr.toString(16)} maps page ${pfn} writable but it is not PageAnonExclusive`, { mm: mm.id, addr, pfn });
        }
        rss[counterOf(k, head)]! += pages;
        continue;
      }
      if (!b.isSoftleaf(R, 0, t.level)) continue;
      const type = softleafTypeOf(b.swpType(R, 0, t.level));
      const off = b.swpOffset(R, 0, t.level);
      const pages = t.level === PTE ? 1 : k.pagesAt(t.level);
      if (type === SoftleafType.SWAP) {
        for (let j = 0; j < pages; j++) seen.swapRefs.set(off + j, (seen.swapRefs.get(off + j) ?? 0) + 1);
        rss[MM_SWAPENTS]! += pages;
      } else if (softleafIsMigration(type)) {
        const pfn = softleafPfn(b.softleaf, off);
        const head = f.head(pfn);
        if (!f.test(head, PG_locked)) v("migration", `migration entry at 0x${addr.toString(16)} for unlocked folio ${head}`, { mm: mm.id, addr, pfn });
        if (t.level !== PTE && (pfn !== head || f.nrPages(head) !== pages)) v("migration", `a level-${t.level} migration entry at 0x${addr.toString(16)} names pfn ${pfn}, not the head of a folio of ${pages} pages`, { mm: mm.id, addr, pfn });
        rss[counterOf(k, head)]! += pages;
      } else if (softleafIsDevicePrivate(type) || type === SoftleafType.DEVICE_EXCLUSIVE) {
        // Device-private and device-exclusive entries map their folio (rmap, mapcount, reference) while the device holds it.
        const pfn = softleafPfn(b.softleaf, off);
        const head = f.head(pfn);
        if (t.level === PTE) seen.pteMaps.add(pfn);
        else seen.entireMaps.set(head, (seen.entireMaps.get(head) ?? 0) + 1);
        if (vma !== undefined && !rmapReaches(k, head, t.level === PTE ? pfn : head, vma, addr)) v("rmap", `a device-private entry at 0x${addr.toString(16)} names page ${pfn} of folio ${head}, which its rmap does not reach there`, { mm: mm.id, addr, pfn });
        if (f.order(head) > 0) {
          let m = seen.perMm.get(head);
          if (m === undefined) seen.perMm.set(head, (m = new Map()));
          m.set(mm.id, (m.get(mm.id) ?? 0) + 1);
        }
        rss[counterOf(k, head)]! += pages;
      }
    }
  };
  visit(0, mm.rootPa, 0);
  for (let c = 0; c < NR_MM_COUNTERS; c++) {
    if (rss[c] !== mm.rss[c]) v("rss", `mm ${mm.id} rss counter ${c} is ${mm.rss[c]} but its tables map ${rss[c]}`, { mm: mm.id, expected: rss[c], found: mm.rss[c] });
  }
  let deposited = 0;
  for (const info of k.tables.info.values()) if (info.deposited && info.mm === mm.id) deposited++;
  if (tables + deposited !== mm.pgtablePages) {
    v("pgtable", `mm ${mm.id} counts ${mm.pgtablePages} table pages but reaches ${tables} and has ${deposited} deposited`, { mm: mm.id, expected: tables + deposited, found: mm.pgtablePages });
  }
  const zeroFlag = (mm.flags & MMF_HUGE_ZERO_FOLIO) !== 0;
  if (seen.hugeZeroMms.has(mm.id) && !zeroFlag) v("zero-page", `mm ${mm.id} maps the huge zero folio without holding a reference`, { mm: mm.id });
}

function counterOf(k: Kernel, head: number): number {
  const f = k.folios;
  if (f.test(head, PG_anon)) return MM_ANONPAGES;
  return f.test(head, PG_swapbacked) ? MM_SHMEMPAGES : MM_FILEPAGES;
}

/** Every table in use is reached from exactly one root, or is deposited under a huge mapping. */
function checkTables(k: Kernel, seen: Seen, v: Report): void {
  const deposited = new Set<number>();
  for (const stack of k.tables.allDeposits().values()) for (const pa of stack) deposited.add(pa);
  for (const [pa, info] of k.tables.info) {
    if (seen.tables.has(pa)) continue;
    if (info.deposited && deposited.has(pa)) continue;
    v("pgtable", `table 0x${pa.toString(16)} of mm ${info.mm} (level ${info.level}) is neither linked nor deposited`, { mm: info.mm });
  }
}

/**
 * Deposited page tables: every anonymous huge PMD entry has one PTE table on
 * its PMD table's stack, a PUD THP that was given tables has one PMD table
 * holding a PTE table per PMD entry, and no stack belongs to nothing.
 */
function checkDeposits(k: Kernel, seen: Seen, v: Report): void {
  for (const [key, want] of seen.depositsWanted) {
    const have = k.tables.depositCount(key);
    if (have !== want) v("deposit", `deposit stack at 0x${key.toString(16)} holds ${have} tables, its huge entries need ${want}`, { expected: want, found: have });
  }
  const perPmd = tableEntriesOf(k, PMD);
  for (const [key, stack] of k.tables.allDeposits()) {
    if (stack.length === 0) continue;
    if (seen.depositsWanted.has(key)) {
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
  const hz = k.hugeZero;
  if (hz.pfn >= 0) {
    let mms = 0;
    for (const mm of k.mms.values()) if (mm.flags & MMF_HUGE_ZERO_FOLIO) mms++;
    if (hz.refcount !== 1 + mms) v("zero-page", `huge_zero_refcount is ${hz.refcount}, expected 1 + ${mms} mms`, { expected: 1 + mms, found: hz.refcount });
  }
  const nrAnon = new Map<number, number>();
  const nrPartial = new Map<number, number>();
  const queued = new Set(k.deferredSplit.heads());
  for (const head of f.heads()) {
    const nr = f.nrPages(head);
    const order = f.order(head);
    if (hz.is(head)) {
      const want = 1 + (k.heldRefs.get(head) ?? 0);
      if (f.refcount(head) !== want) v("refcount", `the huge zero folio has refcount ${f.refcount(head)}, expected ${want}`, { pfn: head, expected: want, found: f.refcount(head) });
      continue;
    }
    if (order > 0 && f.test(head, PG_anon)) {
      nrAnon.set(order, (nrAnon.get(order) ?? 0) + 1);
      if (f.test(head, PG_partially_mapped)) {
        nrPartial.set(order, (nrPartial.get(order) ?? 0) + 1);
        if (!queued.has(head)) v("deferred-split", `partially mapped folio ${head} is not on the deferred split queue`, { pfn: head });
      }
    }
    if (queued.has(head) && (order <= 1 || !f.test(head, PG_anon))) v("deferred-split", `folio ${head} of order ${order} is on the deferred split queue`, { pfn: head });
    queued.delete(head);
    let pteMaps = 0;
    let pagesMapped = 0;
    for (let i = 0; i < nr; i++) {
      const want = seen.pteMaps.get(head + i);
      const have = f.pageMapcount(head + i);
      if (want !== have) v("mapcount", `page ${head + i} has mapcount ${have} but ${want} PTEs map it`, { pfn: head + i, expected: want, found: have });
      pteMaps += want;
      if (want > 0) pagesMapped++;
    }
    const entire = seen.entireMaps.get(head) ?? 0;
    if (order > 0) {
      const id = f.lid(head) - 1;
      const L = f.large;
      if (L.entireMapcount[id] !== entire) v("mapcount", `folio ${head} entire mapcount ${L.entireMapcount[id]} but ${entire} huge entries map it`, { pfn: head });
      if (L.largeMapcount[id] !== pteMaps + entire) v("mapcount", `folio ${head} large mapcount ${L.largeMapcount[id]} but it has ${pteMaps + entire} mappings`, { pfn: head });
      if (L.nrPagesMapped[id] !== pagesMapped) v("mapcount", `folio ${head} nr_pages_mapped ${L.nrPagesMapped[id]} but ${pagesMapped} pages are PTE-mapped`, { pfn: head });
    } else if (entire !== 0) {
      v("mapcount", `order-0 folio ${head} is mapped by a huge entry`, { pfn: head });
    }
    const mappings = pteMaps + entire;
    const flags = f.flags(head);
    const migrating = k.migrating.has(head);
    let expected = mappings + (k.heldRefs.get(head) ?? 0) + (migrating ? 1 : 0);
    if (flags & PG_swapcache) expected += nr;
    const as = flags & PG_anon ? undefined : k.files.get(f.mapping(head));
    if (as !== undefined && as.pages.get(f.index(head)) === head) expected += nr;
    if (flags & PG_isolated && !migrating) v("lru", `folio ${head} is still isolated between operations`, { pfn: head });
    if (f.refcount(head) !== expected) v("refcount", `folio ${head} has refcount ${f.refcount(head)}, expected ${expected} (${mappings} mappings${flags & PG_swapcache ? ", swap cache" : ""}${as ? ", page cache" : ""})`, { pfn: head, expected, found: f.refcount(head) });
    if ((flags & PG_lru) !== 0 && !onLru.has(head)) v("lru", `folio ${head} has PG_lru but is on no list`, { pfn: head });
    // ZONE_DEVICE folios never go on an LRU.
    if ((flags & PG_lru) === 0 && mappings > 0 && !migrating && !k.phys.isZoneDevice(head)) v("lru", `mapped folio ${head} is not on the LRU`, { pfn: head });
    if (flags & PG_swapcache) {
      const off = k.swap.slotOf.get(head);
      if (off === undefined || k.swap.device?.lookup(off) !== head) v("swap", `folio ${head} has PG_swapcache but is not in the swap cache`, { pfn: head });
    }
    if (order > 0 && mappings > 0) checkPerMm(k, head, seen, v);
    if (flags & PG_anon) checkExclusive(k, head, nr, entire, seen, v);
  }
  for (const head of queued) v("deferred-split", `the deferred split queue holds ${head}, which is no folio`, { pfn: head });
  for (let order = 1; order <= MTHP_MAX_ORDER; order++) {
    const a = k.mthpStats[order * MTHP_STRIDE + MS.nr_anon]!;
    const p = k.mthpStats[order * MTHP_STRIDE + MS.nr_anon_partially_mapped]!;
    if (a !== (nrAnon.get(order) ?? 0)) v("counters", `order-${order} nr_anon is ${a} but ${nrAnon.get(order) ?? 0} anonymous folios of that order exist`);
    if (p !== (nrPartial.get(order) ?? 0)) v("counters", `order-${order} nr_anon_partially_mapped is ${p} but ${nrPartial.get(order) ?? 0} such folios are partially mapped`);
  }
}

/**
 * CONFIG_MM_ID: a folio mapped by more than one process is maybe-mapped-
 * shared (false positives are allowed: an mm that mapped it while both
 * slots were taken stays untracked); each tracked mm's slot counts exactly
 * its mappings; and a folio not marked shared is mapped by its one tracked mm.
 */
function checkPerMm(k: Kernel, head: number, seen: Seen, v: Report): void {
  const m = seen.perMm.get(head) ?? new Map<number, number>();
  const L = k.folios.large;
  const r = k.folios.lid(head) - 1;
  if (m.size > 1 && !k.rmap.maybeMappedShared(head)) v("mapcount", `folio ${head} is mapped by ${m.size} processes but not maybe-mapped-shared`, { pfn: head });
  for (const [id, count] of [
    [L.mmId0[r]!, L.mmMapcount0[r]!],
    [L.mmId1[r]!, L.mmMapcount1[r]!],
  ] as const) {
    if (id === 0) {
      if (count !== 0) v("mapcount", `folio ${head} has a free per-mm slot with count ${count}`, { pfn: head });
      continue;
    }
    const n = m.get(id) ?? 0;
    if (n !== count) v("mapcount", `folio ${head}: mm ${id} maps it ${n} times but its per-mm slot says ${count}`, { pfn: head, expected: n, found: count });
  }
  if (L.mmShared[r] === 0 && m.size === 1) {
    const [mm] = [...m.keys()] as [number];
    if (L.mmId0[r] !== mm && L.mmId1[r] !== mm) v("mapcount", `folio ${head} is not marked shared but its one process (mm ${mm}) is not tracked`, { pfn: head });
  }
}

/** PageAnonExclusive: an exclusive page is mapped at most once (a huge mapping counts on its head page). */
function checkExclusive(k: Kernel, head: number, nr: number, entire: number, seen: Seen, v: Report): void {
  const f = k.folios;
  for (let i = 0; i < nr; i++) {
    if (!f.pageTest(head + i, PG_anon_exclusive)) continue;
    const maps = seen.pteMaps.get(head + i) + (i === 0 ? entire : entire > 0 ? 1 : 0);
    if (maps > 1) v("anon-exclusive", `page ${head + i} is PageAnonExclusive but mapped ${maps} times`, { pfn: head + i });
  }
}

/** swap_map counts and the swap cache agree with the entries found. */
function checkSwap(k: Kernel, seen: Seen, v: Report): void {
  const dev = k.swap.device;
  if (dev === null) return;
  const shmemRefs = new Map<number, number>();
  for (const as of k.files.values()) for (const off of as.swapped.values()) shmemRefs.set(off, (shmemRefs.get(off) ?? 0) + 1);
  for (let off = 1; off < dev.pages; off++) {
    const want = (seen.swapRefs.get(off) ?? 0) + (shmemRefs.get(off) ?? 0);
    if (dev.count(off) !== want) v("swap", `swap slot ${off} count ${dev.count(off)} but ${want} entries reference it`, { expected: want, found: dev.count(off) });
    if (dev.hasCache(off) !== (dev.lookup(off) >= 0)) v("swap", `swap slot ${off} cache flag disagrees with the swap cache`);
    if (dev.inUse(off) !== (want > 0 || dev.hasCache(off))) v("swap", `swap slot ${off} in-use state disagrees with its users`);
  }
}

/** Node counters against what the folios say. */
function checkCounters(k: Kernel, v: Report): void {
  const f = k.folios;
  const nodes = k.phys.nodes.length;
  const anon = new Float64Array(nodes);
  const mapped = new Float64Array(nodes);
  const anonThp = new Float64Array(nodes);
  const anonPudThp = new Float64Array(nodes);
  const lru = Array.from({ length: nodes }, () => new Float64Array(NR_LRU_LISTS));
  for (const head of f.heads()) {
    const nid = k.phys.nidOf(head);
    const nr = f.nrPages(head);
    const id = f.lid(head);
    const mappedPages = id === 0 ? (f.pageMapcount(head) > 0 ? 1 : 0) : f.large.entireMapcount[id - 1]! > 0 ? nr : f.large.nrPagesMapped[id - 1]!;
    if (f.test(head, PG_anon)) {
      anon[nid]! += mappedPages;
      if (id !== 0 && f.large.entireMapcount[id - 1]! > 0) {
        const order = f.order(head);
        if (order === k.thp.pmdOrder) anonThp[nid]! += nr;
        else if (order === k.thp.pudOrder) anonPudThp[nid]! += nr;
      }
    } else mapped[nid]! += mappedPages;
    if (f.test(head, PG_lru)) lru[nid]![k.lru.listOf(head)]! += nr;
  }
  const lruStat = [NS.nr_inactive_anon, NS.nr_active_anon, NS.nr_inactive_file, NS.nr_active_file, NS.nr_unevictable];
  const tablePages = k.tables.pages().size;
  for (const m of k.tables.fragmentMiscounts()) v("pgtable", `fragment page ${m.pfn} counts ${m.refs} fragments but ${m.expected} are live or not yet handed out`, { expected: m.expected, found: m.refs });
  let statTables = 0;
  for (let n = 0; n < nodes; n++) {
    const st = k.phys.nodeStats(n);
    statTables += st[NS.nr_page_table_pages]!;
    let buddyFree = 0;
    for (const z of k.phys.nodes[n]!.zones) buddyFree += z.freePages;
    if (st[NS.nr_free_pages] !== buddyFree) v("counters", `node ${n} nr_free_pages ${st[NS.nr_free_pages]} but its buddy lists hold ${buddyFree} pages`, { expected: buddyFree, found: st[NS.nr_free_pages] });
    if (st[NS.nr_anon_pages] !== anon[n]) v("counters", `node ${n} nr_anon_pages ${st[NS.nr_anon_pages]} but ${anon[n]} anon pages are mapped`, { expected: anon[n], found: st[NS.nr_anon_pages] });
    if (st[NS.nr_anon_transparent_hugepages] !== anonThp[n]) v("counters", `node ${n} nr_anon_transparent_hugepages ${st[NS.nr_anon_transparent_hugepages]} but ${anonThp[n]} pages are PMD-mapped anon THPs`);
    if (st[NS.nr_anon_pud_transparent_hugepages] !== anonPudThp[n]) v("counters", `node ${n} nr_anon_pud_transparent_hugepages ${st[NS.nr_anon_pud_transparent_hugepages]} but ${anonPudThp[n]} pages are PUD-mapped anon THPs`);
    if (st[NS.nr_mapped] !== mapped[n]) v("counters", `node ${n} nr_mapped ${st[NS.nr_mapped]} but ${mapped[n]} file pages are mapped`, { expected: mapped[n], found: st[NS.nr_mapped] });
    for (let l = 0; l < NR_LRU_LISTS; l++) {
      if (st[lruStat[l]!] !== lru[n]![l]) v("counters", `node ${n} ${LRU_NAMES[l]} counter ${st[lruStat[l]!]} but ${lru[n]![l]} pages are on the list`);
    }
  }
  if (statTables !== tablePages) v("counters", `nr_page_table_pages ${statTables} but ${tablePages} pages hold page tables`, { expected: tablePages, found: statTables });
}

/** Every page is free, on a pcp list, or allocated to a folio, a page table or the zero page. */
function checkConservation(k: Kernel, v: Report): void {
  let allocated = 1; // the zero page
  // ZONE_DEVICE pages are not the allocator's: they are accounted by their pgmaps.
  for (const head of k.folios.heads()) if (!k.phys.isZoneDevice(head)) allocated += k.folios.nrPages(head);
  allocated += k.tables.pages().size;
  const free = k.phys.freePagesWithPcp;
  if (free + allocated !== k.phys.totalPages) v("memory", `free ${free} + allocated ${allocated} != total ${k.phys.totalPages} pages`, { expected: k.phys.totalPages, found: free + allocated });
}

/** Install the checker on a kernel: it throws InvariantViolation after any operation that breaks one. */
export function installChecker(k: Kernel): void {
  k.afterOp = (op) => {
    const vs = checkInvariants(k, op);
    if (vs.length > 0) throw new InvariantViolation(vs);
  };
}

/**
 * Whether an rmap walk of the folio at `head` (rmap_walk: its anon_vma's
 * chains or its file's i_mmap, then page_vma_mapped_walk at the address its
 * index gives in each VMA) finds the entry at `addr` in `vma` that maps
 * `page`. Checking each mapping the tables hold this way is equivalent to
 * walking the rmap of every folio and counting, in time linear in the
 * mappings.
 */
function rmapReaches(k: Kernel, head: number, page: number, vma: Vma, addr: number): boolean {
  const f = k.folios;
  const mapping = f.mapping(head);
  if (mapping === 0) return false;
  const anon = f.test(head, PG_anon);
  // Neighbouring entries mostly share their VMA and mapping: remember the last answer.
  if (vma !== linkMemo.vma || mapping !== linkMemo.mapping || anon !== linkMemo.anon || k !== linkMemo.k) {
    linkMemo.k = k;
    linkMemo.vma = vma;
    linkMemo.mapping = mapping;
    linkMemo.anon = anon;
    linkMemo.linked = linked(k, vma, mapping, anon);
  }
  if (!linkMemo.linked) return false;
  return vma.addressOf((f.index(head) + (page - head)) >>> 0, k.pageSize) === addr;
}

/** The last VMA and mapping rmapReaches looked at; forgotten at the start of each check. */
const linkMemo: { k: Kernel | null; vma: Vma | null; mapping: number; anon: boolean; linked: boolean } = { k: null, vma: null, mapping: 0, anon: false, linked: false };

/** Whether rmap_walk of `mapping` visits `vma`: the anon_vma's chains, or the file's i_mmap. */
function linked(k: Kernel, vma: Vma, mapping: number, anon: boolean): boolean {
  if (anon) {
    const av = k.anonVmas.byId.get(mapping);
    if (av === undefined) return false;
    for (const c of vma.chains) if (c.anonVma === av && c.vma === vma && av.chains.has(c)) return true;
    return false;
  }
  const as = k.files.get(mapping);
  return as !== undefined && as.iMmap.has(vma);
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
