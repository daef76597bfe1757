/*
 * kbench: the machine's own kernel on the workloads hugemm models.
 *
 * For each "<mode>:<bytes>" argument it maps that much anonymous private
 * memory, write-touches every base page and unmaps it, timing the touch and
 * the munmap with CLOCK_MONOTONIC, `reps` times after one untimed warm-up.
 * Mode "4k" advises MADV_NOHUGEPAGE (base pages only), "thp" MADV_HUGEPAGE
 * on a PMD-aligned range; after the touch it reads back how much of the
 * range was mapped huge (AnonHugePages in /proc/self/smaps).
 * Mode "fork" populates the range in base pages and times fork() (the
 * child exits at once; copying the page tables is the work). Mode "split"
 * populates it with THPs and times a write of "<pid>,<start>,<end>" to
 * debugfs split_huge_pages, mounting debugfs when it is not; where that
 * cannot be done the run is reported as skipped with the reason. Mode
 * "collapse" touches a PMD-aligned range in base pages (MADV_NOHUGEPAGE),
 * then times one MADV_COLLAPSE of the whole range (after MADV_HUGEPAGE,
 * which clears VM_NOHUGEPAGE: forced collapse honours it; retried on EAGAIN,
 * at most three calls in all) and reads back AnonHugePages.
 *
 * usage: kbench <reps> <mode>:<bytes> [<mode>:<bytes> ...]
 * Prints one JSON object on stdout; errors go to stderr with exit status 1.
 * Plain C99 with POSIX; madvise and the smaps read-back are Linux-only and
 * reported as unavailable elsewhere.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/mount.h>
#endif
#include <time.h>
#include <unistd.h>

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

#define THP_SYSFS "/sys/kernel/mm/transparent_hugepage/"
#define DEBUGFS "/sys/kernel/debug"
#define SPLIT_HUGE_PAGES DEBUGFS "/split_huge_pages"

/* Linux 6.1 uapi; older headers lack it. */
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

static double now_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("kbench: clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long minor_faults(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return ru.ru_minflt;
}

/* The first line of a sysfs file, without its newline, or "" when it cannot be read. */
static void read_line(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (f == NULL) return;
    if (fgets(buf, (int)len, f) == NULL) buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

/* Bytes of [start, start + len) mapped huge: AnonHugePages of every VMA overlapping it, or -1 when smaps is unreadable. */
static long long anon_huge_bytes(uintptr_t start, size_t len) {
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    long long total = 0;
    int inside = 0;
    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long lo, hi;
        long long kb;
        char dash;
        /* A VMA header starts "lo-hi perms ..."; field lines start with a name and a colon. */
        if (sscanf(line, "%lx%c%lx", &lo, &dash, &hi) == 3 && dash == '-') {
            inside = lo < start + len && hi > start;
        } else if (inside && sscanf(line, "AnonHugePages: %lld kB", &kb) == 1) {
            total += kb * 1024;
        }
    }
    fclose(f);
    return total;
}

/* JSON string contents: the sysfs values are plain ASCII, but escape quotes and backslashes anyway. */
static void print_json_string(const char *s) {
    putchar('"');
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        if ((unsigned char)*s >= 0x20) putchar(*s);
    }
    putchar('"');
}

struct rep {
    double fault_ns, munmap_ns;
    long faults;
    long long huge_bytes;
};

