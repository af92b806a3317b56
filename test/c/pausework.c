// pausework: a busy multi-process workload whose output does not depend on
// timing, for Kernel.pause()/resume() (test/integration/pause.test.js pauses
// it several times in the middle and expects the output of an uninterrupted
// run). Each child names itself (PR_SET_NAME) so the test can find it:
// - "sleeper": relative nanosleeps, a line through a pipe after each;
// - "spinner": pure user-code arithmetic (no system call for a while), then
//   its result through a pipe;
// - "reader": a blocking read of a pipe the parent writes only at the end;
// - "alarmer": an interval timer and sigsuspend until five SIGALRMs came;
// - "waiter": rt_sigtimedwait with a timeout that runs out, then an
//   absolute clock_nanosleep;
// - a vfork child that sleeps, then exits (its parent waits in vfork).
// The parent reads the pipes (blocking reads), then wait4s every child in a
// fixed order and prints what it learnt. Only the parent writes to stdout.

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(99);
}

static void name(const char *n) {
  if (prctl(PR_SET_NAME, n, 0, 0, 0) != 0) die("prctl");
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  // A restart (after a signal without handler, or a pause) must not end it early or make it start over.
  while (nanosleep(&ts, &ts) != 0) {
    if (errno != EINTR) die("nanosleep");
  }
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleeper(int out, int n) {
  name("sleeper");
  for (int i = 0; i < n; i++) {
    double t0 = now_ms();
    sleep_ms(40);
    // Never early: the deadline is kept across restarts.
    int early = now_ms() - t0 < 40.0;
    dprintf(out, "tick %d%s\n", i, early ? " EARLY" : "");
  }
  _exit(3);
}

static void spinner(int out, uint64_t iters) {
  name("spinner");
  volatile uint64_t x = 88172645463325252ull;
  for (uint64_t i = 0; i < iters; i++) {
    uint64_t v = x;
    v ^= v << 13;
    v ^= v >> 7;
    v ^= v << 17;
    x = v;
  }
  dprintf(out, "spin %016llx\n", (unsigned long long)x);
  _exit(4);
}

static void reader(int in, int out) {
  name("reader");
  char buf[64];
  ssize_t n = read(in, buf, sizeof buf - 1);
  if (n < 0) die("read");
  buf[n] = 0;
  dprintf(out, "reader got %s\n", buf);
  _exit(5);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig) {
  (void)sig;
  alarms++;
}

static void alarmer(void) {
  name("alarmer");
  sigset_t block, wait;
  sigemptyset(&block);
  sigaddset(&block, SIGALRM);
  sigprocmask(SIG_BLOCK, &block, &wait);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 60000}, {0, 60000}};
  if (setitimer(ITIMER_REAL, &it, NULL) != 0) die("setitimer");
  sigdelset(&wait, SIGALRM);
  while (alarms < 5) sigsuspend(&wait);
  // Exits with the interval timer still running: exit must disarm it.
  _exit(6);
}

static void waiter(void) {
  name("waiter");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  // A POSIX timer an hour away, never deleted: exit must delete it.
  timer_t tid;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR2;
  struct itimerspec far = {{0, 0}, {3600, 0}};
  if (timer_create(CLOCK_MONOTONIC, &sev, &tid) != 0 || timer_settime(tid, 0, &far, NULL) != 0) die("timer_create");
  struct timespec to = {0, 300 * 1000000L};
  double t0 = now_ms();
  int r = sigtimedwait(&set, NULL, &to);
  // Ran out (EAGAIN), and not before its time.
  int ok = r == -1 && errno == EAGAIN && now_ms() - t0 >= 300.0;
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_nsec += 200 * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL)) == EINTR) {
  }
  struct timespec after;
  clock_gettime(CLOCK_MONOTONIC, &after);
  ok = ok && r == 0 && (after.tv_sec > until.tv_sec || (after.tv_sec == until.tv_sec && after.tv_nsec >= until.tv_nsec));
  _exit(ok ? 7 : 70);
}

static int pipes[4][2];

static pid_t start(void (*fn)(void)) {
  pid_t p = fork();
  if (p < 0) die("fork");
  if (p == 0) fn();
  return p;
}

static int ticks = 12;
static uint64_t spins = 200000000ull;

/** In a child: close every pipe end but a and b (-1: none), so that EOF comes when it should. */
static void keep(int a, int b) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 2; j++)
      if (pipes[i][j] != a && pipes[i][j] != b) close(pipes[i][j]);
}

static void run_sleeper(void) {
  keep(pipes[0][1], -1);
  sleeper(pipes[0][1], ticks);
}
static void run_spinner(void) {
  keep(pipes[1][1], -1);
  spinner(pipes[1][1], spins);
}
static void run_reader(void) {
  keep(pipes[2][0], pipes[3][1]);
  reader(pipes[2][0], pipes[3][1]);
}
static void run_alarmer(void) {
  keep(-1, -1);
  alarmer();
}
static void run_waiter(void) {
  keep(-1, -1);
  waiter();
}

static void close_children_ends(void) {
  close(pipes[0][1]);
  close(pipes[1][1]);
  close(pipes[2][0]);
  close(pipes[3][1]);
}

static void copy_all(int fd) {
  char buf[256];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, n, stdout);
  if (n < 0) die("read");
}

int main(int argc, char **argv) {
  if (argc > 1) spins = strtoull(argv[1], NULL, 0);
  if (argc > 2) ticks = atoi(argv[2]);
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int i = 0; i < 4; i++)
    if (pipe(pipes[i]) != 0) die("pipe");
  pid_t ps[6];
  ps[0] = start(run_sleeper);
  ps[1] = start(run_spinner);
  ps[2] = start(run_reader);
  ps[3] = start(run_alarmer);
  ps[4] = start(run_waiter);
  ps[5] = vfork();
  if (ps[5] < 0) die("vfork");
  if (ps[5] == 0) {
    // The parent stays in vfork meanwhile (its call held as state, not as a handler).
    struct timespec ts = {0, 600 * 1000000L};
    nanosleep(&ts, NULL);
    _exit(8);
  }
  close_children_ends();
  copy_all(pipes[0][0]); // the sleeper's ticks, then EOF when it exits
  copy_all(pipes[1][0]); // the spinner's result
  if (write(pipes[2][1], "go", 2) != 2) die("write");
  close(pipes[2][1]);
  copy_all(pipes[3][0]);
  const char *names[] = {"sleeper", "spinner", "reader", "alarmer", "waiter", "vforked"};
  for (int i = 0; i < 6; i++) {
    int st;
    if (waitpid(ps[i], &st, 0) != ps[i]) die("waitpid");
    printf("%s: %s %d\n", names[i], WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
  }
  printf("done\n");
  return 0;
}
