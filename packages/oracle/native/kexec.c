/*
 * kexec: run a hugemm step list on the machine's own kernel and report what
 * the kernel shows at each checkpoint.
 *
 * usage: kexec [--sysroot DIR] [--lock FILE] [--journal FILE] [--no-quiesce]
 *
 * Steps come on stdin, one per line, tokens separated by spaces (the format
 * is written by @hugemm/oracle's encoder and documented in its README). The
 * coordinator (this process) never maps scenario memory itself: each
 * scenario process is a worker it forked, or a worker's child, driven over a
 * pair of FIFOs. The coordinator reads each worker's /proc files when a
 * checkpoint asks for a report.
 *
 * Machine settings (sysfs and /proc/sys files) are written only by `set`
 * lines. Each file's original value goes to a journal before the first write
 * to it; the journal is replayed (and removed) on exit, on error, on SIGINT,
 * SIGTERM, SIGHUP and on the parent's death, and by the next run when this
 * one was killed outright. A machine-wide flock serialises runs.
 *
 * Output on stdout, one record per line: "ok I [v]", "err I ERRNO [text]",
 * "fault I SIGNAL pages", "unsupported I why", then for a report
 * "checkpoint NAME", per process "proc PID", "status K V", "rollup K V",
 * "vma NAME START END PERMS K=V ...", "census NAME RLE", then "vmstat K V",
 * "meminfo K V" and "endcheckpoint". A fatal error prints "fatal I text" and
 * exits 1 after restoring the settings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROCS 64
#define MAX_NAMES 64
#define MAX_FILES 16
#define MAX_SETTINGS 64
#define LINE 4096
#define PAGE 4096UL
/* The arena's alignment: scenario mappings start below a fresh top-level table entry, as in a fresh mm. */
#define ARENA_ALIGN (1UL << 39)
#define ARENA_LEN (2UL << 39)

static const char *sysroot = "";
static const char *lock_path = "/run/lock/hugemm-kdiff.lock";
static const char *journal_path = "/run/lock/hugemm-kdiff.journal";
static char fifo_dir[256];

/* ---- settings journal ---- */

struct saved {
    char path[512];
    char value[256];
};
static struct saved saved[MAX_SETTINGS];
static volatile sig_atomic_t nsaved;
static volatile sig_atomic_t restoring;

/* The selected word of "a [b] c", or the whole text without its newline. */
static void selected_value(const char *text, char *out, size_t len) {
    const char *l = strchr(text, '['), *r = l ? strchr(l, ']') : NULL;
    if (l && r && (size_t)(r - l - 1) < len) {
        memcpy(out, l + 1, (size_t)(r - l - 1));
        out[r - l - 1] = '\0';
        return;
    }
    snprintf(out, len, "%s", text);
    out[strcspn(out, "\n")] = '\0';
}

static int read_file(const char *path, char *buf, size_t len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, buf, len - 1);
    int e = errno;
    close(fd);
    if (n < 0) return -e;
    buf[n] = '\0';
    return (int)n;
}

/* Write `value` to `path` with one write(2); 0 or the errno. Async-signal-safe. */
static int write_value(const char *path, const char *value) {
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0) return errno;
    size_t n = strlen(value);
    ssize_t w = write(fd, value, n);
    int e = w < 0 ? errno : 0;
    close(fd);
    return e;
}

/* Put back every saved value, newest first, then drop the journal. Async-signal-safe. */
static void restore_all(void) {
    if (restoring) return;
    restoring = 1;
    for (int i = nsaved - 1; i >= 0; i--) write_value(saved[i].path, saved[i].value);
    nsaved = 0;
    unlink(journal_path);
    restoring = 0;
}

static void write_journal(void) {
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", journal_path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        printf("fatal -1 cannot write the settings journal %s: %s\n", tmp, strerror(errno));
        restore_all();
        exit(1);
    }
    for (int i = 0; i < nsaved; i++) fprintf(f, "%s\t%s\n", saved[i].path, saved[i].value);
    fflush(f);
    fsync(fileno(f));
    fclose(f);
    rename(tmp, journal_path);
}

/* A journal left by a run that was killed: put its values back before anything else. */
static void recover_journal(void) {
    FILE *f = fopen(journal_path, "r");
    if (f == NULL) return;
    char line[800];
    int n = 0;
    struct saved old[MAX_SETTINGS];
    while (n < MAX_SETTINGS && fgets(line, sizeof line, f) != NULL) {
        char *tab = strchr(line, '\t');
        if (tab == NULL) continue;
        *tab = '\0';
        line[strcspn(tab + 1, "\n") + (size_t)(tab + 1 - line)] = '\0';
        snprintf(old[n].path, sizeof old[n].path, "%s", line);
        snprintf(old[n].value, sizeof old[n].value, "%s", tab + 1);
        n++;
    }
    fclose(f);
    for (int i = n - 1; i >= 0; i--) {
        int e = write_value(old[i].path, old[i].value);
        printf("recovered %s %s %s\n", old[i].path, old[i].value, e ? strerrorname_np(e) : "ok");
    }
    unlink(journal_path);
}

