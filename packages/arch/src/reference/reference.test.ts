import { describe, expect, it } from "vitest";
import { describeArchConformance, skippedChecks } from "../conformance";
import { entryHex, entryRegs } from "../entry";
import { PMD, PTE } from "../level";
import { VM_READ, VM_SHARED, VM_WRITE } from "../prot";
import { createReferenceBackend } from "./backend";
import { ArchInputError } from "../errors";

describeArchConformance(() => createReferenceBackend());

describe("reference backend", () => {
  const b = createReferenceBackend();

  it("skips only the checks that need a contiguous PTE hint", () => {
    const skipped = skippedChecks(b);
    expect(skipped.length).toBeGreaterThan(0);
    for (const name of skipped) expect(name).toMatch(/\[no contPte\]$/);
  });

  it("encodes a shared writable 4K page exactly", () => {
    const v = entryRegs(1);
    b.pfnEntry(v, 0, PTE, 0x12345678, VM_READ | VM_WRITE | VM_SHARED);
    // PRESENT|WRITE|USER|YOUNG|LEAF = 0x57; pfn bits 12..47.
    expect(entryHex(v, 0)).toBe("0x0000012345678057");
  });

  it("marks PMD leaves with LEAF only after mkhuge", () => {
    const v = entryRegs(1);
    b.pfnEntry(v, 0, PMD, 0x200, VM_READ);
    expect(b.leaf(v, 0, PMD)).toBe(false);
    b.mkhuge(v, 0, PMD);
    expect(b.leaf(v, 0, PMD)).toBe(true);
  });

  it("rejects an unknown variant by name", () => {
    expect(() => createReferenceBackend("5level")).toThrow(ArchInputError);
    expect(() => createReferenceBackend("5level")).toThrow(/"5level".*expected one of "4level"/);
  });
});
