import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_SPECIAL } from "./bits";
import type { Ppc8xxVariant } from "./options";
import { pageBase, protectionValues } from "./prot";

/** The constants of one kernel configuration, shared by every hot path. */
export interface Ppc8xxConfig {
  readonly variant: Ppc8xxVariant;
  /** PAGE_SHIFT: 12 or 14. */
  readonly pageShift: number;
  readonly pageSize: number;
  /** 4-byte hardware cells per pte_t: 1, or 4 replicated cells with 16K pages. */
  readonly cellsPerPte: number;
  /** PTRS_PER_PTE: logical entries per PTE table (1024, or 256 with 16K pages). */
  readonly ptrsPerPte: number;
  /** _PAGE_BASE. */
  readonly pageBase: number;
  /** _PAGE_CHG_MASK: what pte_modify() keeps (RPN, DIRTY, ACCESSED, SPECIAL). */
  readonly chgMask: number;
  /** pgprot values of protection_map[]. */
  readonly protValues: Uint32Array;
  /** The highest pfn a 32-bit RPN holds. */
  readonly maxPfn: number;
  /** SWP_PFN_BITS: phys_addr_t is 32 bits and 8xx has no MAX_PHYSMEM_BITS. */
  readonly swpPfnBits: number;
}

export function ppc8xxConfig(variant: Ppc8xxVariant): Ppc8xxConfig {
  const pageShift = variant === "16k" ? 14 : 12;
  const pageSize = 2 ** pageShift;
  const rpnMask = (~(pageSize - 1)) >>> 0;
  return {
    variant,
    pageShift,
    pageSize,
    cellsPerPte: pageSize / 4096,
    ptrsPerPte: 4096 / (4 * (pageSize / 4096)),
    pageBase: pageBase(pageShift),
    chgMask: (rpnMask | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_SPECIAL) >>> 0,
    protValues: protectionValues(pageShift),
    maxPfn: 2 ** (32 - pageShift) - 1,
    swpPfnBits: 32 - pageShift,
  };
}
