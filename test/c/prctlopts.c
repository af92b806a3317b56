/* prctlopts: prctl options programs use. NAME, DUMPABLE (and its reset by a
 * change of effective IDs), NO_NEW_PRIVS, TIMERSLACK (and the default a
 * child inherits), PDEATHSIG (delivered when the parent dies, from it, then
 * the child has its new parent), CHILD_SUBREAPER (orphans, zombies
 * included, go to the nearest subreaper), PR_SET_MM (CAP_SYS_RESOURCE, the
 * argument area /proc/self/cmdline shows), CAP_AMBIENT argument checks,
 * unknown options. Run as root. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define R(call) ((call) < 0 ? ename(errno) : "OK")

static volatile sig_atomic_t got_sig, got_code, got_pid;
static void handler(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  got_sig = sig;
  got_code = si->si_code;
  got_pid = si->si_pid;
}

static void cmdline(const char *when) {
  char buf[256];
  int fd = open("/proc/self/cmdline", O_RDONLY);
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  printf("%s cmdline:", when);
  ssize_t i = 0;
  if (n > 0 && buf[0] == '/') /* the program's own path differs between runs */
    while (i < n && buf[i]) i++;
  for (; i < n; i++) putchar(buf[i] ? buf[i] : '|');
  printf("\n");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  char name[32] = {0};
  prctl(PR_SET_NAME, "a-very-long-name-for-a-process");
  prctl(PR_GET_NAME, name);
  printf("name: %s\n", name);

  printf("dumpable %d;", prctl(PR_GET_DUMPABLE));
  printf(" set 2: %s;", R(prctl(PR_SET_DUMPABLE, 2)));
  printf(" set 0: %s", R(prctl(PR_SET_DUMPABLE, 0)));
  printf(" -> %d;", prctl(PR_GET_DUMPABLE));
  printf(" set 1: %s\n", R(prctl(PR_SET_DUMPABLE, 1)));
  printf("keepcaps set 2: %s\n", R(prctl(PR_SET_KEEPCAPS, 2)));
  pid_t p = fork();
  if (p == 0) {
    prctl(PR_SET_PDEATHSIG, SIGUSR2);
    int keep = prctl(PR_GET_DUMPABLE);
    setresgid(0, 1000, 0);
    int pd;
    prctl(PR_GET_PDEATHSIG, &pd);
    printf("after an egid change: dumpable %d -> %d, pdeathsig %d\n", keep, prctl(PR_GET_DUMPABLE), pd);
    _exit(0);
  }
  waitpid(p, NULL, 0);

  printf("nnp %d;", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  printf(" set 0: %s;", R(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0)));
  printf(" set with arg3: %s;", R(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0)));
  printf(" get with arg2: %s\n", R(prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0)));
  p = fork();
  if (p == 0) {
    printf("child: set nnp %s,", R(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)));
    printf(" get %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    if (fork() == 0) {
      printf("grandchild: nnp %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
      _exit(0);
    }
    wait(NULL);
    _exit(0);
  }
  waitpid(p, NULL, 0);

  long slack0 = prctl(PR_GET_TIMERSLACK);
  prctl(PR_SET_TIMERSLACK, 1000);
  printf("timerslack: set 1000 -> %d\n", prctl(PR_GET_TIMERSLACK));
  p = fork();
  if (p == 0) {
    printf("child slack %d", prctl(PR_GET_TIMERSLACK));
    prctl(PR_SET_TIMERSLACK, 7000);
    prctl(PR_SET_TIMERSLACK, 0);
    printf(", after 7000 then 0: %d\n", prctl(PR_GET_TIMERSLACK));
    _exit(0);
  }
  waitpid(p, NULL, 0);
  prctl(PR_SET_TIMERSLACK, 0);
  printf("timerslack back to the start: %d\n", prctl(PR_GET_TIMERSLACK) == slack0);

  /* Parent-death signal, and the subreaper that adopts. */
  printf("pdeathsig 65: %s\n", R(prctl(PR_SET_PDEATHSIG, 65)));
  int sr;
  prctl(PR_GET_CHILD_SUBREAPER, &sr);
  printf("subreaper %d, set: %s", sr, R(prctl(PR_SET_CHILD_SUBREAPER, 1)));
  prctl(PR_GET_CHILD_SUBREAPER, &sr);
  printf(" -> %d\n", sr);
  pid_t me = getpid();
  int pfd[2];
  pipe(pfd);
  pid_t b = fork();
  if (b == 0) {
    prctl(PR_GET_CHILD_SUBREAPER, &sr);
    printf("child subreaper %d\n", sr);
    pid_t c = fork();
    if (c == 0) {
      struct sigaction sa = {0};
      sa.sa_sigaction = handler;
      sa.sa_flags = SA_SIGINFO;
      sigaction(SIGUSR1, &sa, NULL);
      prctl(PR_SET_PDEATHSIG, SIGUSR1);
      int pd;
      prctl(PR_GET_PDEATHSIG, &pd);
      pid_t parent = getppid();
      write(pfd[1], "r", 1);
      while (!got_sig) pause();
      printf("grandchild: pdeathsig %d, signal %d code %s from the parent %d, adopted by the subreaper %d\n", pd, got_sig,
             got_code == SI_USER ? "SI_USER" : "other", got_pid == parent, getppid() == me);
      _exit(7);
    }
    /* A zombie the child never reaps. */
    pid_t z = fork();
    if (z == 0) _exit(9);
    char ch;
    read(pfd[0], &ch, 1);
    usleep(100000);
    printf("child exits (zombie %d pending)\n", z > 0);
    _exit(0);
  }
  int st, n = 0, adopted = 0;
  pid_t w;
  while ((w = waitpid(-1, &st, 0)) > 0) {
    n++;
    if (w != b) adopted |= 1 << WEXITSTATUS(st);
  }
  printf("reaped %d processes; adopted ones exited with 7: %d, 9: %d\n", n, !!(adopted & 1 << 7), !!(adopted & 1 << 9));

  /* Nested subreapers: the nearest one adopts. */
  b = fork();
  if (b == 0) {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t mid = getpid();
    if (fork() == 0) {
      if (fork() == 0) {
        usleep(200000);
        printf("nested: adopted by the nearest subreaper %d\n", getppid() == mid);
        _exit(0);
      }
      _exit(0);
    }
    int k = 0;
    while (waitpid(-1, NULL, 0) > 0) k++;
    printf("inner subreaper reaped %d\n", k);
    _exit(0);
  }
  n = 0;
  while (waitpid(-1, NULL, 0) > 0) n++;
  printf("outer reaped %d\n", n);
  prctl(PR_SET_CHILD_SUBREAPER, 0);

  /* PR_SET_MM */
  unsigned size = 0;
  printf("mm map size: %s", R(prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, &size, 0, 0)));
  printf(" %u\n", size);
  char *area = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memcpy(area, "hello\0world\0", 12);
  printf("mm extra arg: %s\n", R(prctl(PR_SET_MM, PR_SET_MM_ARG_START, area, 1, 0)));
  printf("mm low address: %s\n", R(prctl(PR_SET_MM, PR_SET_MM_ARG_START, 4096, 0, 0)));
  printf("mm bad option: %s\n", R(prctl(PR_SET_MM, 99, area, 0, 0)));
  p = fork();
  if (p == 0) {
    setresuid(1000, 1000, 1000);
    printf("mm unprivileged: %s\n", R(prctl(PR_SET_MM, PR_SET_MM_ARG_START, area, 0, 0)));
    _exit(0);
  }
  waitpid(p, NULL, 0);
  printf("mm arg start: %s\n", R(prctl(PR_SET_MM, PR_SET_MM_ARG_START, area, 0, 0)));
  printf("mm arg end: %s\n", R(prctl(PR_SET_MM, PR_SET_MM_ARG_END, area + 12, 0, 0)));
  /* (the host's bounding set lacks CAP_SYS_RESOURCE: the calls above fail) */
  cmdline("after PR_SET_MM");
  printf("mm end before start: %s\n", R(prctl(PR_SET_MM, PR_SET_MM_ARG_END, area - 4096, 0, 0)));

  printf("ambient: clear with arg3 %s,", R(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0)));
  printf(" bad cap %s,", R(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 99, 0, 0)));
  printf(" bad op %s,", R(prctl(PR_CAP_AMBIENT, 9, 0, 0, 0)));
  printf(" is_set %d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0));
  printf("ptracer: %s\n", R(prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0)));
  printf("unknown option: %s\n", R(prctl(1000, 0, 0, 0, 0)));
  printf("done\n");
  return 0;
}
