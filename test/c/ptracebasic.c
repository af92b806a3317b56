/* ptracebasic: ptrace(2) between a tracer and its child. PTRACE_TRACEME and
 * a SIGSTOP stop seen through waitpid and waitid; PTRACE_SYSCALL enter/exit
 * stops with TRACESYSGOOD; a tracer changing the call at syscall-enter
 * (another number, orig_rax -1 to skip it, the result at exit); signal-delivery
 * stops where the tracer suppresses or replaces the signal; PEEK/POKE of data
 * and of read-only pages; PEEKUSER/POKEUSER and Linux's rules for segment
 * registers, eflags, fs_base and user-area offsets; GETREGS/SETREGS,
 * GETFPREGS/SETFPREGS (MXCSR rounding mode), GETREGSET; PTRACE_KILL. */
#define _GNU_SOURCE
#include "common.h"
#include <signal.h>
#include <stddef.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#define OFF(r) offsetof(struct user_regs_struct, r)

static volatile long data_word = 0x1122334455667788L;
static const long ro_word = 0x0102030405060708L;
static volatile int got_usr1, got_usr2;
static void on_usr1(int s) { (void)s; got_usr1++; }
static void on_usr2(int s) { (void)s; got_usr2++; }

static void show_status(const char *label, int st) {
  if (WIFSTOPPED(st))
    printf("%s: stopped sig=%d event=%d%s\n", label, WSTOPSIG(st) & 0x7f, st >> 16, (WSTOPSIG(st) & 0x80) ? " sysgood" : "");
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

/* Run the child to its next syscall stop; returns the status. */
static int to_syscall(pid_t pid) {
  if (ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0) DIE("PTRACE_SYSCALL");
  return xwait(pid);
}

static long regs_get(pid_t pid, size_t off) {
  errno = 0;
  long v = ptrace(PTRACE_PEEKUSER, pid, (void *)off, 0);
  if (errno) DIE("PEEKUSER");
  return v;
}

static long r1, r2, r3, r4;
static int e2;

static void child_main(void) {
  signal(SIGUSR1, on_usr1);
  signal(SIGUSR2, on_usr2);
  if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) DIE("TRACEME");
  raise(SIGSTOP);
  r1 = syscall(SYS_getppid);     /* changed into getpid by the tracer */
  errno = 0;
  r2 = syscall(SYS_getuid);      /* skipped: ENOSYS */
  e2 = errno;
  r3 = syscall(SYS_getgid);      /* result set at exit */
  r4 = write(1, "123456789ABCDEF", 15); /* length cut at entry */
  kill(getpid(), SIGUSR1);       /* suppressed */
  kill(getpid(), SIGUSR1);       /* becomes SIGUSR2 */
  raise(SIGSTOP);                /* memory and FP state changed here */
  unsigned short cw;
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  unsigned mx = __builtin_ia32_stmxcsr();
  printf("child: getppid returned %s\n", r1 == getpid() ? "own pid" : "parent pid");
  printf("child: skipped call = %ld %s\n", r2, ename(e2));
  printf("child: getgid = %ld, write = %ld\n", r3, r4);
  printf("child: usr1=%d usr2=%d\n", got_usr1, got_usr2);
  printf("child: data_word=%lx ro_word=%lx\n", data_word, *(volatile const long *)&ro_word);
  printf("child: mxcsr rounding=%u x87 rounding=%u\n", (mx >> 13) & 3, (cw >> 10) & 3);
  fflush(stdout);
  raise(SIGSTOP);
  for (;;) pause();
}

