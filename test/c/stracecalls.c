/* stracecalls: system calls whose --strace decoding is compared with the
 * host's strace -f (test/integration/strace.test.js).
 *
 * Each mode writes "BEGIN\n" and "END\n" to fd 1 around the calls to compare,
 * so start-up and exit noise can be cut off. Run in a fresh directory: it
 * creates f.txt there.
 *
 *   basic    files, stat, iovec, time, signals, memory, futex, prctl, ioctl
 *   block    read on a pipe that a child fills after a delay, wait4
 *   restart  a read interrupted by a signal with SA_RESTART, one without
 *   restart2 a sleep interrupted by a handler (restart_syscall), pause()
 *   exec     fork, execve of this program ("child" mode), wait4 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

static void mark(const char *s) {
  if (write(1, s, strlen(s)) < 0) exit(98);
}

static void on_signal(int sig) { (void)sig; }

static void basic(void) {
  char buf[64];
  struct stat st;
  struct timespec ts;
  mark("BEGIN\n");
  umask(022);
  int fd = open("f.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) DIE("open");
  if (write(fd, "hello\0\1\n\"\\", 10) != 10) DIE("write");
  fstat(fd, &st);
  stat("f.txt", &st);
  stat("no/such/file", &st);
  lseek(fd, 0, SEEK_SET);
  if (read(fd, buf, sizeof buf) != 10) DIE("read");
  if (pread(fd, buf, 4, 2) != 4) DIE("pread");
  struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
  writev(fd, iov, 2);
  char r1[3], r2[8];
  struct iovec riov[2] = {{r1, sizeof r1}, {r2, sizeof r2}};
  lseek(fd, 0, SEEK_SET);
  readv(fd, riov, 2);
  fcntl(fd, F_GETFD);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  int n = 0;
  ioctl(fd, FIONREAD, &n);
  close(fd);
  close(fd);
  syscall(SYS_clock_getres, CLOCK_MONOTONIC, &ts);
  ts.tv_sec = 0;
  ts.tv_nsec = 1000000;
  syscall(SYS_nanosleep, &ts, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigaddset(&sa.sa_mask, SIGUSR2);
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR1, NULL, &sa);
  sa.sa_handler = SIG_IGN;
  sa.sa_flags = 0;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPIPE, &sa, NULL);
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, &old);
  sigprocmask(SIG_SETMASK, &old, NULL);
  void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  mprotect(p, 4096, PROT_READ);
  munmap(p, 8192);
  static uint32_t word = 0;
  syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
  prctl(PR_SET_NAME, "strtest");
  char name[16];
  prctl(PR_GET_NAME, name);
  prctl(PR_SET_DUMPABLE, 1);
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0) DIE("pipe2");
  struct pollfd pf[2] = {{pfd[1], POLLOUT, 0}, {pfd[0], POLLIN | POLLPRI, 0}};
  poll(pf, 2, 0);
  poll(pf + 1, 1, 0);
  dup2(pfd[0], 10);
  close(10);
  access("f.txt", R_OK | W_OK);
  unlink("f.txt");
  mark("END\n");
}

static void block(void) {
  int p[2];
  char c;
  if (pipe(p) < 0) DIE("pipe");
  mark("BEGIN\n");
  pid_t pid = xfork();
  if (pid == 0) {
    sleep_ms(100);
    if (write(p[1], "x", 1) != 1) _exit(1);
    _exit(3);
  }
  if (read(p[0], &c, 1) != 1) DIE("read");
  int status;
  waitpid(pid, &status, 0);
  waitpid(-1, &status, WNOHANG);
  mark("END\n");
}

static void restart(void) {
  int p[2];
  char c;
  if (pipe(p) < 0) DIE("pipe");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_flags = 0;
  sigaction(SIGUSR2, &sa, NULL);
  mark("BEGIN\n");
  pid_t parent = getpid();
  pid_t pid = xfork();
  if (pid == 0) {
    sleep_ms(100);
    kill(parent, SIGUSR1);
    sleep_ms(100);
    kill(parent, SIGUSR2);
    _exit(0);
  }
  /* The first signal restarts the read, the second interrupts it. */
  if (read(p[0], &c, 1) != -1 || errno != EINTR) DIE("read");
  waitpid(pid, NULL, 0);
  mark("END\n");
}

static void restart2(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  mark("BEGIN\n");
  pid_t parent = getpid();
  pid_t pid = xfork();
  if (pid == 0) {
    sleep_ms(100);
    kill(parent, SIGUSR1);
    sleep_ms(100);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  struct timespec ts = {0, 300000000};
  syscall(SYS_nanosleep, &ts, NULL);
  pause();
  waitpid(pid, NULL, 0);
  mark("END\n");
}

static void exec_mode(const char *self) {
  mark("BEGIN\n");
  pid_t pid = xfork();
  if (pid == 0) {
    char *argv[] = {(char *)self, "child", "two words", NULL};
    char *envp[] = {"A=1", "B=2", NULL};
    execve(self, argv, envp);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  mark("END\n");
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "basic";
  if (!strcmp(mode, "basic")) basic();
  else if (!strcmp(mode, "block")) block();
  else if (!strcmp(mode, "restart")) restart();
  else if (!strcmp(mode, "restart2")) restart2();
  else if (!strcmp(mode, "exec")) exec_mode(argv[0]);
  else if (!strcmp(mode, "child")) {
    mark("BEGIN\n");
    syscall(SYS_getppid);
    _exit(5);
  } else return 2;
  return 0;
}
