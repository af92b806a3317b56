// vforkwait: CLONE_VFORK suspends the caller until the child execs or exits
// whatever else is shared: with its own memory (no CLONE_VM), as a thread
// (CLONE_VM|CLONE_THREAD|CLONE_SIGHAND), and with a child that execs. The
// child sleeps first, so a caller that did not wait would see its marker
// missing. Then posix_spawn (glibc's CLONE_VM|CLONE_VFORK child on a stack
// of its own): a failed exec is reported to the caller, a good one runs.
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static volatile int flag;
static int pfd[2];
static char stack[4][256 * 1024];

static void nap(void) {
  struct timespec ts = {0, 150 * 1000 * 1000};
  nanosleep(&ts, NULL);
}

static int own_memory(void *arg) {
  (void)arg;
  nap();
  flag = 1; // its own copy: the caller's stays 0
  if (write(pfd[1], "c", 1) != 1) _exit(3);
  return 7;
}

static int thread_child(void *arg) {
  (void)arg;
  nap();
  flag = 2;
  syscall(SYS_exit, 0); // this thread only
  return 0;
}

static int exec_child(void *arg) {
  (void)arg;
  nap();
  if (write(pfd[1], "e", 1) != 1) _exit(3);
  execl("/bin/true", "true", (char *)NULL);
  _exit(127);
}

static void drain(char *out, size_t n) {
  size_t got = 0;
  char c;
  while (got + 1 < n && read(pfd[0], &c, 1) == 1) {
    out[got++] = c;
    if (c == 'p') break;
  }
  out[got] = 0;
}

int main(void) {
  char seen[16];
  int st;
  if (pipe(pfd)) return 1;

  // 1. CLONE_VFORK without CLONE_VM: the caller writes only after the child exited.
  pid_t c = clone(own_memory, stack[0] + sizeof stack[0], CLONE_VFORK | SIGCHLD, NULL);
  if (c < 0) { perror("clone 1"); return 1; }
  if (write(pfd[1], "p", 1) != 1) return 1;
  drain(seen, sizeof seen);
  waitpid(c, &st, 0);
  printf("vfork, own memory: order %s, caller's flag %d, child status %d\n", seen, flag, WEXITSTATUS(st));

  // 2. CLONE_VFORK with a thread: the caller resumes once the thread has exited.
  flag = 0;
  c = clone(thread_child, stack[1] + sizeof stack[1], CLONE_VFORK | CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FS | CLONE_FILES, NULL);
  if (c < 0) { perror("clone 2"); return 1; }
  printf("vfork, thread: flag when the caller resumed %d, child a thread %d\n", flag, c != getpid());

  // 3. CLONE_VFORK without CLONE_VM, the child execs: released at the exec.
  c = clone(exec_child, stack[2] + sizeof stack[2], CLONE_VFORK | SIGCHLD, NULL);
  if (c < 0) { perror("clone 3"); return 1; }
  if (write(pfd[1], "p", 1) != 1) return 1;
  drain(seen, sizeof seen);
  waitpid(c, &st, 0);
  printf("vfork, exec: order %s, status %d\n", seen, WEXITSTATUS(st));

  // 4. The plain vfork (CLONE_VM|CLONE_VFORK) still shares and waits.
  flag = 0;
  c = clone(own_memory, stack[3] + sizeof stack[3], CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
  if (c < 0) { perror("clone 4"); return 1; }
  if (write(pfd[1], "p", 1) != 1) return 1;
  drain(seen, sizeof seen);
  waitpid(c, &st, 0);
  printf("vfork, shared memory: order %s, flag %d, status %d\n", seen, flag, WEXITSTATUS(st));

  // 5. posix_spawn: the exec's failure comes back through the shared memory before the call returns.
  extern char **environ;
  char *argv_true[] = {"true", NULL};
  int r = posix_spawn(&c, "/nonexistent/program", NULL, NULL, argv_true, environ);
  printf("posix_spawn of a missing program: %s\n", strerror(r));
  if (r == 0) waitpid(c, &st, 0);
  r = posix_spawn(&c, "/bin/true", NULL, NULL, argv_true, environ);
  if (r == 0) waitpid(c, &st, 0);
  printf("posix_spawn of true: %d, status %d\n", r, r == 0 ? WEXITSTATUS(st) : -1);
  printf("done\n");
  return 0;
}
