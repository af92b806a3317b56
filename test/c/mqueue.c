// POSIX message queues as Linux answers them: create and reopen, attributes
// and their limits, priorities, full and empty queues with O_NONBLOCK and
// timeouts, a receiver woken by another process, mq_notify with a signal,
// poll and epoll, the status line read from the descriptor, unlink while
// open, permissions of another user, RLIMIT_MSGQUEUE, and the errors.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/syscall.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

static volatile sig_atomic_t got;
static volatile int got_code, got_val;
static void on_sig(int s, siginfo_t *si, void *u) { (void)u; got = s; got_code = si->si_code; got_val = si->si_value.sival_int; }

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  char name[64];
  snprintf(name, sizeof name, "/tsv-%d", getpid() % 100000);
  mq_unlink(name);
  struct mq_attr at = {0, 4, 32, 0};
  mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, &at);
  show("mq_open", q >= 0 ? 0 : -1);
  show("exclusive again", mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &at));
  show("missing", mq_open("/tsv-nonexistent-queue", O_RDONLY));
  show("slash inside", mq_open("/a/b", O_CREAT | O_RDWR, 0600, NULL));
  struct mq_attr bad = {0, 0, 32, 0};
  show("maxmsg 0", mq_open("/tsv-bad", O_CREAT | O_RDWR, 0600, &bad));
  struct mq_attr huge = {0, 100000, 32, 0};
  show("maxmsg past the hard limit", mq_open("/tsv-bad", O_CREAT | O_RDWR, 0600, &huge));
  struct mq_attr cur;
  mq_getattr(q, &cur);
  printf("attr flags %s maxmsg %ld msgsize %ld curmsgs %ld\n", cur.mq_flags & O_NONBLOCK ? "O_NONBLOCK" : "0", cur.mq_maxmsg, cur.mq_msgsize, cur.mq_curmsgs);

  char buf[64];
  unsigned prio;
  show("receive empty", mq_receive(q, buf, sizeof buf, &prio));
  show("receive small buffer", mq_receive(q, buf, 8, &prio));
  mq_send(q, "low", 3, 1);
  mq_send(q, "high", 4, 9);
  mq_send(q, "low2", 4, 1);
  mq_send(q, "mid", 3, 5);
  show("send to a full queue", mq_send(q, "x", 1, 0));
  show("too long", mq_send(q, buf, 40, 0));
  show("priority too high", mq_send(q, "x", 1, 40000));
  char status[128] = {0};
  ssize_t n = read(q, status, sizeof status - 1);
  printf("status %zd: %s", n, status);
  for (int i = 0; i < 4; i++) {
    n = mq_receive(q, buf, sizeof buf, &prio);
    printf("received %.*s prio %u\n", (int)n, buf, prio);
  }

  // Timeouts (blocking descriptor).
  mqd_t b = mq_open(name, O_RDWR);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 50000000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  show("timed receive", mq_timedreceive(b, buf, sizeof buf, NULL, &ts));
  struct timespec badts = {0, 2000000000};
  show("bad timeout", mq_timedreceive(b, buf, sizeof buf, NULL, &badts));

  // A receiver woken by another process.
  pid_t c = fork();
  if (c == 0) {
    usleep(100000);
    mq_send(b, "wake", 4, 3);
    _exit(0);
  }
  n = mq_receive(b, buf, sizeof buf, &prio);
  printf("woken: %.*s prio %u\n", (int)n, buf, prio);
  waitpid(c, NULL, 0);

  // mq_notify with a signal: fires once for a message on an empty queue.
  struct sigaction sa = {0};
  sa.sa_sigaction = on_sig;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);
  struct sigevent ev = {0};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGUSR1;
  ev.sigev_value.sival_int = 77;
  // The sigevent is checked before the descriptor (LTP mq_notify02): a bad one is EINVAL even on a bad fd.
  struct sigevent badev = {0};
  badev.sigev_notify = 77;
  show("mq_notify bad sigev_notify, bad fd", syscall(SYS_mq_notify, 9999, &badev));
  badev.sigev_notify = SIGEV_SIGNAL;
  badev.sigev_signo = 999;
  show("mq_notify bad signal, bad fd", syscall(SYS_mq_notify, 9999, &badev));
  show("mq_notify NULL, bad fd", syscall(SYS_mq_notify, 9999, NULL));
  show("mq_notify", mq_notify(q, &ev));
  show("mq_notify again by the same process", mq_notify(q, &ev));
  c = fork();
  if (c == 0) {
    show("mq_notify from another process", mq_notify(q, &ev));
    mq_send(b, "n", 1, 0);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  for (int i = 0; i < 100 && !got; i++) usleep(1000);
  printf("notified by signal %d code %s value %d\n", (int)got, got_code == SI_MESGQ ? "SI_MESGQ" : "other", got_val);
  mq_receive(q, buf, sizeof buf, NULL);

  // poll and epoll.
  struct pollfd pf = {q, POLLIN | POLLOUT, 0};
  poll(&pf, 1, 0);
  printf("poll empty: %#x\n", pf.revents);
  mq_send(q, "p", 1, 0);
  poll(&pf, 1, 0);
  printf("poll one: %#x\n", pf.revents);
  int ep = epoll_create1(0);
  struct epoll_event ee = {.events = EPOLLIN, .data.u64 = 3}, out;
  epoll_ctl(ep, EPOLL_CTL_ADD, q, &ee);
  show("epoll", epoll_wait(ep, &out, 1, 0));
  mq_receive(q, buf, sizeof buf, NULL);

  // Another user; unlink while open.
  c = fork();
  if (c == 0) {
    if (setuid(65534)) _exit(1);
    show("other user open", mq_open(name, O_RDONLY));
    show("other user unlink", mq_unlink(name));
    _exit(0);
  }
  waitpid(c, NULL, 0);
  show("unlink", mq_unlink(name));
  show("unlink again", mq_unlink(name));
  show("still usable", mq_send(q, "after", 5, 0));
  show("receive after unlink", mq_receive(q, buf, sizeof buf, NULL));
  show("send on a pipe", mq_send(0, "x", 1, 0));
  mq_close(q);
  mq_close(b);

  // RLIMIT_MSGQUEUE.
  mq_unlink("/tsv-rl");
  struct rlimit rl = {400, 400};
  setrlimit(RLIMIT_MSGQUEUE, &rl);
  mqd_t over = mq_open("/tsv-rl", O_CREAT | O_RDWR, 0600, &at);
  // Every queue of the user counts (on the host, other programs' too): only
  // a limit below one queue's charge gives the same answer everywhere.
  show("over RLIMIT_MSGQUEUE", over >= 0 ? 0 : -1);
  mq_unlink("/tsv-rl");
  printf("done\n");
  return 0;
}
