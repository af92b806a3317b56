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
