/* timerpast: timer_settime's argument checks in Linux's order (a NULL new
 * value is EINVAL, a bad address EFAULT, then an unknown timer EINVAL), and
 * an absolute expiry already in the past: the timer fires at once and the
 * periods since count as overruns (LTP timer_settime02, timer_settime03,
 * whose 1 ns period is not tried here: it can keep a loaded host busy). */
#define _GNU_SOURCE
#include "common.h"
#include <signal.h>
#include <sys/syscall.h>

static volatile int fired, overrun;
static timer_t tid;
static void onusr1(int sig) {
  (void)sig;
  overrun = timer_getoverrun(tid);
  fired++;
}

static long settime(long id, int flags, void *nv, void *ov) {
  errno = 0;
  return syscall(SYS_timer_settime, id, flags, nv, ov);
}

int main(void) {
  signal(SIGUSR1, onusr1);
  struct sigevent sev = {0};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  int kid;
  syscall(SYS_timer_create, CLOCK_REALTIME, &sev, &kid);
  tid = (timer_t)(long)kid;
  struct itimerspec its = {{0, 0}, {1000, 0}}, old;
  long r = settime(kid, 0, NULL, &old);
  printf("NULL new value: %ld %s\n", r, ename(errno));
  r = settime(kid, 0, (void *)8, &old);
  printf("bad new value: %ld %s\n", r, ename(errno));
  r = settime(kid + 1000, 0, &its, &old);
  printf("unknown timer: %ld %s\n", r, ename(errno));
  r = settime(kid + 1000, 0, NULL, &old);
  printf("unknown timer, NULL value: %ld %s\n", r, ename(errno));
  r = settime(kid + 1000, 0, (void *)8, &old);
  printf("unknown timer, bad value: %ld %s\n", r, ename(errno));
  its.it_value.tv_nsec = 1000000000;
  r = settime(kid, 0, &its, &old);
  printf("nsec 1e9: %ld %s\n", r, ename(errno));
  its.it_value.tv_nsec = 0;
  r = settime(kid, 0, &its, (void *)8);
  printf("bad old value: %ld %s\n", r, ename(errno));

  /* One second in the past, a 100 ms period: about ten overruns. */
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  its.it_value = now;
  its.it_value.tv_sec -= 1;
  its.it_interval.tv_sec = 0;
  its.it_interval.tv_nsec = 100000000;
  fired = 0;
  timer_settime(tid, TIMER_ABSTIME, &its, NULL);
  while (!fired) {
  }
  printf("1 s late, 100 ms period: fired at once, overruns about 10: %d\n", overrun >= 9 && overrun <= 12);

  timer_delete(tid);
  printf("done\n");
  return 0;
}
