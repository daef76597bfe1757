import { PG_active, PG_lru, PG_swapbacked, PG_unevictable } from "../phys/page-flags";
import type { MemSection } from "../phys/memmap";
import type { PhysMem } from "../phys/phys";
import { NS } from "../stats/counters";
import { ModelBug } from "../util/errors";
import type { Folios } from "./folios";

/** enum lru_list. */
export const LRU_INACTIVE_ANON = 0;
export const LRU_ACTIVE_ANON = 1;
export const LRU_INACTIVE_FILE = 2;
export const LRU_ACTIVE_FILE = 3;
export const LRU_UNEVICTABLE = 4;
export const NR_LRU_LISTS = 5;
export const LRU_NAMES = ["inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable"] as const;

const LRU_STAT = [NS.nr_inactive_anon, NS.nr_active_anon, NS.nr_inactive_file, NS.nr_active_file, NS.nr_unevictable];

/** Where a folio sat on its LRU list: its node, list and newer neighbour (-1: it was the newest). */
export interface LruPlace {
  readonly nid: number;
  readonly lru: number;
  readonly newer: number;
}

/** One node's lruvec: five lists of folios, newest at the head, scanned from the tail. */
/** folio_lru_list from a folio's flags. */
function listOfFlags(flags: number): number {
  if (flags & PG_unevictable) return LRU_UNEVICTABLE;
  const base = flags & PG_swapbacked ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
  return flags & PG_active ? base + 1 : base;
}

export class Lruvec {
  readonly head = new Int32Array(NR_LRU_LISTS).fill(-1);
  readonly tail = new Int32Array(NR_LRU_LISTS).fill(-1);
  /** Folios on each list. */
  readonly nrFolios = new Float64Array(NR_LRU_LISTS);
  constructor(readonly nid: number) {}
}

/**
 * The LRU lists of every node. Folios join their list at once: the kernel's
 * per-CPU folio batches (lru_add_drain) are drained implicitly.
 */
export class Lru {
  readonly lruvecs: Lruvec[];

  constructor(
    private readonly f: Folios,
    private readonly phys: PhysMem,
  ) {
    this.lruvecs = phys.nodes.map((n) => new Lruvec(n.nid));
  }

  /** folio_lru_list: which list a folio belongs on. */
  listOf(head: number): number {
    return listOfFlags(this.f.flags(head));
  }


  lruvecOf(head: number): Lruvec {
    return this.lruvecs[this.phys.nidOf(head)]!;
  }

  private next(h: number): number {
    const id = this.f.lid(h);
    return id === 0 ? this.f.section(h).next[h & this.f.memmap.pbMask]! : this.f.large.lruNext[id - 1]!;
  }

  private prev(h: number): number {
    const id = this.f.lid(h);
    return id === 0 ? this.f.section(h).prev[h & this.f.memmap.pbMask]! : this.f.large.lruPrev[id - 1]!;
  }

  private setLinks(h: number, next: number, prev: number): void {
    const id = this.f.lid(h);
    if (id === 0) {
      const s = this.f.section(h);
      s.next[h & this.f.memmap.pbMask] = next;
      s.prev[h & this.f.memmap.pbMask] = prev;
    } else {
      this.f.large.lruNext[id - 1] = next;
      this.f.large.lruPrev[id - 1] = prev;
    }
  }

  private setNext(h: number, next: number): void {
    const id = this.f.lid(h);
    if (id === 0) this.f.section(h).next[h & this.f.memmap.pbMask] = next;
    else this.f.large.lruNext[id - 1] = next;
  }

  private setPrev(h: number, prev: number): void {
    const id = this.f.lid(h);
    if (id === 0) this.f.section(h).prev[h & this.f.memmap.pbMask] = prev;
    else this.f.large.lruPrev[id - 1] = prev;
  }

  private account(v: Lruvec, lru: number, nr: number, sign: number): void {
    v.nrFolios[lru]! += sign;
    this.phys.nodeStats(v.nid)[LRU_STAT[lru]!]! += sign * nr;
  }


  /** lruvec_add_folio: onto the head of its list. */
  add(head: number): void {
    const f = this.f;
    const id = f.lid(head);
    const s = id === 0 ? f.section(head) : undefined;
    const i = head & f.memmap.pbMask;
    const flags = s !== undefined ? s.flags[i]! : f.large.flags[id - 1]!;
    const v = this.lruvecOf(head);
    const lru = listOfFlags(flags);
    this.linkAtHead(v, lru, head, id, s, i, flags);
    this.account(v, lru, s !== undefined ? 1 : 1 << f.large.order[id - 1]!, 1);
  }

