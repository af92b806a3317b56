/* clockagree: the clocks read through the system call agree with the ones
 * the vDSO reads in the process itself (glibc's clock_gettime, gettimeofday
 * and time), as LTP's clock_gettime04 checks: a system call read taken
 * between two vDSO reads lies between them, for CLOCK_REALTIME (whose
 * nanoseconds exceed a double's precision), CLOCK_MONOTONIC, gettimeofday
 * and time. Also sched_rr_get_interval's quantum for each policy. */
#define _GNU_SOURCE
#include "common.h"
#include <sched.h>
#include <sys/syscall.h>
#include <sys/time.h>

static long long ns(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

static void between(const char *what, clockid_t id) {
  int bad = 0;
  for (int i = 0; i < 20000; i++) {
    struct timespec a, b, c;
    clock_gettime(id, &a);
    syscall(SYS_clock_gettime, id, &b);
    clock_gettime(id, &c);
    if (ns(&b) < ns(&a) || ns(&b) > ns(&c)) bad++;
  }
  printf("%s: syscall reads outside the vDSO reads: %d\n", what, bad);
}

int main(void) {
  between("CLOCK_REALTIME", CLOCK_REALTIME);
  between("CLOCK_MONOTONIC", CLOCK_MONOTONIC);
  between("CLOCK_BOOTTIME", CLOCK_BOOTTIME);
  between("CLOCK_REALTIME_COARSE", CLOCK_REALTIME_COARSE);
  between("CLOCK_MONOTONIC_COARSE", CLOCK_MONOTONIC_COARSE);
  between("CLOCK_MONOTONIC_RAW", CLOCK_MONOTONIC_RAW);

  int bad = 0;
  for (int i = 0; i < 20000; i++) {
    struct timeval a, b, c;
    gettimeofday(&a, NULL);
    syscall(SYS_gettimeofday, &b, NULL);
    gettimeofday(&c, NULL);
    long long x = a.tv_sec * 1000000LL + a.tv_usec, y = b.tv_sec * 1000000LL + b.tv_usec,
              z = c.tv_sec * 1000000LL + c.tv_usec;
    if (y < x || y > z) bad++;
  }
  printf("gettimeofday: syscall reads outside the vDSO reads: %d\n", bad);

  bad = 0;
  for (int i = 0; i < 2000; i++) {
    time_t a = time(NULL);
    time_t b = syscall(SYS_time, NULL);
    time_t c = time(NULL);
    if (b < a || b > c) bad++;
  }
  printf("time: syscall reads outside the vDSO reads: %d\n", bad);

  /* sched_rr_get_interval: the round-robin quantum of a SCHED_RR task,
   * 0 for SCHED_FIFO; other policies get a slice that depends on the host's
   * scheduler, so only its validity is printed. */
  struct timespec q;
  errno = 0;
  long r = syscall(SYS_sched_rr_get_interval, 0, &q);
  printf("rr_get_interval(self, SCHED_OTHER): %ld %s valid=%d\n", r, ename(r ? errno : 0),
         r == 0 && q.tv_sec >= 0 && q.tv_nsec >= 0 && q.tv_nsec < 1000000000);
  struct sched_param sp = {.sched_priority = 1};
  if (sched_setscheduler(0, SCHED_RR, &sp) == 0) {
    r = syscall(SYS_sched_rr_get_interval, 0, &q);
    printf("rr_get_interval(self, SCHED_RR): %ld %ld.%09ld\n", r, (long)q.tv_sec, q.tv_nsec);
    sched_setscheduler(0, SCHED_FIFO, &sp);
    r = syscall(SYS_sched_rr_get_interval, 0, &q);
    printf("rr_get_interval(self, SCHED_FIFO): %ld %ld.%09ld\n", r, (long)q.tv_sec, q.tv_nsec);
    sp.sched_priority = 0;
    sched_setscheduler(0, SCHED_OTHER, &sp);
  } else {
    printf("sched_setscheduler(SCHED_RR): %s\n", ename(errno));
  }
  errno = 0;
  r = syscall(SYS_sched_rr_get_interval, -1, &q);
  printf("rr_get_interval(-1): %ld %s\n", r, ename(errno));
  errno = 0;
  r = syscall(SYS_sched_rr_get_interval, 4000000, &q);
  printf("rr_get_interval(no such pid): %ld %s\n", r, ename(errno));
  errno = 0;
  r = syscall(SYS_sched_rr_get_interval, 0, (void *)8);
  printf("rr_get_interval(bad address): %ld %s\n", r, ename(errno));
  printf("done\n");
  return 0;
}
