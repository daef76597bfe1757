import type { ArchBackend } from "@hugemm/arch";
import { createArm64Backend } from "@hugemm/arch-arm64";
import { createPpc8xxBackend } from "@hugemm/arch-ppc8xx";
import { createX86_64Backend } from "@hugemm/arch-x86-64";

/** The configurations the suite measures: one per distinct format family. */
export function benchBackends(): ArchBackend[] {
  return [createX86_64Backend("4level"), createArm64Backend("4k-48"), createArm64Backend("64k-48"), createPpc8xxBackend("4k")];
}
