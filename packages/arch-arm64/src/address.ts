import { TWO_32 } from "@hugemm/arch";
import { HI_ADDR_MASK } from "./bits";
import type { Arm64Config } from "./options";

const TWO_48 = 2 ** 48;
const TWO_50 = 2 ** 50;

/** How the output address sits in a descriptor. */
export const AddressMode = {
  /** PA[49:PAGE_SHIFT] in place (48-bit PA). */
  Pa48: 0,
  /** FEAT_LPA2 (4K/16K, 52-bit): PA[51:50] in bits 9:8. */
  Lpa2: 1,
  /** 64K granule, 52-bit PA: PA[51:48] in bits 15:12. */
  Pa52In64k: 2,
} as const;
export type AddressMode = (typeof AddressMode)[keyof typeof AddressMode];

/**
 * __phys_to_pte_val() and __pte_to_phys() for one configuration, word by
 * word: encoders return the descriptor bits of a physical address and the
 * decoder reads one back. Physical addresses are numbers below 2^52.
 */
export class AddressCodec {
  readonly mode: AddressMode;
  readonly pageShift: number;
  /** PTE_ADDR_LOW's low-word part: bits PAGE_SHIFT..31. */
  readonly loAddrMask: number;
  /** Low-word bits that hold PA[51:48] or PA[51:50] (0 with 48-bit PA). */
  readonly loHighMask: number;

  constructor(c: Arm64Config) {
    this.pageShift = c.pageShift;
    this.mode = c.lpa2 ? AddressMode.Lpa2 : c.pa52In64k ? AddressMode.Pa52In64k : AddressMode.Pa48;
    this.loAddrMask = (0xffffffff << c.pageShift) >>> 0;
    this.loHighMask = this.mode === AddressMode.Lpa2 ? 0x300 : this.mode === AddressMode.Pa52In64k ? 0xf000 : 0;
  }

  /** The low word of __phys_to_pte_val(pa). */
  encodeLo(pa: number): number {
    const low = pa % TWO_32;
    switch (this.mode) {
      case AddressMode.Lpa2:
        return ((low & 0xffffff00) | ((Math.floor(pa / TWO_50) & 3) << 8)) >>> 0;
      case AddressMode.Pa52In64k:
        return ((low & 0xffff0000) | ((Math.floor(pa / TWO_48) & 0xf) << 12)) >>> 0;
      default:
        return low;
    }
  }

  /** The high word of __phys_to_pte_val(pa): PA[49:32] in bits 49:32. */
  encodeHi(pa: number): number {
    const high = Math.floor(pa / TWO_32);
    return this.mode === AddressMode.Pa48 ? high : high & HI_ADDR_MASK;
  }

  /** __pte_to_phys(): the physical address a descriptor holds. */
  decode(lo: number, hi: number): number {
    const inPlace = (lo & this.loAddrMask) >>> 0;
    switch (this.mode) {
      case AddressMode.Lpa2:
        return ((lo >>> 8) & 3) * TWO_50 + (hi & HI_ADDR_MASK) * TWO_32 + inPlace;
      case AddressMode.Pa52In64k: {
        // Bits 49:48 are part of PTE_ADDR_LOW and also encoded in bits 13:12; OR them.
        const top = ((lo >>> 12) & 0xf) | ((hi >>> 16) & 3);
        return top * TWO_48 + (hi & 0xffff) * TWO_32 + inPlace;
      }
      default:
        return (hi & HI_ADDR_MASK) * TWO_32 + inPlace;
    }
  }
}
