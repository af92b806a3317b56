// timerfd as Linux answers it: one-shot and periodic timers, relative and
// absolute (CLOCK_MONOTONIC and CLOCK_REALTIME), gettime/settime with the old
// value, disarming, expirations counted while nobody reads, reads that block
// and that would block, poll and epoll on it, and the errors.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

static struct itimerspec its(long vs, long vns, long is, long ins) {
  struct itimerspec t = {{is, ins}, {vs, vns}};
  return t;
}

int main(void) {
  show("create bad clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
  show("create bad flags", timerfd_create(CLOCK_MONOTONIC, 1));
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  show("create", fd >= 0 ? 0 : -1);
  uint64_t n;
  show("read disarmed", read(fd, &n, 8));
  show("read 4 bytes", read(fd, &n, 4));
  struct itimerspec t = its(0, 50000000, 0, 0), old;
  show("settime one-shot 50 ms", timerfd_settime(fd, 0, &t, &old));
  printf("old was disarmed: %s\n", old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0 ? "yes" : "no");
  struct itimerspec cur;
  timerfd_gettime(fd, &cur);
  printf("gettime: left <= 50 ms and > 0: %s, interval 0: %s\n",
         cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 50000000 ? "yes" : "no",
         cur.it_interval.tv_sec == 0 && cur.it_interval.tv_nsec == 0 ? "yes" : "no");
  struct pollfd pf = {fd, POLLIN, 0};
  show("poll before expiry", poll(&pf, 1, 0));
  show("poll until expiry", poll(&pf, 1, 5000));
  show("read", read(fd, &n, 8));
  printf("expirations: %llu\n", (unsigned long long)n);
  timerfd_gettime(fd, &cur);
  printf("gettime after a one-shot: %ld %ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);

  // Periodic: expirations pile up while nobody reads.
  t = its(0, 20000000, 0, 20000000);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  timerfd_settime(fd, 0, &t, NULL);
  usleep(130000);
  read(fd, &n, 8);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long expect = ((t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec) / 20000000L;
  printf("periodic 20 ms: expirations match the time passed: %s\n", (long)n >= 5 && (long)n >= expect - 1 && (long)n <= expect ? "yes" : "no");
  t = its(0, 0, 0, 0);
  timerfd_settime(fd, 0, &t, &old);
  printf("old interval 20 ms: %s\n", old.it_interval.tv_sec == 0 && old.it_interval.tv_nsec == 20000000 ? "yes" : "no");
  show("read after disarm", read(fd, &n, 8));

  // Absolute deadlines, monotonic and realtime, one already past.
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  t = its(now.tv_sec, now.tv_nsec, 0, 0);
  timerfd_settime(fd, TFD_TIMER_ABSTIME, &t, NULL);
  show("poll absolute past", poll(&pf, 1, 1000));
  read(fd, &n, 8);
  int rfd = timerfd_create(CLOCK_REALTIME, 0);
  clock_gettime(CLOCK_REALTIME, &now);
  now.tv_nsec += 30000000;
  if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
  t = its(now.tv_sec, now.tv_nsec, 0, 0);
  show("settime realtime absolute", timerfd_settime(rfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &t, NULL));
  show("blocking read", read(rfd, &n, 8));
  printf("expirations: %llu\n", (unsigned long long)n);

  // epoll on a timerfd.
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 42}, out;
  show("epoll ADD", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
  t = its(0, 10000000, 0, 0);
  timerfd_settime(fd, 0, &t, NULL);
  int k = epoll_wait(ep, &out, 1, 5000);
  printf("epoll_wait: %d data %llu\n", k, k > 0 ? (unsigned long long)out.data.u64 : 0ULL);

  // Errors.
  t = its(0, 1000000000, 0, 0);
  show("settime bad nsec", timerfd_settime(fd, 0, &t, NULL));
  t = its(-1, 0, 0, 0);
  show("settime negative", timerfd_settime(fd, 0, &t, NULL));
  t = its(1, 0, 0, 0);
  show("settime bad flags", timerfd_settime(fd, 4, &t, NULL));
  show("settime on a pipe", timerfd_settime(0, 0, &t, NULL));
  show("settime bad fd", timerfd_settime(999, 0, &t, NULL));
  show("gettime bad fd", timerfd_gettime(999, &cur));
  show("settime bad pointer", timerfd_settime(fd, 0, (void *)8, NULL));
  struct stat st;
  fstat(fd, &st);
  printf("mode %o\n", st.st_mode);
  printf("done\n");
  return 0;
}
