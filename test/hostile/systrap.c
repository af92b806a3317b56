/* systrap: a program that knows the systrap stub's layout (tsvisor's source
 * is public) and tries to get host system calls out of it. Driven by
 * test/integration/systrap.test.js, which passes the addresses:
 *
 *   systrap jump NR ADDR...   jump onto each address (the stub's syscall
 *                             instructions) with rax = NR and chosen
 *                             registers; print the rax and signal seen after
 *   systrap sigreturn ADDR    run the stub's rt_sigreturn at ADDR on a forged
 *                             frame that blocks every signal, then make a call
 *   systrap scribble AREA     one thread calls getpid in a loop while another
 *                             writes junk over the shared areas from AREA on
 *   systrap mapover ADDR...   map, protect, unmap over the stub's regions
 *
 * Every attempt runs in a child process (it may well kill or wedge itself);
 * the parent prints how it ended, killing it after 10 s. Nothing here may reach the host: the test
 * checks the printed values against the stubs' host pids and tids. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile long seen_rax, seen_rip;
static volatile int seen_sig;

static void on_sig(int sig, siginfo_t *si, void *ucv) {
  (void)si;
  ucontext_t *uc = ucv;
  seen_sig = sig;
  seen_rax = uc->uc_mcontext.gregs[REG_RAX];
  seen_rip = uc->uc_mcontext.gregs[REG_RIP];
  siglongjmp(jb, 1);
}

static void catch_all(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sig;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS, SIGALRM};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

/* Scratch the stub's code may read through rbx, r12, r13 (a fake batch: one call). */
static long fake[64];

static void jump(long nr, unsigned long addr) {
  catch_all();
  fake[0] = 1;
  fake[1] = nr;
  if (sigsetjmp(jb, 1) == 0) {
    alarm(2);
    __asm__ volatile(
        "mov %0, %%rax\n"
        "xor %%edi, %%edi\n"
        "xor %%esi, %%esi\n"
        "mov $8, %%edx\n"
        "xor %%r10d, %%r10d\n"
        "mov %2, %%rbx\n"
        "mov %2, %%r13\n"
        "mov $1, %%r12\n"
        "jmp *%1\n"
        :
        : "r"(nr), "r"(addr), "r"(fake)
        : "rax", "rdi", "rsi", "rdx", "r10", "rbx", "r12", "r13", "memory");
  }
  alarm(0);
  printf("jump %lx nr %ld: signal %d rax %ld pid %d\n", addr, nr, seen_sig, seen_rax, getpid());
}

static void in_child(void (*fn)(void *), void *arg, const char *what) {
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    fn(arg);
    fflush(stdout);
    _exit(0);
  }
  /* A child that wedged its own threads (junk in their areas) is killed as any stuck program would be. */
  int st = 0;
  for (int i = 0; waitpid(c, &st, WNOHANG) == 0; i++) {
    if (i == 1000) {
      printf("%s: child stuck, killing it\n", what);
      kill(c, SIGKILL);
      waitpid(c, &st, 0);
      break;
    }
    usleep(10000);
  }
  if (WIFSIGNALED(st)) printf("%s: child killed by signal %d\n", what, WTERMSIG(st));
  else printf("%s: child exit %d\n", what, WEXITSTATUS(st));
}

static long jump_nr;
static void jump_one(void *a) { jump(jump_nr, (unsigned long)a); }

/* A frame for rt_sigreturn as the host reads it: the ucontext at rsp. */
static void forged_sigreturn(void *a) {
  static ucontext_t uc __attribute__((aligned(64)));
  static char stack[65536] __attribute__((aligned(16)));
  memset(&uc, 0, sizeof uc);
  getcontext(&uc);
  static volatile int back;
  if (back) {
    /* Back from the forged sigreturn with every host signal blocked: this call must not escape. */
    long r = syscall(SYS_getpid);
    printf("after forged sigreturn: getpid %ld\n", r);
    fflush(stdout);
    _exit(0);
  }
  back = 1;
  sigfillset(&uc.uc_sigmask);
  uc.uc_stack.ss_sp = stack;
  uc.uc_stack.ss_size = sizeof stack;
  uc.uc_mcontext.fpregs = NULL;
  uc.uc_mcontext.gregs[REG_CSGSFS] = 0x33;
  /* rt_sigreturn expects rsp at the ucontext (the return address already popped). */
  char *sp = (char *)&uc;
  __asm__ volatile("mov %0, %%rsp\nmov $15, %%eax\njmp *%1\n" : : "r"(sp), "r"(a) : "memory");
}

static volatile int stop_scribble;
static void *scribbler(void *a) {
  unsigned long base = (unsigned long)a;
  unsigned seed = 1;
  while (!stop_scribble) {
    for (unsigned long off = 0; off < 2 * 65536; off += 8) {
      seed = seed * 1103515245 + 12345;
      *(volatile unsigned long *)(base + off) = ((unsigned long)seed << 32) | seed;
    }
  }
  return NULL;
}

static void scribble(void *a) {
  pthread_t t;
  /* The areas are the stub's, not the application's: a write there faults unless it is mapped, as it is on systrap. */
  catch_all();
  if (sigsetjmp(jb, 1) != 0) {
    printf("scribble: signal %d at %lx\n", seen_sig, seen_rip);
    return;
  }
  alarm(5);
  pthread_create(&t, NULL, scribbler, a);
  long mine = 0, calls = 0;
  for (int i = 0; i < 200000; i++) {
    long r = syscall(SYS_getpid);
    if (r != getpid()) mine++;
    calls++;
  }
  stop_scribble = 1;
  pthread_join(t, NULL);
  printf("scribble: %ld calls, %ld odd results\n", calls, mine);
}

static const char *err(long r) { return r == -1 ? strerror(errno) : "ok"; }

static void mapover(unsigned long addr) {
  void *p = mmap((void *)addr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  printf("mmap fixed at %lx: %s\n", addr, p == MAP_FAILED ? strerror(errno) : "mapped");
  printf("mprotect at %lx: %s\n", addr, err(mprotect((void *)addr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC)));
  printf("munmap at %lx: %s\n", addr, err(munmap((void *)addr, 65536)));
  printf("getpid after: %d\n", getpid());
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 3) return 2;
  if (!strcmp(argv[1], "jump")) {
    jump_nr = atol(argv[2]);
    for (int i = 3; i < argc; i++) in_child(jump_one, (void *)strtoul(argv[i], NULL, 16), argv[i]);
  } else if (!strcmp(argv[1], "sigreturn")) {
    in_child(forged_sigreturn, (void *)strtoul(argv[2], NULL, 16), "sigreturn");
  } else if (!strcmp(argv[1], "scribble")) {
    in_child(scribble, (void *)strtoul(argv[2], NULL, 16), "scribble");
  } else if (!strcmp(argv[1], "mapover")) {
    for (int i = 2; i < argc; i++) mapover(strtoul(argv[i], NULL, 16));
  } else {
    return 2;
  }
  printf("done\n");
  return 0;
}
