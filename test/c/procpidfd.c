/* procpidfd: pidfd_send_signal takes an open /proc/PID directory as a pidfd
 * (CPython's test_signal does this), signals the process it names, and
 * answers ESRCH once that process is reaped; other files are EBADF. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_usr1(int s) { got = s; }

static int send_sig(int fd, int sig) {
  int r = (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
  return r == 0 ? 0 : -errno;
}

int main(void) {
  char path[64];
  signal(SIGUSR1, on_usr1);
  snprintf(path, sizeof path, "/proc/%d", getpid());
  int self = open(path, O_DIRECTORY | O_RDONLY);
  int r = send_sig(self, SIGUSR1);
  printf("self: %d handled=%d\n", r, got == SIGUSR1);
  int viaself = open("/proc/self", O_DIRECTORY | O_RDONLY);
  printf("/proc/self: %d\n", send_sig(viaself, 0));
  int dir = open("/", O_DIRECTORY | O_RDONLY);
  printf("other directory: %d\n", send_sig(dir, 0));
  int sub = open("/proc/self/fd", O_DIRECTORY | O_RDONLY);
  printf("a subdirectory: %d\n", send_sig(sub, 0));
  pid_t child = fork();
  if (child == 0) {
    alarm(20); /* a sandbox that does not send the signal must not hang the test */
    pause();
    _exit(0);
  }
  snprintf(path, sizeof path, "/proc/%d", child);
  int cfd = open(path, O_DIRECTORY | O_RDONLY);
  printf("child: %d\n", send_sig(cfd, SIGTERM));
  int st;
  waitpid(child, &st, 0);
  printf("child ended by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  printf("after reaping: %d (%s)\n", send_sig(cfd, 0), strerror(-send_sig(cfd, 0)));
  printf("done\n");
  return 0;
}
