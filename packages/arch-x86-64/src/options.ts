import { ArchInputError } from "@hugemm/arch";

/** The paging modes: 4-level (48-bit VA) and LA57 5-level (57-bit VA). */
export const X86_64_VARIANTS = ["4level", "5level"] as const;
export type X86_64Variant = (typeof X86_64_VARIANTS)[number];

export interface X86_64Options {
  /** Paging levels: 4 (default) or 5 (LA57). */
  readonly levels?: 4 | 5;
  /**
   * X86_FEATURE_SHSTK: the CPU has shadow stacks, so a Write=0,Dirty=1 leaf
   * reads as writable (pte_shstk / pmd_shstk). The saved-dirty moves in
   * wrprotect/mkdirty/modify happen either way. Default true: the CPU feature
   * is not a build option, and current Intel and AMD CPUs have it.
   */
  readonly shadowStack?: boolean;
  /**
   * pmd_modify() keeps the hardware Dirty bit. Kernels from v6.6 until
   * f7491d7c81db ("x86/mm: Fix user-space data loss with MADV_FREE and THP",
   * v7.3-rc4) masked it off; set false to model those kernels.
   */
  readonly pmdModifyKeepsDirty?: boolean;
}

/** Resolved configuration. */
export interface X86_64Config {
  readonly levels: 4 | 5;
  readonly shadowStack: boolean;
  readonly pmdModifyKeepsDirty: boolean;
}

/** Variant-string suffixes for the non-default knobs, so that an id recreates its backend. */
const NO_SHSTK = "no-shstk";
const PMD_MODIFY_DROPS_DIRTY = "pmd-modify-drops-dirty";
const SUFFIXES = [NO_SHSTK, PMD_MODIFY_DROPS_DIRTY] as const;
const OPTION_KEYS = ["levels", "shadowStack", "pmdModifyKeepsDirty"] as const;

/** Parse "4level", "5level+no-shstk", "x86-64:4level", ... */
export function parseVariant(variant: string): X86_64Config {
  const body = variant.startsWith("x86-64:") ? variant.slice("x86-64:".length) : variant;
  const [base, ...flags] = body.split("+");
  const levels = base === "4level" ? 4 : base === "5level" ? 5 : undefined;
  if (levels === undefined) {
    throw new ArchInputError("x86-64 variant", variant, `one of ${X86_64_VARIANTS.map((v) => `"${v}"`).join(", ")}, optionally followed by ${SUFFIXES.map((s) => `"+${s}"`).join(" / ")}`);
  }
  let shadowStack = true;
  let pmdModifyKeepsDirty = true;
  for (const flag of flags) {
    if (flag === NO_SHSTK) shadowStack = false;
    else if (flag === PMD_MODIFY_DROPS_DIRTY) pmdModifyKeepsDirty = false;
    else throw new ArchInputError("x86-64 variant flag", flag, SUFFIXES.map((s) => `"${s}"`).join(" or "));
  }
  return { levels, shadowStack, pmdModifyKeepsDirty };
}

export function resolveOptions(options: X86_64Options | string | undefined): X86_64Config {
  if (options === undefined) return parseVariant("4level");
  if (typeof options === "string") return parseVariant(options);
  if (typeof options !== "object" || options === null) {
    throw new ArchInputError("x86-64 options", options, "an options object or a variant string");
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new ArchInputError("x86-64 option", key, `one of ${OPTION_KEYS.join(", ")}`);
    }
  }
  const levels = options.levels ?? 4;
  if (levels !== 4 && levels !== 5) throw new ArchInputError("x86-64 option levels", levels, "4 or 5");
  const shadowStack = options.shadowStack ?? true;
  if (typeof shadowStack !== "boolean") throw new ArchInputError("x86-64 option shadowStack", shadowStack, "true or false");
  const pmdModifyKeepsDirty = options.pmdModifyKeepsDirty ?? true;
  if (typeof pmdModifyKeepsDirty !== "boolean") {
    throw new ArchInputError("x86-64 option pmdModifyKeepsDirty", pmdModifyKeepsDirty, "true or false");
  }
  return { levels, shadowStack, pmdModifyKeepsDirty };
}

/** The variant string naming a configuration (the inverse of parseVariant). */
export function variantOf(config: X86_64Config): string {
  let v: string = config.levels === 5 ? "5level" : "4level";
  if (!config.shadowStack) v += `+${NO_SHSTK}`;
  if (!config.pmdModifyKeepsDirty) v += `+${PMD_MODIFY_DROPS_DIRTY}`;
  return v;
}
