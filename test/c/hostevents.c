/* hostevents: waiting on host file descriptors, driven by
 * test/integration/hostevents.test.js, which gives a pipe as stdin, reads
 * stdout line by line and writes to stdin (or signals) after each "ready"
 * line. The same driver runs it natively and in the sandbox.
 *
 *   stale   fd 2 is a second FIFO (read side). Poll with a timeout on stdin
 *           reopened through /proc/self/fd/0, close that, open
 *           /proc/self/fd/2 (in the sandbox the Sentry's host fd number is
 *           reused, for another file) and block in read on it; the test
 *           writes to the second FIFO only.
 *   poll    poll, select, ppoll and pselect6 on stdin: timeouts with nothing
 *           there, a wake-up per write, POLLOUT on stdout, POLLHUP at EOF.
 *   signal  block in read on stdin with SIGTERM and SIGINT handlers (no
 *           SA_RESTART); the test sends SIGTERM, then SIGINT, then data. The
 *           read results go to stderr (whether the signal came while read
 *           was blocked depends on timing); stdout is deterministic.
 *   idle    block in read on stdin until the test writes. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>

static void ready(const char *what) {
  printf("ready %s\n", what);
  fflush(stdout);
}

static void readOne(int fd, const char *what) {
  char buf[16];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n < 0) {
    printf("%s: read %s\n", what, ename(errno));
    return;
  }
  buf[n] = 0;
  printf("%s: read %zd \"%s\"\n", what, n, buf);
}

static int stale(void) {
  int a = open("/proc/self/fd/0", O_RDONLY);
  if (a < 0) return printf("open a: %s\n", ename(errno)), 1;
  struct pollfd p = {.fd = a, .events = POLLIN};
  int r = poll(&p, 1, 30);
  printf("poll with timeout: %d revents %#x\n", r, r > 0 ? p.revents : 0);
  if (close(a) < 0) return printf("close: %s\n", ename(errno)), 1;
  int b = open("/proc/self/fd/2", O_RDONLY);
  if (b < 0) return printf("open b: %s\n", ename(errno)), 1;
  ready("stale");
  readOne(b, "reopened");
  printf("done\n");
  return 0;
}

static void showPoll(const char *what, int fd, short events, int timeout) {
  struct pollfd p = {.fd = fd, .events = events};
  int r = poll(&p, 1, timeout);
  if (r < 0) printf("%s: %s\n", what, ename(errno));
  else printf("%s: %d revents %#x\n", what, r, r > 0 ? p.revents : 0);
}

static void showSelect(const char *what, struct timeval *tv) {
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(0, &rd);
  int r = select(1, &rd, NULL, NULL, tv);
  if (r < 0) printf("%s: %s\n", what, ename(errno));
  else printf("%s: %d stdin %s\n", what, r, FD_ISSET(0, &rd) ? "set" : "clear");
}

static int pollMode(void) {
  showPoll("poll now", 0, POLLIN, 0);
  struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};
  showSelect("select 20 ms", &tv);
  struct timespec ts = {.tv_sec = 0, .tv_nsec = 20000000};
  struct pollfd p = {.fd = 0, .events = POLLIN};
  printf("ppoll 20 ms: %d\n", ppoll(&p, 1, &ts, NULL));
  showPoll("poll stdout", 1, POLLOUT, 0);

  ready("poll");
  showPoll("poll forever", 0, POLLIN, -1);
  readOne(0, "after poll");

  ready("select");
  showSelect("select forever", NULL);
  readOne(0, "after select");

  ready("pselect");
  sigset_t mask;
  sigemptyset(&mask);
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(0, &rd);
  printf("pselect forever: %d\n", pselect(1, &rd, NULL, NULL, NULL, &mask));
  readOne(0, "after pselect");

  ready("eof");
  showPoll("poll at eof", 0, POLLIN, -1);
  readOne(0, "at eof");
  printf("done\n");
  return 0;
}

static volatile sig_atomic_t got;

static void onSignal(int sig) {
  got = sig;
}

static int signalMode(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onSignal; /* no SA_RESTART: the read fails with EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  const char *names[] = {"term", "int"};
  for (int i = 0; i < 2; i++) {
    got = 0;
    ready(names[i]);
    char c;
    while (!got) {
      ssize_t n = read(0, &c, 1);
      fprintf(stderr, "read while waiting for a signal: %zd %s\n", n, n < 0 ? ename(errno) : "");
      if (n == 0) return printf("unexpected EOF\n"), 1;
    }
    printf("signal %d\n", got);
  }
  ready("data");
  readOne(0, "after signals");
  printf("done\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return printf("usage: hostevents stale|poll|signal|idle\n"), 2;
  const char *mode = argv[1];
  if (strcmp(mode, "stale") == 0) return stale();
  if (strcmp(mode, "poll") == 0) return pollMode();
  if (strcmp(mode, "signal") == 0) return signalMode();
  if (strcmp(mode, "idle") == 0) {
    ready("idle");
    readOne(0, "idle");
    printf("done\n");
    return 0;
  }
  return printf("unknown mode %s\n", mode), 2;
}
