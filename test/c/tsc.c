/* tsc: prctl(PR_SET_TSC / PR_GET_TSC) compared with Linux (man 2 prctl):
 * argument checks, rdtsc and rdtscp raising SIGSEGV (si_code SI_KERNEL,
 * si_addr 0) under PR_TSC_SIGSEGV, what clock_gettime does then (the vDSO
 * reads the TSC: the fine clocks fault, the coarse ones do not), the mode
 * per thread and inherited by threads and forked children, kept across
 * execve, and a process forked after one that left PR_TSC_SIGSEGV behind
 * (in the sandbox it may run in that process's reused stub) reading the
 * TSC freely. */
#define _GNU_SOURCE
#include "common.h"
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static void *volatile got_addr;

static void on_segv(int s, siginfo_t *si, void *u) {
  (void)u;
  got_sig = s;
  got_code = si->si_code;
  got_addr = si->si_addr;
  siglongjmp(jb, 1);
}

static void catch_segv(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
}

static int mode(void) {
  int m = -1;
  if (prctl(PR_GET_TSC, &m, 0, 0, 0) != 0) return -errno;
  return m;
}

static void try_set(const char *what, long arg2, long arg3) {
  errno = 0;
  long r = syscall(SYS_prctl, PR_SET_TSC, arg2, arg3, 0, 0);
  printf("PR_SET_TSC %s: %ld %s, mode %d\n", what, r, ename(r ? errno : 0), mode());
}

/* Run one reading: "ok", or the signal it raised with its si_code and whether si_addr was 0. */
static void probe(const char *what, int which) {
  unsigned lo, hi, aux;
  struct timespec ts;
  got_sig = 0;
  if (sigsetjmp(jb, 1) == 0) {
    switch (which) {
    case 0: __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); break;
    case 1: __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux)); break;
    case 2: clock_gettime(CLOCK_MONOTONIC, &ts); break;
    case 3: clock_gettime(CLOCK_REALTIME, &ts); break;
    case 4: clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); break;
    case 5: syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts); break;
    }
    printf("%s: ok\n", what);
  } else {
    printf("%s: signal %d code %d addr %s\n", what, got_sig, got_code, got_addr ? "set" : "0");
  }
}

static void *thread_body(void *arg) {
  (void)arg;
  printf("thread: mode %d\n", mode());
  probe("thread rdtsc", 0);
  prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0);
  printf("thread: after its own PR_TSC_ENABLE, mode %d\n", mode());
  probe("thread rdtsc", 0);
  return NULL;
}

static void report(const char *who, int st) {
  if (WIFSIGNALED(st)) printf("%s: killed by signal %d\n", who, WTERMSIG(st));
  else printf("%s: exit %d\n", who, WEXITSTATUS(st));
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1) {
    /* After execve, its mode in the exit status (a dynamic build never gets here: ld.so reads the TSC and faults). */
    return 10 + mode();
  }
  catch_segv();
  printf("initial mode %d\n", mode());
  errno = 0;
  int r = prctl(PR_GET_TSC, 0, 0, 0, 0);
  printf("PR_GET_TSC NULL: %d %s\n", r, ename(errno));
  errno = 0;
  r = prctl(PR_GET_TSC, (int *)8, 0, 0, 0);
  printf("PR_GET_TSC bad pointer: %d %s\n", r, ename(errno));
  try_set("0", 0, 0);
  try_set("3", 3, 0);
  try_set("1 with arg3", 1, 7);
  try_set("1 in the high half too", 0x100000001L, 0);
  probe("enabled rdtsc", 0);
  try_set("PR_TSC_SIGSEGV", PR_TSC_SIGSEGV, 0);
  probe("rdtsc", 0);
  probe("rdtscp", 1);
  probe("clock_gettime(CLOCK_MONOTONIC)", 2);
  probe("clock_gettime(CLOCK_REALTIME)", 3);
  probe("clock_gettime(CLOCK_MONOTONIC_COARSE)", 4);
  probe("the clock_gettime system call", 5);

  pthread_t th;
  pthread_create(&th, NULL, thread_body, NULL);
  pthread_join(th, NULL);
  printf("main after the thread: mode %d\n", mode());
  probe("main rdtsc", 0);

  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    printf("forked child: mode %d\n", mode());
    probe("forked child rdtsc", 0);
    fflush(stdout);
    execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
    _exit(99);
  }
  int st;
  waitpid(p, &st, 0);
  /* Either way the mode outlived the exec: a SIGSEGV in the dynamic loader's start-up, or the mode itself. */
  if ((WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) || (WIFEXITED(st) && WEXITSTATUS(st) == 10 + PR_TSC_SIGSEGV))
    printf("exec'd child: PR_TSC_SIGSEGV kept across execve\n");
  else
    report("exec'd child", st);

  /* A vfork child that sets its own mode leaves its parent's alone. */
  fflush(stdout);
  p = vfork();
  if (p == 0) {
    prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0);
    _exit(mode());
  }
  waitpid(p, &st, 0);
  report("vfork child that set PR_TSC_ENABLE", st);
  printf("parent after the vfork child: mode %d\n", mode());
  probe("parent rdtsc", 0);

  /* A process that leaves PR_TSC_SIGSEGV behind, then the next ones. */
  try_set("back to PR_TSC_ENABLE", PR_TSC_ENABLE, 0);
  for (int round = 0; round < 3; round++) {
    fflush(stdout);
    p = fork();
    if (p == 0) {
      prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
      _exit(mode());
    }
    waitpid(p, &st, 0);
    report("child that set PR_TSC_SIGSEGV", st);
    fflush(stdout);
    p = fork();
    if (p == 0) {
      printf("next child: mode %d\n", mode());
      probe("next child rdtsc", 0);
      _exit(0);
    }
    waitpid(p, &st, 0);
    report("next child", st);
  }
  printf("done\n");
  return 0;
}
