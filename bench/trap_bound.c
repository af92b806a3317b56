// bench/trap_bound.c: the least a seccomp-trap system call can cost on this
// host, before the Sentry does anything: the trap (SIGSYS delivery to an empty
// handler, and its sigreturn), and a hand-over to another thread and back
// through futexes (a Sentry that sleeps) or by spinning on shared memory (a
// Sentry and a stub on two CPUs). Build: gcc -O2 -pthread; run: ./trap_bound [N].
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static void on_sys(int s, siginfo_t *i, void *c) { (void)s; (void)i; (void)c; }
static _Atomic int word;
static long fx(int op, int val) { return syscall(SYS_futex, &word, op, val, NULL, NULL, 0); }
static int spin;
static void *peer(void *a) {
  int n = *(int *)a;
  if (spin) {
    for (int i = 0; i < n; i++) { while (atomic_load(&word) != 1) ; atomic_store(&word, 0); }
  } else {
    for (int i = 0; i < n; i++) { while (atomic_load(&word) != 1) fx(FUTEX_WAIT_PRIVATE, 0); atomic_store(&word, 0); fx(FUTEX_WAKE_PRIVATE, 1); }
  }
  return NULL;
}
static double handover(int n, int same_cpu, int spinning) {
  spin = spinning;
  cpu_set_t s; CPU_ZERO(&s); CPU_SET(0, &s);
  sched_setaffinity(0, sizeof s, &s);
  pthread_t t; pthread_create(&t, NULL, peer, &n);
  if (!same_cpu) { CPU_ZERO(&s); CPU_SET(1, &s); pthread_setaffinity_np(t, sizeof s, &s); }
  usleep(10000);
  double t0 = now();
  for (int i = 0; i < n; i++) {
    atomic_store(&word, 1);
    if (spinning) { while (atomic_load(&word) != 0) ; }
    else { fx(FUTEX_WAKE_PRIVATE, 1); while (atomic_load(&word) != 0) fx(FUTEX_WAIT_PRIVATE, 1); }
  }
  double r = (now() - t0) / n;
  pthread_join(t, NULL);
  CPU_ZERO(&s); CPU_SET(0, &s); CPU_SET(1, &s); sched_setaffinity(0, sizeof s, &s);
  return r;
}
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  double r[6][7];
  for (int rep = 0; rep < 7; rep++) {
    double t0 = now(); for (int i = 0; i < n; i++) syscall(SYS_getppid); r[0][rep] = (now() - t0) / n;
    r[2][rep] = handover(n, 1, 0);
    r[3][rep] = handover(n, 0, 0);
    r[4][rep] = handover(n, 0, 1);
  }
  // Last: the filter stays for the process.
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = on_sys; sa.sa_flags = SA_SIGINFO; sigaction(SIGSYS, &sa, NULL);
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog p = { 4, f };
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) != 0) { perror("seccomp"); return 1; }
  for (int rep = 0; rep < 7; rep++) { double t0 = now(); for (int i = 0; i < n; i++) syscall(SYS_getppid); r[1][rep] = (now() - t0) / n; }
  const char *names[] = { "getppid, native", "getppid trapped by seccomp (SIGSYS to an empty handler, sigreturn)", "futex hand-over and back, same CPU", "futex hand-over and back, two CPUs", "spin hand-over and back, two CPUs" };
  for (int k = 0; k < 5; k++) { qsort(r[k], 7, sizeof(double), cmp); printf("%-70s %8.0f ns (min %.0f, max %.0f)\n", names[k], r[k][3], r[k][0], r[k][6]); }
  return 0;
}
