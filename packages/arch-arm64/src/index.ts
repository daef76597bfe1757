import { Arm64Backend } from "./backend";
import type { Arm64Options } from "./options";

export { Arm64Backend } from "./backend";
export {
  ARM64_DEFAULT_VARIANT,
  ARM64_GRANULES,
  ARM64_VA_BITS,
  ARM64_VARIANTS,
  BBML2_SUFFIX,
  parseArm64Options,
  type Arm64Config,
  type Arm64Granule,
  type Arm64Options,
} from "./options";
export { arm64ProtName } from "./prot";

/**
 * Create an arm64 backend from options, or from a variant string such as
 * "4k-48" (the default), "16k-47", "64k-52" or "4k-48+bbml2"; the full id
 * ("arm64:4k-48") is accepted too.
 */
export function createArm64Backend(options?: Arm64Options | string): Arm64Backend {
  return new Arm64Backend(options);
}