/* Save `path`'s value (once) and write `value`; 0 or the errno the kernel returned. */
static int set_setting(const char *path, const char *value, char *why, size_t whylen) {
    int known = 0;
    for (int i = 0; i < nsaved; i++)
        if (strcmp(saved[i].path, path) == 0) known = 1;
    if (!known) {
        char text[1024];
        int r = read_file(path, text, sizeof text);
        if (r < 0) {
            snprintf(why, whylen, "cannot read %s: %s", path, strerror(-r));
            return -r;
        }
        if (nsaved >= MAX_SETTINGS) {
            snprintf(why, whylen, "more than %d settings", MAX_SETTINGS);
            return E2BIG;
        }
        struct saved *s = &saved[nsaved];
        snprintf(s->path, sizeof s->path, "%s", path);
        selected_value(text, s->value, sizeof s->value);
        nsaved++;
        write_journal();
    }
    int e = write_value(path, value);
    if (e) snprintf(why, whylen, "writing \"%s\" to %s: %s", value, path, strerror(e));
    return e;
}

static void on_signal(int sig) {
    restore_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- workers ---- */

struct proc {
    int id;       /* scenario pid, 0 when the slot is free */
    pid_t pid;
    FILE *cmd;
    FILE *rep;
    int nnames;
    char names[MAX_NAMES][64];
    uintptr_t addr[MAX_NAMES];
    size_t len[MAX_NAMES];
};
static struct proc procs[MAX_PROCS];
static int file_fd[MAX_FILES];
static char file_name[MAX_FILES][64];
static int nfiles;
static uintptr_t arena;

static struct proc *proc_of(int id) {
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].id == id) return &procs[i];
    return NULL;
}

static struct proc *new_proc(int id) {
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].id == 0) {
            memset(&procs[i], 0, sizeof procs[i]);
            procs[i].id = id;
            return &procs[i];
        }
    return NULL;
}

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_sig;

static void on_fault(int sig) {
    fault_sig = sig;
    siglongjmp(fault_jmp, 1);
}

/* Drain this CPU's LRU batches (every worker runs on one CPU), so page flags read the same at every report. */
static void drain_lru(void) {
    madvise((void *)arena, PAGE, MADV_COLD);
}

static void fifo_paths(int id, char *cmd, char *rep) {
    sprintf(cmd, "%s/c%d", fifo_dir, id);
    sprintf(rep, "%s/r%d", fifo_dir, id);
}

static void worker_loop(int in, int out);

/*
 * A worker's I/O is raw reads and writes of static buffers: no stdio, no
 * malloc, so that a worker (and a child it forks) maps no page of its own
 * while the scenario runs and its rss is the scenario's plus a constant.
 */
static char wbuf[256];

