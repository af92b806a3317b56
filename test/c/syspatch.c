// syspatch: system call sites that systrap's instruction patching rewrites
// (platform/systrap/patch.ts), run through the cases where a patched call
// must behave exactly as a trapped one. Each site is `mov $NR,%eax;
// syscall` aligned to 8 bytes, so the sandbox patches it after a few calls
// (natively nothing changes: every check holds there too).
//   syspatch loop N      N getpids through one site (the test counts traps)
//   syspatch semantics   signals, restart, fork, exec, threads, seccomp
//   syspatch hostile     jumps into the trampolines and the entry, a site
//                        rewritten by another thread, the table mapped over,
//                        made writable, unmapped; a gs base of its own
//   syspatch step        a tracer single-steps over a patched site
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

long site_getpid(void);
long site_getppid(void);
long site_read(int fd, void *buf, long n);
long site_gettid(void);
extern char site_getpid_ret[];
__asm__(".text\n"
        ".balign 8\nsite_getpid:\n mov $39, %eax\n syscall\nsite_getpid_ret:\n ret\n"
        ".balign 8\nsite_getppid:\n mov $110, %eax\n syscall\n ret\n"
        ".balign 8\nsite_gettid:\n mov $186, %eax\n syscall\n ret\n"
        ".balign 8\nsite_read:\n mov $0, %eax\n syscall\n ret\n");

#define CHECK(c, ...) do { if (!(c)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); exit(1); } } while (0)

static long raw_getpid(void) { return syscall(SYS_getpid); }
static int patched(void *site) { return ((unsigned char *)site)[0] == 0xff; }

static void warm(void) {
  for (int i = 0; i < 10; i++) { site_getpid(); site_getppid(); site_gettid(); }
}

static volatile int got;
static void on_sig(int s) { (void)s; got++; }

// A thread making patched calls while signals keep interrupting it.
static volatile int stop_spin;
static void *spinner(void *arg) {
  long pid = (long)arg, n = 0;
  while (!stop_spin) { CHECK(site_getpid() == pid, "getpid in a thread"); n++; }
  return (void *)n;
}

static void restart_case(int restart) {
  int p[2];
  CHECK(pipe(p) == 0, "pipe");
  char c;
  for (int i = 0; i < 5; i++) { CHECK(write(p[1], "x", 1) == 1, "write"); CHECK(site_read(p[0], &c, 1) == 1, "read"); }
  struct sigaction sa = { .sa_handler = on_sig, .sa_flags = restart ? SA_RESTART : 0 };
  sigaction(SIGALRM, &sa, NULL);
  pid_t w = fork();
  if (w == 0) { usleep(300000); (void)!write(p[1], "y", 1); _exit(0); }
  got = 0;
  struct itimerval it = { .it_value = { 0, 50000 } };
  setitimer(ITIMER_REAL, &it, NULL);
  long r = site_read(p[0], &c, 1);
  if (restart) CHECK(r == 1 && c == 'y' && got == 1, "restarted read: %ld got %d", r, got);
  else CHECK(r == -EINTR && got == 1, "interrupted read: %ld", r);
  waitpid(w, NULL, 0);
  if (!restart) CHECK(site_read(p[0], &c, 1) == 1, "read after");
  close(p[0]);
  close(p[1]);
}

static int semantics(char *self) {
  long pid = raw_getpid();
  warm();
  // Signals arriving at a thread that makes patched calls in a loop, sent by another thread.
  signal(SIGUSR1, on_sig);
  pthread_t t[3];
  for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, spinner, (void *)pid);
  for (int i = 0; i < 200; i++) {
    int before = got;
    pthread_kill(t[i % 3], SIGUSR1);
    for (int j = 0; got == before && j < 100000; j++) usleep(10);
  }
  stop_spin = 1;
  long total = 0;
  for (int i = 0; i < 3; i++) { void *n; pthread_join(t[i], &n); total += (long)n; }
  CHECK(total > 0, "threads ran");
  CHECK(got == 200, "signals %d", got);
  printf("threads and signals ok\n");
  // A blocking call through a patched site, interrupted: restarted (the rewound rip is the site's syscall), or EINTR.
  restart_case(1);
  restart_case(0);
  printf("restart ok\n");
  // fork: the child inherits the patched text, and its calls work (the later children in stubs the earlier left).
  pid_t c;
  int st;
  for (int k = 0; k < 4; k++) {
    c = fork();
    if (c == 0) {
      long me = raw_getpid();
      for (int i = 0; i < 100; i++) if (site_getpid() != me || site_getppid() != pid) _exit(1);
      syscall(SYS_exit, 7);
    }
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 7, "fork child %d: %x", k, st);
    usleep(20000); // the ended child's stub is emptied meanwhile: the next fork takes it
  }
  // vfork: the child shares the memory (and the patched text) until it execs.
  c = vfork();
  if (c == 0) {
    if (site_getppid() != pid) _exit(1);
    execl(self, self, "loop", "50", (char *)NULL);
    _exit(2);
  }
  CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0, "vfork+exec %x", st);
  printf("fork, vfork and exec ok\n");
  // An application's seccomp filter still sees patched calls: getppid fails with EPERM from now on.
  CHECK(site_getppid() == getppid(), "getppid before");
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { 4, f };
  CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "no_new_privs");
  CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0, "seccomp");
  for (int i = 0; i < 10; i++) CHECK(site_getppid() == -EPERM, "filtered getppid");
  printf("seccomp ok\n");
  printf("done\n");
  return 0;
}

