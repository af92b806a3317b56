/* signals: signal dispositions, masks and delivery.
 *
 * sigaction (old actions, SA_RESETHAND, SA_NODEFER, sa_mask), sigprocmask
 * and sigpending, kill/raise/sigqueue to ourselves, coalescing of standard
 * signals and queueing of real-time ones, delivery order, SA_RESTART against
 * EINTR for a pipe read interrupted by alarm(), nanosleep/pause/sigsuspend,
 * sigtimedwait, SIGCHLD (siginfo, SA_NOCLDSTOP, SIG_IGN auto-reaping),
 * signals between processes, and dispositions across fork and execve.
 * argv[0] must be a path to this program. */
#define _GNU_SOURCE
#include "common.h"

#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t count_usr1, count_usr2, count_alrm, count_chld;
static volatile sig_atomic_t nested_blocked, usr1_blocked_inside;
static volatile int order[16];
static volatile sig_atomic_t norder;
static volatile int chld_code, chld_status, chld_pid_ok;
static pid_t expected_child;

static void on_usr1(int sig) {
  (void)sig;
  count_usr1++;
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  usr1_blocked_inside = sigismember(&cur, SIGUSR1);
  nested_blocked = sigismember(&cur, SIGUSR2);
}

static void on_usr2(int sig) {
  (void)sig;
  count_usr2++;
}

static void on_alrm(int sig) {
  (void)sig;
  count_alrm++;
}

static void record(int sig, siginfo_t *si, void *u) {
  (void)u;
  if (norder < 16) order[norder++] = sig * 1000 + si->si_value.sival_int;
}

static void record_plain(int sig) {
  if (norder < 16) order[norder++] = sig * 1000;
}

static void on_chld(int sig, siginfo_t *si, void *u) {
  (void)sig;
  (void)u;
  count_chld++;
  chld_code = si->si_code;
  chld_status = si->si_status;
  chld_pid_ok = si->si_pid == expected_child;
}

/* on_usr1_raise_usr2 raises SIGUSR2 (in its sa_mask) and records order */
static void on_usr1_raise_usr2(int sig) {
  (void)sig;
  order[norder++] = 1;
  raise(SIGUSR2);
  order[norder++] = 2;
}

static void on_usr2_order(int sig) {
  (void)sig;
  order[norder++] = 3;
}

static void nodefer_handler(int sig) {
  static volatile int depth;
  count_usr1++;
  if (depth++ == 0) raise(sig); /* runs nested at once because of SA_NODEFER */
  order[norder++] = depth;
  depth--;
}

static void set_handler(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) < 0) DIE("sigaction");
}

static void set_info_handler(int sig, void (*fn)(int, siginfo_t *, void *), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = flags | SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) < 0) DIE("sigaction");
}

static void block(int sig, int how) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  if (sigprocmask(how, &s, NULL) < 0) DIE("sigprocmask");
}

static int is_pending(int sig) {
  sigset_t s;
  sigpending(&s);
  return sigismember(&s, sig);
}

static void timer_ms(int ms) {
  struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  if (setitimer(ITIMER_REAL, &it, NULL) < 0) DIE("setitimer");
}

