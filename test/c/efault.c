/* efault: hostile pointers get EFAULT from every kind of system call, never a
 * crash of the kernel that serves them. Raw syscall() so libc checks nothing. */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r) {
  printf("%-28s %s\n", what, r < 0 ? ename(errno) : "ok");
}

int main(void) {
  void *bad = (void *)8;
  void *kernel = (void *)0xffff800000000000UL;
  char *unmapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(unmapped, 4096);
  char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int p[2];
  if (pipe(p) != 0) return 1;
  if (write(p[1], "data", 4) != 4) return 1;

  show("write from NULL+8", syscall(SYS_write, 1, bad, 10));
  show("write from kernel address", syscall(SYS_write, 1, kernel, 10));
  show("read into unmapped", syscall(SYS_read, p[0], unmapped, 4));
  show("read into read-only page", syscall(SYS_read, p[0], ro, 4));
  show("open bad path", syscall(SYS_open, bad, O_RDONLY));
  show("stat bad buffer", syscall(SYS_stat, "/", bad));
  show("uname bad buffer", syscall(SYS_uname, kernel));
  show("clock_gettime bad", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad));
  show("pipe bad fds", syscall(SYS_pipe, ro));
  show("rt_sigaction bad act", syscall(SYS_rt_sigaction, SIGUSR1, bad, NULL, 8));
  show("wait4 bad status", syscall(SYS_wait4, -1, bad, 0, NULL));
  char *argv_bad[] = {"x", (char *)bad, NULL};
  show("execve bad argv entry", syscall(SYS_execve, "/bin/true", argv_bad, NULL));
  show("execve bad argv array", syscall(SYS_execve, "/bin/true", bad, NULL));
  show("getcwd bad buffer", syscall(SYS_getcwd, bad, 100));
  show("nanosleep bad", syscall(SYS_nanosleep, bad, NULL));
  show("huge write length", syscall(SYS_write, 1, ro, (size_t)-1 >> 1));
  // A pipe write from a bad buffer writes nothing: the pipe still holds "data" only.
  show("pipe write from unmapped", syscall(SYS_write, p[1], unmapped, 10));
  char got[16] = {0};
  show("pipe read after bad write", syscall(SYS_read, p[0], got, sizeof got));
  printf("pipe holds %s\n", got);
  // null and zero take a write without reading the buffer; full refuses it first.
  int dn = open("/dev/null", O_WRONLY), dz = open("/dev/zero", O_RDWR), df = open("/dev/full", O_WRONLY);
  show("/dev/null write from unmapped", syscall(SYS_write, dn, unmapped, 10));
  show("/dev/zero write from unmapped", syscall(SYS_write, dz, unmapped, 10));
  show("/dev/zero read into unmapped", syscall(SYS_read, dz, unmapped, 10));
  show("/dev/full write from unmapped", syscall(SYS_write, df, unmapped, 10));
  // A failed O_APPEND write does not move the offset to the end.
  int fa = open("appendfile", O_CREAT | O_TRUNC | O_RDWR | O_APPEND, 0644);
  if (write(fa, "abc", 3) != 3 || lseek(fa, 1, SEEK_SET) != 1) return 1;
  show("O_APPEND write from unmapped", syscall(SYS_write, fa, unmapped, 10));
  printf("offset after it %ld\n", (long)lseek(fa, 0, SEEK_CUR));
  unlink("appendfile");
  printf("done\n");
  return 0;
}
