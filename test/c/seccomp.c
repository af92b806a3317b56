// seccomp filters as Linux answers them: ERRNO, TRAP with its siginfo,
// KILL_PROCESS, LOG and ALLOW, argument checks, several filters (the most
// restrictive wins), inheritance across fork and exec, strict mode, the
// NO_NEW_PRIVS requirement, /proc status, and the errors of bad programs.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LOAD_ARCH BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch))
#define LOAD_ARG0 BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]))

static int install(struct sock_filter *f, unsigned short n, unsigned flags) {
  struct sock_fprog p = {n, f};
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
}

static void status_line(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  while (fgets(line, sizeof line, f)) if (!strncmp(line, key, strlen(key))) fputs(line, stdout);
  fclose(f);
}

static volatile int trap_nr, trap_code, trap_errno, trap_arch_ok;
static void on_sys(int s, siginfo_t *si, void *uc) {
  (void)s;
  trap_nr = si->si_syscall;
  trap_code = si->si_code;
  trap_errno = si->si_errno;
  trap_arch_ok = si->si_arch == AUDIT_ARCH_X86_64;
  ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX] = 4242;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1) {
    // Re-executed under the filters: getuid still gives EPERM.
    show("after exec, getuid", syscall(SYS_getuid));
    status_line("Seccomp");
    return 0;
  }
  // Without NO_NEW_PRIVS an unprivileged task may not install a filter.
  pid_t c = fork();
  if (c == 0) {
    if (setuid(65534)) _exit(1);
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    show("unprivileged without no_new_privs", install(allow, 1, 0));
    _exit(0);
  }
  waitpid(c, NULL, 0);
  show("no_new_privs", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));

  struct sock_filter bad_jump[] = {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  show("jump out of the program", install(bad_jump, 2, 0));
  struct sock_filter bad_load[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  show("load past seccomp_data", install(bad_load, 2, 0));
  struct sock_filter no_ret[] = {LOAD_NR};
  show("no return at the end", install(no_ret, 1, 0));
  show("empty program", install(no_ret, 0, 0));
  show("unknown flag", install(no_ret, 1, 1 << 10));
  unsigned action = SECCOMP_RET_LOG;
  show("action LOG available", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action));
  action = 0x12340000;
  show("unknown action available", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action));
  show("PR_GET_SECCOMP before", prctl(PR_GET_SECCOMP));

  // getuid -> EPERM; getgid with argument 7 -> ERRNO 99; getpid -> TRAP.
  struct sock_filter f1[] = {
    LOAD_ARCH,
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    LOAD_NR,
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getgid, 0, 3),
    LOAD_ARG0,
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 99),
    LOAD_NR,
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 17),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  show("install", install(f1, sizeof f1 / sizeof f1[0], 0));
  show("getuid", syscall(SYS_getuid));
  show("getgid(7)", syscall(SYS_getgid, 7));
  show("getgid(8)", syscall(SYS_getgid, 8) >= 0 ? 0 : -1);
  struct sigaction sa = {0};
  sa.sa_sigaction = on_sys;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSYS, &sa, NULL);
  long r = syscall(SYS_getppid);
  printf("getppid trapped: returned %ld, si_syscall %d, si_code %d, si_errno %d, arch %s\n", r, trap_nr, trap_code, trap_errno, trap_arch_ok ? "x86_64" : "?");
  show("PR_GET_SECCOMP", prctl(PR_GET_SECCOMP));
  status_line("Seccomp");

  // A second filter: getpid gives ENOENT; the first still applies (the most restrictive wins).
  struct sock_filter f2[] = {
    LOAD_NR,
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOENT),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  show("second filter", install(f2, sizeof f2 / sizeof f2[0], SECCOMP_FILTER_FLAG_LOG));
  show("getpid", syscall(SYS_getpid));
  status_line("Seccomp_filters");

  // The child inherits them; getuid now kills.
  c = fork();
  if (c == 0) {
    show("child getpid", syscall(SYS_getpid));
    syscall(SYS_getuid);
    printf("child survived getuid\n");
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  printf("child: %s %d\n", WIFSIGNALED(st) ? "killed by signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));

  // Strict mode in a child: write works, getpid kills it with SIGKILL.
  c = fork();
  if (c == 0) {
    show("strict with a filter in force", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
    _exit(0);
  }
  waitpid(c, &st, 0);

  // Filters are kept across exec (the new program's getuid is refused too... by KILL: use getgid instead).
  fflush(stdout);
  c = fork();
  if (c == 0) {
    struct sock_filter f3[] = {LOAD_NR, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                               BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    (void)f3;
    execl("/proc/self/exe", argv[0], "again", (char *)NULL);
    _exit(127);
  }
  waitpid(c, &st, 0);
  printf("exec child: %s %d\n", WIFSIGNALED(st) ? "killed by signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
  printf("done\n");
  return 0;
}