/* One map, touch, unmap cycle. Returns 0, or -1 with errno set when the mapping could not be made. */
static int cycle(int thp, size_t bytes, size_t page, size_t pmd, struct rep *out) {
    size_t span = thp ? bytes + pmd : bytes;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *p = raw;
    volatile char *v;
    size_t off;
    long f0;
    double t0, t1, t2;
    if (raw == MAP_FAILED) return -1;
    if (thp) {
        /* Align to a PMD boundary so every 2 MiB of the range can be one huge page; drop the slack. */
        uintptr_t a = ((uintptr_t)raw + pmd - 1) & ~(uintptr_t)(pmd - 1);
        p = (char *)a;
        if (p > raw) munmap(raw, (size_t)(p - raw));
        if (raw + span > p + bytes) munmap(p + bytes, (size_t)(raw + span - (p + bytes)));
    }
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
    /* Failure is not fatal: without THP support the range simply stays in base pages, and the huge bytes say so. */
    (void)madvise(p, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#endif
    v = p;
    f0 = minor_faults();
    t0 = now_ns();
    for (off = 0; off < bytes; off += page) v[off] = 1;
    t1 = now_ns();
    out->faults = minor_faults() - f0;
    out->huge_bytes = anon_huge_bytes((uintptr_t)p, bytes);
    t2 = now_ns();
    if (munmap(p, bytes) != 0) {
        perror("kbench: munmap");
        exit(1);
    }
    out->munmap_ns = now_ns() - t2;
    out->fault_ns = t1 - t0;
    return 0;
}

/*
 * A range of `bytes` populated with base pages (thp 0), THPs (thp 1, PMD
 * aligned) or base pages on a PMD-aligned range (thp 2, for MADV_COLLAPSE),
 * or NULL with errno set.
 */
static char *populate(int thp, size_t bytes, size_t page, size_t pmd) {
    size_t span = thp ? bytes + pmd : bytes;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *p = raw;
    volatile char *v;
    size_t off;
    if (raw == MAP_FAILED) return NULL;
    if (thp) {
        uintptr_t a = ((uintptr_t)raw + pmd - 1) & ~(uintptr_t)(pmd - 1);
        p = (char *)a;
        if (p > raw) munmap(raw, (size_t)(p - raw));
        if (raw + span > p + bytes) munmap(p + bytes, (size_t)(raw + span - (p + bytes)));
    }
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
    (void)madvise(p, bytes, thp == 1 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#endif
    v = p;
    for (off = 0; off < bytes; off += page) v[off] = (char)(off / page + 1);
    return p;
}

/* fork() of a process holding `bytes` of populated base pages: nanoseconds until fork returns in the parent. */
static double fork_cycle(size_t bytes, size_t page) {
    char *p = populate(0, bytes, page, 0);
    double t0, t1;
    pid_t pid;
    int status;
    if (p == NULL) {
        fprintf(stderr, "kbench: mmap of %lu bytes failed: %s\n", (unsigned long)bytes, strerror(errno));
        exit(1);
    }
    t0 = now_ns();
    pid = fork();
    if (pid == 0) _exit(0);
    t1 = now_ns();
    if (pid < 0) {
        perror("kbench: fork");
        exit(1);
    }
    if (waitpid(pid, &status, 0) != pid) {
        perror("kbench: waitpid");
        exit(1);
    }
    munmap(p, bytes);
    return t1 - t0;
}

/* Write `cmd` to debugfs split_huge_pages: 0, or -1 with errno set. */
static int write_split(const char *cmd) {
    FILE *f = fopen(SPLIT_HUGE_PAGES, "w");
    if (f == NULL) return -1;
    if (fputs(cmd, f) < 0) {
        int e = errno;
        fclose(f);
        errno = e;
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

/*
 * Why debugfs split_huge_pages cannot be used (mounting debugfs first if it
 * is not), or NULL when it can: a probe writes a range of this process that
 * maps nothing, which splits nothing.
 */
#ifdef __linux__
/* A debugfs this run mounted is unmounted when it exits: the machine is left as it was found. */
static void unmount_debugfs(void) {
    (void)umount(DEBUGFS);
}
#endif

static const char *split_unavailable(char *why, size_t len) {
    char probe[64];
    snprintf(probe, sizeof probe, "%ld,0x1000,0x2000", (long)getpid());
#ifdef __linux__
    static int mounted;
    if (!mounted && access(SPLIT_HUGE_PAGES, F_OK) != 0 && mount("debugfs", DEBUGFS, "debugfs", 0, NULL) == 0) {
        mounted = 1;
        atexit(unmount_debugfs);
    }
#endif
    if (write_split(probe) == 0) return NULL;
    snprintf(why, len, "debugfs split_huge_pages cannot be written here (%s: %s; it needs CONFIG_DEBUG_FS, debugfs mounted or mountable, and root)", SPLIT_HUGE_PAGES, strerror(errno));
    return why;
}

/* Split every THP of a populated range through debugfs: the nanoseconds the write took and the THPs it split, or -1 on failure. */
static double split_cycle(size_t bytes, size_t page, size_t pmd, long long *split) {
    char *p = populate(1, bytes, page, pmd);
    char cmd[128];
    long long before, after;
    double t0, t1;
    if (p == NULL) {
        fprintf(stderr, "kbench: mmap of %lu bytes failed: %s\n", (unsigned long)bytes, strerror(errno));
        exit(1);
    }
    before = anon_huge_bytes((uintptr_t)p, bytes);
    snprintf(cmd, sizeof cmd, "%ld,0x%lx,0x%lx", (long)getpid(), (unsigned long)(uintptr_t)p, (unsigned long)((uintptr_t)p + bytes));
    t0 = now_ns();
    if (write_split(cmd) != 0) {
        munmap(p, bytes);
        return -1;
    }
    t1 = now_ns();
    after = anon_huge_bytes((uintptr_t)p, bytes);
    *split = before < 0 || after < 0 ? -1 : (before - after) / (long long)pmd;
    munmap(p, bytes);
    return t1 - t0;
}

/*
 * MADV_COLLAPSE of a PMD-aligned range written in base pages: the
 * nanoseconds of the collapse, with the bytes then mapped huge in *huge
 * (-1 when smaps was unreadable). A failed MADV_COLLAPSE exits with its error.
 */
static double collapse_cycle(size_t bytes, size_t page, size_t pmd, long long *huge) {
    char *p = populate(2, bytes, page, pmd);
    double t0, t1;
    int tries = 0, rc;
    if (p == NULL) {
        fprintf(stderr, "kbench: mmap of %lu bytes failed: %s\n", (unsigned long)bytes, strerror(errno));
        exit(1);
    }
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
    t0 = now_ns();
    /* EAGAIN: a page was briefly held elsewhere (the selftest retries too); what collapsed stays collapsed. */
    while ((rc = madvise(p, bytes, MADV_COLLAPSE)) != 0 && errno == EAGAIN && ++tries < 3) continue;
    if (rc != 0) {
        fprintf(stderr, "kbench: MADV_COLLAPSE of %lu bytes failed: %s\n", (unsigned long)bytes, strerror(errno));
        exit(1);
    }
    t1 = now_ns();
    *huge = anon_huge_bytes((uintptr_t)p, bytes);
    munmap(p, bytes);
    return t1 - t0;
}

int main(int argc, char **argv) {
    char enabled[256], pmd_text[64];
    long page = sysconf(_SC_PAGESIZE);
    size_t pmd;
    int reps, i, r;
    if (argc < 3) {
        fprintf(stderr, "usage: kbench <reps> <mode>:<bytes> [<mode>:<bytes> ...] (mode 4k, thp, fork, split or collapse)\n");
        return 1;
    }
    reps = atoi(argv[1]);
    if (reps < 1 || reps > 1000) {
        fprintf(stderr, "kbench: reps must be in [1, 1000], got \"%s\"\n", argv[1]);
        return 1;
    }
    read_line(THP_SYSFS "enabled", enabled, sizeof enabled);
    read_line(THP_SYSFS "hpage_pmd_size", pmd_text, sizeof pmd_text);
    pmd = pmd_text[0] != '\0' ? (size_t)strtoull(pmd_text, NULL, 10) : (size_t)2 << 20;
    if (pmd == 0 || (pmd & (pmd - 1)) != 0) pmd = (size_t)2 << 20;

    printf("{\"schema\":\"hugemm-kbench/1\",\"page_size\":%ld,\"pmd_size\":%lu,\"thp_enabled\":", page, (unsigned long)pmd);
    print_json_string(enabled);
    printf(",\"thp_available\":%s,\"runs\":[", enabled[0] != '\0' ? "true" : "false");
    for (i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char *colon = strchr(arg, ':');
        char *end;
        unsigned long long bytes;
        int thp;
        struct rep rep;
        int fork_run, split_run, collapse_run;
        if (colon == NULL || (strncmp(arg, "4k:", 3) != 0 && strncmp(arg, "thp:", 4) != 0 && strncmp(arg, "fork:", 5) != 0 && strncmp(arg, "split:", 6) != 0 && strncmp(arg, "collapse:", 9) != 0)) {
            fprintf(stderr, "kbench: bad run \"%s\": expected 4k:<bytes>, thp:<bytes>, fork:<bytes>, split:<bytes> or collapse:<bytes>\n", arg);
            return 1;
        }
        fork_run = arg[0] == 'f';
        split_run = arg[0] == 's';
        collapse_run = arg[0] == 'c';
        thp = arg[0] == 't' || split_run || collapse_run;
        errno = 0;
        bytes = strtoull(colon + 1, &end, 10);
        if (errno != 0 || *end != '\0' || bytes == 0 || bytes % (unsigned long long)(thp ? pmd : (size_t)page) != 0) {
            fprintf(stderr, "kbench: bad size in \"%s\": expected a positive multiple of %lu bytes\n", arg, (unsigned long)(thp ? pmd : (size_t)page));
            return 1;
        }
        if (collapse_run) {
            printf("%s{\"mode\":\"collapse\",\"bytes\":%llu,\"reps\":[", i > 2 ? "," : "", bytes);
            for (r = -1; r < reps; r++) {
                long long huge = 0;
                double ns = collapse_cycle((size_t)bytes, (size_t)page, pmd, &huge);
                if (r < 0) continue;
                printf("%s{\"collapse_ns\":%.0f,\"anon_huge_bytes\":%lld}", r > 0 ? "," : "", ns, huge);
            }
            printf("]}");
            fflush(stdout);
            continue;
        }
        if (fork_run || split_run) {
            char why[512];
            const char *skip = split_run ? split_unavailable(why, sizeof why) : NULL;
            printf("%s{\"mode\":\"%s\",\"bytes\":%llu", i > 2 ? "," : "", fork_run ? "fork" : "split", bytes);
            if (skip != NULL) {
                printf(",\"skipped\":");
                print_json_string(skip);
                printf(",\"reps\":[]}");
                continue;
            }
            printf(",\"reps\":[");
            for (r = -1; r < reps; r++) {
                long long split = 0;
                double ns = fork_run ? fork_cycle((size_t)bytes, (size_t)page) : split_cycle((size_t)bytes, (size_t)page, pmd, &split);
                if (ns < 0) {
                    fprintf(stderr, "kbench: writing %s failed: %s\n", SPLIT_HUGE_PAGES, strerror(errno));
                    return 1;
                }
                if (r < 0) continue;
                if (fork_run) printf("%s{\"fork_ns\":%.0f}", r > 0 ? "," : "", ns);
                else printf("%s{\"split_ns\":%.0f,\"split\":%lld}", r > 0 ? "," : "", ns, split);
            }
            printf("]}");
            fflush(stdout);
            continue;
        }
        printf("%s{\"mode\":\"%s\",\"bytes\":%llu,\"reps\":[", i > 2 ? "," : "", thp ? "thp" : "4k", bytes);
        /* r = -1 is the warm-up: the first touch of memory the machine has not handed out before costs more. */
        for (r = -1; r < reps; r++) {
            if (cycle(thp, (size_t)bytes, (size_t)page, pmd, &rep) != 0) {
                fprintf(stderr, "kbench: mmap of %llu bytes failed: %s\n", bytes, strerror(errno));
                return 1;
            }
            if (r < 0) continue;
            printf("%s{\"fault_ns\":%.0f,\"munmap_ns\":%.0f,\"minflt\":%ld,\"anon_huge_bytes\":%lld}", r > 0 ? "," : "", rep.fault_ns, rep.munmap_ns, rep.faults, rep.huge_bytes);
        }
        printf("]}");
        fflush(stdout);
    }
    printf("]}\n");
    return 0;
}
