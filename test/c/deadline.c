/* deadline: SCHED_DEADLINE through sched_setattr (LTP sched_setattr01,
 * sched_getattr01): the parameter checks, the policy and parameters read
 * back, what a deadline task may not do (fork without reset-on-fork, shrink
 * its affinity) and admission control: tasks reserving 30% of a CPU each
 * are admitted until the reservations would pass 90% of every CPU's time
 * (95%, less the 5% Linux 6.12 and later reserve for the fair class's
 * server), then EBUSY. Every deadline task is a child that only sleeps and is
 * killed at the end, so the native run reserves time but uses none. */
#define _GNU_SOURCE
#include "common.h"
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

struct attr {
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t prio;
  uint64_t runtime, deadline, period;
  uint32_t util_min, util_max;
};

static long setdl(pid_t pid, uint64_t runtime, uint64_t deadline, uint64_t period, uint64_t flags) {
  struct attr a = {0};
  a.size = sizeof a;
  a.policy = 6;
  a.flags = flags;
  a.runtime = runtime;
  a.deadline = deadline;
  a.period = period;
  return syscall(SYS_sched_setattr, pid, &a, 0);
}

/* A child that sleeps until killed; pipe-signalled once it is running. */
static pid_t sleeper(void) {
  pid_t c = xfork();
  if (c == 0) {
    for (;;) pause();
  }
  return c;
}

int main(void) {
  line_buffered();
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  pid_t a = sleeper();
  SHOW("deadline 0", setdl(a, 10000000, 0, 30000000, 0));
  SHOW("runtime below 1024 ns", setdl(a, 1000, 30000000, 30000000, 0));
  SHOW("runtime past the deadline", setdl(a, 40000000, 30000000, 30000000, 0));
  SHOW("deadline past the period", setdl(a, 10000000, 40000000, 30000000, 0));
  SHOW("period below 100 us", setdl(a, 10000, 50000, 50000, 0));
  SHOW("period above 4.19 s", setdl(a, 10000000, 30000000, 5000000000ULL, 0));
  SHOW("sched_setscheduler(SCHED_DEADLINE)", sched_setscheduler(a, 6, &(struct sched_param){0}));
  SHOW("10 ms every 30 ms", setdl(a, 10000000, 30000000, 30000000, 0));
  struct attr g;
  memset(&g, 0xff, sizeof g);
  SHOW("getattr", syscall(SYS_sched_getattr, a, &g, sizeof g, 0));
  printf("  policy %u runtime %llu deadline %llu period %llu nice %d prio %u\n", g.policy, (unsigned long long)g.runtime,
         (unsigned long long)g.deadline, (unsigned long long)g.period, g.nice, g.prio);
  SHOW("getscheduler", sched_getscheduler(a));
  struct timespec ts = {9, 9};
  SHOW("rr_get_interval", sched_rr_get_interval(a, &ts));
  printf("  %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  if (ncpu > 1) SHOW("shrink its affinity", sched_setaffinity(a, sizeof one, &one));
  else printf("shrink its affinity = -1 EBUSY\n");
  SHOW("period 0 (the deadline's)", setdl(a, 10000000, 30000000, 0, 0));

  /* A deadline process cannot fork, unless reset-on-fork makes the child SCHED_OTHER. */
  fflush(stdout);
  pid_t f = fork();
  if (f == 0) {
    SHOW("child: becomes deadline", setdl(0, 1000000, 30000000, 30000000, 0));
    fflush(stdout);
    errno = 0;
    pid_t gc = fork();
    if (gc == 0) _exit(0);
    printf("child: fork = %s\n", gc < 0 ? ename(errno) : "ok");
    if (gc > 0) waitpid(gc, NULL, 0);
    SHOW("child: reset-on-fork", setdl(0, 1000000, 30000000, 30000000, 1));
    fflush(stdout);
    gc = fork();
    if (gc == 0) {
      printf("grandchild: policy %d\n", sched_getscheduler(0));
      _exit(0);
    }
    int e = errno;
    if (gc > 0) waitpid(gc, NULL, 0);
    printf("child: fork with reset-on-fork = %s\n", gc < 0 ? ename(e) : "ok");
    _exit(0);
  }
  waitpid(f, NULL, 0);

  /* Admission: 30% of a CPU each, on top of a's 33%. */
  pid_t kids[64];
  int n = 0, admitted = 0;
  for (; n < 8 * ncpu && n < 64; n++) {
    kids[n] = sleeper();
    if (setdl(kids[n], 9000000, 30000000, 30000000, 0) < 0) {
      printf("refused after %d: %s\n", admitted, ename(errno));
      n++;
      break;
    }
    admitted++;
  }
  /* A deadline task that exits frees its reservation: one more is admitted. */
  kill(a, SIGKILL);
  waitpid(a, NULL, 0);
  /* Linux frees it at the task's zero-lag time, up to a period later. */
  long r = -1;
  for (int i = 0; i < 100 && r < 0; i++) {
    r = setdl(kids[n - 1], 9000000, 30000000, 30000000, 0);
    if (r < 0) sleep_ms(10);
  }
  printf("admitted within 1 s of a's exit: %d\n", r == 0);
  for (int i = 0; i < n; i++) kill(kids[i], SIGKILL);
  for (int i = 0; i < n; i++) waitpid(kids[i], NULL, 0);
  printf("done\n");
  return 0;
}
