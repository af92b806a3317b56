/* timensvdso: the vDSO in a time namespace (man 7 time_namespaces) compared
 * with Linux: a child forked into a namespace with offsets, which keeps the
 * vDSO its parent's libc found, reads CLOCK_MONOTONIC (and _RAW, _COARSE)
 * and CLOCK_BOOTTIME with the offsets through libc and through every vDSO
 * entry point called directly (found before the namespace existed); the
 * clocks without offsets (REALTIME, gettimeofday, time) and clock_getres
 * agree with the system call; the same after the child forks again, and in
 * a process that joins the namespace with setns. Times are printed only as
 * whole-day offsets. Runs as root. */
#define _GNU_SOURCE
#include "common.h"
#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif
#define DAY 86400LL
#define NSEC 1000000000LL

typedef int (*cgt_fn)(clockid_t, struct timespec *);
typedef int (*gtod_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);
static cgt_fn v_clock_gettime, v_clock_getres;
static gtod_fn v_gettimeofday;
static time_fn v_time;

/* The vDSO's entry points, from its dynamic symbol table (in the initial namespace). */
static void find_vdso(void) {
  unsigned long base = getauxval(AT_SYSINFO_EHDR);
  if (!base) return;
  Elf64_Ehdr *eh = (Elf64_Ehdr *)base;
  Elf64_Phdr *ph = (Elf64_Phdr *)(base + eh->e_phoff);
  long load = -1;
  Elf64_Dyn *dyn = NULL;
  for (int i = 0; i < eh->e_phnum; i++) {
    if (ph[i].p_type == PT_LOAD && load < 0) load = base + ph[i].p_offset - ph[i].p_vaddr;
    if (ph[i].p_type == PT_DYNAMIC) dyn = (Elf64_Dyn *)(base + ph[i].p_offset);
  }
  if (!dyn || load < 0) return;
  Elf64_Sym *sym = NULL;
  const char *str = NULL;
  Elf32_Word *hash = NULL;
  for (; dyn->d_tag != DT_NULL; dyn++) {
    if (dyn->d_tag == DT_SYMTAB) sym = (Elf64_Sym *)(load + dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_STRTAB) str = (const char *)(load + dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_HASH) hash = (Elf32_Word *)(load + dyn->d_un.d_ptr);
  }
  if (!sym || !str || !hash) return;
  for (Elf32_Word i = 0; i < hash[1]; i++) {
    const char *n = str + sym[i].st_name;
    void *p = (void *)(load + sym[i].st_value);
    if (!sym[i].st_value) continue;
    if (!strcmp(n, "__vdso_clock_gettime")) v_clock_gettime = (cgt_fn)p;
    if (!strcmp(n, "__vdso_clock_getres")) v_clock_getres = (cgt_fn)p;
    if (!strcmp(n, "__vdso_gettimeofday")) v_gettimeofday = (gtod_fn)p;
    if (!strcmp(n, "__vdso_time")) v_time = (time_fn)p;
  }
}

static long long sys_now(clockid_t c) {
  struct timespec ts;
  if (syscall(SYS_clock_gettime, c, &ts) != 0) DIE("clock_gettime");
  return ts.tv_sec * NSEC + ts.tv_nsec;
}

/* Whole days from b to a (rounded to the nearest). */
static long long days(long long a, long long b) {
  long long d = a - b;
  return (d + (d < 0 ? -1 : 1) * DAY * NSEC / 2) / (DAY * NSEC);
}

static const struct { clockid_t id; const char *name; } CLOCKS[] = {
  {CLOCK_MONOTONIC, "MONOTONIC"}, {CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"}, {CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE"},
  {CLOCK_BOOTTIME, "BOOTTIME"}, {CLOCK_REALTIME, "REALTIME"}, {CLOCK_REALTIME_COARSE, "REALTIME_COARSE"}, {CLOCK_TAI, "TAI"},
};

/* Each clock read by libc and by the vDSO's entry point: days against the system call here, and against the initial namespace's reading. */
static void clocks(const char *who, const long long *initial) {
  for (unsigned i = 0; i < sizeof CLOCKS / sizeof CLOCKS[0]; i++) {
    struct timespec a, b = {0, 0};
    long long sys = sys_now(CLOCKS[i].id);
    if (clock_gettime(CLOCKS[i].id, &a) != 0) DIE("clock_gettime");
    int rv = v_clock_gettime ? v_clock_gettime(CLOCKS[i].id, &b) : -1;
    long long la = a.tv_sec * NSEC + a.tv_nsec, vb = b.tv_sec * NSEC + b.tv_nsec;
    printf("%s %s: libc %+lld days, vdso %d %+lld days, from the initial namespace %+lld days\n", who, CLOCKS[i].name, days(la, sys),
           rv, rv == 0 ? days(vb, sys) : 0, days(sys, initial[i]));
  }
  struct timeval tv;
  long long rt = sys_now(CLOCK_REALTIME);
  if (v_gettimeofday && v_gettimeofday(&tv, NULL) == 0) printf("%s vdso gettimeofday: %+lld days\n", who, days(tv.tv_sec * NSEC + tv.tv_usec * 1000LL, rt));
  if (v_time) printf("%s vdso time: %+lld days\n", who, days(v_time(NULL) * NSEC, rt));
  struct timespec res;
  if (v_clock_getres && v_clock_getres(CLOCK_MONOTONIC, &res) == 0) printf("%s vdso clock_getres(MONOTONIC): %lld ns\n", who, (long long)res.tv_nsec);
  /* A bad clock through the vDSO: the system call's answer. */
  if (v_clock_gettime) printf("%s vdso clock_gettime(bad clock): %d\n", who, v_clock_gettime(12345, &res));
}

static void wait_child(const char *who, pid_t p) {
  int st;
  if (waitpid(p, &st, 0) != p) DIE("waitpid");
  printf("%s: %s %d\n", who, WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  find_vdso();
  printf("vdso entry points found: %d\n", v_clock_gettime && v_gettimeofday && v_time && v_clock_getres);
  long long initial[sizeof CLOCKS / sizeof CLOCKS[0]];
  for (unsigned i = 0; i < sizeof CLOCKS / sizeof CLOCKS[0]; i++) initial[i] = sys_now(CLOCKS[i].id);
  if (unshare(CLONE_NEWTIME) != 0) DIE("unshare");
  int fd = open("/proc/self/timens_offsets", O_WRONLY);
  const char *off = "monotonic 864000 0\nboottime 1728000 0\n"; /* 10 and 20 days */
  if (fd < 0 || write(fd, off, strlen(off)) < 0) DIE("timens_offsets");
  close(fd);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    clocks("child", initial);
    fflush(stdout);
    pid_t q = fork();
    if (q == 0) {
      clocks("grandchild", initial);
      _exit(0);
    }
    wait_child("grandchild", q);
    _exit(0);
  }
  wait_child("child", p);
  /* The parent itself joins the namespace (single-threaded: allowed). */
  int ns = open("/proc/self/ns/time_for_children", O_RDONLY);
  if (ns < 0 || setns(ns, CLONE_NEWTIME) != 0) DIE("setns");
  close(ns);
  clocks("after setns", initial);
  printf("done\n");
  return 0;
}
