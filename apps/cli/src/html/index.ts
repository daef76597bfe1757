export { renderHtml } from "./render";
export { htmlReportFromRuns, HtmlReportError, type RunLike, type HtmlReportOptions } from "./extract";
export { mapProcess, mapVma } from "./address-map";
export { physMap } from "./phys-map";
export { summarize, mappingSizes } from "./summary";
export {
  MAP_KINDS,
  PHYS_KINDS,
  type HtmlReport,
  type ArchColumn,
  type ArchSummary,
  type CheckpointRow,
  type ExpectRow,
  type MapKind,
  type MapRun,
  type MappingSizes,
  type MixPart,
  type PhysCell,
  type PhysKind,
  type PhysStrip,
  type ProcessMap,
  type VmaMap,
} from "./model";
