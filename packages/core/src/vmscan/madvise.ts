/*
 * The reclaim-side madvise advice the kernel object hands to madvise(2)
 * (Kernel.madviseOps): MADV_COLD / MADV_PAGEOUT and MADV_FREE.
 */
export { madvColdOrPageout } from "./madvise-cold";
export { madvFree } from "./madvise-free";
