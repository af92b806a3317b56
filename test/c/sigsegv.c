/* sigsegv: synchronous faults delivered to SA_SIGINFO handlers.
 *
 * Checks si_signo, si_code and si_addr for a write to NULL, a write to a
 * read-only page and a read of an unmapped page; a handler running on an
 * alternate stack; a handler that fixes the protection and returns so the
 * faulting instruction is retried; and SIGFPE, SIGILL, SIGTRAP (int3) and a
 * SIGSEGV sent with raise(). Addresses are compared, never printed. */
#define _GNU_SOURCE
#include "common.h"

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static sigjmp_buf jump;
static volatile int got_signo, got_code, got_errno, handler_calls, blocked_in_handler;
static void *volatile got_addr;
static volatile uintptr_t handler_stack;
static volatile pid_t got_pid;
static unsigned char *volatile fix_page; /* set: fix protection and return */

static void handler(int sig, siginfo_t *si, void *uctx) {
  (void)uctx;
  int local;
  handler_calls++;
  got_signo = si->si_signo;
  got_code = si->si_code;
  got_errno = si->si_errno;
  got_addr = si->si_addr;
  got_pid = si->si_pid;
  handler_stack = (uintptr_t)&local;
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  blocked_in_handler = sigismember(&cur, sig);
  if (fix_page && sig == SIGSEGV) {
    mprotect(fix_page, PAGE, PROT_READ | PROT_WRITE);
    return; /* the write is retried and now succeeds */
  }
  siglongjmp(jump, 1);
}

static const char *code_name(int signo, int code) {
  if (code == SI_USER) return "SI_USER";
  if (code == SI_TKILL) return "SI_TKILL";
  if (code == SI_KERNEL) return "SI_KERNEL";
  switch (signo) {
  case SIGSEGV:
    if (code == SEGV_MAPERR) return "SEGV_MAPERR";
    if (code == SEGV_ACCERR) return "SEGV_ACCERR";
    break;
  case SIGFPE:
    if (code == FPE_INTDIV) return "FPE_INTDIV";
    break;
  case SIGILL:
    if (code == ILL_ILLOPN) return "ILL_ILLOPN";
    if (code == ILL_ILLOPC) return "ILL_ILLOPC";
    break;
  case SIGTRAP:
    if (code == TRAP_BRKPT) return "TRAP_BRKPT";
    break;
  }
  return "other";
}

static void report(const char *what, const void *expect_addr, int check_addr) {
  printf("%s: signo=%d code=%s errno=%d", what, got_signo, code_name(got_signo, got_code), got_errno);
  if (check_addr) printf(" addr matches: %s", got_addr == expect_addr ? "yes" : "no");
  printf(" blocked in handler: %s\n", blocked_in_handler ? "yes" : "no");
}

static void reset(void) {
  got_signo = got_code = got_errno = 0;
  got_addr = (void *)1;
  blocked_in_handler = 0;
}

int main(void) {
  line_buffered();
  static unsigned char altstack[64 * 1024];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  SHOW("sigaltstack", sigaltstack(&ss, NULL));
  stack_t old;
  SHOW("sigaltstack query", sigaltstack(NULL, &old));
  printf("  alt stack registered: %s, flags %d\n", old.ss_sp == altstack && old.ss_size == sizeof altstack ? "yes" : "no",
         old.ss_flags);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], &sa, NULL) < 0) DIE("sigaction");

  reset();
  if (sigsetjmp(jump, 1) == 0) {
    volatile uintptr_t zero = 0;
    *(volatile int *)zero = 42;
    printf("write to NULL did not fault\n");
  }
  report("write to NULL", NULL, 1);
  printf("  handler ran on the alternate stack: %s\n",
         handler_stack >= (uintptr_t)altstack && handler_stack < (uintptr_t)altstack + sizeof altstack ? "yes" : "no");
  sigset_t after;
  sigprocmask(SIG_BLOCK, NULL, &after);
  printf("  SIGSEGV unblocked after siglongjmp: %s\n", sigismember(&after, SIGSEGV) ? "no" : "yes");

  unsigned char *ro = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ro == MAP_FAILED) DIE("mmap");
  reset();
  if (sigsetjmp(jump, 1) == 0) {
    ((volatile unsigned char *)ro)[123] = 1;
    printf("write to read-only page did not fault\n");
  }
  report("write to read-only page", ro + 123, 1);

  reset();
  volatile int v = ((volatile unsigned char *)ro)[PAGE + 5];
  printf("read of read-only page: value %d, no signal: %s\n", v, got_signo == 0 ? "yes" : "no");

  unsigned char *gone = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (gone == MAP_FAILED) DIE("mmap");
  munmap(gone, PAGE);
  reset();
  if (sigsetjmp(jump, 1) == 0) {
    v = ((volatile unsigned char *)gone)[4000];
    printf("read of unmapped page did not fault\n");
  }
  report("read of unmapped page", gone + 4000, 1);

  unsigned char *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  reset();
  if (sigsetjmp(jump, 1) == 0) {
    v = ((volatile unsigned char *)none)[8];
    printf("read of PROT_NONE page did not fault\n");
  }
  report("read of PROT_NONE page", none + 8, 1);

  printf("--- handler fixes the protection and returns\n");
  reset();
  handler_calls = 0;
  fix_page = ro;
  ((volatile unsigned char *)ro)[77] = 99;
  fix_page = NULL;
  printf("write retried after handler returned: value %d, handler calls %d\n", ro[77], handler_calls);
  report("that fault", ro + 77, 1);

  printf("--- other synchronous signals\n");
  reset();
  if (sigsetjmp(jump, 1) == 0) {
    volatile int zero = 0;
    volatile int r = 100 / zero;
    (void)r;
    printf("divide by zero did not fault\n");
  }
  report("integer divide by zero", NULL, 0);

  reset();
  if (sigsetjmp(jump, 1) == 0) {
    __asm__ volatile("ud2");
    printf("ud2 did not fault\n");
  }
  report("ud2", NULL, 0);

  reset();
  if (sigsetjmp(jump, 1) == 0) {
    __asm__ volatile("int3");
    printf("int3 returned without a signal\n");
  }
  report("int3", NULL, 0);

  reset();
  if (sigsetjmp(jump, 1) == 0) {
    raise(SIGSEGV);
    printf("raise(SIGSEGV) returned without a signal\n");
  }
  report("raise(SIGSEGV)", NULL, 0);
  printf("  si_pid is our pid: %s\n", got_pid == getpid() ? "yes" : "no");

  reset();
  if (sigsetjmp(jump, 1) == 0) {
    kill(getpid(), SIGBUS);
    printf("kill(self, SIGBUS) returned without a signal\n");
  }
  report("kill(self, SIGBUS)", NULL, 0);

  printf("--- faults in children with the default action, or blocked\n");
  for (int mode = 0; mode < 2; mode++) {
    fflush(stdout);
    pid_t p = fork();
    if (p < 0) DIE("fork");
    if (p == 0) {
      signal(SIGSEGV, SIG_DFL);
      if (mode == 1) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGSEGV);
        sigprocmask(SIG_BLOCK, &set, NULL);
      }
      volatile uintptr_t zero = 0;
      *(volatile int *)zero = 1;
      _exit(0);
    }
    int status;
    if (waitpid(p, &status, 0) != p) DIE("waitpid");
    printf("child (%s) writing to NULL: %s %d\n", mode ? "SIGSEGV blocked" : "default action",
           WIFSIGNALED(status) ? "killed by signal" : "exited",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  }
  printf("done\n");
  return 0;
}
