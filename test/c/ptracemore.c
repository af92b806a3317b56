/* ptracemore: more of ptrace(2). PTRACE_GET_SYSCALL_INFO at syscall-enter,
 * syscall-exit and other stops; a single step over a `syscall` instruction
 * stops right after it; PTRACE_O_TRACECLONE for a clone with another exit
 * signal; PTRACE_O_TRACEEXIT for a death by signal; SETSIGINFO seen by the
 * tracee's SA_SIGINFO handler; GETSIGMASK/SETSIGMASK; an exec'd tracee's
 * syscall-exit stop of execve; PTRACE_SYSEMU (the tracer serves the calls). */
#define _GNU_SOURCE
#include "common.h"
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#define OFF(r) offsetof(struct user_regs_struct, r)

extern char step_here[], step_after[];
__asm__(".text\n.globl step_here\nstep_here:\n mov $39, %eax\n syscall\n.globl step_after\nstep_after:\n nop\n nop\n int3\n");

static void show_status(const char *label, int st) {
  if (WIFSTOPPED(st))
    printf("%s: stopped sig=%d event=%d\n", label, WSTOPSIG(st) & 0x7f, st >> 16);
  else if (WIFEXITED(st))
    printf("%s: exited %d\n", label, WEXITSTATUS(st));
  else if (WIFSIGNALED(st))
    printf("%s: killed by %d\n", label, WTERMSIG(st));
}

static int xwait(pid_t pid) {
  int st;
  if (waitpid(pid, &st, __WALL) != pid) DIE("waitpid");
  return st;
}

static pid_t traced_child(void (*body)(void)) {
  pid_t pid = xfork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    body();
    _exit(0);
  }
  xwait(pid);
  return pid;
}

static void body_getppid(void) { syscall(SYS_getppid); }

static void syscall_info(void) {
  printf("-- syscall info\n");
  pid_t pid = traced_child(body_getppid);
  struct __ptrace_syscall_info si;
  memset(&si, 0, sizeof si);
  long n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof si, &si);
  printf("at signal stop: size=%ld op=%d\n", n, si.op);
  ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)PTRACE_O_TRACESYSGOOD);
  for (;;) {
    ptrace(PTRACE_SYSCALL, pid, 0, 0);
    xwait(pid);
    memset(&si, 0, sizeof si);
    n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof si, &si);
    if (si.op == PTRACE_SYSCALL_INFO_ENTRY && si.entry.nr == SYS_getppid) break;
  }
  printf("entry: size=%ld op=%d arch=%x nr_is_getppid=%d\n", n, si.op, si.arch, si.entry.nr == SYS_getppid);
  ptrace(PTRACE_SYSCALL, pid, 0, 0);
  xwait(pid);
  memset(&si, 0, sizeof si);
  n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof si, &si);
  printf("exit: size=%ld op=%d rval_is_ppid=%d is_error=%d\n", n, si.op, si.exit.rval == getpid(), si.exit.is_error);
  memset(&si, 0, sizeof si);
  n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)8, &si);
  printf("short buffer: size=%ld op=%d arch=%x\n", n, si.op, si.arch);
  kill(pid, SIGKILL);
  show_status("end", xwait(pid));
}

static void body_pause(void) {
  for (;;) pause();
}

static void step_over_syscall(void) {
  printf("-- single step over syscall\n");
  pid_t pid = traced_child(body_pause);
  ptrace(PTRACE_POKEUSER, pid, (void *)OFF(rip), step_here);
  for (int i = 0; i < 2; i++) {
    ptrace(PTRACE_SINGLESTEP, pid, 0, 0);
    int st = xwait(pid);
    long rip = ptrace(PTRACE_PEEKUSER, pid, (void *)OFF(rip), 0);
    siginfo_t si;
    ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
    printf("step %d: sig=%d at step_here+%ld code=%d\n", i, WSTOPSIG(st), rip - (long)step_here, si.si_code);
  }
  printf("rax is pid: %d\n", ptrace(PTRACE_PEEKUSER, pid, (void *)OFF(rax), 0) == pid);
  kill(pid, SIGKILL);
  show_status("end", xwait(pid));
}

static void body_clone(void) {
  long c = syscall(SYS_clone, SIGUSR1, 0, 0, 0, 0);
  if (c == 0) _exit(4);
  int st;
  waitpid((pid_t)c, &st, __WCLONE);
  _exit(WEXITSTATUS(st) + 10);
}

static void trace_clone(void) {
  printf("-- clone event\n");
  pid_t pid = traced_child(body_clone);
  ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)PTRACE_O_TRACECLONE);
  ptrace(PTRACE_CONT, pid, 0, 0);
  int st = xwait(pid);
  show_status("parent", st);
  unsigned long msg;
  ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
  pid_t c = (pid_t)msg;
  show_status("clone child", xwait(c));
  ptrace(PTRACE_CONT, c, 0, 0);
  ptrace(PTRACE_CONT, pid, 0, 0);
  show_status("clone child", xwait(c));
  st = xwait(pid);
  show_status("parent", st);
}

static void exit_by_signal(void) {
  printf("-- exit event by signal\n");
  pid_t pid = traced_child(body_pause);
  ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)PTRACE_O_TRACEEXIT);
  ptrace(PTRACE_CONT, pid, 0, 0);
  kill(pid, SIGTERM);
  int st = xwait(pid);
  show_status("signal", st);
  ptrace(PTRACE_CONT, pid, 0, (void *)SIGTERM);
  st = xwait(pid);
  show_status("exit event", st);
  unsigned long msg;
  ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
  printf("eventmsg %lu\n", msg);
  ptrace(PTRACE_CONT, pid, 0, 0);
  show_status("end", xwait(pid));
}

