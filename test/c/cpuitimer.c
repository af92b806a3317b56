/* cpuitimer: ITIMER_VIRTUAL and ITIMER_PROF count the process's CPU time:
 * they fire (SIGVTALRM, SIGPROF) while it computes, periodically with an
 * interval, not while it sleeps; getitimer counts down; a zero value
 * disarms; a forked child starts with none and exec keeps them (Python's
 * test_signal ItimerTest, LTP setitimer01/getitimer). */
#define _GNU_SOURCE
#include "common.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

static volatile sig_atomic_t vt, pr;
static void onvt(int s) { (void)s; vt++; }
static void onpr(int s) { (void)s; pr++; }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* spin burns CPU until *count reaches want or 20 s of wall time pass. */
static void spin(volatile sig_atomic_t *count, int want) {
  double end = now() + 20;
  volatile unsigned long x = 0;
  while (*count < want && now() < end)
    for (int i = 0; i < 100000; i++) x += i;
}

static void set(int which, long value_us, long interval_us) {
  struct itimerval it = {{interval_us / 1000000, interval_us % 1000000}, {value_us / 1000000, value_us % 1000000}};
  if (setitimer(which, &it, NULL)) printf("setitimer: %s\n", ename(errno));
}

static long left_us(int which) {
  struct itimerval it;
  getitimer(which, &it);
  return it.it_value.tv_sec * 1000000 + it.it_value.tv_usec;
}

int main(int argc, char **argv) {
  if (argc > 1) { /* after exec: the timer set before exec is still there */
    long l = left_us(ITIMER_VIRTUAL);
    printf("after exec: virtual timer armed=%d (<= 10.1 s: %d)\n", l > 0, l <= 10100000);
    printf("done\n");
    return 0;
  }
  signal(SIGVTALRM, onvt);
  signal(SIGPROF, onpr);

  set(ITIMER_VIRTUAL, 50000, 50000);
  spin(&vt, 3);
  set(ITIMER_VIRTUAL, 0, 0);
  printf("ITIMER_VIRTUAL fired while computing: %d\n", vt >= 3);
  printf("disarmed: %ld\n", left_us(ITIMER_VIRTUAL));

  set(ITIMER_PROF, 50000, 50000);
  spin(&pr, 3);
  set(ITIMER_PROF, 0, 0);
  printf("ITIMER_PROF fired while computing: %d\n", pr >= 3);

  /* One shot: fires once. */
  vt = 0;
  set(ITIMER_VIRTUAL, 30000, 0);
  spin(&vt, 1);
  double t = now() + 0.3;
  volatile unsigned long x = 0;
  while (now() < t) x++;
  printf("one shot fired once: %d, then disarmed: %ld\n", vt == 1, left_us(ITIMER_VIRTUAL));

  /* Sleeping uses no CPU time: nothing fires, the value stays near 2 s. */
  vt = 0;
  set(ITIMER_VIRTUAL, 2000000, 0);
  struct timespec nap = {0, 300000000};
  nanosleep(&nap, NULL);
  long l = left_us(ITIMER_VIRTUAL);
  /* (Linux rounds the value up to its tick: it may read a little over 2 s.) */
  printf("asleep: fired %d, left > 1.5 s: %d, <= 2.1 s: %d\n", vt, l > 1500000, l <= 2100000);

  /* Counting down while computing. */
  t = now() + 0.3;
  while (now() < t) x++;
  long l2 = left_us(ITIMER_VIRTUAL);
  printf("computing counts down: %d\n", l2 < l);

  /* A child of fork starts with no timers. */
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    printf("child: virtual %ld, prof %ld\n", left_us(ITIMER_VIRTUAL), left_us(ITIMER_PROF));
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);

  /* Bad arguments. */
  struct itimerval bad = {{0, 0}, {0, 1000000}};
  errno = 0;
  int r = setitimer(ITIMER_PROF, &bad, NULL);
  printf("usec 1000000: %d %s\n", r, ename(errno));
  errno = 0;
  r = setitimer(7, &bad, NULL);
  printf("which 7: %d %s\n", r, ename(errno));

  /* exec keeps them: the program runs itself again with the timer armed. */
  set(ITIMER_VIRTUAL, 10000000, 0);
  signal(SIGVTALRM, SIG_IGN);
  fflush(stdout);
  execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
  printf("exec: %s\n", ename(errno));
  return 1;
}
