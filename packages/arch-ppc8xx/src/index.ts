export * from "./bits";
export { PPC8XX_ARCH, PPC8XX_VARIANTS, type Ppc8xxOptions, type Ppc8xxVariant, resolvePpc8xxVariant } from "./options";
export { PROTECTION_MAP_NAMES } from "./prot";
export { pteLeafSize } from "./walk";
export { Ppc8xxBackend, createPpc8xxBackend } from "./backend";
