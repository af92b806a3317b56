/* procmisc: corners of process calls. setpgid of a zombie child, of a
 * child that has exec'd (EACCES), of a non-child; SIGCONT to another user's
 * process in the same session (allowed) and in another session (EPERM);
 * tgkill's argument checks; waitid without WEXITED, WSTOPPED or WCONTINUED;
 * the siginfo of SIGSEGV from bad uses of the vsyscall page. Run as root. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#define VSYSCALL 0xffffffffff600000UL
#define R(call) ((call) < 0 ? ename(errno) : "OK")

static void show(const char *label, long r) { printf("%s: %s\n", label, r < 0 ? ename(errno) : "OK"); }

static void segv(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  const char *code = si->si_code == SEGV_MAPERR ? "SEGV_MAPERR" : si->si_code == SEGV_ACCERR ? "SEGV_ACCERR" : si->si_code == SI_KERNEL ? "SI_KERNEL" : "other";
  unsigned long a = (unsigned long)si->si_addr;
  printf("  signal %d code %s addr %s%lx\n", sig, code, a >= VSYSCALL ? "vsyscall+" : "", a >= VSYSCALL ? a - VSYSCALL : a);
  fflush(stdout);
  _exit(0);
}

static void in_child(const char *label, void (*fn)(void)) {
  printf("%s\n", label);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    struct sigaction sa = {0};
    sa.sa_sigaction = segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    fn();
    printf("  no signal\n");
    _exit(1);
  }
  waitpid(p, NULL, 0);
}

typedef long (*gtod_fn)(struct timeval *, struct timezone *);
typedef long (*time_fn)(time_t *);
static void bad_ptr(void) { ((gtod_fn)VSYSCALL)((struct timeval *)8, NULL); }
static void bad_tz(void) {
  struct timeval tv;
  ((gtod_fn)VSYSCALL)(&tv, (struct timezone *)16);
}
static void bad_time(void) { ((time_fn)(VSYSCALL + 0x400))((time_t *)24); }
static void middle(void) { ((time_fn)(VSYSCALL + 0x10))(NULL); }
static void fourth(void) { ((time_fn)(VSYSCALL + 0xc00))(NULL); }
static void readit(void) { printf("  read %d\n", *(volatile unsigned char *)(VSYSCALL + 8)); }
static void writeit(void) { *(volatile unsigned char *)(VSYSCALL + 8) = 1; }

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* setpgid */
  pid_t z = fork();
  if (z == 0) _exit(0);
  siginfo_t si;
  waitid(P_PID, z, &si, WEXITED | WNOWAIT); /* a zombie now */
  show("setpgid of a zombie child", setpgid(z, z));
  show("setpgid of a zombie child into my group", setpgid(z, getpgrp()));
  waitpid(z, NULL, 0);
  show("setpgid of a reaped child", setpgid(z, z));
  int pfd[2], xfd[2];
  pipe(pfd);
  pipe2(xfd, O_CLOEXEC);
  pid_t e = fork();
  if (e == 0) {
    close(pfd[1]);
    close(xfd[0]);
    dup2(pfd[0], 0);
    execl("/bin/sh", "sh", "-c", "read x", (char *)NULL);
    _exit(1);
  }
  close(xfd[1]);
  char ch;
  read(xfd[0], &ch, 1); /* end of file once the child has exec'd */
  show("setpgid of a child after exec", setpgid(e, e));
  close(pfd[1]);
  waitpid(e, NULL, 0);
  show("setpgid to a negative group", setpgid(0, -1));

  /* SIGCONT across users */
  pid_t victim = fork();
  if (victim == 0) {
    pause();
    _exit(0);
  }
  int rfd[2];
  pipe(rfd);
  pid_t other = fork();
  if (other == 0) {
    setsid();
    write(rfd[1], "s", 1);
    pause();
    _exit(0);
  }
  read(rfd[0], &ch, 1); /* it has its own session now */
  pid_t s = fork();
  if (s == 0) {
    setresuid(1000, 1000, 1000);
    show("uid 1000: SIGCONT in the session", kill(victim, SIGCONT));
    show("uid 1000: SIGUSR1 in the session", kill(victim, SIGUSR1));
    show("uid 1000: SIGCONT to another session", kill(other, SIGCONT));
    show("uid 1000: signal 0 in the session", kill(victim, 0));
    _exit(0);
  }
  waitpid(s, NULL, 0);
  kill(victim, SIGKILL);
  kill(other, SIGKILL);
  waitpid(victim, NULL, 0);
  waitpid(other, NULL, 0);

  /* tgkill */
  pid_t me = getpid();
  show("tgkill tgid -5", syscall(SYS_tgkill, -5, me, 0));
  show("tgkill tgid 0", syscall(SYS_tgkill, 0, me, 0));
  show("tgkill tid 0", syscall(SYS_tgkill, me, 0, 0));
  show("tgkill signal 65", syscall(SYS_tgkill, me, me, 65));
  pid_t c = fork();
  if (c == 0) {
    pause();
    _exit(0);
  }
  show("tgkill tgid of another process", syscall(SYS_tgkill, c, me, 0));
  show("tgkill tid of another process", syscall(SYS_tgkill, me, c, 0));
  kill(c, SIGKILL);
  waitpid(c, NULL, 0);
  show("tgkill tid of a reaped process", syscall(SYS_tgkill, c, c, 0));
  show("tgkill unknown tid", syscall(SYS_tgkill, me, 0x3fffff00, 0));
  show("tgkill self", syscall(SYS_tgkill, me, me, 0));
  show("tkill -1", syscall(SYS_tkill, -1, 0));

  /* waitid */
  show("waitid without event flags", waitid(P_ALL, 0, &si, WNOHANG));
  show("waitid with only WNOWAIT", waitid(P_ALL, 0, &si, WNOWAIT));
  show("waitid bad idtype", waitid(7, 0, &si, WEXITED));
  show("waitid P_PID 0", waitid(P_PID, 0, &si, WEXITED));

  /* vsyscall page */
  in_child("gettimeofday, bad tv", bad_ptr);
  in_child("gettimeofday, bad tz", bad_tz);
  in_child("time, bad pointer", bad_time);
  in_child("call into the middle", middle);
  in_child("call to the fourth slot", fourth);
  in_child("read of the page", readit);
  in_child("write to the page", writeit);
  printf("done\n");
  return 0;
}