static void reply(int out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(int out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(wbuf, sizeof wbuf, fmt, ap);
    va_end(ap);
    if (n > 0 && write(out, wbuf, (size_t)n) < 0) _exit(4);
}

/* One line from fd into line (without the newline); 0 at EOF. */
static char rbuf[LINE];
static size_t rlen;

static int read_line(int in, char *line, size_t len) {
    for (;;) {
        char *nl = memchr(rbuf, '\n', rlen);
        if (nl != NULL) {
            size_t n = (size_t)(nl - rbuf);
            if (n >= len) n = len - 1;
            memcpy(line, rbuf, n);
            line[n] = '\0';
            rlen -= (size_t)(nl - rbuf) + 1;
            memmove(rbuf, nl + 1, rlen);
            return 1;
        }
        if (rlen == sizeof rbuf) rlen = 0;
        ssize_t r = read(in, rbuf + rlen, sizeof rbuf - rlen);
        if (r <= 0) return 0;
        rlen += (size_t)r;
    }
}

/* The worker's side of a command: one line in, one line out. */
static void worker_command(char *line, int in, int out) {
    char op[32];
    unsigned long a = 0, b = 0, c = 0, d = 0, e = 0;
    long fd = -1;
    if (sscanf(line, "%31s", op) != 1) return;
    if (strcmp(op, "mmap") == 0) {
        sscanf(line, "%*s %lx %lu %lu %lu %ld %lu", &a, &b, &c, &d, &fd, &e);
        void *p = mmap((void *)a, b, (int)c, (int)d, (int)fd, (off_t)e);
        if (p == MAP_FAILED) reply(out, "err %s\n", strerrorname_np(errno));
        else reply(out, "ok %lx\n", (unsigned long)p);
    } else if (strcmp(op, "munmap") == 0 || strcmp(op, "mprotect") == 0 || strcmp(op, "madvise") == 0) {
        sscanf(line, "%*s %lx %lu %lu", &a, &b, &c);
        int r = op[1] == 'u' ? munmap((void *)a, b) : op[1] == 'p' ? mprotect((void *)a, b, (int)c) : madvise((void *)a, b, (int)c);
        if (r != 0) reply(out, "err %s\n", strerrorname_np(errno));
        else reply(out, "ok\n");
    } else if (strcmp(op, "mremap") == 0) {
        sscanf(line, "%*s %lx %lu %lu %lu %lx", &a, &b, &c, &d, &e);
        void *p = mremap((void *)a, b, c, (int)d, (void *)e);
        if (p == MAP_FAILED) reply(out, "err %s\n", strerrorname_np(errno));
        else reply(out, "ok %lx\n", (unsigned long)p);
    } else if (strcmp(op, "touch") == 0) {
        /* touch ADDR LEN WRITE PATTERN: one access per base page, as the model's touch. */
        sscanf(line, "%*s %lx %lu %lu %lu", &a, &b, &c, &d);
        volatile unsigned long pages = 0;
        uintptr_t start = a & ~(PAGE - 1), end = (a + b + PAGE - 1) & ~(PAGE - 1);
        fault_sig = 0;
        if (sigsetjmp(fault_jmp, 1) == 0) {
            for (uintptr_t p = start; p < end; p += PAGE) {
                uintptr_t at = p < a ? a : p;
                if (c) *(volatile uint64_t *)(at & ~7UL) = (d + 1) * 0x9e3779b97f4a7c15ULL ^ p;
                else (void)*(volatile uint8_t *)at;
                pages++;
            }
            reply(out, "ok %lu\n", pages);
        } else {
            reply(out, "fault %s %lu\n", fault_sig == SIGBUS ? "SIGBUS" : "SIGSEGV", pages);
        }
    } else if (strcmp(op, "fork") == 0) {
        int child;
        sscanf(line, "%*s %d", &child);
        pid_t p = fork();
        if (p < 0) {
            reply(out, "err %s\n", strerrorname_np(errno));
        } else if (p == 0) {
            /* No death signal: the child outlives its parent, as the scenario's processes do; EOF on its FIFO (the coordinator gone) ends it. */
            /* The parent's pipes stay the parent's: its exit must reach the coordinator as EOF. */
            close(in);
            close(out);
            rlen = 0;
            char cp[300], rp[300];
            fifo_paths(child, cp, rp);
            int in2 = open(cp, O_RDONLY);
            int out2 = open(rp, O_WRONLY);
            if (in2 < 0 || out2 < 0) _exit(3);
            worker_loop(in2, out2);
            _exit(0);
        } else {
            reply(out, "ok %d\n", (int)p);
        }
    } else if (strcmp(op, "exit") == 0) {
        _exit(0);
    } else if (strcmp(op, "nop") == 0) {
        reply(out, "ok\n");
    } else {
        reply(out, "err EINVAL unknown worker command %s\n", op);
    }
}

static char altstack[65536];

static void worker_loop(int in, int out) {
    static char line[LINE];
    /* The fault handler runs on a stack touched in advance, so a fault maps no new page of the worker's own. */
    memset(altstack, 1, sizeof altstack);
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_ONSTACK;
    sa.sa_handler = on_fault;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    signal(SIGCHLD, SIG_IGN);
    while (read_line(in, line, sizeof line)) {
        worker_command(line, in, out);
        drain_lru();
    }
    _exit(0);
}

/* Send one command to a worker and read its one-line answer; NULL when the worker died. */
static char *ask(struct proc *p, const char *cmd, char *reply, size_t len) {
    if (fputs(cmd, p->cmd) < 0 || fflush(p->cmd) != 0) return NULL;
    if (fgets(reply, (int)len, p->rep) == NULL) return NULL;
    reply[strcspn(reply, "\n")] = '\0';
    return reply;
}

static void forget(struct proc *p) {
    if (p->cmd) fclose(p->cmd);
    if (p->rep) fclose(p->rep);
    p->id = 0;
}

/* How a worker that stopped answering ended. */
static void died(int step, struct proc *p) {
    int st = 0;
    char how[64] = "it stopped answering";
    /* Its own parent or, once that is gone, this subreaper collects it: wait a little for the status. */
    pid_t w = 0;
    for (int i = 0; i < 200 && (w = waitpid(p->pid, &st, WNOHANG)) == 0; i++) usleep(1000);
    if (w == p->pid) {
        if (WIFSIGNALED(st)) snprintf(how, sizeof how, "killed by SIG%s", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
        else if (WIFEXITED(st)) snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(st));
    }
    printf("fatal %d process %d (pid %d) died: %s\n", step, p->id, (int)p->pid, how);
    restore_all();
    exit(1);
}

/*
 * Global counters judged exactly: their change is summed over the steps
 * alone (read just before and just after each one), so that what other
 * processes do between steps does not count.
 */
#define MAX_JUDGED 64
static char judged[MAX_JUDGED][64];
static int njudged;
static long long judged_delta[MAX_JUDGED];

static void read_judged(long long *out) {
    static char buf[65536];
    for (int i = 0; i < njudged; i++) out[i] = 0;
    for (int f = 0; f < 2; f++) {
        if (read_file(f == 0 ? "/proc/vmstat" : "/proc/meminfo", buf, sizeof buf) < 0) continue;
        for (char *l = buf; *l;) {
            char *nl = strchr(l, '\n');
            size_t n = strcspn(l, f == 0 ? " " : ":");
            for (int i = 0; i < njudged; i++)
                if (strlen(judged[i]) == n && strncmp(l, judged[i], n) == 0) out[i] = strtoll(l + n + 1, NULL, 10);
            if (nl == NULL) break;
            l = nl + 1;
        }
    }
}

/* ---- reports ---- */

static void report_status(pid_t pid) {
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (read_file(path, buf, sizeof buf) < 0) return;
    static const char *keys[] = {"RssAnon:", "RssFile:", "RssShmem:", "VmPTE:", "HugetlbPages:", NULL};
    for (char *l = strtok(buf, "\n"); l != NULL; l = strtok(NULL, "\n"))
        for (int i = 0; keys[i]; i++)
            if (strncmp(l, keys[i], strlen(keys[i])) == 0) {
                long v = 0;
                sscanf(l + strlen(keys[i]), "%ld", &v);
                printf("status %.*s %ld\n", (int)strlen(keys[i]) - 1, keys[i], v);
            }
}

/* "Key:   123 kB" lines as "prefix Key 123". */
static void kv_lines(const char *prefix, char *text) {
    for (char *l = strtok(text, "\n"); l != NULL; l = strtok(NULL, "\n")) {
        char key[64];
        long v;
        if (sscanf(l, "%63[^:]: %ld", key, &v) == 2 && strchr(key, ' ') == NULL) printf("%s %s %ld\n", prefix, key, v);
    }
}

static void report_rollup(pid_t pid) {
    char path[64];
    static char buf[16384];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    if (read_file(path, buf, sizeof buf) < 0) return;
    char *nl = strchr(buf, '\n');
    if (nl) kv_lines("rollup", nl + 1);
}

/* Each VMA of /proc/pid/smaps that overlaps [addr, addr+len), with offsets relative to addr. */
static void report_vmas(pid_t pid, const char *name, uintptr_t addr, size_t len) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    char line[1024];
    int in = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long s, e;
        char perms[8];
        /* A header: "start-end perms offset dev inode [name]"; no field line parses as two hex numbers. */
        if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3) {
            if (in) printf("\n");
            in = s < addr + len && e > addr;
            if (in) printf("vma %s %ld %ld %s", name, (long)(s - addr), (long)(e - addr), perms);
            continue;
        }
        if (!in) continue;
        char key[64], val[512];
        long v;
        if (strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(val, sizeof val, "%s", line + 8);
            val[strcspn(val, "\n")] = '\0';
            for (char *p = val; *p; p++)
                if (*p == ' ') *p = ',';
            char *t = val;
            while (*t == ',') t++;
            size_t n = strlen(t);
            while (n > 0 && t[n - 1] == ',') t[--n] = '\0';
            printf(" VmFlags=%s", t);
        } else if (sscanf(line, "%63[^:]: %ld", key, &v) == 2) {
            printf(" %s=%ld", key, v);
        }
    }
    if (in) printf("\n");
    fclose(f);
}

