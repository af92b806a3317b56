/* stubreuse: nothing of an ended process reaches the next one.
 *
 * The ptrace platform keeps the host process of an ended process and gives
 * it to the next fork (src/platform/ptrace/stub.ts, StubPool). A hostile
 * first child leaves what it can behind: pages at a fixed address full of a
 * secret, the secret in xmm15, and a host thread of its own (a second
 * thread, still running when the child exits). The next child, forked right
 * after, must find that address unmapped (SIGSEGV on access), then zeros
 * once it maps it, and in xmm15 what its parent had at the fork. Every
 * round uses a fresh pair, so the pool is exercised with and without a
 * thread in the ended process. */
#define _GNU_SOURCE
#include "common.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define SPOT ((char *)0x3a0000000UL)
#define LEN (64 * 1024)

static sigjmp_buf jb;
static void on_segv(int sig) {
  (void)sig;
  siglongjmp(jb, 1);
}

static void *spin(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static void leave_secrets(int with_thread) {
  char *p = mmap(SPOT, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p != SPOT) _exit(2);
  memset(p, 'S', LEN);
  if (with_thread) {
    pthread_t t;
    if (pthread_create(&t, NULL, spin, NULL) != 0) _exit(3);
  }
  static const char secret[16] = "SECRET-SECRET-S";
  __asm__ volatile("movdqu %0, %%xmm15" ::"m"(secret) : "xmm15");
  syscall(SYS_exit_group, 0);
}

/* Fork with xmm15 set to mark just before, and read xmm15 first thing after: no library code in between. */
static pid_t fork_with_mark(char seen[16]) {
  static const char mark[16] = "PARENT-AT-FORK!";
  long ret;
  __asm__ volatile("movdqu %2, %%xmm15\n\t"
                   "syscall\n\t"
                   "movdqu %%xmm15, %1"
                   : "=a"(ret), "=m"(*(char(*)[16])seen)
                   : "m"(mark), "a"((long)SYS_fork)
                   : "rcx", "r11", "memory", "xmm15");
  return (pid_t)ret;
}

static int check_clean(const char seen[16]) {
  int bad = 0;
  if (memcmp(seen, "PARENT-AT-FORK!", 16) != 0) {
    printf("xmm15 after fork is not the parent's\n");
    bad = 1;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_segv;
  sigaction(SIGSEGV, &sa, NULL);
  volatile char c = 0;
  if (sigsetjmp(jb, 1) == 0) {
    c = *(volatile char *)SPOT;
    printf("read %d at an address this process never mapped\n", c);
    bad = 1;
  }
  char *p = mmap(SPOT, LEN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != SPOT) {
    printf("mmap at the spot failed\n");
    return 1;
  }
  for (int i = 0; i < LEN; i++)
    if (p[i] != 0) {
      printf("byte %d of a fresh mapping is %d\n", i, p[i]);
      return 1;
    }
  return bad;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int fails = 0;
  for (int round = 0; round < 6; round++) {
    int with_thread = round % 2;
    fflush(stdout);
    pid_t a = fork();
    if (a == 0) leave_secrets(with_thread);
    int st;
    waitpid(a, &st, 0);
    char seen[16];
    pid_t b = fork_with_mark(seen);
    if (b == 0) _exit(check_clean(seen));
    waitpid(b, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fails++;
  }
  printf("rounds with a clean next process: %d of 6\n", 6 - fails);
  return 0;
}
