import type { MixPart } from "./model";

/** A run of one key, or a cell of fixed size holding several (with its mix). */
export interface CoarseCell {
  readonly start: number;
  size: number;
  /** The key, or for a mixed cell its largest part's key. */
  readonly key: string;
  count: number;
  readonly mix?: readonly MixPart[];
}

/**
 * The cell size that keeps [0, total) within `maxCells` cells: `unit` times
 * the smallest power of two that is enough (so cells stay aligned to pages).
 */
export function cellSizeFor(total: number, unit: number, maxCells: number): number {
  if (!Number.isInteger(maxCells) || maxCells < 1) throw new RangeError(`cell limit ${maxCells}: expected a positive integer`);
  const units = Math.ceil(total / unit / maxCells);
  return unit * 2 ** Math.max(0, Math.ceil(Math.log2(Math.max(1, units))));
}

/**
 * Merges consecutive spans of [base, end) with the same key into runs, and
 * folds the spans of any cell of `cellSize` that holds more than one key into
 * that one cell. A span covering whole cells stays one run however long it
 * is, so a GiB mapped by PMDs is one run while a finely fragmented range
 * costs at most one cell per `cellSize`. Spans must be added in address
 * order and cover the range without gaps.
 */
export class Coarsener {
  private readonly out: CoarseCell[] = [];
  private readonly parts = new Map<string, number>();
  private partCount = 0;
  private cursor: number;

  constructor(
    readonly base: number,
    readonly end: number,
    readonly cellSize: number,
  ) {
    this.cursor = base;
  }

  /** The next span: `size` bytes (or pages) from the cursor, with `count` things (folios) in it. */
  add(start: number, size: number, key: string, count = 0): void {
    if (start !== this.cursor) throw new RangeError(`span at ${start} does not follow the last one (expected ${this.cursor})`);
    if (size <= 0 || start + size > this.end) throw new RangeError(`span [${start}, ${start + size}) is empty or leaves [${this.base}, ${this.end})`);
    let pos = start;
    let left = size;
    while (left > 0) {
      const cs = this.base + Math.floor((pos - this.base) / this.cellSize) * this.cellSize;
      const ce = Math.min(cs + this.cellSize, this.end);
      if (pos === cs && pos + left >= ce) {
        // Whole cells: one run, however many cells it covers.
        const last = pos + left;
        const wholeEnd = last >= this.end ? this.end : this.base + Math.floor((last - this.base) / this.cellSize) * this.cellSize;
        this.emitRun(pos, wholeEnd - pos, key, count);
        count = 0;
        left -= wholeEnd - pos;
        pos = wholeEnd;
        continue;
      }
      const take = Math.min(left, ce - pos);
      this.parts.set(key, (this.parts.get(key) ?? 0) + take);
      this.partCount += count;
      count = 0;
      pos += take;
      left -= take;
      if (pos === ce) this.flushCell(cs, ce);
    }
    this.cursor = start + size;
  }

  /** The runs and cells, in address order. */
  finish(): CoarseCell[] {
    if (this.cursor !== this.end) throw new RangeError(`spans end at ${this.cursor}, short of ${this.end}`);
    return this.out;
  }

  private flushCell(cs: number, ce: number): void {
    const parts = [...this.parts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const count = this.partCount;
    this.parts.clear();
    this.partCount = 0;
    if (parts.length === 1) this.emitRun(cs, ce - cs, parts[0]![0], count);
    else this.out.push({ start: cs, size: ce - cs, key: parts[0]![0], count, mix: parts });
  }

  private emitRun(start: number, size: number, key: string, count: number): void {
    const last = this.out[this.out.length - 1];
    if (last !== undefined && last.mix === undefined && last.key === key && last.start + last.size === start) {
      last.size += size;
      last.count += count;
      return;
    }
    this.out.push({ start, size, key, count });
  }
}

/**
 * Exact runs while there are at most `maxCells` of them; past that, the
 * same spans folded into cells of the size that keeps the count within the
 * limit. So a sparse 64 GiB VMA stays three exact runs, while one with a
 * million alternating pages becomes `maxCells` cells.
 */
export class AdaptiveCoarsener {
  private readonly exact: Coarsener;
  private coarse: Coarsener | undefined;
  private spans: [number, number, string, number][] = [];

  constructor(
    readonly base: number,
    readonly end: number,
    readonly unit: number,
    readonly maxCells: number,
  ) {
    this.exact = new Coarsener(base, end, unit);
  }

  add(start: number, size: number, key: string, count = 0): void {
    if (this.coarse !== undefined) {
      this.coarse.add(start, size, key, count);
      return;
    }
    this.exact.add(start, size, key, count);
    const last = this.spans[this.spans.length - 1];
    if (last !== undefined && last[2] === key && last[0] + last[1] === start) {
      last[1] += size;
      last[3] += count;
    } else this.spans.push([start, size, key, count]);
    if (this.spans.length > this.maxCells) {
      const c = new Coarsener(this.base, this.end, cellSizeFor(this.end - this.base, this.unit, this.maxCells));
      for (const [s, n, k, cnt] of this.spans) c.add(s, n, k, cnt);
      this.coarse = c;
      this.spans = [];
    }
  }

  /** The bytes (or pages) each cell covers, or 0 while the runs are exact. */
  get cellSize(): number {
    return this.coarse === undefined ? 0 : this.coarse.cellSize;
  }

  finish(): CoarseCell[] {
    return (this.coarse ?? this.exact).finish();
  }
}