static volatile int seen_code, seen_value;
static void on_usr1(int s, siginfo_t *si, void *u) {
  (void)s, (void)u;
  seen_code = si->si_code;
  seen_value = si->si_value.sival_int;
}

static void body_siginfo(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);
  kill(getpid(), SIGUSR1);
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  _exit((seen_code == SI_QUEUE && seen_value == 77 ? 1 : 0) | (sigismember(&cur, SIGUSR2) ? 2 : 0));
}

static void siginfo_mask(void) {
  printf("-- setsiginfo, sigmask\n");
  pid_t pid = traced_child(body_siginfo);
  ptrace(PTRACE_CONT, pid, 0, 0);
  int st = xwait(pid);
  show_status("signal", st);
  siginfo_t si;
  ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
  si.si_code = SI_QUEUE;
  si.si_value.sival_int = 77;
  SHOW("SETSIGINFO", ptrace(PTRACE_SETSIGINFO, pid, 0, &si));
  unsigned long mask = 0;
  SHOW("GETSIGMASK bad size", ptrace(PTRACE_GETSIGMASK, pid, (void *)4, &mask));
  SHOW("GETSIGMASK", ptrace(PTRACE_GETSIGMASK, pid, (void *)8, &mask));
  printf("mask=%lx\n", mask);
  mask = 1UL << (SIGUSR2 - 1) | 1UL << (SIGKILL - 1);
  SHOW("SETSIGMASK", ptrace(PTRACE_SETSIGMASK, pid, (void *)8, &mask));
  ptrace(PTRACE_GETSIGMASK, pid, (void *)8, &mask);
  printf("mask=%lx\n", mask);
  ptrace(PTRACE_CONT, pid, 0, (void *)SIGUSR1);
  show_status("end", xwait(pid));
}

static void body_exec(void) {
  execl("/bin/true", "true", (char *)NULL);
}

static void exec_exit_stop(void) {
  printf("-- execve syscall stops\n");
  pid_t pid = traced_child(body_exec);
  ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC));
  int st;
  for (;;) {
    ptrace(PTRACE_SYSCALL, pid, 0, 0);
    st = xwait(pid);
    if (ptrace(PTRACE_PEEKUSER, pid, (void *)OFF(orig_rax), 0) == SYS_execve) break;
  }
  show_status("execve enter", st);
  ptrace(PTRACE_SYSCALL, pid, 0, 0);
  show_status("exec event", xwait(pid));
  ptrace(PTRACE_SYSCALL, pid, 0, 0);
  st = xwait(pid);
  show_status("execve exit", st);
  printf("orig_rax=%ld rax=%ld\n", ptrace(PTRACE_PEEKUSER, pid, (void *)OFF(orig_rax), 0), ptrace(PTRACE_PEEKUSER, pid, (void *)OFF(rax), 0));
  ptrace(PTRACE_CONT, pid, 0, 0);
  show_status("end", xwait(pid));
}

static void body_sysemu(void) {
  long r = syscall(SYS_getppid);
  _exit(r == 4242 ? 21 : 22);
}

static void sysemu(void) {
  printf("-- sysemu\n");
  pid_t pid = traced_child(body_sysemu);
  for (int i = 0; i < 10; i++) {
    ptrace(PTRACE_SYSEMU, pid, 0, 0);
    int st = xwait(pid);
    long nr = ptrace(PTRACE_PEEKUSER, pid, (void *)OFF(orig_rax), 0);
    long rax = ptrace(PTRACE_PEEKUSER, pid, (void *)OFF(rax), 0);
    if (nr == SYS_getppid) {
      show_status("getppid", st);
      printf("rax at entry %ld\n", rax);
      ptrace(PTRACE_POKEUSER, pid, (void *)OFF(rax), (void *)4242L);
    } else if (nr == SYS_exit_group) {
      printf("exit_group(%ld) not run\n", ptrace(PTRACE_PEEKUSER, pid, (void *)OFF(rdi), 0));
      break;
    } else {
      ptrace(PTRACE_POKEUSER, pid, (void *)OFF(rax), 0);
    }
  }
  kill(pid, SIGKILL);
  show_status("end", xwait(pid));
}

static void on_usr1_exit(int s) { (void)s; _exit(5); }
static void detach_with_signal(void) {
  printf("-- detach with a signal\n");
  pid_t pid = xfork();
  if (pid == 0) {
    signal(SIGUSR1, on_usr1_exit);
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    for (;;) pause();
  }
  xwait(pid);
  ptrace(PTRACE_CONT, pid, 0, 0);
  kill(pid, SIGUSR2);
  show_status("signal", xwait(pid));
  SHOW("DETACH bad signal", ptrace(PTRACE_DETACH, pid, 0, (void *)99L));
  SHOW("DETACH SIGUSR1", ptrace(PTRACE_DETACH, pid, 0, (void *)SIGUSR1));
  show_status("end", xwait(pid));
}

int main(void) {
  line_buffered();
  syscall_info();
  step_over_syscall();
  trace_clone();
  exit_by_signal();
  siginfo_mask();
  exec_exit_stop();
  sysemu();
  detach_with_signal();
  printf("done\n");
  return 0;
}
