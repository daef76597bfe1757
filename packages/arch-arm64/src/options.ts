import { ArchInputError } from "@hugemm/arch";

export type Arm64Granule = "4k" | "16k" | "64k";

/** Configuration of an arm64 backend (the kernel's ARM64_*_PAGES and ARM64_VA_BITS). */
export interface Arm64Options {
  readonly granule: Arm64Granule;
  /** VA_BITS: 39/48/52 for 4K, 36/47/48/52 for 16K, 42/48/52 for 64K. */
  readonly vaBits: number;
  /**
   * The CPU has BBML2 without TLB conflict aborts: contpte_convert() skips
   * its TLB invalidation between clearing and re-writing a block.
   */
  readonly bbml2NoAbort?: boolean;
}

export const ARM64_GRANULES: readonly Arm64Granule[] = ["4k", "16k", "64k"];

/** VA sizes each granule supports (arch/arm64/Kconfig ARM64_VA_BITS_*). */
export const ARM64_VA_BITS: Readonly<Record<Arm64Granule, readonly number[]>> = {
  "4k": [39, 48, 52],
  "16k": [36, 47, 48, 52],
  "64k": [42, 48, 52],
};

/** The variant strings, `${granule}-${vaBits}`; "4k-48" is the default. */
export const ARM64_VARIANTS: readonly string[] = ARM64_GRANULES.flatMap((g) => ARM64_VA_BITS[g].map((va) => `${g}-${va}`));

export const ARM64_DEFAULT_VARIANT = "4k-48";

/** Suffix of a variant whose CPU has BBML2 without conflict aborts. */
export const BBML2_SUFFIX = "+bbml2";

/** Everything the backend derives from its options. */
export interface Arm64Config {
  readonly granule: Arm64Granule;
  readonly vaBits: number;
  readonly bbml2NoAbort: boolean;
  /** PAGE_SHIFT: 12, 14 or 16. */
  readonly pageShift: number;
  /** CONFIG_PGTABLE_LEVELS = ARM64_HW_PGTABLE_LEVELS(VA_BITS). */
  readonly levels: number;
  /** CONFIG_ARM64_PA_BITS: 52 for the 52-bit variants, else 48. */
  readonly physBits: number;
  /** 4K/16K with 52-bit VA: FEAT_LPA2, PA[51:50] in descriptor bits 9:8, no PTE_SHARED. */
  readonly lpa2: boolean;
  /** 64K with 52-bit PA: PA[51:48] in descriptor bits 15:12. */
  readonly pa52In64k: boolean;
  /** CONFIG_ARM64_CONT_PTE_SHIFT: log2(CONT_PTES). */
  readonly contPteShift: number;
  /** CONFIG_ARM64_CONT_PMD_SHIFT: log2(CONT_PMDS). */
  readonly contPmdShift: number;
  /** The variant string (with "+bbml2" when that option is on). */
  readonly variant: string;
}

const PAGE_SHIFT: Readonly<Record<Arm64Granule, number>> = { "4k": 12, "16k": 14, "64k": 16 };
/** ARM64_CONT_PTE_SHIFT defaults: 5 for 64K, 7 for 16K, 4 for 4K. */
const CONT_PTE_SHIFT: Readonly<Record<Arm64Granule, number>> = { "4k": 4, "16k": 7, "64k": 5 };
/** ARM64_CONT_PMD_SHIFT defaults: 5 for 64K and 16K, 4 for 4K. */
const CONT_PMD_SHIFT: Readonly<Record<Arm64Granule, number>> = { "4k": 4, "16k": 5, "64k": 5 };

/** Parse a factory argument: options, a variant ("16k-47", "4k-48+bbml2") or a full id ("arm64:4k-48"). */
export function parseArm64Options(options?: Arm64Options | string): Arm64Config {
  if (options === undefined) return deriveConfig("4k", 48, false);
  if (typeof options === "string") return parseVariant(options);
  if (typeof options !== "object" || options === null) {
    throw new ArchInputError("arm64 options", options, `an options object or one of the variants ${ARM64_VARIANTS.join(", ")}`);
  }
  const granule = options.granule;
  if (!(ARM64_GRANULES as readonly unknown[]).includes(granule)) {
    throw new ArchInputError("arm64 granule", granule, `one of ${ARM64_GRANULES.map((g) => JSON.stringify(g)).join(", ")}`);
  }
  const bbml2 = options.bbml2NoAbort ?? false;
  if (typeof bbml2 !== "boolean") {
    throw new ArchInputError("arm64 bbml2NoAbort", bbml2, "true or false");
  }
  return deriveConfig(granule, options.vaBits, bbml2);
}

function parseVariant(text: string): Arm64Config {
  let rest = text.startsWith("arm64:") ? text.slice("arm64:".length) : text;
  let bbml2 = false;
  if (rest.endsWith(BBML2_SUFFIX)) {
    bbml2 = true;
    rest = rest.slice(0, -BBML2_SUFFIX.length);
  }
  if (!ARM64_VARIANTS.includes(rest)) {
    throw new ArchInputError("arm64 variant", text, `one of ${ARM64_VARIANTS.join(", ")} (optionally with "${BBML2_SUFFIX}")`);
  }
  const [g, va] = rest.split("-") as [Arm64Granule, string];
  return deriveConfig(g, Number(va), bbml2);
}

function deriveConfig(granule: Arm64Granule, vaBits: number, bbml2NoAbort: boolean): Arm64Config {
  const allowed = ARM64_VA_BITS[granule];
  if (!allowed.includes(vaBits)) {
    throw new ArchInputError(`arm64 vaBits for the ${granule} granule`, vaBits, `one of ${allowed.join(", ")}`);
  }
  const pageShift = PAGE_SHIFT[granule];
  // ARM64_HW_PGTABLE_LEVELS(va) = (va - 4) / (PAGE_SHIFT - 3), rounded down.
  const levels = Math.floor((vaBits - 4) / (pageShift - 3));
  const pa52 = vaBits === 52;
  return {
    granule,
    vaBits,
    bbml2NoAbort,
    pageShift,
    levels,
    physBits: pa52 ? 52 : 48,
    lpa2: pa52 && granule !== "64k",
    pa52In64k: pa52 && granule === "64k",
    contPteShift: CONT_PTE_SHIFT[granule],
    contPmdShift: CONT_PMD_SHIFT[granule],
    variant: `${granule}-${vaBits}${bbml2NoAbort ? BBML2_SUFFIX : ""}`,
  };
}
