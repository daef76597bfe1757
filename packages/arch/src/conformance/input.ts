import { expect } from "vitest";
import { entryRegs } from "../entry";
import { ArchInputError } from "../errors";
import { PTE } from "../level";
import { VM_READ } from "../prot";
import type { Kit } from "./kit";

/** Bad input: a clear ArchInputError naming the value and the valid range, and nothing changed. */
export function inputChecks(k: Kit): void {
  const b = k.b;
  const g = k.g;
  const rejects = (what: string, value: number, f: () => void) => {
    const before = Uint32Array.from(reg);
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err, `${what} ${value} must be rejected`).toBeInstanceOf(ArchInputError);
    const e = err as ArchInputError;
    expect(e.message, what).toMatch(/expected/);
    expect(e.value, what).toBe(value);
    expect(Array.from(reg), `${what}: the register is unchanged`).toEqual(Array.from(before));
  };
  const reg = entryRegs(1);

  k.check("bad input: a pfn beyond the arch's physical address bits", [], () => {
    b.pfnEntry(reg, 0, PTE, 5, VM_READ);
    for (const pfn of [g.maxPfn + 1, -1, 1.5, 2 ** 53]) rejects("pfn", pfn, () => b.pfnEntry(reg, 0, PTE, pfn, VM_READ));
    const e = (() => {
      try {
        b.pfnEntry(reg, 0, PTE, g.maxPfn + 1, VM_READ);
      } catch (x) {
        return x as ArchInputError;
      }
      return undefined;
    })();
    expect(e?.message).toContain(`0x${g.maxPfn.toString(16)}`);
  });
  k.check("bad input: a protection index out of range", [], () => {
    b.pfnEntry(reg, 0, PTE, 5, VM_READ);
    for (const prot of [16, -1, 1.5, 255]) rejects("protection", prot, () => b.pfnEntry(reg, 0, PTE, 5, prot));
    for (const prot of [16, -1]) rejects("protection", prot, () => b.modify(reg, 0, PTE, prot));
    expect(() => b.protName(16)).toThrow(ArchInputError);
  });
  k.check("bad input: a swap type or offset that does not fit", [], () => {
    b.softleafEntry(reg, 0, PTE, 1, 1);
    for (const type of [32, -1, 2.5]) rejects("swap type", type, () => b.softleafEntry(reg, 0, PTE, type, 1));
    for (const offset of [b.softleaf.maxOffset + 1, -1]) rejects("swap offset", offset, () => b.softleafEntry(reg, 0, PTE, 1, offset));
  });
  k.check("bad input: a level that is not a page-table level", [], () => {
    b.pfnEntry(reg, 0, PTE, 5, VM_READ);
    for (const level of [5, -1, 0.5, 7]) {
      // @ts-expect-error deliberately out of the Level type
      rejects("level", level, () => b.pfnEntry(reg, 0, level, 5, VM_READ));
    }
  });
}
