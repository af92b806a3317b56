/* signalfd: pending signals read as signalfd_siginfo records, readiness for
 * poll and epoll, mask updates, SIGCHLD details, errors; compared with Linux. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void show_info(const char *label, int fd) {
  struct signalfd_siginfo si[4];
  ssize_t n = read(fd, si, sizeof si);
  if (n < 0) {
    printf("%s: read -1 %s\n", label, ename(errno));
    return;
  }
  for (ssize_t i = 0; i < n / (ssize_t)sizeof si[0]; i++)
    printf("%s: signo %u code %d own pid %d uid %u status %d int %d\n", label, si[i].ssi_signo, si[i].ssi_code,
           si[i].ssi_pid == (unsigned)getpid(), si[i].ssi_uid, si[i].ssi_status, si[i].ssi_int);
}

static int readable(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int main(void) {
  line_buffered();
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  sigaddset(&m, SIGUSR2);
  sigaddset(&m, SIGCHLD);
  sigaddset(&m, SIGRTMIN);
  if (sigprocmask(SIG_BLOCK, &m, NULL) < 0) DIE("sigprocmask");
  sigset_t only1;
  sigemptyset(&only1);
  sigaddset(&only1, SIGUSR1);
  sigaddset(&only1, SIGKILL);
  int fd = signalfd(-1, &only1, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) DIE("signalfd");
  printf("cloexec %d nonblock %d\n", !!(fcntl(fd, F_GETFD) & FD_CLOEXEC), !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
  show_info("empty", fd);
  printf("readable before %d\n", readable(fd));
  raise(SIGUSR2);
  printf("readable with USR2 only %d\n", readable(fd));
  raise(SIGUSR1);
  printf("readable with USR1 %d\n", readable(fd));
  char small[64];
  SHOW("short read", read(fd, small, sizeof small));
  show_info("usr1", fd);
  SHOW("update mask", signalfd(fd, &m, 0) == fd);
  show_info("usr2 after update", fd);
  union sigval v = {.sival_int = 42};
  if (sigqueue(getpid(), SIGRTMIN, v) < 0) DIE("sigqueue");
  v.sival_int = 43;
  if (sigqueue(getpid(), SIGRTMIN, v) < 0) DIE("sigqueue");
  show_info("queued", fd);
  pid_t p = xfork();
  if (p == 0) _exit(3);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, out;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) DIE("epoll_ctl");
  SHOW("epoll_wait", epoll_wait(ep, &out, 1, 5000));
  struct signalfd_siginfo si;
  if (read(fd, &si, sizeof si) != sizeof si) DIE("read SIGCHLD");
  printf("SIGCHLD code %d status %d from child %d\n", si.ssi_code, si.ssi_status, si.ssi_pid == (unsigned)p);
  waitpid(p, NULL, 0);
  /* A blocking read waits for a signal sent later. */
  int bfd = signalfd(-1, &m, 0);
  pid_t q = xfork();
  if (q == 0) {
    sleep_ms(50);
    kill(getppid(), SIGUSR2);
    _exit(0);
  }
  if (read(bfd, &si, sizeof si) != sizeof si) DIE("blocking read");
  printf("blocking read got %u from child %d\n", si.ssi_signo, si.ssi_pid == (unsigned)q);
  waitpid(q, NULL, 0);
  show_info("leftover", fd);
  SHOW("bad size", signalfd(-1, &m, 4));
  SHOW("bad flags", syscall(SYS_signalfd4, -1, &m, 8, 1));
  SHOW("not a signalfd", signalfd(0, &m, 0));
  SHOW("write", write(fd, &si, sizeof si));
  printf("done\n");
  return 0;
}