/*
 * The per-page census of [addr, addr+len): for each page its pagemap flag
 * bits (the PFN masked out), its kpageflags and kpagecount, and the order of
 * its folio (found by walking kpageflags to the head and over the tails),
 * written as hex "pagemap:kpageflags:count:order" and run-length encoded
 * with "*<n>". @hugemm/oracle's census decoder reads these.
 */
#define PM_PRESENT (1ULL << 63)
#define PFN_MASK ((1ULL << 55) - 1)
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
/* The kpageflags bits the census reads: anon, swapbacked, head, tail, huge, THP, zero page. */
#define KPF_KEPT ((1ULL << 12) | (1ULL << 14) | (1ULL << 15) | (1ULL << 16) | (1ULL << 17) | (1ULL << 22) | (1ULL << 24))

static int kpf_fd = -1, kpc_fd = -1;

static uint64_t kpf(uint64_t pfn) {
    uint64_t v = 0;
    if (pread(kpf_fd, &v, 8, (off_t)(pfn * 8)) != 8) return 0;
    return v;
}

/* The order of the folio holding pfn, and its head. */
static int folio_order(uint64_t pfn, uint64_t flags, uint64_t *headp) {
    *headp = pfn;
    if (!(flags & (1ULL << KPF_COMPOUND_HEAD)) && !(flags & (1ULL << KPF_COMPOUND_TAIL))) return 0;
    uint64_t head = pfn;
    while (head > 0 && (kpf(head) & (1ULL << KPF_COMPOUND_TAIL))) head--;
    uint64_t n = 1;
    while (n < (1ULL << 20) && (kpf(head + n) & (1ULL << KPF_COMPOUND_TAIL))) n++;
    int order = 0;
    while ((1ULL << order) < n) order++;
    *headp = head;
    return order;
}

