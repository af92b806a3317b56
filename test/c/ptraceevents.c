/* ptraceevents: the lifecycle side of ptrace(2). PTRACE_O_TRACEFORK/VFORK/
 * CLONE/EXEC/EXIT event stops with their event messages, auto-attached
 * children and their first stop; the old-style SIGTRAP after execve; SEIZE
 * with INTERRUPT and LISTEN; ATTACH/DETACH with TracerPid in
 * /proc/PID/status; attach refused (self, twice, a traced task, a dead pid,
 * another uid); a tracer that is not the parent sees the exit first and the
 * parent only after the tracer reaped; PTRACE_O_EXITKILL; single steps.
 * Run as root (one case drops to another uid). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

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

static unsigned long eventmsg(pid_t pid) {
  unsigned long m = 0;
  if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &m) < 0) DIE("GETEVENTMSG");
  return m;
}

/* TracerPid from /proc/PID/status: "self", "none" or "other". */
static const char *tracer_of(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (!f) return "?";
  const char *r = "?";
  while (fgets(line, sizeof line, f)) {
    int tp;
    if (sscanf(line, "TracerPid: %d", &tp) == 1) r = tp == 0 ? "none" : tp == getpid() ? "self" : "other";
  }
  fclose(f);
  return r;
}

static char state_of(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  char c = '?';
  if (!f) return c;
  while (fgets(line, sizeof line, f)) sscanf(line, "State: %c", &c);
  fclose(f);
  return c;
}

static void events(void) {
  printf("-- events\n");
  pid_t pid = xfork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    pid_t c = fork();
    if (c == 0) _exit(7);
    waitpid(c, NULL, 0);
    pid_t v = vfork();
    if (v == 0) _exit(8);
    execl("/bin/true", "true", (char *)NULL);
    _exit(99);
  }
  show_status("stop", xwait(pid));
  ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)(PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_TRACEVFORKDONE));
  ptrace(PTRACE_CONT, pid, 0, 0);
  int st = xwait(pid);
  show_status("fork", st);
  pid_t gc = (pid_t)eventmsg(pid);
  st = xwait(gc);
  show_status("grandchild first stop", st);
  printf("grandchild traced by: %s\n", tracer_of(gc));
  ptrace(PTRACE_CONT, gc, 0, 0);
  st = xwait(gc);
  show_status("grandchild exit event", st);
  printf("exit eventmsg: %lx\n", eventmsg(gc));
  ptrace(PTRACE_CONT, gc, 0, 0);
  ptrace(PTRACE_CONT, pid, 0, 0);
  /* The grandchild's exit is for us (tracer) first, then its parent reaps it. */
  st = xwait(gc);
  show_status("grandchild", st);
  /* vfork: the event, the child's first stop, then vfork-done. */
  int seen_vfork = 0, seen_done = 0, seen_vchild = 0;
  pid_t vc = -1;
  while (!(seen_vfork && seen_done && seen_vchild)) {
    int s;
    pid_t w = waitpid(-1, &s, __WALL);
    if (w < 0) DIE("waitpid vfork");
    if (w == pid && WIFSTOPPED(s) && (s >> 16) == PTRACE_EVENT_VFORK) {
      seen_vfork = 1;
      vc = (pid_t)eventmsg(pid);
    } else if (w == pid && WIFSTOPPED(s) && (s >> 16) == PTRACE_EVENT_VFORK_DONE) {
      seen_done = 1;
      printf("vfork done msg is child: %d\n", (pid_t)eventmsg(pid) == vc);
    } else if (w != pid && WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP) {
      seen_vchild = 1;
    } else if (w != pid && WIFSTOPPED(s)) {
      ptrace(PTRACE_CONT, w, 0, 0);
      continue;
    } else if (w != pid) {
      continue;
    }
    ptrace(PTRACE_CONT, w, 0, 0);
  }
  printf("vfork: event, child stop and done seen\n");
  for (;;) {
    st = xwait(pid);
    if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_EXEC) break;
    ptrace(PTRACE_CONT, pid, 0, 0);
  }
  show_status("exec", st);
  printf("exec eventmsg is pid: %d\n", (pid_t)eventmsg(pid) == pid);
  ptrace(PTRACE_CONT, pid, 0, 0);
  st = xwait(pid);
  show_status("exit event", st);
  printf("exit eventmsg: %lx\n", eventmsg(pid));
  ptrace(PTRACE_CONT, pid, 0, 0);
  show_status("end", xwait(pid));
  /* The vfork child, reaped by its parent already or still ours to see exit. */
  while (waitpid(-1, &st, __WALL | WNOHANG) > 0) {
  }
}

static void old_exec(void) {
  printf("-- exec without options\n");
  pid_t pid = xfork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    execl("/bin/true", "true", (char *)NULL);
    _exit(99);
  }
  int st = xwait(pid);
  show_status("after exec", st);
  siginfo_t si;
  ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
  printf("siginfo code=%d own pid=%d\n", si.si_code, si.si_pid == pid);
  ptrace(PTRACE_CONT, pid, 0, 0);
  show_status("end", xwait(pid));
}

