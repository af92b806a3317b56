// cpumask: a thread runs on the CPUs its affinity names. After
// sched_setaffinity to one CPU, getcpu (glibc's, through the vDSO, which
// reads the CPU the thread is on) gives that CPU, for the process, for a
// thread with a mask of its own, and for a child that inherits the mask and
// then execs. Prints only what holds on any machine with 2 CPUs or more.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int on(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  return sched_setaffinity(0, sizeof s, &s);
}

static int where(void) {
  unsigned c = 999;
  getcpu(&c, NULL);
  return (int)c;
}

static void *thread_main(void *arg) {
  int cpu = *(int *)arg;
  on(cpu);
  int ok = 1;
  for (int i = 0; i < 200; i++) {
    if (where() != cpu) ok = 0;
    sched_yield();
  }
  printf("thread on cpu %d: %s\n", cpu, ok ? "yes" : "no");
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1) {
    printf("after exec: on cpu %s: %s\n", argv[1], where() == atoi(argv[1]) ? "yes" : "no");
    return 0;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    printf("one CPU\ndone\n");
    return 0;
  }
  for (int round = 0; round < 3; round++) {
    for (int cpu = 0; cpu < 2; cpu++) {
      on(cpu);
      int ok = 1;
      for (int i = 0; i < 100; i++) {
        if (where() != cpu) ok = 0;
        getppid();
      }
      printf("round %d, on cpu %d: %s\n", round, cpu, ok ? "yes" : "no");
    }
  }
  on(0);
  int one = 1;
  pthread_t th;
  pthread_create(&th, NULL, thread_main, &one);
  pthread_join(th, NULL);
  printf("main still on cpu 0: %s\n", where() == 0 ? "yes" : "no");
  on(1);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    execl("/proc/self/exe", "cpumask", "1", NULL);
    _exit(127);
  }
  waitpid(p, NULL, 0);
  printf("done\n");
  return 0;
}
