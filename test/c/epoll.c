// epoll and eventfd as Linux answers them: level, edge and one-shot
// triggering over pipes and eventfds, nested sets, entries that outlive a
// closed fd while the description lives on (dup), the errors of epoll_ctl
// and epoll_wait, EINTR whatever SA_RESTART says, eventfd's counter and
// semaphore mode, and poll/select over eventfds.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, int r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %d\n", what, r);
}

// Wait with a zero timeout and print what came back, by data.
static void drain(const char *what, int ep) {
  struct epoll_event ev[8];
  int n = epoll_wait(ep, ev, 8, 0);
  printf("%s: %d", what, n);
  for (int i = 0; i < n; i++) printf(" [%llu %#x]", (unsigned long long)ev[i].data.u64, ev[i].events);
  printf("\n");
}

static int add(int ep, int fd, uint32_t events, uint64_t data) {
  struct epoll_event e = {.events = events, .data.u64 = data};
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static void on_alarm(int s) { (void)s; }

int main(void) {
  int p[2];
  pipe(p);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  show("epoll_create1", ep >= 0 ? 0 : -1);
  show("epoll_create(0)", epoll_create(0));
  show("epoll_create1(bad flag)", epoll_create1(1));

  // Level-triggered: reported while readable.
  add(ep, p[0], EPOLLIN, 1);
  drain("level, empty", ep);
  write(p[1], "ab", 2);
  drain("level, data", ep);
  drain("level, data again", ep);
  char c[8];
  read(p[0], c, 2);
  drain("level, drained", ep);

  // Edge-triggered: once per write.
  struct epoll_event e = {.events = EPOLLIN | EPOLLET, .data.u64 = 2};
  show("MOD to edge", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e));
  write(p[1], "a", 1);
  drain("edge, first write", ep);
  drain("edge, nothing new", ep);
  write(p[1], "b", 1);
  drain("edge, second write", ep);
  read(p[0], c, 2);

  // One-shot: once, then nothing until MOD re-arms it.
  e.events = EPOLLIN | EPOLLONESHOT;
  e.data.u64 = 3;
  epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e);
  write(p[1], "a", 1);
  drain("oneshot, fired", ep);
  write(p[1], "b", 1);
  drain("oneshot, disarmed", ep);
  epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e);
  drain("oneshot, re-armed", ep);
  read(p[0], c, 2);
  show("DEL", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
  show("DEL again", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));

  // The write end: writable, and POLLERR once the reader is gone.
  add(ep, p[1], EPOLLOUT, 4);
  drain("write end", ep);
  epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);

  // Errors.
  show("ADD twice (1)", add(ep, p[0], EPOLLIN, 5));
  show("ADD twice (2)", add(ep, p[0], EPOLLIN, 5));
  show("MOD missing", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &e));
  show("ADD self", add(ep, ep, EPOLLIN, 6));
  show("ADD bad fd", add(ep, 999, EPOLLIN, 6));
  show("ctl on a pipe", add(p[0], p[1], EPOLLIN, 6));
  int reg = open("/proc/self/exe", O_RDONLY);
  show("ADD regular file", add(ep, reg, EPOLLIN, 6));
  int null = open("/dev/null", O_RDONLY);
  show("ADD /dev/null", add(ep, null, EPOLLIN, 6));
  show("bad op", epoll_ctl(ep, 7, p[1], &e));
  show("EXCLUSIVE with ONESHOT", add(ep, p[1], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 6));
  show("EXCLUSIVE add", add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 6));
  show("EXCLUSIVE mod", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &e));
  epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);
  struct epoll_event evs[4];
  show("wait maxevents 0", epoll_wait(ep, evs, 0, 0));
  show("wait on a pipe", epoll_wait(p[0], evs, 4, 0));
  show("wait bad buffer", epoll_wait(ep, (void *)0xffffffffffff0000UL, 4, 0));
  epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);

  // Nested sets: the inner set is readable when it has events; no loops.
  int inner = epoll_create1(0);
  add(inner, p[0], EPOLLIN, 7);
  show("ADD inner", add(ep, inner, EPOLLIN, 8));
  show("ADD outer to inner (loop)", add(inner, ep, EPOLLIN, 9));
  drain("nested, empty", ep);
  write(p[1], "x", 1);
  drain("nested, data", ep);
  drain("inner itself", inner);
  read(p[0], c, 1);
  drain("nested, drained", ep);
  epoll_ctl(ep, EPOLL_CTL_DEL, inner, NULL);

  // An entry lives as long as its description, not its fd.
  int d = dup(p[0]);
  add(ep, d, EPOLLIN, 10);
  close(d);
  write(p[1], "y", 1);
  drain("fd closed, description alive", ep);
  show("DEL of the closed fd", epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL));
  read(p[0], c, 1);

  // eventfd.
  int efd = eventfd(3, EFD_NONBLOCK);
  uint64_t v;
  show("eventfd read 4 bytes", read(efd, c, 4));
  show("eventfd read", read(efd, &v, 8));
  printf("value %llu\n", (unsigned long long)v);
  show("eventfd read empty", read(efd, &v, 8));
  v = 0xffffffffffffffffULL;
  show("eventfd write max", write(efd, &v, 8));
  v = 0xfffffffffffffffeULL;
  show("eventfd write max-1", write(efd, &v, 8));
  v = 1;
  show("eventfd write past max", write(efd, &v, 8));
  read(efd, &v, 8);
  int sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
  for (int i = 0; i < 3; i++) {
    int r = read(sem, &v, 8);
    if (r < 0) printf("semaphore read: %s\n", strerrorname_np(errno));
    else printf("semaphore read: %llu\n", (unsigned long long)v);
  }
  show("eventfd bad flags", eventfd(0, 0x10));
  struct stat st;
  fstat(efd, &st);
  printf("eventfd mode %o\n", st.st_mode);
  char link[64] = {0}, path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", efd);
  readlink(path, link, sizeof link - 1);
  printf("eventfd link %s\n", link);
  snprintf(path, sizeof path, "/proc/self/fd/%d", ep);
  memset(link, 0, sizeof link);
  readlink(path, link, sizeof link - 1);
  printf("epoll link %s\n", link);

  // epoll over eventfd: edge per write, even a write of 0.
  add(ep, efd, EPOLLIN | EPOLLET, 11);
  drain("eventfd empty", ep);
  v = 5;
  write(efd, &v, 8);
  drain("eventfd written", ep);
  v = 0;
  write(efd, &v, 8);
  drain("eventfd written 0", ep);
  struct pollfd pf = {efd, POLLIN | POLLOUT, 0};
  show("poll eventfd", poll(&pf, 1, 0));
  printf("revents %#x\n", pf.revents);
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(efd, &rs);
  struct timeval tv = {0, 0};
  show("select eventfd", select(efd + 1, &rs, NULL, NULL, &tv));

  // A blocking wait woken by a child's write, and a timeout.
  int blk = eventfd(0, 0);
  add(ep, blk, EPOLLIN, 12);
  epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL);
  pid_t k = fork();
  if (k == 0) {
    usleep(100000);
    uint64_t one = 1;
    write(blk, &one, 8);
    _exit(0);
  }
  int n = epoll_wait(ep, evs, 4, 5000);
  printf("woken by the child: %d [%llu]\n", n, n > 0 ? (unsigned long long)evs[0].data.u64 : 0ULL);
  waitpid(k, NULL, 0);
  read(blk, &v, 8);
  show("timeout", epoll_wait(ep, evs, 4, 50));

  // A handler with SA_RESTART still ends epoll_wait with EINTR.
  struct sigaction sa = {0};
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 0}, {0, 100000}};
  setitimer(ITIMER_REAL, &it, NULL);
  show("interrupted (SA_RESTART)", epoll_wait(ep, evs, 4, 5000));
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGALRM);
  setitimer(ITIMER_REAL, &it, NULL);
  show("epoll_pwait, SIGALRM masked", epoll_pwait(ep, evs, 4, 300, &mask));
  show("epoll_pwait bad sigset size", (int)syscall(281, ep, evs, 4, 0, &mask, 4));
  printf("done\n");
  return 0;
}
