/**
 * struct resv_map: a sorted list of regions [from, to) in huge-page
 * indices. For a hugetlbfs inode (shared mappings) a region means "this
 * offset has a reservation or an instantiated page"; for a private mapping
 * the meaning is inverted: "this offset's reservation was consumed".
 *
 * The kernel's two-phase region_chg / region_add with adds_in_progress only
 * guards against concurrent callers; the model runs one operation at a
 * time, so each query or change is one call here.
 */
export class ResvMap {
  /** Region starts and ends, sorted, disjoint and never adjacent (region_add coalesces neighbours). */
  private readonly from: number[] = [];
  private readonly to: number[] = [];

  /** Number of regions (for checks and views). */
  get size(): number {
    return this.from.length;
  }

  /** region_count: indices of [f, t) inside some region. */
  count(f: number, t: number): number {
    let n = 0;
    for (let i = 0; i < this.from.length; i++) {
      const a = Math.max(f, this.from[i]!);
      const b = Math.min(t, this.to[i]!);
      if (b > a) n += b - a;
    }
    return n;
  }

  /** region_chg: indices of [f, t) that no region covers yet. */
  chg(f: number, t: number): number {
    return t - f - this.count(f, t);
  }

  /** Whether index `i` lies in a region (the fault path's question: a binary search). */
  has(i: number): boolean {
    let lo = 0;
    let hi = this.from.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.to[mid]! <= i) lo = mid + 1;
      else if (this.from[mid]! > i) hi = mid - 1;
      else return true;
    }
    return false;
  }

  /** region_add: cover [f, t); returns how many indices were newly covered. */
  add(f: number, t: number): number {
    const added = this.chg(f, t);
    if (added === 0) return 0;
    let lo = f;
    let hi = t;
    let i = 0;
    while (i < this.from.length && this.to[i]! < lo) i++;
    let j = i;
    while (j < this.from.length && this.from[j]! <= hi) {
      lo = Math.min(lo, this.from[j]!);
      hi = Math.max(hi, this.to[j]!);
      j++;
    }
    this.from.splice(i, j - i, lo);
    this.to.splice(i, j - i, hi);
    return added;
  }

  /** region_del: uncover [f, t), splitting a region that straddles it; returns how many indices were covered. */
  del(f: number, t: number): number {
    const removed = this.count(f, t);
    if (removed === 0) return 0;
    const nf: number[] = [];
    const nt: number[] = [];
    for (let i = 0; i < this.from.length; i++) {
      const a = this.from[i]!;
      const b = this.to[i]!;
      if (b <= f || a >= t) {
        nf.push(a);
        nt.push(b);
        continue;
      }
      if (a < f) {
        nf.push(a);
        nt.push(f);
      }
      if (b > t) {
        nf.push(t);
        nt.push(b);
      }
    }
    this.from.splice(0, this.from.length, ...nf);
    this.to.splice(0, this.to.length, ...nt);
    return removed;
  }

  /** The regions as [from, to) pairs. */
  regions(): [number, number][] {
    return this.from.map((f, i) => [f, this.to[i]!]);
  }
}
