import type { LargeFolios } from "../phys/memmap";

/** Fields the entry checks read through a folio (its identity, flags, mapping and index); the others only its own checks. */
const ENTRY_FIELDS: ReadonlySet<string> = new Set(["head", "order", "mapping", "index"]);
/** Of the flag fields, the flags only the folio's own checks read. */
const FLAG_FIELDS: ReadonlySet<string> = new Set(["flags", "headPageFlags"]);

/** The large-folio row fields the invariants read. */
const FIELDS = [
  "head",
  "order",
  "flags",
  "refcount",
  "mapping",
  "index",
  "lruNext",
  "lruPrev",
  "entireMapcount",
  "largeMapcount",
  "nrPagesMapped",
  "pincount",
  "mmId0",
  "mmId1",
  "mmMapcount0",
  "mmMapcount1",
  "mmShared",
  "deferredNext",
  "deferredPrev",
  "headPageFlags",
] as const satisfies readonly (keyof LargeFolios)[];

type Field = (typeof FIELDS)[number];
type Words = Int32Array | Uint32Array | Uint8Array;

/**
 * Copies of the large-folio rows, to find the rows an operation changed:
 * the rows are few (one per folio of order 1 and above), so comparing them
 * all costs far less than the pages they cover.
 */
export class LargeRowDiff {
  private readonly copies = new Map<Field, Words>();
  /** Per row with per-page state: copies of its page mapcounts and page flags. */
  private readonly pageCopies = new Map<number, { mapcount: Int32Array | undefined; flags: Uint32Array | undefined }>();

  constructor(
    private readonly L: LargeFolios,
    private readonly folioOnlyFlags: number,
  ) {}

  /** Take copies of every row as it is. */
  sync(): void {
    for (const name of FIELDS) this.copies.set(name, this.L[name].slice());
    this.pageCopies.clear();
    for (let r = 0; r < this.L.head.length; r++) this.copyPages(r);
  }

  /**
   * Call `changed` with the head and order a changed row had, and those it
   * has now (rows freed have head -1 and are skipped), and whether a field
   * the entry checks read changed; the copies then follow the rows.
   */
  diff(changed: (head: number, order: number, entries: boolean) => void): void {
    const L = this.L;
    const n = L.head.length;
    const oldHead = this.copies.get("head")!;
    const oldOrder = this.copies.get("order")!;
    // 1: the row changed; 2: a field the entry checks read changed too.
    const dirty = new Uint8Array(n);
    for (const name of FIELDS) {
      const now = L[name];
      const was = this.copies.get(name)!;
      const m = Math.min(now.length, was.length);
      const entries = ENTRY_FIELDS.has(name);
      const flags = FLAG_FIELDS.has(name);
      for (let r = 0; r < m; r++) {
        if (now[r] === was[r]) continue;
        const e = entries || (flags && ((now[r]! ^ was[r]!) & ~this.folioOnlyFlags) !== 0);
        dirty[r] = Math.max(dirty[r]!, e ? 2 : 1);
      }
      for (let r = m; r < n; r++) dirty[r] = 2;
    }
    for (let r = 0; r < n; r++) {
      const c = this.pageCopies.get(r);
      const mc = L.pageMapcount[r];
      const fl = L.pageFlags[r];
      if (c === undefined ? fl !== undefined : !same(c.flags, fl)) dirty[r] = 2;
      else if (c === undefined ? mc !== undefined : !same(c.mapcount, mc)) dirty[r] = Math.max(dirty[r]!, 1);
    }
    for (let r = 0; r < n; r++) {
      if (dirty[r] === 0) continue;
      const entries = dirty[r] === 2;
      if (r < oldHead.length && oldHead[r]! >= 0) changed(oldHead[r]!, oldOrder[r]!, entries);
      if (L.head[r]! >= 0) changed(L.head[r]!, L.order[r]!, entries);
      this.copyPages(r);
    }
    for (const name of FIELDS) {
      const now = L[name];
      const was = this.copies.get(name)!;
      if (was.length === now.length) was.set(now);
      else this.copies.set(name, now.slice());
    }
  }

  private copyPages(r: number): void {
    const mc = this.L.pageMapcount[r];
    const fl = this.L.pageFlags[r];
    if (mc === undefined && fl === undefined) this.pageCopies.delete(r);
    else this.pageCopies.set(r, { mapcount: mc?.slice(), flags: fl?.slice() });
  }
}

function same(a: Int32Array | Uint32Array | undefined, b: Int32Array | Uint32Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
