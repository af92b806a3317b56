/* ptracefuzz: a hostile tracer, for the sandbox ONLY. Each round forks a
 * tracee (PTRACE_TRACEME, then a loop of system calls, signals to itself,
 * forks and memory writes) and drives it with random ptrace requests and
 * arguments from a fixed seed: random user-area offsets and values, random
 * register sets and FP images, random addresses for PEEK/POKE, random
 * signals and options, resumes of every kind. The tracee may die of what the
 * tracer does to it; the Sentry must not (the test reads its debug log), and
 * every round must end. Prints one line per round and "sentry alive". */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long rs;
static unsigned long long rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
static unsigned char buf[16384]; /* pointers into it stay in the first 8 KiB: room for any struct */

static long val(void) {
  switch (rnd() % 8) {
  case 0: return 0; case 1: return -1; case 2: return (long)(rnd() % 4096);
  case 3: return (long)rnd(); case 4: return 0x7ff000000000L + (long)(rnd() % 0x3000);
  case 5: return (long)(rnd() % 70); case 6: return (long)(buf + rnd() % 8000);
  default: return 0x7ffffffff000L - (long)(rnd() % 65536);
  }
}

static void onalrm(int s) { (void)s; }

static void tracee(void) {
  ptrace(PTRACE_TRACEME, 0, 0, 0);
  raise(SIGSTOP);
  static volatile long sink;
  for (int i = 0;; i++) {
    sink += syscall(SYS_getpid);
    if (i % 7 == 0) kill(getpid(), SIGUSR2);
    if (i % 50 == 0) {
      pid_t c = fork();
      if (c == 0) _exit(0);
      if (c > 0) waitpid(c, NULL, 0);
    }
    sink += i;
  }
}

static const long reqs[] = {
  PTRACE_PEEKTEXT, PTRACE_PEEKDATA, PTRACE_PEEKUSER, PTRACE_POKETEXT, PTRACE_POKEDATA, PTRACE_POKEUSER,
  PTRACE_CONT, PTRACE_SINGLESTEP, PTRACE_GETREGS, PTRACE_SETREGS, PTRACE_GETFPREGS, PTRACE_SETFPREGS,
  PTRACE_SYSCALL, PTRACE_SYSEMU, PTRACE_SYSEMU_SINGLESTEP, PTRACE_SETOPTIONS, PTRACE_GETEVENTMSG,
  PTRACE_GETSIGINFO, PTRACE_SETSIGINFO, PTRACE_GETREGSET, PTRACE_SETREGSET, PTRACE_INTERRUPT, PTRACE_LISTEN,
  PTRACE_GETSIGMASK, PTRACE_SETSIGMASK, 0x420e /* GET_SYSCALL_INFO */, PTRACE_DETACH, PTRACE_ATTACH, PTRACE_SEIZE,
  PTRACE_KILL, 0x4209, 30, 25, 12345,
};

static void round_(int n) {
  pid_t pid = fork();
  if (pid == 0) tracee();
  if (pid < 0) {
    printf("round %d: fork: %s\n", n, strerror(errno));
    return;
  }
  int st, stops = 0, calls = 0, fails = 0;
  waitpid(pid, &st, __WALL);
  for (int i = 0; i < 400; i++) {
    long req = reqs[rnd() % (sizeof reqs / sizeof reqs[0])];
    /* Mostly plausible register sets: a copy of the real one with a few random words. */
    if (req == PTRACE_SETREGS || req == PTRACE_SETFPREGS || req == PTRACE_SETREGSET) {
      ptrace(req == PTRACE_SETFPREGS ? PTRACE_GETFPREGS : PTRACE_GETREGS, pid, 0, buf);
      for (int k = 0; k < 3; k++) ((long *)buf)[rnd() % 64] = val();
    } else {
      for (int k = 0; k < 8; k++) ((long *)buf)[rnd() % 1024] = val();
    }
    long addr = val(), data = val();
    if (req == PTRACE_GETREGSET || req == PTRACE_SETREGSET) {
      struct { void *b; size_t l; } *iov = (void *)(buf + 4096);
      iov->b = buf;
      iov->l = rnd() % 1024;
      addr = rnd() % 3;
      data = (long)iov;
    }
    int resume = req == PTRACE_CONT || req == PTRACE_SYSCALL || req == PTRACE_SINGLESTEP || req == PTRACE_SYSEMU ||
                 req == PTRACE_SYSEMU_SINGLESTEP || req == PTRACE_DETACH;
    /* Mostly no signal: a random one usually kills the tracee and ends the round. */
    if (resume && rnd() % 4) data = 0;
    errno = 0;
    long r = syscall(SYS_ptrace, req, rnd() % 16 ? pid : (pid_t)val(), addr, data);
    calls++;
    if (r < 0) fails++;
    if (r == 0 && (req == PTRACE_CONT || req == PTRACE_SYSCALL || req == PTRACE_SINGLESTEP || req == PTRACE_SYSEMU ||
        req == PTRACE_SYSEMU_SINGLESTEP || req == PTRACE_DETACH || req == PTRACE_KILL || req == PTRACE_INTERRUPT)) {
      /* A tracee that never stops again (its signals blocked by SETSIGMASK...) ends the round. */
      struct itimerval it = {{0, 0}, {0, 50000}};
      setitimer(ITIMER_REAL, &it, NULL);
      pid_t w = waitpid(pid, &st, __WALL | (req == PTRACE_DETACH || req == PTRACE_INTERRUPT ? WNOHANG : 0));
      struct itimerval off = {{0, 0}, {0, 0}};
      setitimer(ITIMER_REAL, &off, NULL);
      if (w < 0 && errno == EINTR) {
        /* Running on: make it stop (it is ours, or it was killed meanwhile). */
        kill(pid, SIGSTOP);
        setitimer(ITIMER_REAL, &it, NULL);
        w = waitpid(pid, &st, __WALL);
        setitimer(ITIMER_REAL, &off, NULL);
        if (w != pid) break;
      }
      if (w == pid && !WIFSTOPPED(st)) break;
      if (w == pid) stops++;
      if (req == PTRACE_DETACH && r == 0) break;
    }
  }
  kill(pid, SIGKILL);
  /* Auto-attached children of the tracee (a random TRACEFORK) are ours too: kill what stops. */
  pid_t w;
  while ((w = waitpid(-1, &st, __WALL)) > 0) {
    if (WIFSTOPPED(st)) kill(w, SIGKILL);
  }
  printf("round %d: %d calls, %d failed, %d stops\n", n, calls, fails, stops);
  fflush(stdout);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 20;
  rs = 0x9e3779b97f4a7c15ULL;
  signal(SIGUSR2, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onalrm; /* no SA_RESTART: a wait is interrupted */
  sigaction(SIGALRM, &sa, NULL);
  for (int i = 0; i < rounds; i++) round_(i);
  printf("sentry alive\n");
  return 0;
}
