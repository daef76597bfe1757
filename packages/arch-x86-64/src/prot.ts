import { checkProt, type ProtIndex } from "@hugemm/arch";
import { _PAGE_ACCESSED, _PAGE_GLOBAL, _PAGE_NX_HI, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER } from "./bits";

/**
 * The PAGE_* protections of pgtable_types.h as (low, high) words, with NX
 * supported and no memory-encryption bit. Every one includes ACCESSED; a
 * PROT_NONE mapping is not present but carries GLOBAL, which reads as
 * PROTNONE while PRESENT is clear.
 */
const PAGE_NONE_LO = _PAGE_ACCESSED | _PAGE_GLOBAL;
const PAGE_SHARED_LO = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED;
const PAGE_COPY_LO = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;

interface PageProt {
  readonly name: string;
  readonly lo: number;
  readonly hi: number;
}

const PAGE_NONE: PageProt = { name: "PAGE_NONE", lo: PAGE_NONE_LO, hi: 0 };
const PAGE_READONLY: PageProt = { name: "PAGE_READONLY", lo: PAGE_COPY_LO, hi: _PAGE_NX_HI };
const PAGE_READONLY_EXEC: PageProt = { name: "PAGE_READONLY_EXEC", lo: PAGE_COPY_LO, hi: 0 };
const PAGE_COPY: PageProt = { name: "PAGE_COPY", lo: PAGE_COPY_LO, hi: _PAGE_NX_HI };
const PAGE_COPY_EXEC: PageProt = { name: "PAGE_COPY_EXEC", lo: PAGE_COPY_LO, hi: 0 };
const PAGE_SHARED: PageProt = { name: "PAGE_SHARED", lo: PAGE_SHARED_LO, hi: _PAGE_NX_HI };
const PAGE_SHARED_EXEC: PageProt = { name: "PAGE_SHARED_EXEC", lo: PAGE_SHARED_LO, hi: 0 };

/** x86's protection_map (arch/x86/mm/pgprot.c), indexed by VM_READ|VM_WRITE|VM_EXEC|VM_SHARED. */
const PROTECTION_MAP: readonly PageProt[] = [
  PAGE_NONE, // VM_NONE
  PAGE_READONLY, // VM_READ
  PAGE_COPY, // VM_WRITE
  PAGE_COPY, // VM_WRITE|VM_READ
  PAGE_READONLY_EXEC, // VM_EXEC
  PAGE_READONLY_EXEC, // VM_EXEC|VM_READ
  PAGE_COPY_EXEC, // VM_EXEC|VM_WRITE
  PAGE_COPY_EXEC, // VM_EXEC|VM_WRITE|VM_READ
  PAGE_NONE, // VM_SHARED
  PAGE_READONLY, // VM_SHARED|VM_READ
  PAGE_SHARED, // VM_SHARED|VM_WRITE
  PAGE_SHARED, // VM_SHARED|VM_WRITE|VM_READ
  PAGE_READONLY_EXEC, // VM_SHARED|VM_EXEC
  PAGE_READONLY_EXEC, // VM_SHARED|VM_EXEC|VM_READ
  PAGE_SHARED_EXEC, // VM_SHARED|VM_EXEC|VM_WRITE
  PAGE_SHARED_EXEC, // VM_SHARED|VM_EXEC|VM_WRITE|VM_READ
];

/** Low word of vm_get_page_prot(prot) (flat array: no object lookup on hot paths). */
export const PROT_LO: Uint32Array = Uint32Array.from(PROTECTION_MAP, (p) => p.lo);
/** High word of vm_get_page_prot(prot). */
export const PROT_HI: Uint32Array = Uint32Array.from(PROTECTION_MAP, (p) => p.hi >>> 0);

/** The kernel's name for vm_get_page_prot(prot). */
export function protName(prot: ProtIndex): string {
  checkProt(prot);
  return PROTECTION_MAP[prot]!.name;
}