int main(void) {
  line_buffered();
  pid_t pid = xfork();
  if (pid == 0) child_main();

  int st = xwait(pid);
  show_status("first stop", st);
  siginfo_t si;
  SHOW("GETSIGINFO", ptrace(PTRACE_GETSIGINFO, pid, 0, &si));
  printf("siginfo: signo=%d code=%d pid_is_child=%d\n", si.si_signo, si.si_code, si.si_pid == pid);
  SHOW("SETOPTIONS bad", ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)0x80000000L));
  SHOW("SETOPTIONS", ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)PTRACE_O_TRACESYSGOOD));

  /* Up to getppid, skipping what raise() does on its way out. */
  for (;;) {
    st = to_syscall(pid);
    if (!WIFSTOPPED(st) || WSTOPSIG(st) != (SIGTRAP | 0x80)) { show_status("unexpected", st); return 1; }
    if (regs_get(pid, OFF(orig_rax)) == SYS_getppid) break;
    st = to_syscall(pid); /* its exit */
  }
  show_status("getppid enter", st);
  printf("enter: rax=%ld (-ENOSYS=%d)\n", regs_get(pid, OFF(rax)), -ENOSYS);
  unsigned long msg = 99;
  SHOW("GETEVENTMSG", ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg));
  printf("eventmsg at enter: %lu\n", msg);
  SHOW("POKEUSER orig_rax", ptrace(PTRACE_POKEUSER, pid, (void *)OFF(orig_rax), (void *)SYS_getpid));
  st = to_syscall(pid);
  show_status("getppid exit", st);
  ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
  printf("eventmsg at exit: %lu, orig_rax=%ld\n", msg, regs_get(pid, OFF(orig_rax)));

  /* getuid: skipped. */
  st = to_syscall(pid);
  printf("next call is getuid: %d\n", regs_get(pid, OFF(orig_rax)) == SYS_getuid);
  ptrace(PTRACE_POKEUSER, pid, (void *)OFF(orig_rax), (void *)-1L);
  st = to_syscall(pid);
  printf("skipped exit: rax=%ld\n", regs_get(pid, OFF(rax)));

  /* getgid: result replaced at exit. */
  st = to_syscall(pid);
  printf("next call is getgid: %d\n", regs_get(pid, OFF(orig_rax)) == SYS_getgid);
  st = to_syscall(pid);
  ptrace(PTRACE_POKEUSER, pid, (void *)OFF(rax), (void *)4321L);

  /* write: length cut through GETREGS/SETREGS; then through GETREGSET/SETREGSET for the second. */
  for (;;) {
    st = to_syscall(pid);
    if (regs_get(pid, OFF(orig_rax)) == SYS_write) break;
    st = to_syscall(pid);
  }
  struct user_regs_struct regs;
  SHOW("GETREGS", ptrace(PTRACE_GETREGS, pid, 0, &regs));
  printf("write args: fd=%llu len=%llu\n", regs.rdi, regs.rdx);
  regs.rdx = 9;
  regs.rdi = 1;
  SHOW("SETREGS", ptrace(PTRACE_SETREGS, pid, 0, &regs));
  st = to_syscall(pid);
  printf("\nwrite result: %ld\n", regs_get(pid, OFF(rax)));
  struct iovec iov = {&regs, sizeof regs};
  SHOW("GETREGSET prstatus", ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov));
  printf("regset len=%zu orig_rax_is_write=%d\n", iov.iov_len, regs.orig_rax == SYS_write);
  iov.iov_len = 8;
  SHOW("GETREGSET short", ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov));
  printf("short len=%zu\n", iov.iov_len);
  iov.iov_len = sizeof regs;
  SHOW("GETREGSET bad type", ptrace(PTRACE_GETREGSET, pid, (void *)0x4711, &iov));

  /* Signal-delivery stops: suppress the first SIGUSR1, turn the second into SIGUSR2. */
  SHOW("CONT", ptrace(PTRACE_CONT, pid, 0, 0));
  st = xwait(pid);
  show_status("signal stop", st);
  ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
  printf("siginfo: signo=%d code=%d\n", si.si_signo, si.si_code);
  SHOW("CONT bad signal", ptrace(PTRACE_CONT, pid, 0, (void *)65L));
  ptrace(PTRACE_CONT, pid, 0, 0);
  st = xwait(pid);
  show_status("signal stop", st);
  ptrace(PTRACE_CONT, pid, 0, (void *)SIGUSR2);
  st = xwait(pid);
  show_status("next stop", st);

  /* Memory: PEEK/POKE data and a read-only page; FP state. */
  errno = 0;
  long w = ptrace(PTRACE_PEEKDATA, pid, (void *)&data_word, 0);
  printf("PEEKDATA = %lx %s\n", w, ename(errno));
  SHOW("POKEDATA", ptrace(PTRACE_POKEDATA, pid, (void *)&data_word, (void *)0x7ff0000000000123L));
  SHOW("POKETEXT ro", ptrace(PTRACE_POKETEXT, pid, (void *)&ro_word, (void *)0x5555L));
  printf("parent ro_word still %lx\n", *(volatile const long *)&ro_word);
  errno = 0;
  ptrace(PTRACE_PEEKDATA, pid, (void *)8, 0);
  printf("PEEKDATA null page: %s\n", ename(errno));
  SHOW("POKEDATA null page", ptrace(PTRACE_POKEDATA, pid, (void *)8, 0));
  errno = 0;
  ptrace(PTRACE_PEEKDATA, pid, (void *)0x7ffffffff000L, 0);
  printf("PEEKDATA past top: %s\n", ename(errno));
  errno = 0;
  ptrace(PTRACE_PEEKDATA, pid, (void *)-4096L, 0);
  printf("PEEKDATA kernel: %s\n", ename(errno));
  SHOW("PEEKDATA bad out", syscall(SYS_ptrace, PTRACE_PEEKDATA, pid, (void *)&data_word, (void *)8));

  struct user_fpregs_struct fp;
  SHOW("GETFPREGS", ptrace(PTRACE_GETFPREGS, pid, 0, &fp));
  printf("fp: cwd=%x mxcsr=%x\n", fp.cwd, fp.mxcsr);
  fp.mxcsr = (fp.mxcsr & ~0x6000u) | 0x6000u; /* round toward zero */
  SHOW("SETFPREGS", ptrace(PTRACE_SETFPREGS, pid, 0, &fp));
  struct iovec fiov = {&fp, sizeof fp};
  SHOW("GETREGSET fp", ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRFPREG, &fiov));
  printf("fp regset len=%zu mxcsr=%x\n", fiov.iov_len, fp.mxcsr);
  /* The x87 control word has its own rounding field. */
  fp.cwd = (fp.cwd & ~0xc00) | 0xc00;
  ptrace(PTRACE_SETFPREGS, pid, 0, &fp);

  /* The user area: registers, rules, offsets. */
  long cs = regs_get(pid, OFF(cs));
  printf("cs=%lx ss=%lx\n", cs, regs_get(pid, OFF(ss)));
  SHOW("POKEUSER cs=0", ptrace(PTRACE_POKEUSER, pid, (void *)OFF(cs), 0));
  SHOW("POKEUSER cs rpl0", ptrace(PTRACE_POKEUSER, pid, (void *)OFF(cs), (void *)0x30L));
  SHOW("POKEUSER ss=0", ptrace(PTRACE_POKEUSER, pid, (void *)OFF(ss), 0));
  SHOW("POKEUSER ds rpl1", ptrace(PTRACE_POKEUSER, pid, (void *)OFF(ds), (void *)0x29L));
  SHOW("POKEUSER ds=0", ptrace(PTRACE_POKEUSER, pid, (void *)OFF(ds), 0));
  SHOW("POKEUSER cs same", ptrace(PTRACE_POKEUSER, pid, (void *)OFF(cs), (void *)cs));
  long fl = regs_get(pid, OFF(eflags));
  SHOW("POKEUSER eflags", ptrace(PTRACE_POKEUSER, pid, (void *)OFF(eflags), (void *)(fl | 0x3000 | 0x4000 | 0x80000 | 0x1)));
  long fl2 = regs_get(pid, OFF(eflags));
  printf("eflags: iopl=%ld nt=%ld vif=%ld cf=%ld if=%ld\n", (fl2 >> 12) & 3, (fl2 >> 14) & 1, (fl2 >> 19) & 1, fl2 & 1, (fl2 >> 9) & 1);
  ptrace(PTRACE_POKEUSER, pid, (void *)OFF(eflags), (void *)(fl & ~0x200L));
  printf("eflags IF after clearing: %ld\n", (regs_get(pid, OFF(eflags)) >> 9) & 1);
  ptrace(PTRACE_POKEUSER, pid, (void *)OFF(eflags), (void *)fl);
  long fsb = regs_get(pid, OFF(fs_base));
  SHOW("POKEUSER fs_base high", ptrace(PTRACE_POKEUSER, pid, (void *)OFF(fs_base), (void *)0x800000000000L));
  SHOW("POKEUSER fs_base ok", ptrace(PTRACE_POKEUSER, pid, (void *)OFF(fs_base), (void *)fsb));
  SHOW("POKEUSER unaligned", ptrace(PTRACE_POKEUSER, pid, (void *)3, 0));
  SHOW("POKEUSER past end", ptrace(PTRACE_POKEUSER, pid, (void *)sizeof(struct user), 0));
  SHOW("POKEUSER u_tsize", ptrace(PTRACE_POKEUSER, pid, (void *)offsetof(struct user, u_tsize), 0));
  errno = 0;
  ptrace(PTRACE_PEEKUSER, pid, (void *)(sizeof(struct user) + 16), 0);
  printf("PEEKUSER past end: %s\n", ename(errno));
  errno = 0;
  long ec = ptrace(PTRACE_PEEKUSER, pid, (void *)(sizeof(struct user)), 0);
  printf("PEEKUSER error_code: %ld %s\n", ec, ename(errno));
  errno = 0;
  long dr7 = ptrace(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user, u_debugreg[7]), 0);
  printf("PEEKUSER dr7 = %ld %s\n", dr7, ename(errno));
  memset(&regs, 0, sizeof regs);
  ptrace(PTRACE_GETREGS, pid, 0, &regs);
  regs.cs = 0;
  SHOW("SETREGS cs=0", ptrace(PTRACE_SETREGS, pid, 0, &regs));

  /* Let the child print and stop again, then kill it. */
  ptrace(PTRACE_CONT, pid, 0, 0);
  st = xwait(pid);
  show_status("final stop", st);
  siginfo_t wi;
  memset(&wi, 0, sizeof wi);
  SHOW("waitid WNOWAIT none pending", waitid(P_PID, pid, &wi, WEXITED | WSTOPPED | WNOHANG | WNOWAIT));
  printf("waitid: pid_set=%d\n", wi.si_pid == pid);
  SHOW("KILL", ptrace(PTRACE_KILL, pid, 0, 0));
  st = xwait(pid);
  show_status("after KILL", st);
  SHOW("CONT gone", ptrace(PTRACE_CONT, pid, 0, 0));
  printf("done\n");
  return 0;
}
