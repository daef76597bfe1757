import { checkProt, type ProtIndex } from "@hugemm/arch";
import { HI_PXN, HI_UXN, HI_WRITE, LO_AF, LO_NG, LO_PRESENT_INVALID, LO_RDONLY, LO_SHARED, LO_TYPE_PAGE, LO_USER, LO_VALID } from "./bits";

/**
 * Protection values from pgtable-prot.h, as [low word, high word].
 * _PAGE_DEFAULT = PTE_TYPE_PAGE | PTE_AF | PTE_SHARED | PTE_ATTRINDX(MT_NORMAL).
 */
const PAGE_DEFAULT_LO = LO_TYPE_PAGE | LO_AF | LO_SHARED;
const USER_RO_LO = PAGE_DEFAULT_LO | LO_USER | LO_RDONLY | LO_NG;

export const PAGE_NONE: readonly [number, number] = [
  (PAGE_DEFAULT_LO & ~LO_VALID) | LO_PRESENT_INVALID | LO_RDONLY | LO_NG,
  HI_PXN | HI_UXN,
];
/** Shared writable pages start clean: both PTE_RDONLY and PTE_WRITE. */
export const PAGE_SHARED: readonly [number, number] = [USER_RO_LO, HI_PXN | HI_UXN | HI_WRITE];
export const PAGE_SHARED_EXEC: readonly [number, number] = [USER_RO_LO, HI_PXN | HI_WRITE];
export const PAGE_READONLY: readonly [number, number] = [USER_RO_LO, HI_PXN | HI_UXN];
export const PAGE_READONLY_EXEC: readonly [number, number] = [USER_RO_LO, HI_PXN];

/**
 * protection_map[] (arch/arm64/mm/mmap.c) for a CPU without Enhanced PAN,
 * BTI, MTE or POE: private writable mappings map read-only (COW), and
 * VM_EXEC alone gives PAGE_READONLY_EXEC (PAGE_EXECONLY needs EPAN).
 */
const MAP: readonly (readonly [string, readonly [number, number]])[] = [
  ["PAGE_NONE", PAGE_NONE], // VM_NONE
  ["PAGE_READONLY", PAGE_READONLY], // VM_READ
  ["PAGE_READONLY", PAGE_READONLY], // VM_WRITE
  ["PAGE_READONLY", PAGE_READONLY], // VM_WRITE | VM_READ
  ["PAGE_READONLY_EXEC", PAGE_READONLY_EXEC], // VM_EXEC
  ["PAGE_READONLY_EXEC", PAGE_READONLY_EXEC], // VM_EXEC | VM_READ
  ["PAGE_READONLY_EXEC", PAGE_READONLY_EXEC], // VM_EXEC | VM_WRITE
  ["PAGE_READONLY_EXEC", PAGE_READONLY_EXEC], // VM_EXEC | VM_WRITE | VM_READ
  ["PAGE_NONE", PAGE_NONE], // VM_SHARED
  ["PAGE_READONLY", PAGE_READONLY], // VM_SHARED | VM_READ
  ["PAGE_SHARED", PAGE_SHARED], // VM_SHARED | VM_WRITE
  ["PAGE_SHARED", PAGE_SHARED], // VM_SHARED | VM_WRITE | VM_READ
  ["PAGE_READONLY_EXEC", PAGE_READONLY_EXEC], // VM_SHARED | VM_EXEC
  ["PAGE_READONLY_EXEC", PAGE_READONLY_EXEC], // VM_SHARED | VM_EXEC | VM_READ
  ["PAGE_SHARED_EXEC", PAGE_SHARED_EXEC], // VM_SHARED | VM_EXEC | VM_WRITE
  ["PAGE_SHARED_EXEC", PAGE_SHARED_EXEC], // VM_SHARED | VM_EXEC | VM_WRITE | VM_READ
];

/**
 * vm_get_page_prot() for all 16 indices as two word arrays. With LPA2,
 * adjust_protection_map() clears PTE_SHARED, whose bits then carry PA[51:50].
 */
export class ProtectionMap {
  readonly lo = new Uint32Array(16);
  readonly hi = new Uint32Array(16);

  constructor(lpa2: boolean) {
    for (let i = 0; i < 16; i++) {
      const [, [lo, hi]] = MAP[i]!;
      this.lo[i] = (lpa2 ? lo & ~LO_SHARED : lo) >>> 0;
      this.hi[i] = hi >>> 0;
    }
  }
}

/** The kernel's name for protection_map[prot]. */
export function arm64ProtName(prot: ProtIndex): string {
  checkProt(prot);
  return MAP[prot]![0];
}
