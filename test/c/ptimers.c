/* ptimers: POSIX timers: one-shot and periodic timers delivering signals with
 * SI_TIMER siginfo (timer id, sigev_value), overruns while the signal is
 * blocked, timer_gettime, timer_delete, SIGEV_NONE, bad arguments. */
#define _GNU_SOURCE
#include "common.h"
#include <signal.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &set, NULL);

  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGRTMIN;
  ev.sigev_value.sival_int = 4242;
  timer_t t1;
  printf("create: %d\n", timer_create(CLOCK_MONOTONIC, &ev, &t1));
  struct itimerspec its = {{0, 0}, {0, 30 * 1000000}};
  printf("settime one-shot: %d\n", timer_settime(t1, 0, &its, NULL));
  siginfo_t si;
  int sig = sigwaitinfo(&set, &si);
  printf("one-shot: sig is RTMIN %d, code SI_TIMER %d, value %d, overrun %d\n", sig == SIGRTMIN, si.si_code == SI_TIMER,
         si.si_value.sival_int, si.si_overrun);
  struct itimerspec cur;
  timer_gettime(t1, &cur);
  printf("disarmed after firing: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

  struct itimerspec per = {{0, 10 * 1000000}, {0, 10 * 1000000}};
  timer_settime(t1, 0, &per, NULL);
  sleep_ms(120);
  sig = sigwaitinfo(&set, &si);
  printf("periodic while blocked: overrun in signal >= 5: %d, timer_getoverrun >= 5: %d\n", si.si_overrun >= 5,
         timer_getoverrun(t1) >= 5);
  timer_gettime(t1, &cur);
  printf("periodic still armed: %d, interval kept: %d\n", cur.it_value.tv_nsec > 0 || cur.it_value.tv_sec > 0,
         cur.it_interval.tv_nsec == 10 * 1000000);
  printf("delete: %d\n", timer_delete(t1));
  int rc = timer_delete(t1);
  printf("delete again: %d %s\n", rc, ename(errno));

  struct sigevent none = {.sigev_notify = SIGEV_NONE};
  timer_t t2;
  timer_create(CLOCK_REALTIME, &none, &t2);
  struct itimerspec abs;
  clock_gettime(CLOCK_REALTIME, &abs.it_value);
  abs.it_value.tv_sec += 100;
  abs.it_interval.tv_sec = abs.it_interval.tv_nsec = 0;
  printf("absolute realtime settime: %d\n", timer_settime(t2, TIMER_ABSTIME, &abs, NULL));
  timer_gettime(t2, &cur);
  printf("about 100 s left: %d\n", cur.it_value.tv_sec >= 98 && cur.it_value.tv_sec <= 100);
  struct itimerspec bad = {{0, 0}, {0, 1000000000}};
  printf("bad nsec: %d %s\n", timer_settime(t2, 0, &bad, NULL), ename(errno));
  timer_t t3;
  printf("bad clock: %d %s\n", timer_create(12345, NULL, &t3), ename(errno));
  // Timer ids are handed out in a cycle, as Linux does: a deleted id is not the next one given.
  timer_t ids[4];
  timer_create(CLOCK_MONOTONIC, &none, &ids[0]);
  timer_create(CLOCK_MONOTONIC, &none, &ids[1]);
  timer_delete(ids[0]);
  timer_create(CLOCK_MONOTONIC, &none, &ids[2]);
  timer_create(CLOCK_MONOTONIC, &none, &ids[3]);
  printf("ids after a delete: +%ld +%ld +%ld\n", (long)ids[1] - (long)ids[0], (long)ids[2] - (long)ids[0], (long)ids[3] - (long)ids[0]);
  printf("done\n");
  return 0;
}