// Another thread rewrites the site while this one calls it: every call still returns the pid.
static unsigned char *flip_page;
static volatile int flip_stop;
static void *flipper(void *arg) {
  unsigned char *site = arg;
  unsigned char now[8], orig[7] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05 };
  memcpy(now, site, 7);
  for (int i = 0; !flip_stop; i++) {
    memcpy(site, (i & 1) ? now : orig, 5);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
  }
  return NULL;
}

// call_at(target, nr): eax = nr, then jump to target with the caller's return address on the stack (code that
// ends in a site's `ret`). call_entry(entry, nr): as a trampoline enters it, rcx = the return address.
long call_at(uint64_t target, long nr);
long call_entry(uint64_t target, long nr);
__asm__(".text\ncall_at:\n mov %rsi, %rax\n jmp *%rdi\n"
        "call_entry:\n mov %rsi, %rax\n pop %rcx\n jmp *%rdi\n");

static int hostile(void) {
  long pid = raw_getpid();
  warm();
  unsigned char *s = (unsigned char *)site_getpid;
  if (patched(s)) {
    uint32_t cell = *(uint32_t *)(s + 3);
    uint64_t tramp = *(uint64_t *)(uintptr_t)cell;
    uint64_t entry = *(uint64_t *)(uintptr_t)(tramp + 17);
    // The trampoline and the entry, reached directly: whatever number is in eax, the Sentry serves it.
    CHECK(call_at(tramp, 0) == pid, "via the trampoline");
    CHECK(call_entry(entry, SYS_getpid) == pid, "entry with getpid");
    CHECK(call_entry(entry, SYS_gettid) == syscall(SYS_gettid), "entry with gettid");
    CHECK(call_entry(entry, 100000) == -ENOSYS, "entry with a bad number");
    // The middle of a patched site: its old syscall instruction, still there.
    CHECK(call_at((uint64_t)(s + 5), SYS_getpid) == pid, "site + 5");
    // The table cannot be mapped over, made writable or unmapped.
    void *t = (void *)(uintptr_t)(cell & ~0xfffUL);
    CHECK(mmap(t, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED && errno == EPERM, "mmap over the table");
    CHECK(mprotect(t, 4096, PROT_READ | PROT_WRITE) == -1 && errno == EPERM, "mprotect of the table");
    CHECK(munmap(t, 4096) == -1 && errno == EPERM, "munmap of the table");
    CHECK(site_getpid() == pid, "after");
    printf("patched\n");
  } else {
    printf("patched\n"); // natively: nothing to attack
  }
  // Another thread rewrites the site while this one calls it.
  flip_page = (unsigned char *)((uintptr_t)s & ~0xfffUL);
  CHECK(mprotect(flip_page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) == 0, "mprotect rwx");
  pthread_t t;
  pthread_create(&t, NULL, flipper, s);
  for (int i = 0; i < 3000; i++) CHECK(site_getpid() == pid, "during rewrites");
  flip_stop = 1;
  pthread_join(t, NULL);
  printf("rewritten ok\n");
  // A gs base of its own: every patched site is put back, and calls keep working.
  CHECK(site_gettid() == syscall(SYS_gettid), "gettid");
  static uint64_t gsarea[512];
  CHECK(syscall(SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, gsarea) == 0, "set gs");
  unsigned char *g = (unsigned char *)site_gettid;
  CHECK(g[0] == 0xb8, "site put back: %02x", g[0]);
  for (int i = 0; i < 100; i++) CHECK(site_gettid() == syscall(SYS_gettid), "gettid with gs");
  printf("gs ok\n");
  printf("done\n");
  return 0;
}

// A tracer single-steps the child over a patched site: two steps (mov, syscall), as natively.
static int step(void) {
  warm();
  pid_t c = fork();
  if (c == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    site_getpid();
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  CHECK(WIFSTOPPED(st), "stopped");
  uint64_t at = (uint64_t)site_getpid, ret = (uint64_t)site_getpid_ret;
  int steps = -1;
  for (int i = 0; i < 100000; i++) {
    struct user_regs_struct r;
    ptrace(PTRACE_GETREGS, c, 0, &r);
    if (steps < 0 && r.rip == at) steps = 0;
    else if (steps >= 0) steps++;
    if (steps >= 0 && r.rip == ret) break;
    CHECK(ptrace(PTRACE_SINGLESTEP, c, 0, 0) == 0, "step");
    waitpid(c, &st, 0);
    CHECK(WIFSTOPPED(st), "step stop %x", st);
  }
  printf("steps over the site: %d\n", steps);
  ptrace(PTRACE_CONT, c, 0, 0);
  waitpid(c, &st, 0);
  printf("done\n");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *mode = argc > 1 ? argv[1] : "semantics";
  if (!strcmp(mode, "loop")) {
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    long pid = raw_getpid();
    for (int i = 0; i < n; i++) CHECK(site_getpid() == pid, "getpid");
    return 0;
  }
  if (!strcmp(mode, "semantics")) return semantics(argv[0]);
  if (!strcmp(mode, "hostile")) return hostile();
  if (!strcmp(mode, "step")) return step();
  return 2;
}
