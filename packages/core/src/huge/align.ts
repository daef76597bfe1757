import { PUD } from "@hugemm/arch";
import type { Kernel } from "../kernel/kernel";
import { defaultAlignFor, type AlignFor } from "../mm/unmapped-area";

/**
 * THP alignment of new anonymous mappings: the kernel's PMD rule, and PUD
 * alignment for lengths that are a multiple of the PUD size while the PUD
 * THP size is enabled (where __get_unmapped_area aligns PMD-sized
 * mappings, as the RFC review asked for; only when the size is in use, so
 * address-space layouts do not change for everyone else).
 */
export function thpAlignFor(k: Kernel): AlignFor {
  const pmd = defaultAlignFor(k);
  const s = k.thp;
  const pudSize = 2 ** k.geometry.levels[PUD]!.shift;
  return (len, flags) => {
    if (s.pudOrder > 0 && s.anonMode(s.pudOrder) !== "never" && len % pudSize === 0) return pudSize;
    return pmd(len, flags);
  };
}
