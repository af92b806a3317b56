/* preempt: signals reach processes that run without making system calls.
 * Every child spins in pure user code (no system call in the loop), so the
 * only way a signal reaches it is by interrupting the running program. The
 * parent prints the wait statuses it gets (WUNTRACED, WCONTINUED). */
#include "common.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

static volatile sig_atomic_t flag;
static volatile unsigned long counter;

static void spin_until_flag(void) {
  while (!flag) counter++;
}

static void spin_forever(void) {
  for (;;) counter++;
}

static void on_signal(int sig) { flag = sig; }

static void on_term_exit(int sig) {
  (void)sig;
  _exit(3);
}

static void report(const char *label, int st) {
  if (WIFEXITED(st)) printf("%s: exited %d\n", label, WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) printf("%s: killed by %s\n", label, strsignal(WTERMSIG(st)));
  else if (WIFSTOPPED(st)) printf("%s: stopped by %s\n", label, strsignal(WSTOPSIG(st)));
  else if (WIFCONTINUED(st)) printf("%s: continued\n", label);
  else printf("%s: status 0x%x\n", label, st);
  printf("%s: raw 0x%x\n", label, st);
}

static int xwait(pid_t p, int opts) {
  int st = 0;
  if (waitpid(p, &st, opts) != p) DIE("waitpid");
  return st;
}

/* alarm(1) and a spin loop: the default action of SIGALRM ends it. */
static void alarm_spin(void) {
  pid_t p = xfork();
  if (p == 0) {
    alarm(1);
    spin_forever();
  }
  report("alarm + spin", xwait(p, 0));
}

/* A setitimer watchdog with a handler breaks a spin loop, twice. */
static void itimer_watchdog(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  if (sigaction(SIGALRM, &sa, NULL) < 0) DIE("sigaction");
  for (int round = 0; round < 2; round++) {
    flag = 0;
    struct itimerval it = {{0, 0}, {0, 200000}};
    if (setitimer(ITIMER_REAL, &it, NULL) < 0) DIE("setitimer");
    spin_until_flag();
    printf("itimer watchdog round %d: handler ran for %s\n", round, strsignal(flag));
  }
  /* A periodic timer interrupts a spin loop again and again. */
  struct itimerval it = {{0, 50000}, {0, 50000}};
  if (setitimer(ITIMER_REAL, &it, NULL) < 0) DIE("setitimer");
  for (int i = 0; i < 3; i++) {
    flag = 0;
    spin_until_flag();
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  signal(SIGALRM, SIG_DFL);
  printf("periodic itimer: 3 ticks through a spin loop\n");
}

/* Stop, continue and terminate a spinning child. */
static void stop_cont_term(void) {
  pid_t p = xfork();
  if (p == 0) spin_forever();
  sleep_ms(50);
  if (kill(p, SIGSTOP) < 0) DIE("kill STOP");
  report("SIGSTOP", xwait(p, WUNTRACED));
  if (kill(p, SIGCONT) < 0) DIE("kill CONT");
  report("SIGCONT", xwait(p, WCONTINUED));
  sleep_ms(50);
  /* SIGSTOP, not SIGTSTP: the latter is discarded in an orphaned process group,
   * which the test harness may or may not give us. */
  if (kill(p, SIGSTOP) < 0) DIE("kill STOP");
  report("SIGSTOP again", xwait(p, WUNTRACED));
  if (kill(p, SIGTERM) < 0) DIE("kill TERM");
  /* A stopped process is woken by a fatal signal only once continued (SIGTERM stays pending). */
  if (kill(p, SIGCONT) < 0) DIE("kill CONT");
  report("SIGTERM", xwait(p, 0));
}

/* A handler for SIGTERM runs in a spinning child. */
static void term_handler(void) {
  /* Installed before the fork, so the child has it before it can be signalled
   * (a handler set in the child races with the parent's kill under load). */
  signal(SIGTERM, on_term_exit);
  pid_t p = xfork();
  if (p == 0) spin_forever();
  signal(SIGTERM, SIG_DFL);
  sleep_ms(50);
  if (kill(p, SIGTERM) < 0) DIE("kill TERM");
  report("SIGTERM with handler", xwait(p, 0));
}

/* SIGKILL of one spinning process among several; the others keep running. */
static void kill_one_of_many(void) {
  pid_t kids[3];
  signal(SIGUSR1, on_term_exit); /* inherited: no race with the kill below */
  for (int i = 0; i < 3; i++) {
    kids[i] = xfork();
    if (kids[i] == 0) spin_forever();
  }
  signal(SIGUSR1, SIG_DFL);
  sleep_ms(50);
  if (kill(kids[1], SIGKILL) < 0) DIE("kill KILL");
  report("SIGKILL of the middle one", xwait(kids[1], 0));
  int st = 0;
  printf("others still running: %d %d\n", waitpid(kids[0], &st, WNOHANG), waitpid(kids[2], &st, WNOHANG));
  for (int i = 0; i < 3; i += 2) {
    if (kill(kids[i], SIGUSR1) < 0) DIE("kill USR1");
    report("SIGUSR1 with handler", xwait(kids[i], 0));
  }
}

/* A signal to itself from a handler-less spin: raise() is a system call, a
 * timer signal is not; pending and blocked signals must wait for the unblock. */
static void blocked_then_unblocked(void) {
  /* Mask and handler are set before the fork so the child has them before the
   * parent's signals can arrive. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGUSR2, on_signal);
  flag = 0;
  pid_t p = xfork();
  if (p == 0) {
    spin_until_flag(); /* SIGUSR1 stays blocked; SIGUSR2's handler ends the loop */
    printf("child: SIGUSR2 handled while SIGUSR1 was blocked\n");
    fflush(stdout);
    sigprocmask(SIG_UNBLOCK, &set, NULL); /* SIGUSR1 now kills */
    printf("child: not reached\n");
    _exit(0);
  }
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  signal(SIGUSR2, SIG_DFL);
  sleep_ms(50);
  if (kill(p, SIGUSR1) < 0) DIE("kill USR1");
  sleep_ms(50);
  if (kill(p, SIGUSR2) < 0) DIE("kill USR2");
  report("blocked SIGUSR1", xwait(p, 0));
}

int main(void) {
  line_buffered();
  alarm_spin();
  itimer_watchdog();
  stop_cont_term();
  term_handler();
  kill_one_of_many();
  blocked_then_unblocked();
  printf("done\n");
  return 0;
}
