// hostnice: a thread's nice value and SCHED_IDLE are per thread, and (in the
// sandbox) weigh its host thread. Thread A takes nice 5, thread B
// SCHED_IDLE, the main thread keeps 0. With a file name argument it then
// waits (up to 60 s) until that file exists: hostnice.test.js creates it
// once it has seen host threads of the sandbox at nice 5 and 19 (the host
// weight SCHED_IDLE is given).
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

static pthread_barrier_t ready, leave;
static int a_nice, b_set, b_policy;

static void *niced(void *arg) {
  (void)arg;
  a_nice = nice(5);
  pthread_barrier_wait(&ready);
  pthread_barrier_wait(&leave);
  return NULL;
}

static void *idle(void *arg) {
  (void)arg;
  struct sched_param p = {0};
  b_set = sched_setscheduler(0, SCHED_IDLE, &p);
  b_policy = sched_getscheduler(0);
  pthread_barrier_wait(&ready);
  pthread_barrier_wait(&leave);
  return NULL;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_barrier_init(&ready, NULL, 3);
  pthread_barrier_init(&leave, NULL, 3);
  pthread_t a, b;
  pthread_create(&a, NULL, niced, NULL);
  pthread_create(&b, NULL, idle, NULL);
  pthread_barrier_wait(&ready);
  printf("A: nice(5) = %d\nB: SCHED_IDLE %d, policy %d\n", a_nice, b_set, b_policy);
  printf("main: nice %d, policy %d\n", getpriority(PRIO_PROCESS, 0), sched_getscheduler(0));
  if (argc > 1) {
    int seen = 0;
    for (int i = 0; i < 6000 && !seen; i++) {
      seen = access(argv[1], F_OK) == 0;
      if (!seen) usleep(10000);
    }
    printf("seen by the host: %s\n", seen ? "yes" : "no");
  }
  pthread_barrier_wait(&leave);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("done\n");
  return 0;
}
