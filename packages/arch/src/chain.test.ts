import { describe, expect, it } from "vitest";
import { allocRoot, ensureSlot, mapLeaf } from "./chain";
import { PMD, PTE } from "./level";
import { VM_READ } from "./prot";
import { createReferenceBackend } from "./reference/backend";
import { TableMemory } from "./walk";

describe("table chains", () => {
  const b = createReferenceBackend();
  it("allocate each missing table once and reuse it", () => {
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    ensureSlot(b, mem, root, 0x40_0000, PTE);
    expect(mem.count).toBe(4);
    ensureSlot(b, mem, root, 0x40_1000, PTE);
    expect(mem.count).toBe(4);
    ensureSlot(b, mem, root, 0x80_0000, PTE);
    expect(mem.count).toBe(5);
  });
  it("refuse to walk through a leaf", () => {
    const mem = new TableMemory();
    const root = allocRoot(b, mem);
    mapLeaf(b, mem, root, 0x20_0000, PMD, 0x200, VM_READ);
    expect(() => ensureSlot(b, mem, root, 0x20_0000, PTE)).toThrow(/not a table/);
  });
  it("report an unknown table address", () => {
    expect(() => new TableMemory().get(0x5000)).toThrow(/no table at physical address 0x5000/);
  });
});