static void seize(void) {
  printf("-- seize\n");
  int p[2];
  if (pipe(p) < 0) DIE("pipe");
  pid_t pid = xfork();
  if (pid == 0) {
    char c;
    close(p[1]);
    while (read(p[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(3);
  }
  close(p[0]);
  SHOW("SEIZE bad addr", ptrace(PTRACE_SEIZE, pid, (void *)1, 0));
  SHOW("SEIZE bad option", ptrace(PTRACE_SEIZE, pid, 0, (void *)0x40000000L));
  SHOW("SEIZE", ptrace(PTRACE_SEIZE, pid, 0, (void *)PTRACE_O_TRACEEXIT));
  SHOW("CONT while running", ptrace(PTRACE_CONT, pid, 0, 0));
  printf("tracer: %s\n", tracer_of(pid));
  SHOW("INTERRUPT", ptrace(PTRACE_INTERRUPT, pid, 0, 0));
  int st = xwait(pid);
  show_status("interrupt", st);
  printf("state: %c\n", state_of(pid));
  siginfo_t si;
  ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
  printf("siginfo signo=%d code=%x\n", si.si_signo, si.si_code);
  ptrace(PTRACE_CONT, pid, 0, 0);
  /* A group stop: reported with PTRACE_EVENT_STOP; LISTEN keeps it stopped until SIGCONT. */
  kill(pid, SIGSTOP);
  st = xwait(pid);
  show_status("signal stop", st);
  ptrace(PTRACE_CONT, pid, 0, (void *)SIGSTOP);
  st = xwait(pid);
  show_status("group stop", st);
  SHOW("LISTEN", ptrace(PTRACE_LISTEN, pid, 0, 0));
  SHOW("GETREGS while listening", ptrace(PTRACE_GETREGS, pid, 0, &(struct user_regs_struct){0}));
  kill(pid, SIGCONT);
  st = xwait(pid);
  show_status("after SIGCONT", st);
  ptrace(PTRACE_CONT, pid, 0, 0);
  st = xwait(pid);
  show_status("SIGCONT delivery", st);
  ptrace(PTRACE_CONT, pid, 0, 0);
  write(p[1], "x", 1);
  st = xwait(pid);
  show_status("exit event", st);
  ptrace(PTRACE_CONT, pid, 0, 0);
  show_status("end", xwait(pid));
  close(p[1]);
}

static void attach(void) {
  printf("-- attach\n");
  pid_t pid = xfork();
  if (pid == 0) {
    for (;;) pause();
  }
  SHOW("ATTACH self", ptrace(PTRACE_ATTACH, getpid(), 0, 0));
  SHOW("ATTACH none", ptrace(PTRACE_ATTACH, 999999, 0, 0));
  SHOW("GETREGS untraced", ptrace(PTRACE_GETREGS, pid, 0, &(struct user_regs_struct){0}));
  SHOW("ATTACH", ptrace(PTRACE_ATTACH, pid, 0, 0));
  SHOW("ATTACH again", ptrace(PTRACE_ATTACH, pid, 0, 0));
  int st = xwait(pid);
  show_status("attach stop", st);
  printf("tracer: %s state: %c\n", tracer_of(pid), state_of(pid));
  SHOW("DETACH", ptrace(PTRACE_DETACH, pid, 0, 0));
  printf("tracer after detach: %s\n", tracer_of(pid));
  SHOW("DETACH again", ptrace(PTRACE_DETACH, pid, 0, 0));
  /* Another uid may not attach; it may not read /proc/PID/mem either. */
  pid_t other = xfork();
  if (other == 0) {
    if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0) DIE("setuid");
    SHOW("ATTACH other uid", ptrace(PTRACE_ATTACH, pid, 0, 0));
    SHOW("SEIZE other uid", ptrace(PTRACE_SEIZE, pid, 0, 0));
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    SHOW("open mem other uid", open(path, 0));
    fflush(stdout);
    _exit(0);
  }
  waitpid(other, NULL, 0);
  kill(pid, SIGKILL);
  show_status("end", xwait(pid));
}

/* Attaching to a process in a group stop: the tracer sees the stop (and with
 * PTRACE_ATTACH the SIGSTOP it sent, then the group stop again). */
static void attach_stopped(int seize) {
  printf("-- %s a stopped process\n", seize ? "seize" : "attach");
  pid_t pid = xfork();
  if (pid == 0) {
    usleep(10000);
    _exit(4);
  }
  kill(pid, SIGSTOP);
  int st;
  waitpid(pid, &st, WUNTRACED);
  show_status("group stop", st);
  if (seize) ptrace(PTRACE_SEIZE, pid, 0, 0);
  else ptrace(PTRACE_ATTACH, pid, 0, 0);
  for (int i = 0; i < 3; i++) {
    st = xwait(pid);
    show_status("next", st);
    if (!WIFSTOPPED(st)) break;
    ptrace(PTRACE_CONT, pid, 0, 0);
  }
}

/* strace's start: the child stops itself, the tracer seizes it, interrupts,
 * continues its group, and listens at the group stop it sees. */
static void seize_startup(void) {
  printf("-- strace-like start\n");
  pid_t pid = xfork();
  if (pid == 0) {
    kill(getpid(), SIGSTOP);
    _exit(6);
  }
  int st;
  waitpid(pid, &st, WSTOPPED);
  show_status("stopped itself", st);
  ptrace(PTRACE_SEIZE, pid, 0, (void *)PTRACE_O_TRACESYSGOOD);
  ptrace(PTRACE_INTERRUPT, pid, 0, 0);
  kill(pid, SIGCONT);
  st = xwait(pid);
  show_status("first", st);
  SHOW("LISTEN", ptrace(PTRACE_LISTEN, pid, 0, 0));
  st = xwait(pid);
  show_status("after LISTEN", st);
  for (int i = 0; i < 4 && WIFSTOPPED(st); i++) {
    ptrace(PTRACE_CONT, pid, 0, 0);
    st = xwait(pid);
    show_status("next", st);
  }
}

/* A tracer that is not the parent: the exit goes to the tracer, then to the parent. */
static void not_parent(void) {
  printf("-- tracer is not the parent\n");
  int go[2], told[2], back[2];
  if (pipe(go) < 0 || pipe(told) < 0 || pipe(back) < 0) DIE("pipe");
  pid_t b = xfork();
  if (b == 0) {
    char c;
    while (read(go[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(9);
  }
  pid_t c = xfork();
  if (c == 0) {
    char x;
    if (ptrace(PTRACE_SEIZE, b, 0, 0) < 0) DIE("SEIZE");
    write(go[1], "x", 1);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PID, b, &si, WEXITED | WNOWAIT);
    printf("tracer sees exit: code=%d status=%d\n", si.si_code, si.si_status);
    fflush(stdout);
    write(told[1], "x", 1);
    read(back[0], &x, 1);
    int st;
    printf("tracer reaps: %d\n", waitpid(b, &st, 0) == b);
    fflush(stdout);
    write(told[1], "x", 1);
    _exit(0);
  }
  char x;
  read(told[0], &x, 1);
  int st;
  printf("parent before the tracer reaped: %d\n", waitpid(b, &st, WNOHANG));
  fflush(stdout);
  write(back[1], "x", 1);
  read(told[0], &x, 1);
  printf("parent after: %d\n", waitpid(b, &st, 0) == b);
  show_status("parent sees", st);
  waitpid(c, NULL, 0);
}

static void exitkill(void) {
  printf("-- exitkill\n");
  int p[2];
  if (pipe(p) < 0) DIE("pipe");
  pid_t t = xfork();
  if (t == 0) {
    pid_t v = fork();
    if (v == 0) {
      for (;;) pause();
    }
    if (ptrace(PTRACE_SEIZE, v, 0, (void *)PTRACE_O_EXITKILL) < 0) DIE("SEIZE");
    printf("victim pid sent\n");
    fflush(stdout);
    write(p[1], &v, sizeof v);
    _exit(0);
  }
  pid_t v;
  read(p[0], &v, sizeof v);
  waitpid(t, NULL, 0);
  /* The victim's parent (the tracer) is gone: it was killed and reparented to init, or
   * reaped already. Either way it no longer runs. */
  usleep(100000);
  printf("victim alive: %d\n", kill(v, 0) == 0 && state_of(v) != 'Z' && state_of(v) != '?');
}

static void step(void) {
  printf("-- single step\n");
  pid_t pid = xfork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    volatile int n = 0;
    for (int i = 0; i < 1000; i++) n += i;
    _exit(n == 499500 ? 0 : 1);
  }
  xwait(pid);
  int traps = 0, moved = 0;
  long last = -1;
  for (int i = 0; i < 20; i++) {
    if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) < 0) DIE("SINGLESTEP");
    int st = xwait(pid);
    if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP) traps++;
    long rip = ptrace(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user_regs_struct, rip), 0);
    if (rip != last) moved++;
    last = rip;
  }
  long fl = ptrace(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user_regs_struct, eflags), 0);
  printf("steps: traps=%d moved=%d tf=%ld\n", traps, moved, (fl >> 8) & 1);
  ptrace(PTRACE_CONT, pid, 0, 0);
  show_status("end", xwait(pid));
}

int main(void) {
  line_buffered();
  events();
  old_exec();
  seize();
  attach();
  attach_stopped(0);
  attach_stopped(1);
  seize_startup();
  not_parent();
  exitkill();
  step();
  printf("done\n");
  return 0;
}
