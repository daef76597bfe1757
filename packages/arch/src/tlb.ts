import type { Level } from "./level";

/**
 * Context the generic page-table operations run in. The core supplies it;
 * tests use `simpleContext`. Only arm64 contpte consults `folioCovers`.
 */
export interface PageTableContext {
  /** mm_is_user(): contiguity is never applied to kernel (init_mm/efi_mm) mappings. */
  readonly user: boolean;
  /** Does a single folio cover the pfns [pfn, pfn + nr)? */
  folioCovers(pfn: number, nr: number): boolean;
  /** Record a TLB invalidation the kernel would issue for [start, end) with the given stride. */
  flushTlbRange(start: number, end: number, stride: number, level: Level, reason: TlbFlushReason): void;
}

export type TlbFlushReason =
  | "contpte-convert"
  | "clear-flush"
  | "access-flags"
  | "hugetlb-clear-flush"
  | "wrprotect";

export interface TlbFlush {
  readonly start: number;
  readonly end: number;
  readonly stride: number;
  readonly level: Level;
  readonly reason: TlbFlushReason;
}

/** A context that records flushes in an array and treats every pfn range as one folio unless told otherwise. */
export interface RecordingContext extends PageTableContext {
  readonly flushes: TlbFlush[];
}

export function simpleContext(
  opts: { user?: boolean; folioCovers?: (pfn: number, nr: number) => boolean } = {},
): RecordingContext {
  const flushes: TlbFlush[] = [];
  const covers = opts.folioCovers ?? (() => true);
  return {
    user: opts.user ?? true,
    flushes,
    folioCovers: covers,
    flushTlbRange(start, end, stride, level, reason) {
      flushes.push({ start, end, stride, level, reason });
    },
  };
}
