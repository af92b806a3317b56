/* cputime: CPU time is accounted: the process's own CPU clock, getrusage of
 * waited-for children, times(2). Prints only whether each exceeds a floor. */
#include "common.h"
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void burn(void) {
  volatile long x = 0;
  for (long i = 0; i < 300000000; i++) x += i;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  burn();
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  printf("process cpu >= 0.05s: %d\n", ts.tv_sec > 0 || ts.tv_nsec > 50000000);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  printf("thread cpu >= 0.05s: %d\n", ts.tv_sec > 0 || ts.tv_nsec > 50000000);
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  printf("children before wait: %d\n", ru.ru_utime.tv_sec == 0 && ru.ru_utime.tv_usec == 0);
  if (fork() == 0) {
    burn();
    _exit(0);
  }
  wait(NULL);
  getrusage(RUSAGE_CHILDREN, &ru);
  printf("children user time >= 0.05s: %d\n", ru.ru_utime.tv_sec > 0 || ru.ru_utime.tv_usec > 50000);
  getrusage(RUSAGE_SELF, &ru);
  printf("self user time >= 0.05s: %d\n", ru.ru_utime.tv_sec > 0 || ru.ru_utime.tv_usec > 50000);
  struct tms t;
  times(&t);
  printf("tms_utime > 0: %d, tms_cutime > 0: %d\n", t.tms_utime > 0, t.tms_cutime > 0);
  printf("done\n");
  return 0;
}
