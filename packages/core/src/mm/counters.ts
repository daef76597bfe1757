/** The per-mm rss counters (enum mm_counter_type, mm->rss_stat). */
export const MM_FILEPAGES = 0;
export const MM_ANONPAGES = 1;
export const MM_SWAPENTS = 2;
export const MM_SHMEMPAGES = 3;
export const NR_MM_COUNTERS = 4;

export const MM_COUNTER_NAMES = ["MM_FILEPAGES", "MM_ANONPAGES", "MM_SWAPENTS", "MM_SHMEMPAGES"] as const;
