/* fuzz: a hostile program for the sandbox ONLY (never run it natively: it
 * makes random system calls as whoever runs it). Each round forks a child
 * that issues 3000 system calls with random numbers and arguments (from a
 * fixed seed, so a failure can be replayed), interrupted by a 20 ms timer so
 * blocking calls end. Calls that would stop the experiment itself (exit,
 * fork, exec, kill, signal masks, ptrace...) are skipped. Children may die of
 * their own mischief; the kernel must not. */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <string.h>
static unsigned long long rnd_state;
static unsigned long long rnd(void) { rnd_state ^= rnd_state << 13; rnd_state ^= rnd_state >> 7; rnd_state ^= rnd_state << 17; return rnd_state; }
static long arg(void) {
  switch (rnd() % 8) {
  case 0: return 0; case 1: return -1; case 2: return rnd() % 4096; case 3: return (long)rnd();
  case 4: return 0x7ffffffff000L - (long)(rnd() % 65536); case 5: return (long)(rnd() % 64);
  case 6: { static char buf[65536]; return (long)(buf + rnd() % 60000); }
  default: return (long)(rnd() & 0xffffffff);
  }
}
static void onalrm(int s) { (void)s; }

/* Addresses a hostile program aims mapping calls at: the stub's pages
 * (code, scratch, control page), the top of user memory, just below both,
 * and ordinary ones. */
#define STUB_BASE 0x7ff000000000L
static long map_addr(void) {
  switch (rnd() % 8) {
  case 0: return STUB_BASE + (long)(rnd() % 3) * 4096;
  case 1: return STUB_BASE - (long)(rnd() % 64) * 4096;
  case 2: return 0x7ffffffff000L - (long)(rnd() % 16) * 4096;
  case 3: return 0x7f0000000000L + (long)(rnd() % (1L << 28)) * 4096; /* where the host's vDSO may be */
  case 4: return (long)(rnd() % (1L << 35)) * 4096;
  case 5: return 0;
  default: return (long)(rnd() & ~4095UL & 0x7fffffffffffL);
  }
}
static long map_len(void) {
  switch (rnd() % 4) {
  case 0: return 4096; case 1: return (long)(rnd() % 64) * 4096;
  case 2: return (long)(rnd() % (1L << 36)); default: return (long)rnd();
  }
}
/* One mapping call: mmap (fixed or not), mremap (may move, fixed), brk, mprotect, munmap, madvise. */
static void map_call(void) {
  static const int flags[] = {0x22, 0x32, 0x100022, 0x21, 0x122, 0x4022};
  switch (rnd() % 7) {
  case 0: syscall(9, map_addr(), map_len(), (long)(rnd() % 8), (long)flags[rnd() % 6], -1L, 0L); break;
  case 1: syscall(25, map_addr(), map_len(), map_len(), (long)(rnd() % 4), map_addr()); break;
  case 2: syscall(12, rnd() % 2 ? map_addr() : (long)syscall(12, 0L) + map_len()); break;
  case 3: syscall(10, map_addr(), map_len(), (long)(rnd() % 8)); break;
  case 4: syscall(11, map_addr(), map_len()); break;
  case 5: syscall(28, map_addr(), map_len(), (long)(rnd() % 5)); break;
  default: {
    /* Map something, then try to move it onto the stub. */
    long p = syscall(9, 0L, 8192L, 3L, 0x22L, -1L, 0L);
    if (p > 0) syscall(25, p, 8192L, map_len() + 8192, 3L, map_addr());
  }
  }
}

/* No SA_RESTART: an interrupted blocking call returns EINTR instead of
 * waiting forever (a restarted read of an idle pipe blocks for good, on
 * Linux as here). */
static void interrupt_with(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onalrm;
  sigaction(sig, &sa, NULL);
}
static int skip(long nr) {
  static const int bad[] = {60, 231, 56, 57, 58, 59, 322, 62, 200, 234, 15, 131, 38, 37, 14, 127, 130, 34, 435, 128, 101, 157, 317, 218, 273, 334, 28, 149, 151, 325, 216, 19, 20, 295, 296, 327, 328};
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) if (bad[i] == nr) return 1;
  return 0;
}
int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 20;
  for (int r = 0; r < rounds; r++) {
    pid_t p = fork();
    if (p == 0) {
      rnd_state = 0x9e3779b97f4a7c15ULL * (r + 5000);
      interrupt_with(SIGALRM);
      struct itimerval it = {{0, 20000}, {0, 20000}};
      setitimer(ITIMER_REAL, &it, NULL);
      for (int i = 0; i < 3000; i++) {
        /* Every other round also aims mapping calls at the stub and the top. */
        if (r % 2 && rnd() % 3 == 0) { map_call(); continue; }
        long nr = rnd() % 450;
        if (skip(nr)) continue;
        syscall(nr, arg(), arg(), arg(), arg(), arg(), arg());
      }
      _exit(0);
    }
    /* A child stuck anyway (a sleep restarted by restart_syscall) is killed after 5 s. */
    int st;
    interrupt_with(SIGALRM);
    alarm(5);
    if (waitpid(p, &st, 0) < 0) {
      kill(p, SIGKILL);
      waitpid(p, &st, 0);
    }
    alarm(0);
    printf("round %d: %s %d\n", r, WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    fflush(stdout);
  }
  printf("sentry alive\n");
  return 0;
}
