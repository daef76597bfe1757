export { Khugepaged, installKhugepaged, khugepagedOf, type RunFor, type RunReport } from "./khugepaged";
export { KhugepagedSettings, KNOBS, type MthpNoneRule } from "./settings";
export { SCAN, SCAN_CODES, scanName, scanTrace, madviseCollapseErrno, type ScanCodeName, type ScanResult } from "./scan-result";
export { CollapseControl, type CollapseAttempt, type RangeRecord } from "./control";
export { collapseHugePageSteps, collapseHugePage, type CollapseStep } from "./collapse-huge-page";
export { collapseMaxPtesNone, collapseMaxPtesShared, collapseMaxPtesSwap } from "./limits";
export { hugepageEnabled } from "./daemon";
export { formatRanges } from "./format";
