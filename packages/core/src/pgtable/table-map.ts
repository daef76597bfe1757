/**
 * A map keyed by a page table's physical address, stored under the address
 * in units of the smallest table: physical addresses pass 2^31 from 2 GiB
 * up, and a Map hashes such numbers far more slowly than small integers,
 * while a table lookup sits on every walk and fault.
 */
export class TableMap<T> {
  private readonly byKey = new Map<number, T>();

  constructor(private readonly unit: number) {}

  get(pa: number): T | undefined {
    return this.byKey.get(pa / this.unit);
  }

  has(pa: number): boolean {
    return this.byKey.has(pa / this.unit);
  }

  set(pa: number, v: T): void {
    this.byKey.set(pa / this.unit, v);
  }

  delete(pa: number): boolean {
    return this.byKey.delete(pa / this.unit);
  }

  get size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<T> {
    return this.byKey.values();
  }

  /** [physical address, value] pairs. */
  *entries(): IterableIterator<[number, T]> {
    for (const [key, v] of this.byKey) yield [key * this.unit, v];
  }

  [Symbol.iterator](): IterableIterator<[number, T]> {
    return this.entries();
  }
}
