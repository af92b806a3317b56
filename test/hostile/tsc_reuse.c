/* tsc_reuse: no process leaves its TSC mode (prctl PR_SET_TSC, a flag of
 * the host thread that runs it) to the next process that gets its stub
 * (ptrace's StubPool, systrap's retire/revive). Driven by
 * test/integration/tsc.test.js:
 *
 *   tsc_reuse AREAS_BASE|0 A_TSC ROUNDS
 *
 * Each round a hostile child A sets PR_TSC_SIGSEGV through the Sentry and,
 * on systrap (AREAS_BASE not 0), has a second thread write 2 (SIGSEGV)
 * into the TSC word of every shared area of its stub while the first makes
 * system calls, so that the stub's handler may set the mode on the host
 * behind the Sentry's back; the second thread ends before A exits (a stub
 * is kept only with one thread). Then the next child B reads the TSC: it
 * must not fault, and PR_GET_TSC must say PR_TSC_ENABLE. Prints the number
 * of rounds whose B was clean. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define AREA_SIZE 0x10000UL
#define SLOTS 8

static unsigned long areas, tsc_off;
static volatile int stop;
static sigjmp_buf jb;

static void on_segv(int sig) {
  (void)sig;
  siglongjmp(jb, 1);
}

static void guard(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
}

static void *soiler(void *arg) {
  (void)arg;
  while (!stop) {
    for (unsigned long s = 0; s < SLOTS; s++) {
      volatile uint64_t *w = (volatile uint64_t *)(areas + s * AREA_SIZE + tsc_off);
      if (sigsetjmp(jb, 1) == 0) *w = 2;
    }
  }
  return NULL;
}

static void hostile(void) {
  prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
  if (areas) {
    guard();
    pthread_t th;
    pthread_create(&th, NULL, soiler, NULL);
    for (int i = 0; i < 20000; i++) syscall(SYS_getppid);
    stop = 1;
    pthread_join(th, NULL);
    for (int i = 0; i < 100; i++) syscall(SYS_getppid);
  }
  _exit(0);
}

/* 0 when the TSC reads freely and the mode says so. */
static int clean(void) {
  guard();
  int m = -1;
  prctl(PR_GET_TSC, &m, 0, 0, 0);
  if (m != PR_TSC_ENABLE) return 1;
  if (sigsetjmp(jb, 1) != 0) return 2;
  unsigned lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  areas = strtoul(argv[1], NULL, 16);
  tsc_off = strtoul(argv[2], NULL, 0);
  int rounds = atoi(argv[3]), ok = 0;
  for (int r = 0; r < rounds; r++) {
    pid_t a = fork();
    if (a == 0) hostile();
    waitpid(a, NULL, 0);
    pid_t b = fork();
    if (b == 0) _exit(clean());
    int st;
    waitpid(b, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ok++;
    else printf("round %d: %s %d\n", r, WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
  }
  printf("rounds whose next process reads the TSC freely: %d of %d\n", ok, rounds);
  return 0;
}
