#define _GNU_SOURCE
// SO_LINGER on TCP (socket(7)): the option's round trips, a close(2) with a
// linger time that waits until the peer acknowledged everything (and the
// FIN), one that gives up when the time runs out and leaves the connection
// to finish in the background, one a signal cuts short, one of a
// non-blocking socket, shutdown(2) that does not wait, an exiting process
// that does not wait, and SO_LINGER 0's reset. Whether close waited is told
// by order, not by time: the reader reports on a pipe when it starts to
// read, and the closer looks at the pipe when close returns.
// Output compared with a native run in a network namespace with lo up.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A reader that must not have started when the closer's call returns waits for
 * the closer's go (after its check), or this long if the call wrongly waits for
 * it (then the check fails rather than hangs). */
#define LATE (-1)
#define GIVE_UP_MS 20000
/* A reader the closer's close must wait for starts on its own after this. */
#define SOON_MS 300

#define CHECK(x) do { if (!(x)) { printf("FAIL %s:%d %s errno=%s\n", __FILE__, __LINE__, #x, strerrorname_np(errno)); exit(1); } } while (0)

static int lsock = -1;

static int pair(int *a) {
  if (lsock < 0) {
    lsock = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(lsock >= 0);
    // A small receive buffer (the accepted sockets inherit it): the peer's window closes while
    // data is still queued, so that data stays unacknowledged until the reader reads.
    int small = 4096;
    CHECK(setsockopt(lsock, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(lsock, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(lsock, 8) == 0);
  }
  struct sockaddr_in sa;
  socklen_t l = sizeof sa;
  CHECK(getsockname(lsock, (struct sockaddr *)&sa, &l) == 0);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(c >= 0);
  int small = 4096;
  CHECK(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  CHECK(connect(c, (struct sockaddr *)&sa, l) == 0);
  *a = accept(lsock, NULL, NULL);
  CHECK(*a >= 0);
  return c;
}

static void show_linger(const char *what, int fd) {
  struct linger lg = {-1, -1};
  socklen_t l = sizeof lg;
  int r = getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l);
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: onoff %d linger %d len %d\n", what, lg.l_onoff, lg.l_linger, (int)l);
}

static void set_linger(int fd, int on, int secs) {
  struct linger lg = {on, secs};
  CHECK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
}

static void options(void) {
  printf("-- options\n");
  int s = socket(AF_INET, SOCK_STREAM, 0);
  show_linger("default", s);
  set_linger(s, 1, 5);
  show_linger("on 5", s);
  set_linger(s, 0, 7);
  show_linger("off 7", s);
  set_linger(s, 3, 0);
  show_linger("on 0", s);
  struct linger lg = {1, 2};
  errno = 0;
  int r = setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, 4);
  printf("short optlen: %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
  char big[16] = {0};
  memcpy(big, &lg, sizeof lg);
  r = setsockopt(s, SOL_SOCKET, SO_LINGER, big, sizeof big);
  printf("long optlen: %d\n", r);
  show_linger("after long", s);
  socklen_t l = 4;
  r = getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l);
  printf("get with 4 bytes: %d len %d\n", r, (int)l);
  close(s);
}

/* The reader: tells the pipe when it starts, after a pause, then reads everything to EOF. */
static void reaped(pid_t pid) {
  int st;
  CHECK(waitpid(pid, &st, 0) == pid);
  const char *what[] = {"every byte, then EOF", "EOF after a wrong count", "EOF without data", "an error"};
  printf("reader: %s\n", WIFEXITED(st) && WEXITSTATUS(st) < 4 ? what[WEXITSTATUS(st)] : "died");
}

static int gopipe[2] = {-1, -1};

/* Let a LATE reader start. */
static void go(void) {
  if (gopipe[1] < 0) return;
  CHECK(write(gopipe[1], "g", 1) == 1);
  close(gopipe[0]);
  close(gopipe[1]);
  gopipe[0] = gopipe[1] = -1;
}

static pid_t reader(int a, int note_r, int note, int pause_ms, int other, long expect) {
  CHECK(pipe(gopipe) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    if (other >= 0) close(other);
    // The closer's close must be the last reference: say that ours is gone.
    CHECK(write(note, "c", 1) == 1);
    if (pause_ms == LATE) {
      struct pollfd p = {gopipe[0], POLLIN, 0};
      poll(&p, 1, GIVE_UP_MS);
    } else {
      usleep(pause_ms * 1000);
    }
    CHECK(write(note, "r", 1) == 1);
    char buf[65536];
    size_t total = 0;
    ssize_t n;
    while ((n = read(a, buf, sizeof buf)) > 0) total += n;
    // Reported through the exit status (see reaped), so the output's order does not depend on scheduling.
    _exit(n != 0 ? 3 : expect < 0 ? (total > 0 ? 0 : 2) : total == (size_t)expect ? 0 : 1);
  }
  char ch;
  CHECK(read(note_r, &ch, 1) == 1 && ch == 'c');
  return pid;
}

static long fill(int c) {
  // Write until the socket's buffers are full (non-blocking), so that close has data to wait for.
  int fl = fcntl(c, F_GETFL);
  fcntl(c, F_SETFL, fl | O_NONBLOCK);
  static char chunk[4096];
  size_t total = 0;
  for (;;) {
    ssize_t n = write(c, chunk, sizeof chunk);
    if (n <= 0) break;
    total += n;
  }
  fcntl(c, F_SETFL, fl);
  return (long)total;
}

static int started(int note) {
  struct pollfd p = {note, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

/* close with a linger time long enough: returns only after the reader took everything. */
static void waits(int nonblock) {
  printf("-- close waits%s\n", nonblock ? " (non-blocking socket)" : "");
  int a, c = pair(&a);
  int p[2];
  CHECK(pipe(p) == 0);
  long filled = fill(c);
  printf("filled: %d\n", filled > 0);
  set_linger(c, 1, 30);
  if (nonblock) fcntl(c, F_SETFL, O_NONBLOCK);
  pid_t pid = reader(a, p[0], p[1], SOON_MS, c, filled);
  close(a);
  int r = close(c);
  printf("close: %d, reader had started: %d\n", r, started(p[0]));
  go();
  reaped(pid);
  close(p[0]);
  close(p[1]);
}

/* The linger time runs out first: close returns 0 and the connection finishes in the background. */
static void times_out(void) {
  printf("-- close times out\n");
  int a, c = pair(&a);
  int p[2];
  CHECK(pipe(p) == 0);
  long filled = fill(c);
  printf("filled: %d\n", filled > 0);
  set_linger(c, 1, 1);
  pid_t pid = reader(a, p[0], p[1], LATE, c, filled);
  close(a);
  errno = 0;
  int r = close(c);
  printf("close: %d %s, reader had started: %d\n", r, strerrorname_np(errno), started(p[0]));
  go();
  reaped(pid);
  close(p[0]);
  close(p[1]);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int s) {
  (void)s;
  alarms++;
}

/* A signal ends the wait: close still returns 0, the handler ran. */
static void interrupted(void) {
  printf("-- close interrupted\n");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  int a, c = pair(&a);
  int p[2];
  CHECK(pipe(p) == 0);
  long filled = fill(c);
  printf("filled: %d\n", filled > 0);
  set_linger(c, 1, 30);
  pid_t pid = reader(a, p[0], p[1], LATE, c, filled);
  close(a);
  alarm(1);
  errno = 0;
  int r = close(c);
  printf("close: %d %s, alarms %d, reader had started: %d\n", r, strerrorname_np(errno), (int)alarms, started(p[0]));
  go();
  reaped(pid);
  close(p[0]);
  close(p[1]);
  signal(SIGALRM, SIG_DFL);
}

/* shutdown(SHUT_WR) does not wait for the linger time; the later close does. */
static void shutdown_first(void) {
  printf("-- shutdown does not wait\n");
  int a, c = pair(&a);
  int p[2];
  CHECK(pipe(p) == 0);
  long filled = fill(c);
  printf("filled: %d\n", filled > 0);
  set_linger(c, 1, 30);
  pid_t pid = reader(a, p[0], p[1], LATE, c, filled);
  close(a);
  int r = shutdown(c, SHUT_WR);
  printf("shutdown: %d, reader had started: %d\n", r, started(p[0]));
  go();
  r = close(c);
  printf("close: %d, reader had started: %d\n", r, started(p[0]));
  go();
  reaped(pid);
  close(p[0]);
  close(p[1]);
}

/* A process that exits with a lingering socket does not wait (its descriptors close as it dies). */
static void exiting(void) {
  printf("-- exit does not wait\n");
  int a, c = pair(&a);
  int p[2];
  CHECK(pipe(p) == 0);
  pid_t pid = reader(a, p[0], p[1], LATE, c, -1);
  close(a);
  int q[2];
  CHECK(pipe(q) == 0);
  pid_t w = fork();
  if (w == 0) {
    fill(c);
    set_linger(c, 1, 30);
    // Exit only once the parent's descriptor is gone: the exit's is the last reference.
    char ch;
    CHECK(read(q[0], &ch, 1) == 1);
    _exit(0);
  }
  close(c);
  CHECK(write(q[1], "x", 1) == 1);
  close(q[0]);
  close(q[1]);
  int st;
  waitpid(w, &st, 0);
  printf("closer exited, reader had started: %d\n", started(p[0]));
  go();
  reaped(pid);
  close(p[0]);
  close(p[1]);
}

/* The other descriptor of a dup keeps the socket open: that close does not wait. */
static void dup_close(void) {
  printf("-- close of one of two descriptors\n");
  int a, c = pair(&a);
  int p[2];
  CHECK(pipe(p) == 0);
  long filled = fill(c);
  printf("filled: %d\n", filled > 0);
  set_linger(c, 1, 30);
  pid_t pid = reader(a, p[0], p[1], LATE, c, filled);
  int d = dup(c);
  close(a);
  int r = close(c);
  printf("first close: %d, reader had started: %d\n", r, started(p[0]));
  go();
  r = close(d);
  printf("last close: %d, reader had started: %d\n", r, started(p[0]));
  go();
  reaped(pid);
  close(p[0]);
  close(p[1]);
}

/* SO_LINGER 0: the peer is reset, whatever was queued. */
static void abortive(void) {
  printf("-- linger 0\n");
  int a, c = pair(&a);
  long filled = fill(c);
  printf("filled: %d\n", filled > 0);
  set_linger(c, 1, 0);
  printf("close: %d\n", close(c));
  usleep(20000);
  char buf[65536];
  size_t total = 0;
  ssize_t n;
  while ((n = read(a, buf, sizeof buf)) > 0) total += n;
  printf("peer read %s after %s\n", n == 0 ? "EOF" : strerrorname_np(errno), total > 0 ? "some data" : "no data");
  close(a);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  options();
  waits(0);
  waits(1);
  times_out();
  interrupted();
  shutdown_first();
  exiting();
  dup_close();
  abortive();
  printf("done\n");
  return 0;
}
