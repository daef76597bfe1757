/*
 * The primitives a collapse is built from, for feature packages that
 * assemble one (khugepaged, MADV_COLLAPSE): the same helpers the core's own
 * fault, reclaim and migration paths use, so a collapsed folio is mapped,
 * counted and put back exactly as the core would do it.
 */

/** folio_put: drop references; at zero the folio leaves its LRU list and queues and is freed. */
export { folioPut } from "../folio/put";
/** folio_expected_ref_count: the references a folio has when only its mappings and caches hold it. */
export { expectedRefs as folioExpectedRefCount } from "../migrate/move";
/** NR_ISOLATED_ANON / NR_ISOLATED_FILE for a folio taken off (+1) or put back on (-1) the LRU. */
export { isolatedStat, putbackLru } from "../vmscan/isolate";
/** map_anon_folio_pmd_nopf: a new anonymous folio mapped whole at PMD (or PUD) level. */
export { mapAnonFolioHuge, countMthp } from "./map";
/** pte_free of a table of an mm that is linked nowhere. */
export { freeTableOf } from "./deposit";
