/* floor_mt: the PTRACE_SYSEMU floor (floor.c) for multi-threaded programs.
 *
 * Usage: floor_mt PROGRAM [ARGS...]. As floor.c, but with
 * PTRACE_O_TRACECLONE (and FORK, VFORK): every thread of PROGRAM and of its
 * children is traced, and one tracer
 * thread serves all of them, waiting for whichever stops next
 * (waitpid(-1, __WALL)). getpid is emulated; every other system call is
 * executed for real by single-stepping over the syscall instruction, each
 * thread with its own state, so a thread blocked in a real futex wait does
 * not hold up the others. Tracer and tracees are pinned to one CPU unless
 * FLOOR_NO_PIN is set. Exits with PROGRAM's status. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif

#define FAKE_PID 4242
#define MAX_THREADS 4096

/* A traced thread: running under SYSEMU, or stepping over a real call at `at`. */
struct thr {
  pid_t tid;
  int stepping;
  int steps;
  unsigned long long at;
};

static struct thr thrs[MAX_THREADS];
static int nthr;

static void die(const char *what) {
  fprintf(stderr, "floor_mt: %s: %s\n", what, strerror(errno));
  exit(125);
}

static struct thr *find(pid_t tid) {
  for (int i = 0; i < nthr; i++)
    if (thrs[i].tid == tid) return &thrs[i];
  if (nthr == MAX_THREADS) {
    fprintf(stderr, "floor_mt: too many threads\n");
    exit(125);
  }
  thrs[nthr] = (struct thr){.tid = tid};
  return &thrs[nthr++];
}

static void forget(pid_t tid) {
  for (int i = 0; i < nthr; i++)
    if (thrs[i].tid == tid) thrs[i] = thrs[--nthr];
}

static void resume(struct thr *t, int sig) {
  if (ptrace(t->stepping ? PTRACE_SINGLESTEP : PTRACE_SYSEMU, t->tid, NULL, (void *)(long)sig) < 0 && errno != ESRCH)
    die("resume");
}

static void pin_to_one_cpu(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) < 0) die("sched_getaffinity");
  int cpu = sched_getcpu();
  if (cpu < 0 || !CPU_ISSET(cpu, &set)) {
    for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++) {
    }
  }
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) < 0) die("sched_setaffinity");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: floor_mt PROGRAM [ARGS...]\n");
    return 2;
  }
  if (!getenv("FLOOR_NO_PIN")) pin_to_one_cpu();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) die("PTRACE_TRACEME");
    raise(SIGSTOP);
    execv(argv[1], argv + 1);
    die("execv");
  }
  int st;
  if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st)) die("first stop");
  long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACECLONE |
              PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
  if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)opts) < 0) die("PTRACE_SETOPTIONS");
  if (ptrace(PTRACE_CONT, pid, NULL, NULL) < 0) die("PTRACE_CONT");
  if (waitpid(pid, &st, __WALL) != pid || (st >> 8) != (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) die("exec event");
  long emulated = 0, passed = 0;
  resume(find(pid), 0);
  for (;;) {
    pid_t tid = waitpid(-1, &st, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      die("waitpid");
    }
    if (WIFEXITED(st) || WIFSIGNALED(st)) {
      forget(tid);
      if (tid == pid) {
        fprintf(stderr, "floor_mt: emulated %ld getpid, executed %ld other system calls\n", emulated, passed);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      continue;
    }
    struct thr *t = find(tid);
    if (st >> 16) { /* an event stop (clone, fork): carry on as before */
      resume(t, 0);
      continue;
    }
    int sig = WSTOPSIG(st);
    struct user_regs_struct regs;
    if (t->stepping) {
      if (sig != SIGTRAP) {
        resume(t, sig);
        continue;
      }
      if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) < 0) die("PTRACE_GETREGS");
      if (regs.rip != t->at || ++t->steps >= 3) { /* the syscall instruction has run */
        t->stepping = 0;
        passed++;
      }
      resume(t, 0);
      continue;
    }
    if (sig != (SIGTRAP | 0x80)) {
      /* a new thread's first stop, or a real signal to deliver */
      resume(t, sig == SIGSTOP || sig == SIGTRAP ? 0 : sig);
      continue;
    }
    if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) < 0) die("PTRACE_GETREGS");
    if (regs.orig_rax == SYS_getpid) {
      regs.rax = FAKE_PID;
      if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) < 0) die("PTRACE_SETREGS");
      emulated++;
      resume(t, 0);
      continue;
    }
    t->at = regs.rip - 2;
    t->steps = 0;
    t->stepping = 1;
    regs.rax = regs.orig_rax;
    regs.rip = t->at;
    if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) < 0) die("PTRACE_SETREGS");
    resume(t, 0);
  }
}
