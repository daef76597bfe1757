import { checkProt, type ProtIndex } from "@hugemm/arch";
import { _PAGE_ACCESSED, _PAGE_EXEC, _PAGE_NA, _PAGE_PRESENT, _PAGE_RO, _PAGE_SPS } from "./bits";

/**
 * protection_map[] of arch/powerpc/mm/pgtable.c, indexed by
 * VM_READ|VM_WRITE|VM_EXEC|VM_SHARED. Private writable mappings get
 * PAGE_COPY (read-only until the COW fault); exec-only mappings get
 * PAGE_EXECONLY_X, which the 8xx can express because the ITLB miss handler
 * derives instruction permission from _PAGE_EXEC alone.
 */
export const PROTECTION_MAP_NAMES: readonly string[] = [
  "PAGE_NONE",
  "PAGE_READONLY",
  "PAGE_COPY",
  "PAGE_COPY",
  "PAGE_EXECONLY_X",
  "PAGE_READONLY_X",
  "PAGE_COPY_X",
  "PAGE_COPY_X",
  "PAGE_NONE",
  "PAGE_READONLY",
  "PAGE_SHARED",
  "PAGE_SHARED",
  "PAGE_EXECONLY_X",
  "PAGE_READONLY_X",
  "PAGE_SHARED_X",
  "PAGE_SHARED_X",
];

/** _PAGE_BASE: PRESENT | ACCESSED, plus SPS when every base page is 16K. */
export function pageBase(pageShift: number): number {
  return _PAGE_PRESENT | _PAGE_ACCESSED | (pageShift === 14 ? _PAGE_SPS : 0);
}

/** The permission part of each PAGE_* macro (asm/pgtable-masks.h with the 8xx _PAGE_NA/_PAGE_RO). */
const PERMISSIONS: Readonly<Record<string, number>> = {
  PAGE_NONE: _PAGE_NA,
  PAGE_EXECONLY_X: _PAGE_NA | _PAGE_EXEC,
  PAGE_SHARED: 0,
  PAGE_SHARED_X: _PAGE_EXEC,
  PAGE_COPY: _PAGE_RO,
  PAGE_COPY_X: _PAGE_RO | _PAGE_EXEC,
  PAGE_READONLY: _PAGE_RO,
  PAGE_READONLY_X: _PAGE_RO | _PAGE_EXEC,
};

/** pgprot_val(vm_get_page_prot()) for all 16 protection indices. */
export function protectionValues(pageShift: number): Uint32Array {
  const base = pageBase(pageShift);
  const values = new Uint32Array(16);
  for (let i = 0; i < 16; i++) values[i] = base | PERMISSIONS[PROTECTION_MAP_NAMES[i]!]!;
  return values;
}

export function protName(prot: ProtIndex): string {
  checkProt(prot);
  return PROTECTION_MAP_NAMES[prot]!;
}
