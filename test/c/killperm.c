/* killperm: signals obey credentials. A child that dropped to another uid
 * cannot signal its root parent (kill, tgkill, tkill, rt_sigqueueinfo,
 * rt_tgsigqueueinfo, signal 0 included) except SIGCONT within its session;
 * a matching real uid is enough; root without CAP_KILL is refused too;
 * process-group and -1 kills report as Linux does. Run as root. */
#define _GNU_SOURCE
#include "common.h"
#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define R(label, expr) printf("  %s: %s\n", (label), (expr) < 0 ? ename(errno) : "OK")

static long qinfo(pid_t pid, int sig) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = sig;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  return syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
}
static long tgqinfo(pid_t pid, int sig) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = sig;
  si.si_code = SI_QUEUE;
  return syscall(SYS_rt_tgsigqueueinfo, pid, pid, sig, &si);
}
static volatile int got;
static void on_usr(int s) { (void)s; got++; }

static void probe(const char *who, pid_t target) {
  printf("%s\n", who);
  R("kill 0", kill(target, 0));
  R("kill SIGUSR1", kill(target, SIGUSR1));
  R("tgkill SIGUSR1", syscall(SYS_tgkill, target, target, SIGUSR1));
  R("tkill SIGUSR1", syscall(SYS_tkill, target, SIGUSR1));
  R("rt_sigqueueinfo SIGUSR1", qinfo(target, SIGUSR1));
  R("rt_tgsigqueueinfo SIGUSR1", tgqinfo(target, SIGUSR1));
  R("rt_sigqueueinfo 0", qinfo(target, 0));
  R("kill SIGCONT", kill(target, SIGCONT));
}

/* Runs fn in a child and waits for it; the parent counts the SIGUSR1s it got. */
static void in_child(void (*fn)(pid_t), pid_t arg) {
  got = 0;
  pid_t p = xfork();
  if (p == 0) {
    fn(arg);
    fflush(stdout);
    _exit(0);
  }
  while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {
  }
  sleep_ms(20);
  printf("  parent got SIGUSR1: %s\n", got ? "yes" : "no");
}

static void as_1000(pid_t parent) {
  if (setresuid(1000, 1000, 1000) < 0) DIE("setresuid");
  probe("uid 1000 to its root parent", parent);
  if (setsid() < 0) DIE("setsid");
  R("kill SIGCONT from another session", kill(parent, SIGCONT));
}
static void euid_1000(pid_t parent) {
  if (setresuid(0, 1000, 1000) < 0) DIE("setresuid");
  probe("ruid 0 euid 1000 to its root parent", parent);
}
static void suid_0(pid_t parent) {
  if (setresuid(1000, 1000, 0) < 0) DIE("setresuid");
  probe("ruid 1000 euid 1000 suid 0 to its root parent", parent);
}
static void nokill(pid_t victim) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  syscall(SYS_capget, &h, d);
  d[0].effective &= ~(1u << CAP_KILL);
  if (syscall(SYS_capset, &h, d) < 0) DIE("capset");
  printf("root without CAP_KILL to a uid 1000 process\n");
  R("kill 0", kill(victim, 0));
  R("kill SIGUSR1", kill(victim, SIGUSR1));
  R("tgkill SIGUSR1", syscall(SYS_tgkill, victim, victim, SIGUSR1));
  R("kill SIGCONT (same session)", kill(victim, SIGCONT));
  d[0].effective |= 1u << CAP_KILL;
  if (syscall(SYS_capset, &h, d) < 0) DIE("capset");
  R("kill 0 with CAP_KILL", kill(victim, 0));
}
static void group(pid_t rootpg) {
  if (setresuid(1000, 1000, 1000) < 0) DIE("setresuid");
  printf("uid 1000 signals groups\n");
  R("kill(0, 0): own group with root members", kill(0, 0));
  R("kill(-pgid, 0) of the root parent's group", kill(-getpgid(getppid()), 0));
  R("kill(-pgid, 0) of a group of root only", kill(-rootpg, 0));
  R("kill(-pgid, SIGUSR1) of a group of root only", kill(-rootpg, SIGUSR1));
  R("kill(-1, 0)", kill(-1, 0));
  R("kill(-99999, 0)", kill(-99999, 0));
}

int main(void) {
  if (geteuid() != 0) return 2;
  line_buffered();
  signal(SIGUSR1, on_usr);
  pid_t me = getpid();
  in_child(as_1000, me);
  in_child(euid_1000, me);
  in_child(suid_0, me);

  int pfd[2];
  if (pipe(pfd) < 0) DIE("pipe");
  pid_t v = xfork();
  if (v == 0) {
    if (setresuid(1000, 1000, 1000) < 0) DIE("setresuid");
    signal(SIGUSR1, SIG_IGN);
    char c;
    read(pfd[0], &c, 1);
    _exit(0);
  }
  pid_t r = xfork();
  if (r == 0) {
    setpgid(0, 0);
    signal(SIGUSR1, SIG_IGN);
    char c;
    read(pfd[0], &c, 1);
    _exit(0);
  }
  setpgid(r, r);
  sleep_ms(50);
  in_child(nokill, v);

  pid_t g = xfork();
  if (g == 0) {
    /* A group of its own that holds a uid 1000 child and root. */
    setpgid(0, 0);
    in_child(group, r);
    _exit(0);
  }
  waitpid(g, NULL, 0);
  write(pfd[1], "xx", 2);
  waitpid(v, NULL, 0);
  waitpid(r, NULL, 0);
  printf("done\n");
  return 0;
}
