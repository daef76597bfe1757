// The feature and how to install it.
export { Hugetlb, installHugetlb, hugetlbOf, MAP_HUGE_SHIFT, MAP_HUGE_MASK, MFD_HUGETLB, type HugetlbfsOptions } from "./feature";

// Pools, reservations and hugetlbfs.
export { Hstate, archHstates } from "./hstate";
export { ResvMap } from "./resv-map";
export { subpoolGet, subpoolPut, type Subpool } from "./subpool";
export { HugetlbState, type HugetlbVma, type HugetlbFile } from "./state";
export { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, type HugetlbfsMount } from "./hugetlbfs";

// Views.
export { hugetlbSysfs, hugetlbReport, smapsHugetlb, formatHugetlbPages } from "./views";
