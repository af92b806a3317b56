// clonematrix: clone(2) with every combination of CLONE_VM, CLONE_FS,
// CLONE_FILES, CLONE_SIGHAND, CLONE_THREAD, CLONE_SYSVSEM, CLONE_PARENT and
// CLONE_VFORK (256): which Linux refuses (and with what), and that each one
// it accepts makes a task that runs and ends (a thread: its
// CLONE_CHILD_CLEARTID word is cleared; a process: its parent, the caller
// or with CLONE_PARENT the caller's parent, reaps it with status 0). Then
// the clone3 forms of the process combinations (no CLONE_VM), where an exit
// signal with CLONE_PARENT or CLONE_THREAD is refused. Run from a forked
// child, so that CLONE_PARENT has a parent that is not the init of its
// namespace.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static const int FLAGS[] = {CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND, CLONE_THREAD, CLONE_SYSVSEM, CLONE_PARENT, CLONE_VFORK};
static const char *NAMES[] = {"VM", "FS", "FILES", "SIGHAND", "THREAD", "SYSVSEM", "PARENT", "VFORK"};
#define NFLAGS 8
#define STACK (64 * 1024)

static char stacks[2][STACK] __attribute__((aligned(16)));
static volatile uint32_t ctid;

static int child(void *arg) {
  (void)arg;
  syscall(SYS_exit, 0);
  return 0;
}

static void describe(int mask, char *out, size_t n) {
  out[0] = 0;
  for (int i = 0; i < NFLAGS; i++) {
    if (!(mask & (1 << i))) continue;
    if (out[0]) strncat(out, "|", n - strlen(out) - 1);
    strncat(out, NAMES[i], n - strlen(out) - 1);
  }
  if (!out[0]) strncat(out, "none", n - 1);
}

/** One combination in the forked runner; the number of children left for the grandparent to reap. */
static int one(int mask, int *ok, int *bad) {
  int flags = 0;
  for (int i = 0; i < NFLAGS; i++) if (mask & (1 << i)) flags |= FLAGS[i];
  int vm = flags & CLONE_VM, thread = flags & CLONE_THREAD;
  ctid = 1;
  if (vm) flags |= CLONE_CHILD_CLEARTID;
  long c = clone(child, stacks[mask & 1] + STACK, flags | (thread ? 0 : SIGCHLD), NULL, NULL, NULL, (void *)&ctid);
  char name[96];
  describe(mask, name, sizeof name);
  if (c < 0) {
    printf("%s: %s\n", name, strerror(errno));
    (*bad)++;
    return 0;
  }
  (*ok)++;
  if (vm) {
    // The child ends by exit: the word is cleared and woken then.
    uint32_t v;
    while ((v = __atomic_load_n(&ctid, __ATOMIC_SEQ_CST)) != 0) syscall(SYS_futex, &ctid, FUTEX_WAIT, v, NULL, NULL, 0);
  }
  if (thread) return 0;
  if (flags & CLONE_PARENT) return 1;
  int st;
  if (waitpid((pid_t)c, &st, __WALL) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("%s: child not reaped as it should be\n", name);
  return 0;
}

static long clone3_once(uint64_t flags, uint64_t sig) {
  struct clone_args a;
  memset(&a, 0, sizeof a);
  a.flags = flags;
  a.exit_signal = sig;
  long c = syscall(SYS_clone3, &a, sizeof a);
  if (c == 0) syscall(SYS_exit, 0);
  return c;
}

static void runner(int out) {
  int ok = 0, bad = 0, toReap = 0;
  for (int mask = 0; mask < (1 << NFLAGS); mask++) toReap += one(mask, &ok, &bad);
  printf("clone: %d accepted, %d refused\n", ok, bad);
  // clone3 without CLONE_VM (the child runs on a copy of this stack, as after fork).
  const uint64_t c3[] = {0, CLONE_FS, CLONE_FILES, CLONE_SYSVSEM, CLONE_PARENT, CLONE_FS | CLONE_FILES | CLONE_SYSVSEM, CLONE_VFORK, CLONE_THREAD, CLONE_SIGHAND};
  for (size_t i = 0; i < sizeof c3 / sizeof c3[0]; i++) {
    for (uint64_t sig = 0; sig <= SIGCHLD; sig += SIGCHLD) {
      long c = clone3_once(c3[i], sig);
      if (c < 0) {
        printf("clone3 %#llx signal %llu: %s\n", (unsigned long long)c3[i], (unsigned long long)sig, strerror(errno));
        continue;
      }
      if (c3[i] & CLONE_PARENT) {
        toReap++;
        continue;
      }
      int st;
      pid_t w = waitpid((pid_t)c, &st, __WALL);
      printf("clone3 %#llx signal %llu: reaped %d status %d\n", (unsigned long long)c3[i], (unsigned long long)sig, w == c, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
  }
  fflush(stdout);
  if (write(out, &toReap, sizeof toReap) != sizeof toReap) _exit(2);
  _exit(0);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int p[2];
  if (pipe(p)) return 1;
  pid_t r = fork();
  if (r == 0) runner(p[1]);
  int toReap = -1, st;
  if (read(p[0], &toReap, sizeof toReap) != sizeof toReap) return 1;
  waitpid(r, &st, 0);
  int runner_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  int reaped = 0, zero = 0;
  pid_t w;
  while ((w = waitpid(-1, &st, __WALL)) > 0) {
    reaped++;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) zero++;
  }
  printf("runner status %d; CLONE_PARENT children: %d made, %d reaped here, %d with status 0\n", runner_status, toReap, reaped, zero);
  printf("done\n");
  return 0;
}
