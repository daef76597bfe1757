import { ArchInputError, PROT_COUNT } from "@hugemm/arch";
import { describe, expect, it } from "vitest";
import { PROT_HI, PROT_LO, protName } from "./prot";

const value = (prot: number) => (BigInt(PROT_HI[prot]!) << 32n) | BigInt(PROT_LO[prot]!);

describe("x86 protection_map", () => {
  it("names each of the 16 vm_get_page_prot() indices as arch/x86/mm/pgprot.c does", () => {
    const names = Array.from({ length: PROT_COUNT }, (_, i) => protName(i));
    expect(names).toEqual([
      "PAGE_NONE",
      "PAGE_READONLY",
      "PAGE_COPY",
      "PAGE_COPY",
      "PAGE_READONLY_EXEC",
      "PAGE_READONLY_EXEC",
      "PAGE_COPY_EXEC",
      "PAGE_COPY_EXEC",
      "PAGE_NONE",
      "PAGE_READONLY",
      "PAGE_SHARED",
      "PAGE_SHARED",
      "PAGE_READONLY_EXEC",
      "PAGE_READONLY_EXEC",
      "PAGE_SHARED_EXEC",
      "PAGE_SHARED_EXEC",
    ]);
  });
  it("holds the PAGE_* values: ACCESSED always, NX for non-exec, PAGE_NONE = A|G", () => {
    expect(value(0)).toBe(0x120n); // PAGE_NONE
    expect(value(1)).toBe(0x8000000000000025n); // PAGE_READONLY
    expect(value(3)).toBe(0x8000000000000025n); // PAGE_COPY
    expect(value(5)).toBe(0x25n); // PAGE_READONLY_EXEC
    expect(value(7)).toBe(0x25n); // PAGE_COPY_EXEC
    expect(value(8)).toBe(0x120n); // PAGE_NONE (shared)
    expect(value(11)).toBe(0x8000000000000027n); // PAGE_SHARED
    expect(value(15)).toBe(0x27n); // PAGE_SHARED_EXEC
  });
  it("rejects an index outside 0..15", () => {
    for (const p of [16, -1, 1.5]) expect(() => protName(p)).toThrow(ArchInputError);
  });
});