static void report_census(pid_t pid, const char *name, uintptr_t addr, size_t len) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    printf("census %s ", name);
    char prev[96] = "", cur[96];
    unsigned long run = 0, first = 1;
    uint64_t lo = 1, hi = 0;
    int order = 0;
    /* pagemap in chunks: one read per 512 pages. */
    static uint64_t chunk[512];
    uintptr_t chunk_at = 0;
    size_t chunk_n = 0;
    for (uintptr_t p = addr; p < addr + len; p += PAGE) {
        uint64_t e = 0, fl = 0, count = 0;
        if (p < chunk_at || p >= chunk_at + chunk_n * PAGE) {
            size_t want = (addr + len - p) / PAGE;
            if (want > 512) want = 512;
            ssize_t got = pread(fd, chunk, want * 8, (off_t)(p / PAGE * 8));
            chunk_at = p;
            chunk_n = got > 0 ? (size_t)got / 8 : 0;
        }
        if (p < chunk_at + chunk_n * PAGE) e = chunk[(p - chunk_at) / PAGE];
        if (e & PM_PRESENT) {
            uint64_t pfn = e & PFN_MASK, head;
            fl = kpf(pfn);
            if (pread(kpc_fd, &count, 8, (off_t)(pfn * 8)) != 8) count = 0;
            if (!(pfn >= lo && pfn < hi)) {
                order = folio_order(pfn, fl, &head);
                lo = head;
                hi = head + (1ULL << order);
            }
            e &= ~PFN_MASK;
        } else {
            e &= ~PFN_MASK;
            order = 0;
            lo = 1, hi = 0;
        }
        snprintf(cur, sizeof cur, "%llx:%llx:%llu:%d", (unsigned long long)e, (unsigned long long)(fl & KPF_KEPT), (unsigned long long)count, (e & PM_PRESENT) ? order : 0);
        if (run > 0 && strcmp(cur, prev) == 0) {
            run++;
            continue;
        }
        if (run > 0) printf("%s%s*%lu", first ? "" : ",", prev, run), first = 0;
        strcpy(prev, cur);
        run = 1;
    }
    if (run > 0) printf("%s%s*%lu", first ? "" : ",", prev, run);
    printf("\n");
    close(fd);
}

static void report_global(const char *prefix, const char *path) {
    static char buf[65536];
    if (read_file(path, buf, sizeof buf) < 0) return;
    if (prefix[0] == 'v') {
        for (char *l = strtok(buf, "\n"); l != NULL; l = strtok(NULL, "\n")) {
            char key[96];
            long long v;
            if (sscanf(l, "%95s %lld", key, &v) == 2) printf("vmstat %s %lld\n", key, v);
        }
    } else {
        kv_lines("meminfo", buf);
    }
}

static void report(const char *label) {
    printf("checkpoint %s\n", label);
    for (int id = 1; id < 1 << 20; id++) {
        struct proc *p = proc_of(id);
        if (p == NULL) {
            int more = 0;
            for (int i = 0; i < MAX_PROCS; i++)
                if (procs[i].id > id) more = 1;
            if (!more) break;
            continue;
        }
        printf("proc %d\n", p->id);
        report_status(p->pid);
        report_rollup(p->pid);
        for (int i = 0; i < p->nnames; i++) {
            if (p->len[i] == 0) continue;
            printf("range %s %lu\n", p->names[i], (unsigned long)p->len[i]);
            report_vmas(p->pid, p->names[i], p->addr[i], p->len[i]);
            report_census(p->pid, p->names[i], p->addr[i], p->len[i]);
        }
    }
    for (int i = 0; i < njudged; i++) {
        printf("judged %s %lld\n", judged[i], judged_delta[i]);
        judged_delta[i] = 0;
    }
    report_global("vmstat", "/proc/vmstat");
    report_global("meminfo", "/proc/meminfo");
    printf("endcheckpoint\n");
    fflush(stdout);
}

/*
 * Fill the holes between the mappings above the arena (between the
 * libraries) with PROT_NONE reservations, so that a top-down search finds
 * nothing above the arena: a fresh mm has no such holes. The gap below the
 * stack stays, so the stack can grow.
 */
static void fill_holes(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL) return;
    unsigned long starts[512], ends[512];
    int n = 0, stack = -1;
    char line[512];
    while (n < 512 && fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "%lx-%lx", &starts[n], &ends[n]) != 2) continue;
        if (strstr(line, "[stack]") != NULL) stack = n;
        n++;
    }
    fclose(f);
    for (int i = 0; i + 1 < n && (stack < 0 || i + 1 < stack); i++) {
        if (ends[i] < arena || starts[i + 1] <= ends[i]) continue;
        mmap((void *)ends[i], starts[i + 1] - ends[i], PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    }
}

/*
 * Build options of this kernel the model must match, read from what they
 * show: CONFIG_MEM_SOFT_DIRTY marks every new VMA VM_SOFTDIRTY ("sd").
 */
static void report_build(void) {
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[1024];
    int in = 0, sd = 0;
    if (f == NULL) return;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long s, e;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3) in = s == arena;
        else if (in && strncmp(line, "VmFlags:", 8) == 0) sd = strstr(line, " sd") != NULL;
    }
    fclose(f);
    printf("build softdirty %d\n", sd);
}

/* ---- the coordinator ---- */

static void bind_name(struct proc *p, const char *name, uintptr_t addr, size_t len) {
    for (int i = 0; i < p->nnames; i++)
        if (strcmp(p->names[i], name) == 0) {
            p->addr[i] = addr;
            p->len[i] = len;
            return;
        }
    if (p->nnames >= MAX_NAMES) return;
    snprintf(p->names[p->nnames], 64, "%s", name);
    p->addr[p->nnames] = addr;
    p->len[p->nnames] = len;
    p->nnames++;
}

