/* timens_vdso: a process in a time namespace with offsets gets nothing of
 * the host's clock pages (the initial namespace's clocks, without the
 * offsets) in the sandbox: no page of [vvar], [vvar_vclock] or [vdso] is
 * readable, a jump into the vDSO's code past an entry point faults, and an
 * exec in the namespace gets no vDSO either, while the entry points still
 * answer with the offsets (src/kernel/vdso.ts). Driven by
 * test/integration/timens_vdso.test.js; on Linux the pages stay readable
 * (its vvar holds the namespace's page), so this runs in the sandbox only.
 *
 *   timens_vdso            the parent: finds the ranges, makes the namespace, forks
 *   timens_vdso exec R...  the child after exec: the ranges as START-END
 *   timens_vdso initial    a later process in the initial namespace: its vDSO is whole */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXR 8
static unsigned long rs[MAXR], re[MAXR];
static int nr;
static sigjmp_buf jb;
static volatile int faults;

static void on_segv(int s) {
  (void)s;
  faults++;
  siglongjmp(jb, 1);
}

static void guard(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
}

static int readable_pages(void) {
  int n = 0;
  for (int i = 0; i < nr; i++) {
    for (unsigned long a = rs[i]; a < re[i]; a += 4096) {
      if (sigsetjmp(jb, 1) == 0) {
        (void)*(volatile char *)a;
        n++;
      }
    }
  }
  return n;
}

static long long mono_days(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long raw;
  struct timespec s;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &s);
  raw = s.tv_sec;
  return (ts.tv_sec - raw + 43200) / 86400;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  guard();
  if (argc > 1 && !strcmp(argv[1], "initial")) {
    unsigned long v = getauxval(AT_SYSINFO_EHDR);
    int ok = v && sigsetjmp(jb, 1) == 0 && *(volatile unsigned *)v == 0x464c457f;
    printf("initial: vDSO %s\n", ok ? "whole" : "missing");
    return 0;
  }
  if (argc > 1) {
    for (int i = 2; i < argc && nr < MAXR; i++, nr++) sscanf(argv[i], "%lx-%lx", &rs[nr], &re[nr]);
    printf("after exec: AT_SYSINFO_EHDR %s, readable clock pages %d\n", getauxval(AT_SYSINFO_EHDR) ? "set" : "none", readable_pages());
    return 0;
  }
  unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f) && nr < MAXR) {
    if (strstr(line, "[vvar]") || strstr(line, "[vvar_vclock]") || strstr(line, "[vdso]")) {
      sscanf(line, "%lx-%lx", &rs[nr], &re[nr]);
      nr++;
    }
  }
  if (f) fclose(f);
  printf("initial namespace: clock page ranges %d, readable pages %s\n", nr, readable_pages() > 0 ? "some" : "none");
  if (unshare(0x80 /* CLONE_NEWTIME */) != 0) return 1;
  int fd = open("/proc/self/timens_offsets", O_WRONLY);
  const char *off = "monotonic 864000 0\n";
  if (fd < 0 || write(fd, off, strlen(off)) < 0) return 1;
  close(fd);
  pid_t p = fork();
  if (p == 0) {
    printf("child: readable clock pages %d\n", readable_pages());
    printf("child: libc's CLOCK_MONOTONIC %+lld days from the system call's\n", mono_days());
    faults = 0;
    if (vdso && sigsetjmp(jb, 1) == 0) ((void (*)(void))(vdso + 0x800))();
    printf("child: a jump into the vDSO's code: %s\n", faults ? "SIGSEGV" : "ran");
    char *args[MAXR + 3];
    char bufs[MAXR][64];
    args[0] = argv[0];
    args[1] = "exec";
    for (int i = 0; i < nr; i++) {
      snprintf(bufs[i], sizeof bufs[i], "%lx-%lx", rs[i], re[i]);
      args[2 + i] = bufs[i];
    }
    args[2 + nr] = NULL;
    execv("/proc/self/exe", args);
    _exit(2);
  }
  int st;
  waitpid(p, &st, 0);
  printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st));
  return 0;
}
