import { ArchInputError } from "@hugemm/arch";

/** The two kernel configurations: CONFIG_PPC_4K_PAGES and CONFIG_PPC_16K_PAGES. */
export const PPC8XX_VARIANTS = ["4k", "16k"] as const;
export type Ppc8xxVariant = (typeof PPC8XX_VARIANTS)[number];

export const PPC8XX_ARCH = "ppc8xx";

export interface Ppc8xxOptions {
  /** PAGE_SIZE: "4k" (PAGE_SHIFT 12, the default) or "16k" (PAGE_SHIFT 14). */
  readonly pageSize?: Ppc8xxVariant;
}

const OPTION_KEYS = ["pageSize"] as const;

function isVariant(x: unknown): x is Ppc8xxVariant {
  return typeof x === "string" && (PPC8XX_VARIANTS as readonly string[]).includes(x);
}

/**
 * The variant selected by the factory's argument: options, a variant string
 * ("16k") or a whole backend id ("ppc8xx:16k").
 */
export function resolvePpc8xxVariant(options?: Ppc8xxOptions | string): Ppc8xxVariant {
  if (options === undefined) return "4k";
  if (typeof options === "string") {
    const variant = options.startsWith(`${PPC8XX_ARCH}:`) ? options.slice(PPC8XX_ARCH.length + 1) : options;
    if (!isVariant(variant)) {
      throw new ArchInputError("ppc8xx variant", options, `one of ${PPC8XX_VARIANTS.map((v) => `"${v}"`).join(", ")} (or "${PPC8XX_ARCH}:<variant>")`);
    }
    return variant;
  }
  if (typeof options !== "object" || options === null) {
    throw new ArchInputError("ppc8xx options", options, "an object { pageSize?: \"4k\" | \"16k\" } or a variant string");
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new ArchInputError("ppc8xx option", key, `one of ${OPTION_KEYS.join(", ")}`);
    }
  }
  const pageSize: unknown = options.pageSize;
  if (pageSize === undefined) return "4k";
  if (!isVariant(pageSize)) {
    throw new ArchInputError("ppc8xx option pageSize", pageSize, `one of ${PPC8XX_VARIANTS.map((v) => `"${v}"`).join(", ")}`);
  }
  return pageSize;
}
