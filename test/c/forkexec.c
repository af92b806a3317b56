/* forkexec: process creation and reaping.
 *
 * fork/vfork/execve, exit statuses through wait4/waitpid/waitid, children
 * killed by signals, WNOHANG, WUNTRACED/WCONTINUED, ECHILD, close-on-exec,
 * and an orphan that gets reparented. argv[0] must be a path to this program
 * (it re-executes itself in helper modes). */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void describe(const char *label, int status) {
  if (WIFEXITED(status))
    printf("%s: exited %d\n", label, WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    printf("%s: killed by signal %d\n", label, WTERMSIG(status));
  else if (WIFSTOPPED(status))
    printf("%s: stopped by signal %d\n", label, WSTOPSIG(status));
  else if (WIFCONTINUED(status))
    printf("%s: continued\n", label);
  else
    printf("%s: status 0x%x\n", label, status);
}

static void wait_and_describe(const char *label, pid_t pid) {
  int status;
  pid_t r = waitpid(pid, &status, 0);
  if (r != pid) {
    printf("%s: waitpid returned %s\n", label, r < 0 ? ename(errno) : "another pid");
    return;
  }
  describe(label, status);
}

/* helper modes, entered through execve of ourselves */
static int helper(int argc, char **argv) {
  if (strcmp(argv[1], "child-exit") == 0 && argc >= 3) {
    printf("  exec'd helper running, will exit %s\n", argv[2]);
    return atoi(argv[2]);
  }
  if (strcmp(argv[1], "env") == 0) {
    const char *v = getenv("FOO");
    printf("  exec'd helper: FOO=%s argc=%d\n", v ? v : "(unset)", argc);
    return 0;
  }
  if (strcmp(argv[1], "check-fds") == 0 && argc >= 4) {
    for (int i = 2; i < 4; i++) {
      int fd = atoi(argv[i]);
      errno = 0;
      int r = fcntl(fd, F_GETFD);
      printf("  exec'd helper: fd %s is %s\n", i == 2 ? "cloexec" : "inheritable",
             r < 0 ? "closed" : "open");
    }
    return 0;
  }
  fprintf(stderr, "unknown helper mode\n");
  return 2;
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc > 1) return helper(argc, argv);
  const pid_t me = getpid();

  printf("--- exit statuses\n");
  int codes[] = {0, 1, 42, 255, 256, 257};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    pid_t p = xfork();
    if (p == 0) _exit(codes[i]);
    char label[64];
    snprintf(label, sizeof label, "_exit(%d)", codes[i]);
    wait_and_describe(label, p);
  }
  {
    pid_t p = xfork();
    if (p == 0) exit(getppid() == me ? 11 : 12);
    wait_and_describe("child getppid()==parent (11 = yes)", p);
  }
  {
    pid_t p = xfork();
    if (p == 0) return 13;
    int status;
    struct rusage ru;
    pid_t r = wait4(p, &status, 0, &ru);
    printf("wait4 returned the child's pid: %s\n", r == p ? "yes" : "no");
    describe("return 13 from main", status);
  }
  {
    pid_t p = xfork();
    if (p == 0) _exit(21);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    SHOW("waitid P_PID WEXITED", waitid(P_PID, (id_t)p, &si, WEXITED));
    printf("waitid: si_signo=%d si_code=%s si_status=%d si_pid matches: %s\n",
           si.si_signo, si.si_code == CLD_EXITED ? "CLD_EXITED" : "other",
           si.si_status, si.si_pid == p ? "yes" : "no");
  }

  printf("--- killed by signals\n");
  int sigs[] = {SIGKILL, SIGTERM, SIGINT, SIGUSR1, SIGHUP};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    int pfd[2];
    if (pipe(pfd) < 0) DIE("pipe");
    pid_t p = xfork();
    if (p == 0) {
      close(pfd[0]);
      if (write(pfd[1], "r", 1) != 1) _exit(98);
      for (;;) pause();
    }
    close(pfd[1]);
    char c;
    if (read(pfd[0], &c, 1) != 1) DIE("read ready");
    close(pfd[0]);
    SHOW("kill", kill(p, sigs[i]));
    char label[64];
    snprintf(label, sizeof label, "child sent signal %d", sigs[i]);
    wait_and_describe(label, p);
  }
  {
    pid_t p = xfork();
    if (p == 0) {
      volatile uintptr_t zero = 0;
      *(volatile int *)zero = 1;
      _exit(0);
    }
    wait_and_describe("child writing to NULL", p);
  }
  {
    pid_t p = xfork();
    if (p == 0) {
      raise(SIGTERM);
      _exit(0);
    }
    wait_and_describe("child raise(SIGTERM)", p);
  }
  {
    pid_t p = xfork();
    if (p == 0) {
      signal(SIGTERM, SIG_IGN);
      kill(getpid(), SIGTERM);
      _exit(31);
    }
    wait_and_describe("child ignoring SIGTERM", p);
  }

  printf("--- WNOHANG, waiting for any child, ECHILD\n");
  {
    int pfd[2];
    if (pipe(pfd) < 0) DIE("pipe");
    pid_t p = xfork();
    if (p == 0) {
      close(pfd[1]);
      char c = 0;
      if (read(pfd[0], &c, 1) != 1) _exit(97);
      _exit(c);
    }
    close(pfd[0]);
    int status = 0;
    SHOW("waitpid WNOHANG on running child", waitpid(p, &status, WNOHANG));
    char c = 5;
    if (write(pfd[1], &c, 1) != 1) DIE("write");
    close(pfd[1]);
    wait_and_describe("child after pipe byte 5", p);
  }
  {
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
      kids[i] = xfork();
      if (kids[i] == 0) {
        sleep_ms(20 * (3 - i));
        _exit(100 + i);
      }
    }
    int seen[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
      int status;
      pid_t r = waitpid(-1, &status, 0);
      for (int k = 0; k < 3; k++)
        if (r == kids[k] && WIFEXITED(status) && WEXITSTATUS(status) == 100 + k) seen[k]++;
    }
    printf("waitpid(-1) reaped each of 3 children once: %s\n",
           seen[0] == 1 && seen[1] == 1 && seen[2] == 1 ? "yes" : "no");
  }
  {
    pid_t p = xfork();
    if (p == 0) _exit(3);
    sleep_ms(50);
    int status = 0;
    pid_t r;
    int tries = 0;
    while ((r = waitpid(p, &status, WNOHANG)) == 0 && tries++ < 500) sleep_ms(10);
    printf("waitpid WNOHANG on exited child returned its pid: %s\n", r == p ? "yes" : "no");
    describe("that child", status);
  }
  SHOW("waitpid(-1) without children", waitpid(-1, NULL, 0));
  SHOW("waitpid(-1, WNOHANG) without children", waitpid(-1, NULL, WNOHANG));
  SHOW("waitpid(pid of init)", waitpid(1, NULL, 0));

  printf("--- stop and continue\n");
  {
    int pfd[2];
    if (pipe(pfd) < 0) DIE("pipe");
    pid_t p = xfork();
    if (p == 0) {
      close(pfd[1]);
      raise(SIGSTOP);
      char c; /* stay alive until the parent has seen the continue */
      if (read(pfd[0], &c, 1) != 1) _exit(90);
      _exit(44);
    }
    close(pfd[0]);
    int status;
    SHOW("waitpid WUNTRACED returned child", waitpid(p, &status, WUNTRACED) == p);
    describe("child", status);
    SHOW("kill SIGCONT", kill(p, SIGCONT));
    SHOW("waitpid WCONTINUED returned child", waitpid(p, &status, WCONTINUED) == p);
    describe("child", status);
    if (write(pfd[1], "x", 1) != 1) DIE("write");
    close(pfd[1]);
    wait_and_describe("child", p);
  }

  printf("--- execve\n");
  {
    pid_t p = xfork();
    if (p == 0) {
      char *args[] = {argv[0], "child-exit", "7", NULL};
      execv(argv[0], args);
      _exit(126);
    }
    wait_and_describe("exec'd self", p);
  }
  {
    pid_t p = xfork();
    if (p == 0) {
      char *args[] = {argv[0], "env", "x", NULL};
      char *envp[] = {"FOO=bar", "OTHER=1", NULL};
      execve(argv[0], args, envp);
      _exit(126);
    }
    wait_and_describe("exec'd self with env", p);
  }
  {
    int keep = open("/dev/null", O_RDONLY);
    int cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t p = xfork();
    if (p == 0) {
      char a[16], b[16];
      snprintf(a, sizeof a, "%d", cloexec);
      snprintf(b, sizeof b, "%d", keep);
      char *args[] = {argv[0], "check-fds", a, b, NULL};
      execv(argv[0], args);
      _exit(126);
    }
    wait_and_describe("exec'd self checking fds", p);
    close(keep);
    close(cloexec);
  }
  {
    pid_t p = xfork();
    if (p == 0) {
      char *args[] = {"/bin/sh", "-c", "exit 9", NULL};
      execv("/bin/sh", args);
      _exit(126);
    }
    wait_and_describe("sh -c 'exit 9'", p);
  }
  {
    char *args[] = {"x", NULL};
    SHOW("execv /nonexistent", execv("/nonexistent/program", args));
    SHOW("execv /etc/passwd (not executable)", execv("/etc/passwd", args));
    SHOW("execv / (a directory)", execv("/", args));
  }
  {
    pid_t p = xfork();
    if (p == 0) {
      char *args[] = {"x", NULL};
      execv("/nonexistent/program", args);
      _exit(errno == ENOENT ? 127 : 126);
    }
    wait_and_describe("child exec of missing program", p);
  }

  printf("--- vfork\n");
  {
    fflush(stdout);
    pid_t p = vfork();
    if (p == 0) _exit(17);
    if (p < 0) DIE("vfork");
    wait_and_describe("vfork child _exit(17)", p);
  }
  {
    fflush(stdout);
    char *args[] = {argv[0], "child-exit", "18", NULL};
    pid_t p = vfork();
    if (p == 0) {
      execv(argv[0], args);
      _exit(126);
    }
    if (p < 0) DIE("vfork");
    wait_and_describe("vfork child exec", p);
  }

  printf("--- orphan\n");
  {
    int pfd[2];
    if (pipe(pfd) < 0) DIE("pipe");
    pid_t p = xfork();
    if (p == 0) {
      pid_t mid = getpid();
      pid_t g = fork();
      if (g < 0) _exit(96);
      if (g == 0) {
        close(pfd[0]);
        int tries = 0;
        while (getppid() == mid && tries++ < 1000) sleep_ms(5);
        const char *msg = getppid() != mid ? "reparented" : "not-reparented";
        if (write(pfd[1], msg, strlen(msg)) < 0) _exit(95);
        _exit(0);
      }
      _exit(0);
    }
    close(pfd[1]);
    wait_and_describe("middle child", p);
    char buf[64];
    memset(buf, 0, sizeof buf);
    ssize_t n = read(pfd[0], buf, sizeof buf - 1);
    printf("grandchild says: %s\n", n > 0 ? buf : "(nothing)");
    close(pfd[0]);
  }
  printf("done\n");
  return 0;
}
