import type { TableInfo } from "./tables";

/**
 * The page tables in use by physical address, as a Map keyed by the address
 * in units of the smallest table: physical addresses pass 2^31 from 2 GiB
 * up, and a Map hashes such numbers far more slowly than small integers,
 * while a table lookup sits on every walk and fault.
 */
export class TableIndex {
  private readonly byKey = new Map<number, TableInfo>();

  constructor(private readonly unit: number) {}

  private key(pa: number): number {
    return pa / this.unit;
  }

  get(pa: number): TableInfo | undefined {
    return this.byKey.get(this.key(pa));
  }

  has(pa: number): boolean {
    return this.byKey.has(this.key(pa));
  }

  set(info: TableInfo): void {
    this.byKey.set(this.key(info.pa), info);
  }

  delete(pa: number): boolean {
    return this.byKey.delete(this.key(pa));
  }

  get size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<TableInfo> {
    return this.byKey.values();
  }

  *entries(): IterableIterator<[number, TableInfo]> {
    for (const info of this.byKey.values()) yield [info.pa, info];
  }

  [Symbol.iterator](): IterableIterator<[number, TableInfo]> {
    return this.entries();
  }
}

/** The same keys for the tables' storage. */
export class TableStorage {
  private readonly byKey = new Map<number, Uint32Array>();

  constructor(private readonly unit: number) {}

  get(pa: number): Uint32Array | undefined {
    return this.byKey.get(pa / this.unit);
  }

  set(pa: number, t: Uint32Array): void {
    this.byKey.set(pa / this.unit, t);
  }

  delete(pa: number): void {
    this.byKey.delete(pa / this.unit);
  }
}
