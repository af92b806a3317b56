// signalfd as Linux answers it: blocked signals read as signalfd_siginfo
// records (kill, tgkill, sigqueue with its value, SIGCHLD with the child's
// status), several per read, real-time signals queued, poll and epoll on it,
// a blocking read woken by another process, mask updates, and the errors.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

static void dump(const char *what, struct signalfd_siginfo *s, pid_t self, pid_t child) {
  const char *who = s->ssi_pid == (unsigned)self ? "self" : s->ssi_pid == (unsigned)child ? "child" : "other";
  printf("%s: signo %u code %d pid %s uid %u int %d status %d\n", what, s->ssi_signo, s->ssi_code, who, s->ssi_uid, s->ssi_int, s->ssi_status);
}

int main(void) {
  pid_t self = getpid();
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  sigaddset(&m, SIGUSR2);
  sigaddset(&m, SIGRTMIN);
  sigaddset(&m, SIGCHLD);
  sigprocmask(SIG_BLOCK, &m, NULL);
  sigaddset(&m, SIGKILL);
  int fd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
  show("signalfd", fd >= 0 ? 0 : -1);
  struct signalfd_siginfo si[4];
  show("read empty", read(fd, si, sizeof si));
  show("read short buffer", read(fd, si, 100));

  kill(self, SIGUSR1);
  show("read after kill", read(fd, si, sizeof si));
  dump("kill", &si[0], self, 0);
  syscall(SYS_tgkill, self, self, SIGUSR2);
  union sigval v = {.sival_int = 42};
  sigqueue(self, SIGRTMIN, v);
  v.sival_int = 43;
  sigqueue(self, SIGRTMIN, v);
  struct pollfd pf = {fd, POLLIN, 0};
  show("poll", poll(&pf, 1, 0));
  int n = read(fd, si, sizeof si);
  show("read three", n);
  for (int i = 0; i < n / (int)sizeof si[0]; i++) dump("queued", &si[i], self, 0);
  show("poll drained", poll(&pf, 1, 0));

  // SIGCHLD with the child's status.
  pid_t c = fork();
  if (c == 0) _exit(7);
  struct pollfd bl = {fd, POLLIN, 0};
  poll(&bl, 1, 5000);
  read(fd, si, sizeof si);
  dump("sigchld", &si[0], self, c);
  waitpid(c, NULL, 0);

  // A blocking read woken by another process's kill.
  sigset_t only1;
  sigemptyset(&only1);
  sigaddset(&only1, SIGUSR1);
  int bfd = signalfd(-1, &only1, 0);
  c = fork();
  if (c == 0) {
    usleep(100000);
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  show("blocking read", read(bfd, si, sizeof si));
  dump("from the child", &si[0], self, c);
  waitpid(c, NULL, 0);
  // The child's SIGCHLD is pending now: read it off.
  poll(&bl, 1, 5000);
  read(fd, si, sizeof si);

  // epoll, and a mask update through the fd.
  sigset_t only2;
  sigemptyset(&only2);
  sigaddset(&only2, SIGUSR2);
  show("update mask", signalfd(fd, &only2, 0) == fd ? 0 : -1);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 5}, out;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  kill(self, SIGUSR1);
  show("epoll, SIGUSR1 not in the mask", epoll_wait(ep, &out, 1, 0));
  kill(self, SIGUSR2);
  show("epoll, SIGUSR2", epoll_wait(ep, &out, 1, 1000));
  read(fd, si, sizeof si);
  dump("usr2", &si[0], self, 0);
  sigset_t pend;
  sigpending(&pend);
  printf("SIGUSR1 still pending: %s\n", sigismember(&pend, SIGUSR1) ? "yes" : "no");

  // Errors.
  show("bad size", syscall(SYS_signalfd4, -1, &m, 4, 0));
  show("bad flags", signalfd(-1, &m, 1));
  show("update a pipe", signalfd(0, &m, 0));
  show("update a bad fd", signalfd(999, &m, 0));
  show("bad mask pointer", syscall(SYS_signalfd4, -1, (void *)8, 8, 0));
  struct stat st;
  fstat(fd, &st);
  printf("mode %o\n", st.st_mode);
  printf("done\n");
  return 0;
}
