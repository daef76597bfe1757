import { describeArchConformance } from "@hugemm/arch/conformance";
import { ARM64_VARIANTS, createArm64Backend } from "./index";

for (const variant of ARM64_VARIANTS) {
  describeArchConformance(() => createArm64Backend(variant));
}
describeArchConformance(() => createArm64Backend("4k-48+bbml2"));
