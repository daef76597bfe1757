import { allocRoot, entryRegs, mapLeaf, TableMemory, PTE, VM_READ, VM_SHARED, VM_WRITE } from "@hugemm/arch";
import { expect, it } from "vitest";
import { createArm64Backend } from "./index";

it("the README example gives the output it shows", () => {
  const b = createArm64Backend("4k-48");
  const r = entryRegs(1);
  b.pfnEntry(r, 0, PTE, 0x1234, VM_READ | VM_WRITE | VM_SHARED);
  expect(b.describe(r, 0, PTE).summary).toBe("pte leaf pfn 0x1234 rw- user young");

  const mem = new TableMemory();
  const root = allocRoot(b, mem);
  mapLeaf(b, mem, root, 0x7f00_0000_0000, PTE, 0x1234, VM_READ | VM_WRITE | VM_SHARED);
  const w = b.walk(mem, root, 0x7f00_0000_0123, { write: true });
  expect(w.ok && [w.pa.toString(16), w.setsDirty]).toEqual(["1234123", true]);
});
