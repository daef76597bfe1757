import type { ArchBackend } from "@hugemm/arch";
import { ARM64_VARIANTS, createArm64Backend } from "@hugemm/arch-arm64";
import { PPC8XX_VARIANTS, createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { X86_64_VARIANTS, createX86_64Backend } from "@hugemm/arch-x86-64";

/** The arches a scenario may name, with their variants (the same specs the hugemm CLI accepts). */
const ARCHES: Readonly<Record<string, { readonly variants: readonly string[]; readonly make: (variant?: string) => ArchBackend }>> = {
  "x86-64": { variants: X86_64_VARIANTS, make: (v) => createX86_64Backend(v) },
  arm64: { variants: ARM64_VARIANTS, make: (v) => createArm64Backend(v) },
  ppc8xx: { variants: PPC8XX_VARIANTS, make: (v) => createPpc8xxBackend(v) },
};

/** arm64 granule shorthands: the kernel's default VA size for each granule. */
const ARM64_SHORT: Readonly<Record<string, string>> = { "4k": "4k-48", "16k": "16k-47", "64k": "64k-48" };

/**
 * A backend from "x86-64", "x86-64:5level", "arm64:4k", "arm64:16k-47",
 * "ppc8xx:16k"; a RangeError saying what was expected otherwise.
 */
export function parseArchSpec(spec: string): ArchBackend {
  const [name, variant, ...rest] = spec.trim().split(":");
  const arch = ARCHES[name ?? ""];
  if (arch === undefined || rest.length > 0) {
    throw new RangeError(`unknown arch "${spec}": expected one of ${Object.keys(ARCHES).join(", ")}, optionally with ":variant"`);
  }
  const v = name === "arm64" && variant !== undefined ? (ARM64_SHORT[variant] ?? variant) : variant;
  if (v !== undefined && !arch.variants.includes(v.split("+")[0]!)) {
    throw new RangeError(`unknown ${name} variant "${variant}": expected one of ${arch.variants.join(", ")}`);
  }
  try {
    return arch.make(v);
  } catch (e) {
    throw new RangeError(`bad arch "${spec}": ${(e as Error).message}`);
  }
}