/* "name+off" (off signed, decimal), "=hex" (absolute) or "0". */
static int resolve(struct proc *p, const char *spec, uintptr_t *out) {
    if (spec[0] == '=') {
        *out = (uintptr_t)strtoull(spec + 1, NULL, 16);
        return 0;
    }
    if (strcmp(spec, "0") == 0) {
        *out = 0;
        return 0;
    }
    char name[64];
    long long off = 0;
    size_t n = strcspn(spec, "+-");
    if (n >= sizeof name) return -1;
    memcpy(name, spec, n);
    name[n] = '\0';
    if (spec[n]) off = strtoll(spec + n, NULL, 10);
    for (int i = 0; i < p->nnames; i++)
        if (strcmp(p->names[i], name) == 0) {
            if (p->len[i] == 0 && p->addr[i] == 0) return -1;
            *out = p->addr[i] + (uintptr_t)off;
            return 0;
        }
    return -1;
}

static struct proc *spawn_worker(int id) {
    struct proc *p = new_proc(id);
    int c[2], r[2];
    if (p == NULL || pipe(c) != 0 || pipe(r) != 0) return NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return NULL;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(c[1]);
        close(r[0]);
        /* Other workers' pipes stay the coordinator's alone, so that its death reaches each of them as EOF. */
        for (int i = 0; i < MAX_PROCS; i++)
            if (procs[i].id != 0 && &procs[i] != p) {
                if (procs[i].cmd) close(fileno(procs[i].cmd));
                if (procs[i].rep) close(fileno(procs[i].rep));
            }
        worker_loop(c[0], r[1]);
    }
    close(c[0]);
    close(r[1]);
    p->pid = pid;
    p->cmd = fdopen(c[1], "w");
    p->rep = fdopen(r[0], "r");
    return p;
}

/*
 * A new worker answers one command before anything is measured, so its own
 * buffers and stack are in place; then its status is the baseline the
 * scenario's changes are measured from.
 */
static int warm_up(struct proc *p) {
    char reply[64];
    if (ask(p, "nop\n", reply, sizeof reply) == NULL) return -1;
    drain_lru();
    printf("baseline %d %d\n", p->id, (int)p->pid);
    report_status(p->pid);
    report_rollup(p->pid);
    return 0;
}

static int file_index(const char *name) {
    for (int i = 0; i < nfiles; i++)
        if (strcmp(file_name[i], name) == 0) return i;
    return -1;
}

static int op_step(int idx, const char *op, char *args);

/* One step line; returns 0, or 1 when the run must stop. */
static int step(char *line) {
    int idx;
    char op[32];
    if (sscanf(line, "%d %31s", &idx, op) != 2) {
        printf("fatal -1 bad step line: %s\n", line);
        return 1;
    }
    char *args = line;
    for (int i = 0; i < 2; i++) {
        args += strspn(args, " ");
        args += strcspn(args, " ");
    }
    args += strspn(args, " ");
    if (strcmp(op, "report") == 0) {
        report(args);
        return 0;
    }
    if (strcmp(op, "judge") == 0) {
        for (char *t = strtok(args, " "); t != NULL && njudged < MAX_JUDGED; t = strtok(NULL, " ")) snprintf(judged[njudged++], 64, "%s", t);
        printf("ok %d\n", idx);
        return 0;
    }
    long long before[MAX_JUDGED], after[MAX_JUDGED];
    read_judged(before);
    int r = op_step(idx, op, args);
    read_judged(after);
    for (int i = 0; i < njudged; i++) judged_delta[i] += after[i] - before[i];
    return r;
}

