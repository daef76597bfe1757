import { ModelBug } from "../util/errors";
import type { Vma } from "./vma";

/**
 * An mm's VMAs in address order (the kernel's maple tree): binary search for
 * lookups, with the last hit cached since faults cluster.
 */
export class VmaTree {
  private readonly list: Vma[] = [];
  private last: Vma | undefined;

  get count(): number {
    return this.list.length;
  }

  /** All VMAs in address order. */
  all(): readonly Vma[] {
    return this.list;
  }

  /** The VMA containing `addr`, or undefined (vma_lookup). */
  lookup(addr: number): Vma | undefined {
    const l = this.last;
    if (l !== undefined && addr >= l.start && addr < l.end) return l;
    const i = this.indexAtOrAfter(addr);
    const v = this.list[i];
    if (v !== undefined && v.start <= addr) {
      this.last = v;
      return v;
    }
    return undefined;
  }

  /** The first VMA ending above `addr` (find_vma). */
  findVma(addr: number): Vma | undefined {
    return this.list[this.indexAtOrAfter(addr)];
  }

  /** Index of the first VMA whose end is above `addr`. */
  private indexAtOrAfter(addr: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** find_vma_prev: the first VMA ending above `addr` and the VMA before it. */
  findVmaPrev(addr: number): { vma: Vma | undefined; prev: Vma | undefined } {
    const i = this.indexAtOrAfter(addr);
    return { vma: this.list[i], prev: i > 0 ? this.list[i - 1] : undefined };
  }

  /** find_vma_intersection: the first VMA overlapping [start, end), or undefined. */
  intersection(start: number, end: number): Vma | undefined {
    const v = this.list[this.indexAtOrAfter(start)];
    return v !== undefined && v.start < end ? v : undefined;
  }

  /**
   * mas_empty_area_rev: the end of the highest gap between VMAs that holds
   * `size` bytes inside [low, high), clipped to `high`; -1 if none.
   */
  emptyAreaRev(low: number, high: number, size: number): number {
    for (let i = this.list.length; i >= 0; i--) {
      const gapStart = Math.max(i > 0 ? this.list[i - 1]!.end : 0, low);
      const gapEnd = Math.min(i < this.list.length ? this.list[i]!.start : Infinity, high);
      if (gapEnd - gapStart >= size) return gapEnd;
      if (gapStart <= low) break;
    }
    return -1;
  }

  /**
   * mas_empty_area: the start of the lowest gap between VMAs that holds
   * `size` bytes inside [low, high), clipped to `low`; -1 if none.
   */
  emptyArea(low: number, high: number, size: number): number {
    for (let i = this.indexAtOrAfter(low); i <= this.list.length; i++) {
      const gapStart = Math.max(i > 0 ? this.list[i - 1]!.end : 0, low);
      const gapEnd = Math.min(i < this.list.length ? this.list[i]!.start : Infinity, high);
      if (gapEnd - gapStart >= size) return gapStart;
      if (gapEnd >= high) break;
    }
    return -1;
  }

  /** VMAs overlapping [start, end), in order. */
  overlapping(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.indexAtOrAfter(start); i < this.list.length; i++) {
      const v = this.list[i]!;
      if (v.start >= end) break;
      out.push(v);
    }
    return out;
  }

  prev(v: Vma): Vma | undefined {
    const i = this.list.indexOf(v);
    return i > 0 ? this.list[i - 1] : undefined;
  }

  next(v: Vma): Vma | undefined {
    const i = this.list.indexOf(v);
    return i >= 0 ? this.list[i + 1] : undefined;
  }

  insert(v: Vma): void {
    const i = this.indexAtOrAfter(v.start);
    const at = this.list[i];
    if (at !== undefined && at.start < v.end) {
      throw new ModelBug(`VMA [0x${v.start.toString(16)}, 0x${v.end.toString(16)}) overlaps [0x${at.start.toString(16)}, 0x${at.end.toString(16)})`);
    }
    this.list.splice(i, 0, v);
  }

  remove(v: Vma): void {
    const i = this.list.indexOf(v);
    if (i >= 0) this.list.splice(i, 1);
    if (this.last === v) this.last = undefined;
  }

  /** Forget the cached lookup (after a VMA's bounds change). */
  invalidate(): void {
    this.last = undefined;
  }
}
