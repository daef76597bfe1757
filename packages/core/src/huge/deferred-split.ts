import type { Folios } from "../folio/folios";
import type { Kernel } from "../kernel/kernel";
import { PG_partially_mapped, PG_swapcache } from "../phys/page-flags";
import { EV, MS, MTHP_STRIDE } from "../stats/counters";

/**
 * The deferred split queue (deferred_split_lru): large anonymous folios that
 * became partially mapped, and — with shrink_underused — every new PMD THP,
 * kept until the shrinker splits them. A doubly linked list through the
 * large-folio rows (_deferred_list), oldest first, so queueing, unqueueing
 * on free and scanning are O(1) per folio.
 */
export class DeferredSplitQueue {
  /** Row id + 1 of the first and last queued folio; 0 when empty. */
  private first = 0;
  private last = 0;
  private n = 0;

  constructor(private readonly k: Kernel) {}

  private get f(): Folios {
    return this.k.folios;
  }

  get length(): number {
    return this.n;
  }

  /** Whether the folio at `head` is on the queue. */
  has(head: number): boolean {
    const id = this.f.lid(head);
    if (id === 0) return false;
    const L = this.f.large;
    return L.deferredPrev[id - 1] !== 0 || this.first === id;
  }

  /**
   * deferred_split_folio: queue a large anonymous folio. `partially` marks it
   * partially mapped (counted once: thp_deferred_split_page, split_deferred,
   * nr_anon_partially_mapped); without it the folio is queued only for the
   * underused check. Order-1 folios and swap-cache folios are left alone.
   */
  queue(head: number, partially: boolean): void {
    const f = this.f;
    const order = f.order(head);
    if (order <= 1) return;
    if (!partially && !this.k.thp.shrinkUnderused) return;
    if (f.test(head, PG_swapcache)) return;
    // Device-private THPs are split by their migration, never by the shrinker.
    if (this.k.phys.isZoneDevice(head)) return;
    if (partially && !f.test(head, PG_partially_mapped)) {
      f.set(head, PG_partially_mapped);
      if (order >= this.k.thp.pmdOrder && this.k.thp.pmdOrder > 0) this.k.events[EV.thp_deferred_split_page]!++;
      this.stat(order, MS.split_deferred, 1);
      this.stat(order, MS.nr_anon_partially_mapped, 1);
    }
    if (this.has(head)) return;
    this.link(f.lid(head));
  }

  private link(id: number): void {
    const L = this.f.large;
    L.deferredPrev[id - 1] = this.last;
    L.deferredNext[id - 1] = 0;
    if (this.last !== 0) L.deferredNext[this.last - 1] = id;
    else this.first = id;
    this.last = id;
    this.n++;
  }

  /**
   * __folio_unqueue_deferred_split: take the folio off the queue (when it is
   * freed or split), clearing its partially-mapped state. Returns whether it
   * was queued.
   */
  unqueue(head: number): boolean {
    const f = this.f;
    const was = this.has(head);
    if (was) this.unlink(f.lid(head));
    this.resetPartiallyMapped(head);
    return was;
  }

  /** folio_reset_partially_mapped. */
  resetPartiallyMapped(head: number): void {
    const f = this.f;
    if (!f.test(head, PG_partially_mapped)) return;
    f.clear(head, PG_partially_mapped);
    this.stat(f.order(head), MS.nr_anon_partially_mapped, -1);
  }

  /** Take a folio off the queue for the shrinker, keeping its partially-mapped state (list_lru_isolate_move). */
  isolate(head: number): void {
    if (this.has(head)) this.unlink(this.f.lid(head));
  }

  /** Put a folio the shrinker could not split back on the queue (list_lru_add). */
  requeue(head: number): void {
    if (this.has(head) || this.f.lid(head) === 0) return;
    this.link(this.f.lid(head));
  }

  /** Folios queued on node `nid` (deferred_split_count). */
  countOn(nid: number): number {
    let n = 0;
    const L = this.f.large;
    for (let id = this.first; id !== 0; id = L.deferredNext[id - 1]!) if (this.k.phys.nidOf(L.head[id - 1]!) === nid) n++;
    return n;
  }

  /** The queued folios, oldest first (for checks and reports). */
  heads(): number[] {
    const out: number[] = [];
    const L = this.f.large;
    for (let id = this.first; id !== 0; id = L.deferredNext[id - 1]!) out.push(L.head[id - 1]!);
    return out;
  }

  private unlink(id: number): void {
    const L = this.f.large;
    const prev = L.deferredPrev[id - 1]!;
    const next = L.deferredNext[id - 1]!;
    if (prev !== 0) L.deferredNext[prev - 1] = next;
    else this.first = next;
    if (next !== 0) L.deferredPrev[next - 1] = prev;
    else this.last = prev;
    L.deferredPrev[id - 1] = 0;
    L.deferredNext[id - 1] = 0;
    this.n--;
  }

  private stat(order: number, s: number, d: number): void {
    this.k.mthpStats[order * MTHP_STRIDE + s]! += d;
  }
}
