/* ptracestub: a tracer tries to reach what is not its tracee's: the
 * platform's stub (code, scratch page, control page at 0x7ff000000000, above
 * the application's top), the last page below 2^47, and kernel addresses,
 * through PEEKDATA/POKEDATA, PEEKTEXT/POKETEXT and /proc/PID/mem. Every
 * attempt must fail (EIO), and the tracee must go on working afterwards
 * (its mappings are made through the stub's control page: a corrupted one
 * would show). Prints one line per attempt; run in the sandbox only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static const unsigned long targets[] = {
  0x7ff000000000UL, 0x7ff000000800UL, 0x7ff000001000UL, 0x7ff000002000UL, 0x7ff000002ff8UL,
  0x7ffffffff000UL - 8, 0xffffffffff600000UL, 0xffff880000000000UL,
};

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pid_t pid = fork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    /* Still working: new mappings go through the stub's control page. */
    for (int i = 0; i < 64; i++) {
      char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) _exit(2);
      memset(p, i, 1 << 20);
      if (p[12345] != (char)i) _exit(3);
      munmap(p, 1 << 20);
    }
    printf("tracee still works\n");
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", pid);
  int fd = open(path, O_RDWR);
  if (fd < 0) { printf("open mem: %s\n", strerror(errno)); return 1; }
  int refused = 0, total = 0;
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
    unsigned long a = targets[i];
    errno = 0;
    long v = ptrace(PTRACE_PEEKDATA, pid, (void *)a, 0);
    int e1 = errno;
    long r2 = ptrace(PTRACE_POKEDATA, pid, (void *)a, (void *)0x4141414141414141L);
    int e2 = errno;
    long r3 = ptrace(PTRACE_POKETEXT, pid, (void *)a, (void *)0xccccccccccccccccL);
    int e3 = errno;
    char buf[8];
    ssize_t r4 = pread(fd, buf, 8, (off_t)a);
    int e4 = errno;
    ssize_t r5 = pwrite(fd, "AAAAAAAA", 8, (off_t)a);
    int e5 = errno;
    printf("%#lx: peek %s poke %s poketext %s mem read %s mem write %s\n", a,
           e1 ? strerrorname_np(e1) : "OK", r2 < 0 ? strerrorname_np(e2) : "OK", r3 < 0 ? strerrorname_np(e3) : "OK",
           r4 < 0 ? strerrorname_np(e4) : "OK", r5 < 0 ? strerrorname_np(e5) : "OK");
    (void)v;
    total += 5;
    refused += (e1 != 0) + (r2 < 0) + (r3 < 0) + (r4 < 0) + (r5 < 0);
  }
  printf("refused %d of %d\n", refused, total);
  ptrace(PTRACE_CONT, pid, 0, 0);
  waitpid(pid, &st, 0);
  printf("tracee status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return refused == total ? 0 : 1;
}
