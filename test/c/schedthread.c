// schedthread: scheduling policies are per thread, as on Linux:
// sched_setscheduler with 0 or a tid changes one thread (a process's pid
// names its leader); a new thread and a forked child start with their
// creator's policy; SCHED_RESET_ON_FORK resets a negative nice in every new
// task, thread or process, and is not inherited; /proc/PID/task/TID/stat
// shows each thread's priority, nice, rt_priority and policy.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static pthread_barrier_t set, checked;
static int tid_a;

static int pol(int who) { return sched_getscheduler(who); }

// Fields 18 (priority), 19 (nice), 40 (rt_priority) and 41 (policy) of a stat file, counted after the comm.
static void stat_fields(const char *what, int tid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  FILE *f = fopen(path, "r");
  if (!f || !fgets(buf, sizeof buf, f)) { printf("%s: no stat\n", what); if (f) fclose(f); return; }
  fclose(f);
  char *p = strrchr(buf, ')') + 2;
  long v[60];
  int n = 0;
  for (char *tok = strtok(p, " "); tok && n < 60; tok = strtok(NULL, " ")) v[n++] = strtol(tok, NULL, 10);
  // p starts at field 3 (state): field k is v[k - 3].
  printf("%s: stat priority %ld nice %ld rt_priority %ld policy %ld\n", what, v[15], v[16], v[37], v[38]);
}

static void *inner(void *arg) {
  (void)arg;
  printf("thread B (made by A): policy %d\n", pol(0));
  return NULL;
}

static void *reset_child(void *arg) {
  (void)arg;
  printf("thread made with reset-on-fork: policy %#x nice %d\n", pol(0), getpriority(PRIO_PROCESS, 0));
  return NULL;
}

static void *thread_a(void *arg) {
  (void)arg;
  tid_a = (int)syscall(SYS_gettid);
  struct sched_param p = {0};
  printf("A sets SCHED_IDLE: %d\n", sched_setscheduler(0, SCHED_IDLE, &p));
  printf("A: policy %d\n", pol(0));
  pthread_t b;
  pthread_create(&b, NULL, inner, NULL);
  pthread_join(b, NULL);
  pid_t c = fork();
  if (c == 0) {
    printf("child forked by A: policy %d\n", pol(0));
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  pthread_barrier_wait(&set);
  pthread_barrier_wait(&checked);
  return NULL;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_barrier_init(&set, NULL, 2);
  pthread_barrier_init(&checked, NULL, 2);
  pthread_t a;
  pthread_create(&a, NULL, thread_a, NULL);
  pthread_barrier_wait(&set);
  printf("main: own policy %d, A's by tid %d, by pid %d\n", pol(0), pol(tid_a), pol(getpid()));
  stat_fields("main", getpid());
  stat_fields("A", tid_a);
  struct sched_param p = {0};
  printf("main sets A to SCHED_BATCH by tid: %d\n", sched_setscheduler(tid_a, SCHED_BATCH, &p));
  printf("main: own %d, A's %d\n", pol(0), pol(tid_a));
  int policy;
  struct sched_param sp;
  pthread_getschedparam(a, &policy, &sp);
  printf("pthread_getschedparam(A): %d\n", policy);
  printf("reset-on-fork on A: %d\n", sched_setscheduler(tid_a, SCHED_BATCH | SCHED_RESET_ON_FORK, &p));
  printf("main: %#x, A: %#x\n", pol(0), pol(tid_a));
  stat_fields("A batch", tid_a);
  pthread_barrier_wait(&checked);
  pthread_join(a, NULL);

  // A raised priority (root only) goes back to 0 in a new thread and a child.
  if (setpriority(PRIO_PROCESS, 0, -5) == 0) {
    printf("main: reset-on-fork with nice -5: %d\n", sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &p));
    stat_fields("main niced", (int)syscall(SYS_gettid));
    pthread_t r;
    pthread_create(&r, NULL, reset_child, NULL);
    pthread_join(r, NULL);
    pid_t c = fork();
    if (c == 0) {
      printf("child with reset-on-fork: policy %#x nice %d\n", pol(0), getpriority(PRIO_PROCESS, 0));
      fflush(stdout);
      _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("main keeps: policy %#x nice %d\n", pol(0), getpriority(PRIO_PROCESS, 0));
  } else {
    printf("nice -5 refused: %s\n", strerror(errno));
  }
  printf("done\n");
  return 0;
}