/* A step that acts: everything but report and judge. */
static int op_step(int idx, const char *op, char *args) {
    char cmd[LINE], reply[LINE];
    if (strcmp(op, "set") == 0) {
        char rel[400], value[256], path[800], why[1200];
        if (sscanf(args, "%399s %255[^\n]", rel, value) != 2) {
            printf("fatal %d bad set line\n", idx);
            return 1;
        }
        snprintf(path, sizeof path, "%s%s", sysroot, rel);
        if (access(path, F_OK) != 0) {
            printf("unsupported %d no such file %s\n", idx, rel);
            return 0;
        }
        int e = set_setting(path, value, why, sizeof why);
        if (e) {
            printf("err %d %s %s\n", idx, strerrorname_np(e), why);
            return 1;
        }
        printf("ok %d\n", idx);
        return 0;
    }
    if (strcmp(op, "poke") == 0) {
        /* A one-shot write to a /proc/sys file that is an action, not a setting (drop_caches, compact_memory). */
        char rel[400], value[64], path[800];
        sscanf(args, "%399s %63s", rel, value);
        snprintf(path, sizeof path, "%s%s", sysroot, rel);
        if (access(path, F_OK) != 0) {
            printf("unsupported %d no such file %s\n", idx, rel);
            return 0;
        }
        int e = write_value(path, value);
        if (e) printf("err %d %s writing %s\n", idx, strerrorname_np(e), rel);
        else printf("ok %d\n", idx);
        return 0;
    }
    if (strcmp(op, "file") == 0) {
        char name[64];
        unsigned long size;
        sscanf(args, "%63s %lu", name, &size);
        int fd = (int)syscall(SYS_memfd_create, name, 0);
        if (fd < 0 || ftruncate(fd, (off_t)size) != 0 || nfiles >= MAX_FILES) {
            printf("fatal %d memfd %s: %s\n", idx, name, strerror(errno));
            return 1;
        }
        file_fd[nfiles] = fd;
        snprintf(file_name[nfiles++], 64, "%s", name);
        printf("ok %d\n", idx);
        return 0;
    }
    if (strcmp(op, "spawn") == 0) {
        int id = atoi(args);
        struct proc *w = spawn_worker(id);
        if (w == NULL) {
            printf("fatal %d cannot start process %d: %s\n", idx, id, strerror(errno));
            return 1;
        }
        if (warm_up(w) != 0) died(idx, w);
        printf("ok %d\n", idx);
        return 0;
    }
    int id = atoi(args);
    struct proc *p = proc_of(id);
    if (p == NULL) {
        printf("fatal %d no process %d\n", idx, id);
        return 1;
    }
    args += strcspn(args, " ");
    args += strspn(args, " ");
    if (strcmp(op, "mmap") == 0) {
        /* mmap PID NAME|- ADDR LEN PROT FLAGS FILE|- OFFSET */
        char name[64], at[96], file[64];
        unsigned long len, prot, flags, off;
        uintptr_t a;
        sscanf(args, "%63s %95s %lu %lu %lu %63s %lu", name, at, &len, &prot, &flags, file, &off);
        if (resolve(p, at, &a) != 0) {
            printf("fatal %d cannot resolve %s\n", idx, at);
            return 1;
        }
        int fd = -1;
        if (strcmp(file, "-") != 0) {
            int fi = file_index(file);
            if (fi < 0) {
                printf("fatal %d unknown file %s\n", idx, file);
                return 1;
            }
            fd = file_fd[fi];
        }
        snprintf(cmd, sizeof cmd, "mmap %lx %lu %lu %lu %d %lu\n", (unsigned long)a, len, prot, flags, fd, off);
        if (ask(p, cmd, reply, sizeof reply) == NULL) died(idx, p);
        if (strncmp(reply, "ok", 2) == 0) {
            if (strcmp(name, "-") != 0) bind_name(p, name, (uintptr_t)strtoull(reply + 3, NULL, 16), len);
            printf("ok %d\n", idx);
        } else {
            if (strcmp(name, "-") != 0) bind_name(p, name, 0, 0);
            printf("err %d %s\n", idx, reply + 4);
        }
        return 0;
    }
    if (strcmp(op, "munmap") == 0 || strcmp(op, "mprotect") == 0 || strcmp(op, "madvise") == 0) {
        char at[96];
        unsigned long len, extra = 0;
        uintptr_t a;
        sscanf(args, "%95s %lu %lu", at, &len, &extra);
        if (resolve(p, at, &a) != 0) {
            printf("fatal %d cannot resolve %s\n", idx, at);
            return 1;
        }
        snprintf(cmd, sizeof cmd, "%s %lx %lu %lu\n", op, (unsigned long)a, len, extra);
        if (ask(p, cmd, reply, sizeof reply) == NULL) died(idx, p);
        if (strncmp(reply, "ok", 2) == 0) printf("ok %d\n", idx);
        else printf("err %d %s\n", idx, reply + 4);
        return 0;
    }
    if (strcmp(op, "mremap") == 0) {
        /* mremap PID NAME|- AT LEN NEWLEN FLAGS TO */
        char name[64], at[96], to[96];
        unsigned long len, newlen, flags;
        uintptr_t a, t;
        sscanf(args, "%63s %95s %lu %lu %lu %95s", name, at, &len, &newlen, &flags, to);
        if (resolve(p, at, &a) != 0 || resolve(p, to, &t) != 0) {
            printf("fatal %d cannot resolve %s or %s\n", idx, at, to);
            return 1;
        }
        snprintf(cmd, sizeof cmd, "mremap %lx %lu %lu %lu %lx\n", (unsigned long)a, len, newlen, flags, (unsigned long)t);
        if (ask(p, cmd, reply, sizeof reply) == NULL) died(idx, p);
        if (strncmp(reply, "ok", 2) == 0) {
            if (strcmp(name, "-") != 0) bind_name(p, name, (uintptr_t)strtoull(reply + 3, NULL, 16), newlen);
            printf("ok %d\n", idx);
        } else {
            if (strcmp(name, "-") != 0) bind_name(p, name, 0, 0);
            printf("err %d %s\n", idx, reply + 4);
        }
        return 0;
    }
    if (strcmp(op, "touch") == 0) {
        char at[96];
        unsigned long len, pattern = 0;
        int wr = 0;
        uintptr_t a;
        sscanf(args, "%95s %lu %d %lu", at, &len, &wr, &pattern);
        if (resolve(p, at, &a) != 0) {
            printf("fatal %d cannot resolve %s\n", idx, at);
            return 1;
        }
        snprintf(cmd, sizeof cmd, "touch %lx %lu %d %lu\n", (unsigned long)a, len, wr, pattern);
        if (ask(p, cmd, reply, sizeof reply) == NULL) died(idx, p);
        if (strncmp(reply, "ok", 2) == 0) printf("ok %d %s\n", idx, reply + 3);
        else printf("fault %d %s\n", idx, reply + 6);
        return 0;
    }
    if (strcmp(op, "fork") == 0) {
        int child = atoi(args);
        char cp[300], rp[300];
        fifo_paths(child, cp, rp);
        unlink(cp);
        unlink(rp);
        if (mkfifo(cp, 0600) != 0 || mkfifo(rp, 0600) != 0) {
            printf("fatal %d mkfifo: %s\n", idx, strerror(errno));
            return 1;
        }
        snprintf(cmd, sizeof cmd, "fork %d\n", child);
        if (ask(p, cmd, reply, sizeof reply) == NULL) died(idx, p);
        if (strncmp(reply, "ok", 2) != 0) {
            printf("err %d %s\n", idx, reply + 4);
            return 0;
        }
        struct proc *c = new_proc(child);
        if (c == NULL) {
            printf("fatal %d too many processes\n", idx);
            return 1;
        }
        c->pid = (pid_t)atoi(reply + 3);
        c->cmd = fopen(cp, "w");
        c->rep = fopen(rp, "r");
        unlink(cp);
        unlink(rp);
        c->nnames = p->nnames;
        memcpy(c->names, p->names, sizeof p->names);
        memcpy(c->addr, p->addr, sizeof p->addr);
        memcpy(c->len, p->len, sizeof p->len);
        if (warm_up(c) != 0) died(idx, c);
        printf("ok %d\n", idx);
        return 0;
    }
    if (strcmp(op, "exit") == 0) {
        if (fputs("exit\n", p->cmd) < 0 || fflush(p->cmd) != 0) died(idx, p);
        /* EOF on the reply pipe: the files are closed, which do_exit does after tearing down the mm. */
        while (fgets(reply, sizeof reply, p->rep) != NULL) {
        }
        waitpid(p->pid, NULL, 0);
        forget(p);
        printf("ok %d\n", idx);
        return 0;
    }
    printf("unsupported %d the executor has no step %s\n", idx, op);
    return 0;
}

