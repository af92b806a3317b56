/* sigchld: SIGCHLD reaching a parent that waits for it with sigtimedwait,
 * sigwaitinfo or sigsuspend while its child exits. A SIGCHLD sent while the
 * parent sleeps in sigtimedwait must be queued, not dropped as ignored
 * (trinity's main loop hung on that), and sigtimedwait is never restarted. */
#include "common.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static volatile sig_atomic_t got;
static void on_sig(int s) { got = s; }

static pid_t child_exiting(int ms, int code) {
  pid_t p = xfork();
  if (p == 0) {
    sleep_ms(ms);
    _exit(code);
  }
  return p;
}

static void reap(pid_t p, const char *label) {
  int st = 0;
  pid_t r = waitpid(p, &st, 0);
  printf("%s: waitpid %s, exited %d status %d\n", label, r == p ? "ok" : "wrong", WIFEXITED(st), WEXITSTATUS(st));
}

int main(void) {
  line_buffered();
  sigset_t chld, none;
  sigemptyset(&none);
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);

  /* SIGCHLD blocked, default action (ignore): sigtimedwait takes it. */
  sigprocmask(SIG_BLOCK, &chld, NULL);
  for (int i = 0; i < 3; i++) {
    pid_t p = child_exiting(30 + 20 * i, 3 + i);
    struct timespec ts = {5, 0};
    siginfo_t si;
    int s = sigtimedwait(&chld, &si, &ts);
    printf("sigtimedwait %d = %d, pid %s, code %s, status %d\n", i, s, si.si_pid == p ? "child" : "other",
           si.si_code == CLD_EXITED ? "CLD_EXITED" : "?", si.si_status);
    reap(p, "timedwait");
  }

  /* sigwaitinfo, no timeout. */
  {
    pid_t p = child_exiting(30, 7);
    siginfo_t si;
    int s = sigwaitinfo(&chld, &si);
    printf("sigwaitinfo = %d, status %d\n", s, si.si_status);
    reap(p, "waitinfo");
  }

  /* Still blocked and ignored by default, it stays pending once the child is reaped. */
  {
    pid_t p = child_exiting(0, 1);
    reap(p, "pending");
    sigset_t pend;
    sigpending(&pend);
    printf("SIGCHLD pending after reap: %d\n", sigismember(&pend, SIGCHLD));
    struct timespec zero = {0, 0};
    printf("taken: %d\n", sigtimedwait(&chld, NULL, &zero));
  }

  /* Another signal with a handler interrupts sigtimedwait: EINTR even with SA_RESTART. */
  {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid();
    pid_t p = xfork();
    if (p == 0) {
      sleep_ms(50);
      kill(parent, SIGUSR1);
      _exit(0);
    }
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    struct timespec ts = {3, 0};
    SHOW("sigtimedwait(SIGUSR2) interrupted", sigtimedwait(&usr2, NULL, &ts));
    printf("handler ran: %d\n", got == SIGUSR1);
    reap(p, "eintr");
    struct timespec zero = {0, 0};
    sigtimedwait(&chld, NULL, &zero);
  }

  /* sigsuspend with a SIGCHLD handler: woken by the child's exit. */
  {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGCHLD, &sa, NULL);
    got = 0;
    pid_t p = child_exiting(30, 0);
    SHOW("sigsuspend", sigsuspend(&none));
    printf("SIGCHLD handler ran: %d\n", got == SIGCHLD);
    reap(p, "suspend");
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
  }

  /* Waiting for an unblocked SIGCHLD whose action is to ignore: Linux drops it, the wait times out. */
  {
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
    pid_t p = child_exiting(20, 0);
    struct timespec ts = {0, 300 * 1000 * 1000};
    SHOW("sigtimedwait(unblocked ignored SIGCHLD)", sigtimedwait(&chld, NULL, &ts));
    reap(p, "dropped");
  }
  /* clone's exit signal is any byte: one past the last signal is never sent, the child is still reaped. */
  {
    fflush(stdout);
    pid_t p = (pid_t)syscall(SYS_clone, 0xff, 0, 0, 0, 0);
    if (p == 0) _exit(9);
    int st = 0;
    pid_t r = waitpid(p, &st, __WALL);
    printf("exit signal 255: reaped %d, status %d\n", r == p, WEXITSTATUS(st));
  }
  printf("done\n");
  return 0;
}
