/* procreuse: a pid used again (through ns_last_pid) is a new process to
 * /proc: its /proc/PID directory has another inode than the one a
 * descriptor still holds of the first process, and pidfd_send_signal
 * through that old descriptor does not reach the new process (ESRCH). Runs
 * as pid 1 of its PID namespace (natively under unshare), with /proc
 * mounted for it in a private mount namespace of its own. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int sleeper_ready(void) {
  int p[2];
  char b;
  pipe(p);
  pid_t c = fork();
  if (c == 0) {
    write(p[1], "x", 1);
    for (;;) pause();
  }
  read(p[0], &b, 1);
  close(p[0]);
  close(p[1]);
  return c;
}

static int reuse_a_pid(void) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
    printf("mount proc: %s\n", ename(errno));
    return 1;
  }
  pid_t a = sleeper_ready();
  char path[32];
  snprintf(path, sizeof path, "/proc/%d", a);
  int old = open(path, O_RDONLY | O_DIRECTORY);
  struct stat s1, s2;
  fstat(old, &s1);
  kill(a, SIGKILL);
  waitpid(a, NULL, 0);
  char last[16];
  snprintf(last, sizeof last, "%d", a - 1);
  int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
  write(fd, last, strlen(last));
  close(fd);
  pid_t b = sleeper_ready();
  printf("pid used again: %d\n", b == a);
  int now = open(path, O_RDONLY | O_DIRECTORY);
  fstat(now, &s2);
  printf("same inode: %d\n", s1.st_ino == s2.st_ino);
  long r = syscall(SYS_pidfd_send_signal, old, SIGKILL, NULL, 0);
  printf("signal through the old directory: %s\n", r < 0 ? ename(errno) : "OK");
  r = syscall(SYS_pidfd_send_signal, now, 0, NULL, 0);
  printf("signal 0 through the new one: %s\n", r < 0 ? ename(errno) : "OK");
  kill(b, SIGKILL);
  waitpid(b, NULL, 0);
  return 0;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (unshare(CLONE_NEWNS) < 0) {
    printf("unshare: %s\n", ename(errno));
    return 1;
  }
  int r = reuse_a_pid();
  printf("done\n");
  return r;
}