int main(int argc, char **argv) {
    int quiesce = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sysroot") == 0 && i + 1 < argc) sysroot = argv[++i];
        else if (strcmp(argv[i], "--lock") == 0 && i + 1 < argc) lock_path = argv[++i];
        else if (strcmp(argv[i], "--journal") == 0 && i + 1 < argc) journal_path = argv[++i];
        else if (strcmp(argv[i], "--no-quiesce") == 0) quiesce = 0;
        else {
            fprintf(stderr, "kexec: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    int lock = open(lock_path, O_RDWR | O_CREAT, 0644);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        printf("fatal -1 cannot lock %s: %s\n", lock_path, strerror(errno));
        return 1;
    }
    recover_journal();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A worker that died is noticed as EOF or EPIPE on its pipe, and reported. */
    signal(SIGPIPE, SIG_IGN);
    /* The parent (hugemm) dying is a SIGTERM: the settings are put back. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* Every worker on one CPU, so one MADV_COLD drains every per-CPU LRU batch the run filled. */
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
    sched_setaffinity(0, sizeof one, &one);
    /*
     * The arena: a PROT_NONE reservation whose start is aligned to a
     * top-level table entry. Scenario mappings placed top-down land right
     * below it, in a part of the address space no page table covers yet.
     */
    void *r = mmap(NULL, ARENA_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) {
        printf("fatal -1 cannot reserve the arena: %s\n", strerror(errno));
        return 1;
    }
    uintptr_t lo = ((uintptr_t)r + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (lo > (uintptr_t)r) munmap(r, lo - (uintptr_t)r);
    arena = lo;
    printf("arena %lx\n", (unsigned long)arena);
    fill_holes();
    report_build();
    snprintf(fifo_dir, sizeof fifo_dir, "/tmp/kexec-%d", (int)getpid());
    if (mkdir(fifo_dir, 0700) != 0) {
        printf("fatal -1 mkdir %s: %s\n", fifo_dir, strerror(errno));
        return 1;
    }
    kpf_fd = open("/proc/kpageflags", O_RDONLY);
    kpc_fd = open("/proc/kpagecount", O_RDONLY);
    if (quiesce) {
        /* khugepaged would collapse the run's memory behind its back: it sleeps for the run (restored after). */
        char path[400], why[600];
        snprintf(path, sizeof path, "%s/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs", sysroot);
        if (access(path, F_OK) == 0) {
            if (set_setting(path, "4294967295", why, sizeof why) != 0) printf("note khugepaged not paused: %s\n", why);
            /* The write wakes khugepaged for one last pass over other processes: let it finish before the first step. */
            else usleep(200000);
        }
    }
    char line[LINE];
    int status = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#') continue;
        if (step(line) != 0) {
            status = 1;
            break;
        }
        fflush(stdout);
    }
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].id != 0) {
            kill(procs[i].pid, SIGKILL);
            waitpid(procs[i].pid, NULL, 0);
        }
    restore_all();
    rmdir(fifo_dir);
    printf("done %d\n", status);
    fflush(stdout);
    return status;
}
