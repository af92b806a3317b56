// Timeouts of select, pselect6, ppoll, poll and futex waits across an
// interruption: Linux writes the time left back for select/pselect6/ppoll
// (so their restart goes on with it) and restarts poll and timed futex waits
// through restart_syscall to the same deadline. A stop and continue (no
// handler) in the middle must not make the call start its timeout afresh.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// A child stops us 0.2 s into the call and continues us 0.8 s later. Linux
// keeps the deadline of poll, futex waits and nanosleep (restart_syscall),
// and restarts select, pselect6 and ppoll with the time that was left when
// the stop interrupted them: the stopped time is not counted there. The
// child notes when it really sent each signal (a loaded machine delays
// them), and the return time is matched against the three possible rules.
static double *marks; // [0] SIGSTOP sent, [1] SIGCONT sent

static pid_t stopper(void) {
  pid_t parent = getpid();
  pid_t c = fork();
  if (c == 0) {
    usleep(200000);
    marks[0] = now();
    kill(parent, SIGSTOP);
    usleep(800000);
    marks[1] = now();
    kill(parent, SIGCONT);
    _exit(0);
  }
  return c;
}

static void report(const char *what, double t0, int r) {
  double end = now();
  // With a 1 s timeout: the deadline kept ends at t0 + 1 (or at the continue
  // if that is later); the time left goes on after the continue; a fresh
  // timeout starts at the continue.
  double kept = t0 + 1.0 > marks[1] ? t0 + 1.0 : marks[1];
  double left = marks[1] + (1.0 - (marks[0] - t0));
  double fresh = marks[1] + 1.0;
  double dk = end - kept, dl = end - left, df = end - fresh;
  if (dk < 0) dk = -dk;
  if (dl < 0) dl = -dl;
  if (df < 0) df = -df;
  const char *rule = dk <= dl && dk <= df ? "deadline kept" : dl <= df ? "time left went on after the stop" : "timeout started afresh";
  printf("%s: returned %d, %s\n", what, r, rule);
}

static uint32_t word;

static int run(void);

// In the sandbox the program is pid 1, which stop signals from inside its
// namespace do not reach (as on Linux): the calls run in a child.
int main(void) {
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) exit(run());
  int st;
  waitpid(c, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static int run(void) {
  marks = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int p[2];
  if (pipe(p)) return 1;

  // The time left is written back on a normal return too.
  write(p[1], "x", 1);
  struct timeval tv = {2, 0};
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(p[0], &rs);
  int r = select(p[0] + 1, &rs, NULL, NULL, &tv);
  printf("select ready: %d, timeval written back: %s\n", r, tv.tv_sec == 1 && tv.tv_usec > 500000 ? "yes" : "no");
  struct timespec ts = {2, 0};
  struct pollfd pf = {p[0], POLLIN, 0};
  r = ppoll(&pf, 1, &ts, NULL);
  printf("ppoll ready: %d, timespec written back: %s\n", r, ts.tv_sec == 1 && ts.tv_nsec > 500000000 ? "yes" : "no");
  ts.tv_sec = 2;
  ts.tv_nsec = 0;
  r = syscall(SYS_pselect6, p[0] + 1, &rs, NULL, NULL, &ts, NULL);
  printf("pselect6 ready: %d, timespec written back: %s\n", r, ts.tv_sec == 1 && ts.tv_nsec > 500000000 ? "yes" : "no");
  char c;
  read(p[0], &c, 1);

  // A zero timeout is left alone.
  ts.tv_sec = 0;
  ts.tv_nsec = 0;
  r = ppoll(&pf, 1, &ts, NULL);
  printf("ppoll zero timeout: %d\n", r);

  // Stopped and continued in the middle of each call.
  int st;
  pid_t k = stopper();
  double t0 = now();
  r = poll(&pf, 1, 1000);
  report("poll", t0, r);
  waitpid(k, &st, 0);

  k = stopper();
  t0 = now();
  tv.tv_sec = 1;
  tv.tv_usec = 0;
  FD_ZERO(&rs);
  FD_SET(p[0], &rs);
  r = select(p[0] + 1, &rs, NULL, NULL, &tv);
  report("select", t0, r);
  waitpid(k, &st, 0);

  k = stopper();
  t0 = now();
  ts.tv_sec = 1;
  ts.tv_nsec = 0;
  r = ppoll(&pf, 1, &ts, NULL);
  report("ppoll", t0, r);
  waitpid(k, &st, 0);

  k = stopper();
  t0 = now();
  ts.tv_sec = 1;
  ts.tv_nsec = 0;
  r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
  report("futex wait", t0, r);
  waitpid(k, &st, 0);

  k = stopper();
  t0 = now();
  ts.tv_sec = 1;
  ts.tv_nsec = 0;
  r = nanosleep(&ts, NULL);
  report("nanosleep", t0, r);
  waitpid(k, &st, 0);
  printf("done\n");
  return 0;
}
