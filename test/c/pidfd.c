/* pidfd: pidfd_open, pidfd_send_signal (with and without siginfo, after
 * the process is gone), pidfd_getfd (ptrace access rules: same user and
 * dumpable, or CAP_SYS_PTRACE), clone's CLONE_PIDFD, waitid(P_PIDFD) (a
 * non-blocking pidfd makes it WNOHANG), and poll: readable once the process
 * exited, hung up too once reaped. Run as root. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int send_sig(int fd, int sig, siginfo_t *info, unsigned flags) { return syscall(SYS_pidfd_send_signal, fd, sig, info, flags); }
static int getfd(int pidfd, int fd, unsigned flags) { return syscall(SYS_pidfd_getfd, pidfd, fd, flags); }
static void show(const char *label, long r) { printf("%s: %s\n", label, r < 0 ? ename(errno) : "OK"); }
static void pollit(const char *label, int fd, int timeout) {
  struct pollfd p = {fd, POLLIN | POLLOUT | POLLPRI, 0};
  int n = poll(&p, 1, timeout);
  printf("%s: poll %d revents%s%s%s%s\n", label, n, p.revents & POLLIN ? " IN" : "", p.revents & POLLHUP ? " HUP" : "",
         p.revents & POLLOUT ? " OUT" : "", p.revents & POLLERR ? " ERR" : "");
}
static pid_t sleeper(void) {
  pid_t p = fork();
  if (p == 0) {
    for (;;) pause();
  }
  return p;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int self = pidfd_open(getpid(), 0);
  printf("self: fd ok %d cloexec %d\n", self >= 0, (fcntl(self, F_GETFD) & FD_CLOEXEC) != 0);
  show("bad flags", pidfd_open(getpid(), 1));
  show("pid 0", pidfd_open(0, 0));
  show("no such pid", pidfd_open(0x3ffff0, 0));
  show("signal 0 to self", send_sig(self, 0, NULL, 0));
  show("bad fd", send_sig(1000, 0, NULL, 0));
  int pp[2];
  pipe(pp);
  show("a pipe", send_sig(pp[0], 0, NULL, 0));
  show("bad signal flags", send_sig(self, 0, NULL, 8));
  show("two scopes", send_sig(self, 0, NULL, 3));
  show("bad signal", send_sig(self, 65, NULL, 0));
  show("read", read(self, pp, 1));
  /* A /proc/PID directory works as a pidfd for pidfd_send_signal (not for pidfd_getfd). */
  char procdir[32];
  snprintf(procdir, sizeof procdir, "/proc/%d", getpid());
  int pd = open(procdir, O_DIRECTORY | O_RDONLY);
  show("signal 0 through /proc/self", send_sig(pd, 0, NULL, 0));
  show("pidfd_getfd through /proc/self", syscall(SYS_pidfd_getfd, pd, 0, 0));
  int sd = open("/proc/self/fd", O_DIRECTORY | O_RDONLY);
  show("another /proc directory", send_sig(sd, 0, NULL, 0));
  close(pd);
  close(sd);

  pid_t c = sleeper();
  int fd = pidfd_open(c, 0);
  pollit("running child", fd, 0);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGTERM;
  si.si_code = SI_USER;
  show("siginfo SI_USER to another", send_sig(fd, SIGTERM, &si, 0));
  si.si_signo = SIGUSR1;
  si.si_code = SI_QUEUE;
  show("siginfo mismatch", send_sig(fd, SIGTERM, &si, 0));
  show("SIGTERM", send_sig(fd, SIGTERM, NULL, 0));
  pollit("after SIGTERM", fd, 5000);
  memset(&si, 0, sizeof si);
  show("waitid P_PIDFD WNOWAIT", waitid(P_PIDFD, fd, &si, WEXITED | WNOWAIT));
  show("signal 0 to a zombie", send_sig(fd, 0, NULL, 0));
  memset(&si, 0, sizeof si);
  show("waitid P_PIDFD", waitid(P_PIDFD, fd, &si, WEXITED));
  printf("  pid matches %d code %s status %d\n", si.si_pid == c, si.si_code == CLD_KILLED ? "CLD_KILLED" : "other", si.si_status);
  pollit("reaped", fd, 0);
  show("signal after reaping", send_sig(fd, 0, NULL, 0));
  show("waitid after reaping", waitid(P_PIDFD, fd, &si, WEXITED));
  show("waitid P_PIDFD bad fd", waitid(P_PIDFD, pp[0], &si, WEXITED));
  close(fd);

  /* Non-blocking pidfd: waitid does not wait. */
  c = sleeper();
  fd = pidfd_open(c, PIDFD_NONBLOCK);
  memset(&si, 0, sizeof si);
  show("waitid on a non-blocking pidfd", waitid(P_PIDFD, fd, &si, WEXITED));
  printf("  si_pid %d\n", si.si_pid);
  kill(c, SIGKILL);
  pollit("killed", fd, 5000);
  show("waitid now", waitid(P_PIDFD, fd, &si, WEXITED));
  close(fd);

  /* Not our child. */
  show("waitid on self", waitid(P_PIDFD, self, &si, WEXITED | WNOHANG));

  /* CLONE_PIDFD */
  int cfd = -1;
  long r = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &cfd, NULL, 0);
  if (r == 0) _exit(5);
  printf("clone: pid ok %d pidfd ok %d cloexec %d\n", r > 0, cfd >= 0, (fcntl(cfd, F_GETFD) & FD_CLOEXEC) != 0);
  pollit("clone child", cfd, 5000);
  memset(&si, 0, sizeof si);
  show("waitid clone child", waitid(P_PIDFD, cfd, &si, WEXITED));
  printf("  pid matches %d status %d\n", si.si_pid == r, si.si_status);
  close(cfd);
  show("CLONE_PIDFD with CLONE_PARENT_SETTID", syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &cfd, NULL, 0));
  r = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, (int *)8, NULL, 0);
  if (r == 0) _exit(0);
  show("CLONE_PIDFD with a bad pointer", r);
  show("  and no child", wait(NULL));

  /* pidfd_getfd */
  int ready[2];
  pipe(ready);
  c = fork();
  if (c == 0) {
    int mine[2];
    pipe(mine);
    write(mine[1], "secret", 6);
    dup2(mine[0], 10);
    write(ready[1], "r", 1);
    for (;;) pause();
  }
  char ch;
  read(ready[0], &ch, 1);
  fd = pidfd_open(c, 0);
  int got = getfd(fd, 10, 0);
  char buf[16] = {0};
  if (got >= 0) read(got, buf, sizeof buf - 1);
  printf("getfd: %s cloexec %d data %s\n", got >= 0 ? "OK" : ename(errno), got >= 0 && (fcntl(got, F_GETFD) & FD_CLOEXEC) != 0, buf);
  show("getfd flags", getfd(fd, 10, 1));
  show("getfd no such fd", getfd(fd, 77, 0));
  show("getfd through a pipe fd", getfd(pp[0], 10, 0));
  pid_t u = fork();
  if (u == 0) {
    setresgid(1000, 1000, 1000);
    setresuid(1000, 1000, 1000);
    show("getfd as another user", getfd(fd, 10, 0));
    _exit(0);
  }
  waitpid(u, NULL, 0);
  kill(c, SIGKILL);
  siginfo_t wsi;
  waitid(P_PIDFD, fd, &wsi, WEXITED | WNOWAIT);
  show("getfd from a zombie", getfd(fd, 10, 0));
  waitpid(c, NULL, 0);
  close(fd);

  /* Same user, not dumpable: refused without CAP_SYS_PTRACE. */
  c = fork();
  if (c == 0) {
    setresgid(1000, 1000, 1000);
    setresuid(1000, 1000, 1000);
    int tfd[2];
    pipe(tfd);
    write(ready[1], "r", 1);
    for (;;) pause();
  }
  read(ready[0], &ch, 1);
  fd = pidfd_open(c, 0);
  u = fork();
  if (u == 0) {
    setresgid(1000, 1000, 1000);
    setresuid(1000, 1000, 1000);
    show("getfd same user", getfd(fd, 0, 0));
    _exit(0);
  }
  waitpid(u, NULL, 0);
  show("getfd as root", getfd(fd, 0, 0));
  kill(c, SIGKILL);
  waitpid(c, NULL, 0);
  printf("done\n");
  return 0;
}
