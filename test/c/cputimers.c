/* cputimers: POSIX timers on CPU-time clocks (LTP timer_create01,
 * timer_delete01): CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID and a
 * process's clock from clock_getcpuclockid fire once the CPU time is used;
 * timer_gettime counts down in CPU time; a SIGEV_THREAD reaching the kernel
 * signals the process. */
#define _GNU_SOURCE
#include "common.h"
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

static volatile sig_atomic_t fired;
static void on_alarm(int s) { (void)s; fired++; }

static double cpu_now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void one(const char *name, clockid_t clock) {
  struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
  timer_t id;
  if (timer_create(clock, &ev, &id)) {
    printf("%s: timer_create = -1 %s\n", name, ename(errno));
    return;
  }
  fired = 0;
  struct itimerspec its = {.it_value = {0, 50 * 1000000}};
  double start = cpu_now(clock);
  if (timer_settime(id, 0, &its, NULL)) DIE("timer_settime");
  struct itimerspec left;
  timer_gettime(id, &left);
  printf("%s: armed, left <= 50 ms: %d\n", name, left.it_value.tv_sec == 0 && left.it_value.tv_nsec <= 50 * 1000000 && left.it_value.tv_nsec > 0);
  volatile unsigned long spin = 0;
  while (!fired && cpu_now(clock) - start < 5) spin++;
  double used = cpu_now(clock) - start;
  printf("%s: fired %d, after at least 50 ms of CPU: %d\n", name, (int)fired, used >= 0.049);
  timer_gettime(id, &left);
  printf("%s: disarmed after firing: %d\n", name, left.it_value.tv_sec == 0 && left.it_value.tv_nsec == 0);
  /* Absolute, already past: at once. */
  fired = 0;
  its.it_value.tv_sec = 0;
  its.it_value.tv_nsec = 1;
  timer_settime(id, TIMER_ABSTIME, &its, NULL);
  while (!fired && cpu_now(clock) - start < 5) spin++;
  printf("%s: absolute past deadline fired: %d\n", name, (int)fired);
  SHOW("timer_delete", timer_delete(id));
}

int main(void) {
  line_buffered();
  signal(SIGALRM, on_alarm);
  one("CLOCK_PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID);
  one("CLOCK_THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID);
  clockid_t mine;
  if (clock_getcpuclockid(getpid(), &mine)) DIE("clock_getcpuclockid");
  one("own pid's clock", mine);
  int id;
  struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_signo = SIGALRM};
  SHOW("raw timer_create(SIGEV_THREAD)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
  SHOW("timer_create(clock of no process)", syscall(SYS_timer_create, (clockid_t)((~(clockid_t)999999) << 3 | 2), NULL, &id));
  SHOW("timer_create(bad CPU clock kind)", syscall(SYS_timer_create, (clockid_t)(~0 << 3 | 3), NULL, &id));
  printf("done\n");
  return 0;
}