  /**
   * `n` successive add()s of the order-0 folios `pfns` (none on a list yet),
   * all of node `nid` and bound for list `lru`, in one pass: each goes to
   * the head, so the last ends up first.
   */
  addOrder0Run(pfns: readonly number[], n: number, nid: number, lru: number): void {
    const f = this.f;
    const mask = f.memmap.pbMask;
    const v = this.lruvecs[nid]!;
    for (let j = 0; j < n; j++) {
      const pfn = pfns[j]!;
      const s = f.section(pfn);
      const i = pfn & mask;
      this.linkAtHead(v, lru, pfn, 0, s, i, s.flags[i]!);
    }
    v.nrFolios[lru]! += n;
    this.phys.nodeStats(nid)[LRU_STAT[lru]!]! += n;
  }

  /** Link the folio at `head` (order 0 with its section `s` and index `i`, or large row `id`) at the head of `lru`, setting PG_lru. */
  private linkAtHead(v: Lruvec, lru: number, head: number, id: number, s: MemSection | undefined, i: number, flags: number): void {
    if (flags & PG_lru) throw new ModelBug(`folio ${head} is already on an LRU list`);
    const h = v.head[lru]!;
    if (s !== undefined) {
      s.next[i] = h;
      s.prev[i] = -1;
      s.flags[i] = flags | PG_lru;
    } else {
      this.f.large.lruNext[id - 1] = h;
      this.f.large.lruPrev[id - 1] = -1;
      this.f.large.flags[id - 1] = flags | PG_lru;
    }
    if (h >= 0) this.setPrev(h, head);
    else v.tail[lru] = head;
    v.head[lru] = head;
  }

  /**
   * `n` successive del()s of the order-0 folios `pfns`: when they sit next
   * to each other on one list in that order (as a run of faults left them),
   * the run comes out in one splice; otherwise one by one.
   */
  delOrder0Run(pfns: ArrayLike<number>, n: number): void {
    if (n === 0) return;
    const f = this.f;
    const mask = f.memmap.pbMask;
    const first = pfns[0]!;
    const s0 = f.section(first);
    const flags0 = s0.flags[first & mask]!;
    const nid = this.phys.nidOf(first);
    // Which way the run goes from its first folio: towards the list's head (prev) or its tail (next).
    const towardsHead = n > 1 && s0.prev[first & mask] === pfns[1];
    let run = (flags0 & PG_lru) !== 0 && f.lid(first) === 0;
    for (let j = 0; run && j < n; j++) {
      const p = pfns[j]!;
      const s = f.section(p);
      const i = p & mask;
      if (f.lid(p) !== 0 || listOfFlags(s.flags[i]!) !== listOfFlags(flags0) || (s.flags[i]! & PG_lru) === 0 || this.phys.nidOf(p) !== nid) run = false;
      else if (j + 1 < n && (towardsHead ? s.prev[i] : s.next[i]) !== pfns[j + 1]) run = false;
    }
    if (!run) {
      for (let j = 0; j < n; j++) this.del(pfns[j]!);
      return;
    }
    const last = pfns[n - 1]!;
    const headEnd = towardsHead ? last : first;
    const tailEnd = towardsHead ? first : last;
    const before = f.section(headEnd).prev[headEnd & mask]!;
    const after = f.section(tailEnd).next[tailEnd & mask]!;
    const v = this.lruvecs[nid]!;
    const lru = listOfFlags(flags0);
    if (before >= 0) this.setNext(before, after);
    else v.head[lru] = after;
    if (after >= 0) this.setPrev(after, before);
    else v.tail[lru] = before;
    for (let j = 0; j < n; j++) {
      const p = pfns[j]!;
      const s = f.section(p);
      const i = p & mask;
      s.next[i] = -1;
      s.prev[i] = -1;
      s.flags[i] = s.flags[i]! & ~PG_lru;
    }
    v.nrFolios[lru]! -= n;
    this.phys.nodeStats(nid)[LRU_STAT[lru]!]! -= n;
  }