static void describe(const char *label, int status) {
  if (WIFEXITED(status))
    printf("%s: exited %d\n", label, WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    printf("%s: killed by signal %d\n", label, WTERMSIG(status));
  else
    printf("%s: status 0x%x\n", label, status);
}

static const char *disp(int sig) {
  struct sigaction sa;
  if (sigaction(sig, NULL, &sa) < 0) return "error";
  if (sa.sa_handler == SIG_DFL) return "SIG_DFL";
  if (sa.sa_handler == SIG_IGN) return "SIG_IGN";
  return "handler";
}

static int helper(char **argv) {
  if (strcmp(argv[1], "dispositions") == 0) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("  after execve: SIGUSR1 %s, SIGUSR2 %s, SIGTERM %s, SIGHUP blocked: %s\n", disp(SIGUSR1),
           disp(SIGUSR2), disp(SIGTERM), sigismember(&cur, SIGHUP) ? "yes" : "no");
    return 0;
  }
  return 2;
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc > 1) return helper(argv);

  printf("--- sigaction and raise\n");
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  SHOW("sigaction SIGUSR1", sigaction(SIGUSR1, &sa, &old));
  printf("old action was SIG_DFL: %s\n", old.sa_handler == SIG_DFL ? "yes" : "no");
  SHOW("sigaction SIGUSR1 again", sigaction(SIGUSR1, &sa, &old));
  printf("old action is our handler: %s\n", old.sa_handler == on_usr1 ? "yes" : "no");
  printf("old sa_mask has SIGUSR2: %s\n", sigismember(&old.sa_mask, SIGUSR2) ? "yes" : "no");
  SHOW("sigaction SIGKILL", sigaction(SIGKILL, &sa, NULL));
  SHOW("sigaction SIGSTOP", sigaction(SIGSTOP, &sa, NULL));
  SHOW("sigaction signal 0", sigaction(0, &sa, NULL));
  SHOW("sigaction signal 65", sigaction(65, &sa, NULL));
  SHOW("raise SIGUSR1", raise(SIGUSR1));
  printf("handler calls: %d, SIGUSR1 blocked inside: %s, sa_mask SIGUSR2 blocked inside: %s\n",
         (int)count_usr1, usr1_blocked_inside ? "yes" : "no", nested_blocked ? "yes" : "no");
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  printf("mask restored after the handler: %s\n",
         !sigismember(&cur, SIGUSR1) && !sigismember(&cur, SIGUSR2) ? "yes" : "no");
  set_handler(SIGUSR2, on_usr2, 0);
  SHOW("kill(getpid(), SIGUSR2)", kill(getpid(), SIGUSR2));
  printf("SIGUSR2 handler calls: %d\n", (int)count_usr2);
  SHOW("kill(getpid(), 0)", kill(getpid(), 0));
  SHOW("kill(getpid(), 99)", kill(getpid(), 99));
  void (*prev)(int) = signal(SIGUSR2, SIG_IGN);
  printf("signal() returned the previous handler: %s\n", prev == on_usr2 ? "yes" : "no");
  SHOW("raise ignored SIGUSR2", raise(SIGUSR2));
  printf("SIGUSR2 handler calls still: %d, pending: %s\n", (int)count_usr2, is_pending(SIGUSR2) ? "yes" : "no");

  printf("--- blocking and pending\n");
  count_usr1 = 0;
  block(SIGUSR1, SIG_BLOCK);
  raise(SIGUSR1);
  raise(SIGUSR1);
  printf("raise twice while blocked: calls %d, pending %s\n", (int)count_usr1, is_pending(SIGUSR1) ? "yes" : "no");
  block(SIGUSR1, SIG_UNBLOCK);
  printf("after unblock: calls %d (coalesced), pending %s\n", (int)count_usr1, is_pending(SIGUSR1) ? "yes" : "no");
  count_usr1 = 0;
  block(SIGUSR1, SIG_BLOCK);
  kill(getpid(), SIGUSR1);
  kill(getpid(), SIGUSR1);
  printf("kill twice while blocked: calls %d, pending %s\n", (int)count_usr1, is_pending(SIGUSR1) ? "yes" : "no");
  block(SIGUSR1, SIG_UNBLOCK);
  printf("after unblock: calls %d (coalesced), pending %s\n", (int)count_usr1, is_pending(SIGUSR1) ? "yes" : "no");
  count_usr1 = 0;
  block(SIGUSR1, SIG_BLOCK);
  raise(SIGUSR1);
  kill(getpid(), SIGUSR1);
  block(SIGUSR1, SIG_UNBLOCK);
  printf("raise (thread-directed) and kill (process-directed) while blocked: calls %d\n", (int)count_usr1);
  sigset_t all;
  sigfillset(&all);
  SHOW("block everything", sigprocmask(SIG_SETMASK, &all, NULL));
  sigprocmask(SIG_BLOCK, NULL, &cur);
  printf("SIGKILL/SIGSTOP cannot be blocked: %s\n",
         !sigismember(&cur, SIGKILL) && !sigismember(&cur, SIGSTOP) ? "yes" : "no");
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  SHOW("sigprocmask bad how", sigprocmask(42, &all, NULL));

  printf("--- real-time signals queue, order of delivery\n");
  /* Every handler blocks all three signals, so handlers never nest and the
   * order they run in is the order the kernel picks pending signals: the
   * lowest number first, queued real-time signals in the order sent. */
  sigset_t rt;
  sigemptyset(&rt);
  sigaddset(&rt, SIGRTMIN);
  sigaddset(&rt, SIGRTMIN + 1);
  sigaddset(&rt, SIGUSR2);
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = record;
  sa.sa_flags = SA_SIGINFO;
  sa.sa_mask = rt;
  if (sigaction(SIGRTMIN, &sa, NULL) < 0 || sigaction(SIGRTMIN + 1, &sa, NULL) < 0) DIE("sigaction");
  sa.sa_flags = 0;
  sa.sa_handler = record_plain;
  if (sigaction(SIGUSR2, &sa, NULL) < 0) DIE("sigaction");
  sigprocmask(SIG_BLOCK, &rt, NULL);
  union sigval val;
  val.sival_int = 7;
  SHOW("sigqueue RTMIN+1 value 7", sigqueue(getpid(), SIGRTMIN + 1, val));
  for (int i = 1; i <= 3; i++) {
    val.sival_int = i;
    SHOW("sigqueue RTMIN", sigqueue(getpid(), SIGRTMIN, val));
  }
  val.sival_int = 0;
  SHOW("sigqueue SIGUSR2", sigqueue(getpid(), SIGUSR2, val));
  SHOW("sigqueue SIGUSR2 again (coalesced)", sigqueue(getpid(), SIGUSR2, val));
  norder = 0;
  sigprocmask(SIG_UNBLOCK, &rt, NULL);
  printf("delivered %d:", (int)norder);
  for (int i = 0; i < norder; i++) {
    int s = order[i] / 1000, v = order[i] % 1000;
    if (s == SIGUSR2)
      printf(" SIGUSR2");
    else
      printf(" RTMIN+%d(%d)", s - SIGRTMIN, v);
  }
  printf("\n");

  printf("--- sa_mask, SA_NODEFER, SA_RESETHAND\n");
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1_raise_usr2;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  sigaction(SIGUSR1, &sa, NULL);
  set_handler(SIGUSR2, on_usr2_order, 0);
  norder = 0;
  raise(SIGUSR1);
  printf("order (1 start, 2 end of SIGUSR1 handler, 3 SIGUSR2):");
  for (int i = 0; i < norder; i++) printf(" %d", order[i]);
  printf("\n");
  count_usr1 = 0;
  norder = 0;
  set_handler(SIGUSR1, nodefer_handler, SA_NODEFER);
  raise(SIGUSR1);
  printf("SA_NODEFER: calls %d, inner finished first: %s\n", (int)count_usr1,
         norder == 2 && order[0] == 2 && order[1] == 1 ? "yes" : "no");
  count_usr2 = 0;
  set_handler(SIGUSR2, on_usr2, SA_RESETHAND);
  raise(SIGUSR2);
  printf("SA_RESETHAND: calls %d, disposition now %s\n", (int)count_usr2, disp(SIGUSR2));

  printf("--- EINTR and SA_RESTART\n");
  int pfd[2];
  if (pipe(pfd) < 0) DIE("pipe");
  char buf[32];
  set_handler(SIGALRM, on_alrm, 0);
  count_alrm = 0;
  alarm(1);
  SHOW("read interrupted by alarm, no SA_RESTART", read(pfd[0], buf, sizeof buf));
  printf("alarm handler calls: %d\n", (int)count_alrm);
  SHOW("alarm(0) with no alarm pending", alarm(0));
  alarm(100);
  SHOW("alarm(0) cancels, returns seconds left", alarm(0));

  set_handler(SIGALRM, on_alrm, SA_RESTART);
  count_alrm = 0;
  pid_t w = xfork();
  if (w == 0) {
    sleep_ms(700); /* well after the 100 ms timer has interrupted the read */
    if (write(pfd[1], "after", 5) != 5) _exit(90);
    _exit(0);
  }
  timer_ms(100);
  memset(buf, 0, sizeof buf);
  SHOW("read with SA_RESTART (restarted, gets data)", read(pfd[0], buf, sizeof buf));
  printf("  got \"%s\", alarm handler calls: %d\n", buf, (int)count_alrm);
  int status;
  waitpid(w, &status, 0);
  describe("writer", status);

  count_alrm = 0;
  timer_ms(100);
  struct timespec req = {5, 0}, rem = {0, 0};
  SHOW("nanosleep 5 s with SA_RESTART handler", nanosleep(&req, &rem));
  printf("  remaining between 4 and 5 s: %s\n", rem.tv_sec == 4 ? "yes" : "no");
  timer_ms(50);
  SHOW("pause", pause());
  printf("alarm handler calls: %d\n", (int)count_alrm);

  printf("--- sigsuspend, sigtimedwait\n");
  set_handler(SIGUSR1, on_usr1, 0);
  block(SIGUSR1, SIG_BLOCK);
  count_usr1 = 0;
  pid_t k = xfork();
  if (k == 0) {
    sleep_ms(50);
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  sigset_t empty;
  sigemptyset(&empty);
  SHOW("sigsuspend", sigsuspend(&empty));
  sigprocmask(SIG_BLOCK, NULL, &cur);
  printf("handler calls %d, SIGUSR1 blocked again after sigsuspend: %s\n", (int)count_usr1,
         sigismember(&cur, SIGUSR1) ? "yes" : "no");
  waitpid(k, &status, 0);
  sigset_t ws;
  sigemptyset(&ws);
  sigaddset(&ws, SIGUSR1);
  struct timespec tmo = {0, 50 * 1000000L};
  SHOW("sigtimedwait, nothing pending", sigtimedwait(&ws, NULL, &tmo));
  raise(SIGUSR1);
  siginfo_t si;
  SHOW("sigtimedwait, SIGUSR1 pending", sigtimedwait(&ws, &si, &tmo));
  printf("  si_signo %d, handler not run: %s\n", si.si_signo, count_usr1 == 1 ? "yes" : "no");
  block(SIGUSR1, SIG_UNBLOCK);

  printf("--- signals between processes\n");
  {
    int ready[2], got[2];
    if (pipe(ready) < 0 || pipe(got) < 0) DIE("pipe");
    pid_t c = xfork();
    if (c == 0) {
      count_usr1 = 0;
      if (write(ready[1], "r", 1) != 1) _exit(90);
      while (!count_usr1) pause();
      if (write(got[1], "g", 1) != 1) _exit(91);
      _exit(count_usr1 == 1 ? 0 : 1);
    }
    char ch;
    if (read(ready[0], &ch, 1) != 1) DIE("read");
    SHOW("kill child SIGUSR1", kill(c, SIGUSR1));
    SHOW("child's handler reported", read(got[0], &ch, 1));
    waitpid(c, &status, 0);
    describe("child with inherited handler", status);
    close(ready[0]); close(ready[1]); close(got[0]); close(got[1]);
  }

  printf("--- SIGCHLD\n");
  set_info_handler(SIGCHLD, on_chld, 0);
  block(SIGCHLD, SIG_BLOCK);
  count_chld = 0;
  expected_child = xfork();
  if (expected_child == 0) _exit(7);
  sigsuspend(&empty);
  printf("SIGCHLD: calls %d, code %s, status %d, si_pid matches: %s\n", (int)count_chld,
         chld_code == CLD_EXITED ? "CLD_EXITED" : "other", chld_status, chld_pid_ok ? "yes" : "no");
  waitpid(expected_child, &status, 0);
  count_chld = 0;
  expected_child = xfork();
  if (expected_child == 0) {
    for (;;) pause();
  }
  kill(expected_child, SIGKILL);
  sigsuspend(&empty);
  printf("SIGCHLD: calls %d, code %s, status %d, si_pid matches: %s\n", (int)count_chld,
         chld_code == CLD_KILLED ? "CLD_KILLED" : "other", chld_status, chld_pid_ok ? "yes" : "no");
  waitpid(expected_child, &status, 0);
  set_info_handler(SIGCHLD, on_chld, SA_NOCLDSTOP);
  count_chld = 0;
  expected_child = xfork();
  if (expected_child == 0) {
    raise(SIGSTOP);
    _exit(8);
  }
  waitpid(expected_child, &status, WUNTRACED);
  printf("SA_NOCLDSTOP: child stopped: %s, SIGCHLD pending: %s\n", WIFSTOPPED(status) ? "yes" : "no",
         is_pending(SIGCHLD) ? "yes" : "no");
  kill(expected_child, SIGCONT);
  waitpid(expected_child, &status, 0);
  describe("  that child", status);
  block(SIGCHLD, SIG_UNBLOCK);
  printf("SIGCHLD calls after unblocking (its exit): %d\n", (int)count_chld);
  signal(SIGCHLD, SIG_IGN);
  pid_t z = xfork();
  if (z == 0) _exit(0);
  errno = 0;
  pid_t r = waitpid(z, &status, 0);
  printf("SIGCHLD SIG_IGN: waitpid = %s %s\n", r < 0 ? "-1" : "pid", r < 0 ? ename(errno) : "");
  signal(SIGCHLD, SIG_DFL);

  printf("--- dispositions across execve\n");
  signal(SIGUSR1, SIG_IGN);
  set_handler(SIGUSR2, on_usr2, 0);
  signal(SIGTERM, SIG_DFL);
  block(SIGHUP, SIG_BLOCK);
  pid_t e = xfork();
  if (e == 0) {
    printf("  after fork: SIGUSR1 %s, SIGUSR2 %s\n", disp(SIGUSR1), disp(SIGUSR2));
    fflush(stdout);
    char *args[] = {argv[0], "dispositions", NULL};
    execv(argv[0], args);
    _exit(126);
  }
  waitpid(e, &status, 0);
  describe("exec'd child", status);
  printf("done\n");
  return 0;
}
