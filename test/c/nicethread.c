// nicethread: nice is per thread, as on Linux. nice() and setpriority with
// PRIO_PROCESS 0 change the calling thread only; a tid names one thread; a
// new thread and a forked child start with their creator's nice; a process
// group answers with its threads' highest priority; sched_getattr reads the
// thread's own value.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

struct attr {
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t prio;
  uint64_t runtime, deadline, period;
};

static pthread_barrier_t niced, checked;
static int tid_a;

static int prio(int who) {
  errno = 0;
  return getpriority(PRIO_PROCESS, who);
}

static void *inner(void *arg) {
  (void)arg;
  printf("thread B (made by A): %d\n", prio(0));
  return NULL;
}

static void *thread_a(void *arg) {
  (void)arg;
  tid_a = (int)syscall(SYS_gettid);
  int r = nice(3);
  printf("thread A: nice(3) = %d, self %d\n", r, prio(0));
  pthread_t b;
  pthread_create(&b, NULL, inner, NULL);
  pthread_join(b, NULL);
  pthread_barrier_wait(&niced);
  pthread_barrier_wait(&checked);
  printf("thread A after the main thread set it: %d\n", prio(0));
  pid_t c = fork();
  if (c == 0) {
    printf("child forked by A: %d\n", prio(0));
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  return NULL;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_barrier_init(&niced, NULL, 2);
  pthread_barrier_init(&checked, NULL, 2);
  printf("main: %d\n", prio(0));
  pthread_t a;
  pthread_create(&a, NULL, thread_a, NULL);
  pthread_barrier_wait(&niced);
  printf("main after A's nice: self %d, A by its tid %d\n", prio(0), prio(tid_a));
  printf("process group: %d\n", getpriority(PRIO_PGRP, 0));
  printf("set A to 5: %d\n", setpriority(PRIO_PROCESS, tid_a, 5));
  struct attr at;
  memset(&at, 0, sizeof at);
  long ra = syscall(SYS_sched_getattr, tid_a, &at, sizeof at, 0);
  int nice_a = at.nice;
  syscall(SYS_sched_getattr, 0, &at, sizeof at, 0);
  printf("sched_getattr of A: %ld nice %d; of main: nice %d\n", ra, nice_a, at.nice);
  pthread_barrier_wait(&checked);
  pthread_join(a, NULL);
  printf("main at the end: %d\n", prio(0));
  printf("done\n");
  return 0;
}