  /** lruvec_add_folio_tail: onto the tail (pages the kernel wants reclaimed soon, e.g. MADV_PAGEOUT leftovers). */
  addTail(head: number): void {
    if (this.f.test(head, PG_lru)) throw new ModelBug(`folio ${head} is already on an LRU list`);
    const v = this.lruvecOf(head);
    const lru = this.listOf(head);
    const t = v.tail[lru]!;
    this.setLinks(head, -1, t);
    if (t >= 0) this.setNext(t, head);
    else v.head[lru] = head;
    v.tail[lru] = head;
    this.f.set(head, PG_lru);
    this.account(v, lru, this.f.nrPages(head), 1);
  }

  /** lruvec_del_folio. */
  del(head: number): void {
    const f = this.f;
    const id = f.lid(head);
    const s = id === 0 ? f.section(head) : undefined;
    const i = head & f.memmap.pbMask;
    const flags = s !== undefined ? s.flags[i]! : f.large.flags[id - 1]!;
    if ((flags & PG_lru) === 0) throw new ModelBug(`folio ${head} is not on an LRU list`);
    const v = this.lruvecOf(head);
    const lru = listOfFlags(flags);
    let n: number;
    let p: number;
    if (s !== undefined) {
      n = s.next[i]!;
      p = s.prev[i]!;
      s.next[i] = -1;
      s.prev[i] = -1;
      s.flags[i] = flags & ~PG_lru;
    } else {
      n = f.large.lruNext[id - 1]!;
      p = f.large.lruPrev[id - 1]!;
      f.large.lruNext[id - 1] = -1;
      f.large.lruPrev[id - 1] = -1;
      f.large.flags[id - 1] = flags & ~PG_lru;
    }
    if (p >= 0) this.setNext(p, n);
    else v.head[lru] = n;
    if (n >= 0) this.setPrev(n, p);
    else v.tail[lru] = p;
    this.account(v, lru, s !== undefined ? 1 : 1 << f.large.order[id - 1]!, -1);
  }


  /**
   * Take a folio off its list, remembering where it was, so the folios a
   * split makes of it can take its place (lru_add_split_folio).
   */
  detach(head: number): LruPlace {
    const v = this.lruvecOf(head);
    const place: LruPlace = { nid: v.nid, lru: this.listOf(head), newer: this.prev(head) };
    this.del(head);
    return place;
  }

  /**
   * Put folios where a detached folio was, in order from newer to older
   * (the split's new folios just in front of its first one). Each joins the
   * list its own flags choose; those on another list go to its head.
   */
  attach(place: LruPlace, heads: readonly number[]): void {
    let newer = place.newer;
    for (const h of heads) {
      if (this.f.test(h, PG_lru)) throw new ModelBug(`folio ${h} is already on an LRU list`);
      const lru = this.listOf(h);
      if (lru !== place.lru || this.lruvecOf(h).nid !== place.nid || (newer >= 0 && !this.f.test(newer, PG_lru))) {
        this.add(h);
        continue;
      }
      const v = this.lruvecs[place.nid]!;
      const older = newer >= 0 ? this.next(newer) : v.head[lru]!;
      this.setLinks(h, older, newer);
      if (newer >= 0) this.setNext(newer, h);
      else v.head[lru] = h;
      if (older >= 0) this.setPrev(older, h);
      else v.tail[lru] = h;
      this.f.set(h, PG_lru);
      this.account(v, lru, this.f.nrPages(h), 1);
      newer = h;
    }
  }

  /** Move a folio to the head of another list (folio_activate / deactivate / move_folios_to_lru). */
  moveTo(head: number, active: boolean, atTail = false): void {
    this.del(head);
    if (active) this.f.set(head, PG_active);
    else this.f.clear(head, PG_active);
    if (atTail) this.addTail(head);
    else this.add(head);
  }

  /** folio_isolate_lru: take it off its list with a reference held for the isolator. */
  isolate(head: number): boolean {
    if (!this.f.test(head, PG_lru)) return false;
    this.del(head);
    this.f.ref(head);
    return true;
  }

  /** The oldest folio on a list, or -1. */
  tailOf(nid: number, lru: number): number {
    return this.lruvecs[nid]!.tail[lru]!;
  }

  /** Folios of a list from tail (oldest) to head. */
  *fromTail(nid: number, lru: number): Generator<number> {
    const v = this.lruvecs[nid]!;
    for (let h = v.tail[lru]!; h >= 0; ) {
      const p = this.prev(h);
      yield h;
      h = p;
    }
  }

  /** Number of folios on a list (walks it: for checks). */
  countList(nid: number, lru: number): number {
    let n = 0;
    for (const _ of this.fromTail(nid, lru)) n++;
    return n;
  }
}
