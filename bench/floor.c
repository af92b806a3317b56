/* floor: the smallest possible PTRACE_SYSEMU tracer, the cost floor of a
 * ptrace platform.
 *
 * Usage: floor PROGRAM [ARGS...]. Forks; the child does PTRACE_TRACEME,
 * raise(SIGSTOP) and execs PROGRAM. The parent resumes it to the exec, then
 * loops PTRACE_SYSEMU/waitpid: getpid is emulated (rax set to a fake pid),
 * every other system call is executed for real by pointing rip back at the
 * syscall instruction and single-stepping over it. Tracer and tracee are
 * pinned to one CPU (sched_setaffinity), as a ptrace round trip across CPUs
 * costs several times more. Exits with PROGRAM's status; prints counts to
 * stderr. */
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

static void die(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(125);
}

/* wait_stop waits for pid; returns its stop status, or exits with the
 * tracee's own exit status if it is gone. */
static int wait_stop(pid_t pid, long emulated, long passed) {
  int st;
  while (waitpid(pid, &st, __WALL) < 0)
    if (errno != EINTR) die("waitpid");
  if (WIFEXITED(st) || WIFSIGNALED(st)) {
    fprintf(stderr, "floor: emulated %ld getpid, executed %ld other system calls\n", emulated, passed);
    if (WIFEXITED(st)) exit(WEXITSTATUS(st));
    exit(128 + WTERMSIG(st));
  }
  return st;
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
    fprintf(stderr, "usage: floor PROGRAM [ARGS...]\n");
    return 2;
  }
  if (!getenv("FLOOR_NO_PIN")) pin_to_one_cpu(); /* the child inherits it */
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) die("PTRACE_TRACEME");
    raise(SIGSTOP);
    execv(argv[1], argv + 1);
    die("execv");
  }
  long emulated = 0, passed = 0;
  int st = wait_stop(pid, 0, 0);
  if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) {
    fprintf(stderr, "floor: unexpected first stop 0x%x\n", st);
    return 125;
  }
  if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
             (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC)) < 0)
    die("PTRACE_SETOPTIONS");
  /* let raise() return and execve run natively, up to the exec event */
  if (ptrace(PTRACE_CONT, pid, NULL, NULL) < 0) die("PTRACE_CONT");
  st = wait_stop(pid, 0, 0);
  if (!(WIFSTOPPED(st) && (st >> 8) == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))) {
    fprintf(stderr, "floor: expected the exec event, got 0x%x\n", st);
    return 125;
  }
  int sig = 0;
  for (;;) {
    if (ptrace(PTRACE_SYSEMU, pid, NULL, (void *)(long)sig) < 0) die("PTRACE_SYSEMU");
    sig = 0;
    st = wait_stop(pid, emulated, passed);
    if (!WIFSTOPPED(st)) continue;
    if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
      sig = WSTOPSIG(st); /* a real signal: deliver it on resume */
      if (sig == SIGTRAP) sig = 0;
      continue;
    }
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0) die("PTRACE_GETREGS");
    if (regs.orig_rax == SYS_getpid) {
      regs.rax = FAKE_PID;
      if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) < 0) die("PTRACE_SETREGS");
      emulated++;
      continue;
    }
    /* Execute it for real: back up to the syscall instruction (2 bytes),
     * restore rax, and single-step. The first step after a SYSEMU stop only
     * reports the skipped call's exit; the next one runs the instruction. */
    unsigned long long at = regs.rip - 2;
    regs.rax = regs.orig_rax;
    regs.rip = at;
    if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) < 0) die("PTRACE_SETREGS");
    for (int step = 0; step < 3; step++) {
      if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) < 0) die("PTRACE_SINGLESTEP");
      st = wait_stop(pid, emulated, passed + 1);
      if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0) die("PTRACE_GETREGS");
      if (regs.rip != at) break; /* the syscall instruction has run */
    }
    passed++;
  }
}
