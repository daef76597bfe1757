export { createX86_64Backend, X86_64Backend } from "./backend";
export { X86_64_VARIANTS, type X86_64Config, type X86_64Options, type X86_64Variant } from "./options";
export { x86Geometry } from "./geometry";
export * as x86Bits from "./bits";
