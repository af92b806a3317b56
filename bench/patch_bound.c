// bench/patch_bound.c: what system call instruction patching could save on
// systrap, measured on this host before building it in the Sentry (issue 13).
//
// The systrap stub's path for a system call today is a seccomp trap: SIGSYS
// delivered to the stub's handler on its alternate stack (the kernel writes
// the whole register and XSAVE state there), a hand-off to the Sentry, and
// rt_sigreturn. Patching (gVisor's usertrap) rewrites a `mov $NR,%eax;
// syscall` site (7 bytes) into a jump to stub code that saves the same state
// itself and returns without a signal. This program runs both paths with the
// same hand-offs: a spin on a shared word answered by a thread on the other
// CPU (systrap's "apart" placement), and futex wake-ups with both threads on
// one CPU ("together"); plus each path with no hand-off (its own cost only)
// and the plain call, interleaved in ROUNDS rounds (7); it prints medians
// (min, max).
//
// The patched site is gVisor's encoding: `jmp *disp32` (ff 24 25 disp32, 7
// bytes, the jump's cell at the absolute address disp32), with disp32 in
// 0x050f0000-0x050fffff so that its two high bytes are `0f 05`: code that
// jumps to the old `syscall` (offset 5) still executes a `syscall`, which
// traps as before (checked below). That needs a table of cells mapped at that
// fixed address in the application's space (here a plain mmap; in tsvisor a
// VMA the Sentry's mm would own). A jump, not a call: nothing is pushed into
// the red zone. The cell holds a per-site trampoline (NR and the return
// address), which jumps to the entry: it finds the thread's area through
// %gs (each thread's host gs base is its area, as gVisor's stub threads'),
// saves the registers and the XSAVE image there, publishes the call, waits,
// restores and returns with `ret $128` from below the red zone (no register
// is needed for the jump back). Build: gcc -O2 -pthread; run:
// ./patch_bound [N [ROUNDS]] (bench/systrap.js --only patch runs it too).
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <time.h>
#include <unistd.h>

// The per-thread area (offsets used by the assembly below).
struct area {
  uint64_t self;         // 0: the area's own address (the entry finds it through %gs)
  _Atomic int state;     // 8: 0 running, 1 trapped, 2 answered
  int pad;
  int64_t result;        // 16
  uint64_t app_rsp;      // 24
  uint64_t rip;          // 32
  uint64_t flags;        // 40
  uint64_t nr;           // 48
  uint64_t spare;        // 56
  uint64_t gpr[12];      // 64: rbx rbp r12 r13 r14 r15 rdi rsi rdx r8 r9 r10
  uint8_t gap[1024 - 160];
  uint8_t xsave[8192] __attribute__((aligned(64)));  // 1024
  uint8_t stack[8192];
} __attribute__((aligned(4096)));

static struct area A;
int pb_handoff;          // how the entry waits for the other thread: 0 not at all, 1 spinning, 2 futex (HANDOFF_*)
enum { HANDOFF_NONE, HANDOFF_SPIN, HANDOFF_FUTEX };

void pb_site(void);
void pb_site_ret(void);
void pb_tramp(void);
void pb_site_mid(void);
#define TABLE 0x050f0000UL
#define CELL (TABLE + 0x100)

__asm__(
  ".text\n"
  ".globl pb_site\n"
  "pb_site:\n"
  "  .byte 0xff, 0x24, 0x25\n"   // jmp *CELL (its high bytes 0f 05: the old syscall at offset 5)
  "  .long 0x050f0100\n"
  ".globl pb_site_ret\n"
  "pb_site_ret:\n"
  "  ret\n"
  ".globl pb_tramp\n"
  "pb_tramp:\n"                   // per site: NR and where to go back
  "  mov $110, %eax\n"
  "  lea pb_site_ret(%rip), %rcx\n"
  "  jmp pb_entry\n"
  ".globl pb_site_mid\n"
  "pb_site_mid:\n"               // code that jumped to the old syscall instruction
  "  mov $110, %eax\n"
  "  jmp pb_site+5\n"
  "pb_entry:\n"
  "  mov %gs:0, %r11\n"           // the area
  "  mov %rsp, 24(%r11)\n"
  "  mov %rcx, 32(%r11)\n"
  "  lea 1024+8192+8192(%r11), %rsp\n"
  "  pushfq\n"
  "  pop %rcx\n"
  "  mov %rcx, 40(%r11)\n"
  "  mov %rax, 48(%r11)\n"
  "  mov %rbx, 64(%r11)\n  mov %rbp, 72(%r11)\n  mov %r12, 80(%r11)\n  mov %r13, 88(%r11)\n"
  "  mov %r14, 96(%r11)\n  mov %r15, 104(%r11)\n  mov %rdi, 112(%r11)\n  mov %rsi, 120(%r11)\n"
  "  mov %rdx, 128(%r11)\n  mov %r8, 136(%r11)\n  mov %r9, 144(%r11)\n  mov %r10, 152(%r11)\n"
  "  mov $-1, %eax\n  mov $-1, %edx\n"
  "  xsave 1024(%r11)\n"
  "  cmpl $0, pb_handoff(%rip)\n"
  "  je 3f\n"
  "  cmpl $2, pb_handoff(%rip)\n"
  "  jne 5f\n"
  "  mov %r11, %rdi\n"
  "  mov %r11, %rbx\n"
  "  call pb_futex_wait\n"       // the area's stack is 16-byte aligned here
  "  mov %rbx, %r11\n"
  "  jmp 4f\n"
  "5: mov $1, %eax\n"
  "  xchg %eax, 8(%r11)\n"        // publish (a full barrier), as the handler does
  "1: cmpl $2, 8(%r11)\n"
  "  je 2f\n"
  "  pause\n"
  "  jmp 1b\n"
  "2: movl $0, 8(%r11)\n"
  "  jmp 4f\n"
  "3: movq $0, 16(%r11)\n"
  "4: mov $-1, %eax\n  mov $-1, %edx\n"
  "  xrstor 1024(%r11)\n"
  "  mov 24(%r11), %rcx\n"
  "  lea -144(%rcx), %rsp\n"      // below the red zone: flags, then rip
  "  mov 40(%r11), %rax\n  mov %rax, (%rsp)\n"
  "  mov 32(%r11), %rax\n  mov %rax, 8(%rsp)\n"
  "  mov 64(%r11), %rbx\n  mov 72(%r11), %rbp\n  mov 80(%r11), %r12\n  mov 88(%r11), %r13\n"
  "  mov 96(%r11), %r14\n  mov 104(%r11), %r15\n  mov 112(%r11), %rdi\n  mov 120(%r11), %rsi\n"
  "  mov 128(%r11), %rdx\n  mov 136(%r11), %r8\n  mov 144(%r11), %r9\n  mov 152(%r11), %r10\n"
  "  mov 32(%r11), %rcx\n"        // rcx and r11 as `syscall` leaves them (the Sentry's values in a real stub)
  "  mov 16(%r11), %rax\n"
  "  mov 40(%r11), %r11\n"
  "  popfq\n"
  "  ret $128\n");

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

static long fx(_Atomic int *w, int op, int val) { return syscall(SYS_futex, w, op, val, NULL, NULL, 0); }

// Publish, wake the other thread, sleep until it answered (a Sentry and a stub on one CPU).
void pb_futex_wait(struct area *a) {
  atomic_store(&a->state, 1);
  fx(&a->state, FUTEX_WAKE_PRIVATE, 1);
  while (atomic_load(&a->state) != 2) fx(&a->state, FUTEX_WAIT_PRIVATE, 1);
  atomic_store(&a->state, 0);
}

static struct area *trap_area;  // which area the SIGSYS handler publishes in
static int sig_handoff;
static void on_sys(int s, siginfo_t *i, void *c) {
  (void)s; (void)i;
  if (!sig_handoff) return;
  struct area *a = trap_area;
  if (sig_handoff == HANDOFF_FUTEX) {
    pb_futex_wait(a);
  } else {
    atomic_exchange(&a->state, 1);
    while (atomic_load(&a->state) != 2) __builtin_ia32_pause();
    atomic_store(&a->state, 0);
  }
  ((ucontext_t *)c)->uc_mcontext.gregs[REG_RAX] = a->result;
}

static _Atomic int peer_stop;
static int peer_futex;
static void *peer(void *p) {
  struct area *a = p;
  while (!atomic_load(&peer_stop)) {
    if (atomic_load(&a->state) == 1) {
      a->result = 4242;
      atomic_store(&a->state, 2);
      if (peer_futex) fx(&a->state, FUTEX_WAKE_PRIVATE, 1);
    } else if (peer_futex) {
      fx(&a->state, FUTEX_WAIT_PRIVATE, 0);
    } else {
      __builtin_ia32_pause();
    }
  }
  return NULL;
}

static void pin(pthread_t t, int cpu) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s); pthread_setaffinity_np(t, sizeof s, &s); }

typedef long (*callfn)(void);
static long call_native(void) { return syscall(SYS_getppid); }
static long call_patched(void) { long r; __asm__ volatile("call pb_site" : "=a"(r) : : "rcx", "r11", "memory"); return r; }
static long call_mid(void) { long r; __asm__ volatile("call pb_site_mid" : "=a"(r) : : "rcx", "r11", "memory"); return r; }

// handoff: HANDOFF_*; the futex hand-off runs both threads on CPU 0 (systrap together), the spin on two CPUs (apart).
static double run(callfn f, int n, int handoff, int sig) {
  pthread_t t;
  atomic_store(&peer_stop, 0);
  A.state = 0;
  peer_futex = handoff == HANDOFF_FUTEX;
  if (handoff) { pthread_create(&t, NULL, peer, &A); pin(t, handoff == HANDOFF_FUTEX ? 0 : 1); usleep(5000); }
  pb_handoff = handoff; sig_handoff = sig ? handoff : HANDOFF_NONE; trap_area = &A;
  double t0 = now();
  long bad = 0;
  for (int i = 0; i < n; i++) { long r = f(); if (handoff && r != 4242) bad++; }
  double r = (now() - t0) / n;
  if (handoff) {
    atomic_store(&peer_stop, 1);
    A.state = 3;
    fx(&A.state, FUTEX_WAKE_PRIVATE, 1);
    pthread_join(t, NULL);
  }
  if (bad) { fprintf(stderr, "%ld wrong results\n", bad); exit(1); }
  return r;
}

static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 50000;
  int reps = argc > 2 ? atoi(argv[2]) : 7;
  if (reps < 1 || reps > 64) { fprintf(stderr, "rounds: 1 to 64\n"); return 2; }
  unsigned a, b, c, d;
  __cpuid_count(0xd, 0, a, b, c, d);
  if (b > sizeof A.xsave) { fprintf(stderr, "XSAVE area %u too large\n", b); return 1; }
  pin(pthread_self(), 0);
  uint64_t *table = mmap((void *)TABLE, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (table != (void *)TABLE) { perror("mmap of the cell table"); return 1; }
  table[(CELL - TABLE) / 8] = (uint64_t)pb_tramp;
  mprotect(table, 65536, PROT_READ);
  A.self = (uint64_t)&A;
  if (syscall(SYS_arch_prctl, ARCH_SET_GS, (uint64_t)&A) != 0) { perror("arch_prctl"); return 1; }
  // The SIGSYS path: handler on an alternate stack with every signal blocked, as the stub's.
  static uint8_t alt[65536];
  stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt };
  sigaltstack(&ss, NULL);
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = on_sys; sa.sa_flags = SA_SIGINFO | SA_ONSTACK; sigfillset(&sa.sa_mask);
  sigaction(SIGSYS, &sa, NULL);
  enum { NATIVE, TRAP, PATCH, TRAP_H, PATCH_H, TRAP_F, PATCH_F, K };
  double r[K][64];
  // The filter traps getppid in this thread (peers are created later but never call it).
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog p = { 4, f };
  // Native first, in its own rounds before the filter (it stays for the process).
  for (int rep = 0; rep < reps; rep++) r[NATIVE][rep] = run(call_native, n, 0, 0);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) != 0) { perror("seccomp"); return 1; }
  for (int rep = 0; rep < reps; rep++) {
    r[TRAP][rep] = run(call_native, n, 0, 1);
    r[PATCH][rep] = run(call_patched, n, 0, 0);
    r[TRAP_H][rep] = run(call_native, n, HANDOFF_SPIN, 1);
    r[PATCH_H][rep] = run(call_patched, n, HANDOFF_SPIN, 0);
    r[TRAP_F][rep] = run(call_native, n, HANDOFF_FUTEX, 1);
    r[PATCH_F][rep] = run(call_patched, n, HANDOFF_FUTEX, 0);
  }
  // Code that jumps onto the old `syscall` (offset 5 of the patched bytes) still makes the call: trapped, answered.
  if (run(call_mid, 1000, HANDOFF_SPIN, 1) <= 0) return 1;
  printf("a jump onto the old syscall instruction: 1000 calls trapped and answered\n");
  const char *names[K] = {
    "getppid, native",
    "trapped: SIGSYS to an empty handler, rt_sigreturn",
    "patched: jmp *cell, save GPRs + xsave, xrstor, ret $128",
    "trapped + spin hand-off to the other CPU (systrap apart today)",
    "patched + spin hand-off to the other CPU",
    "trapped + futex hand-off on the same CPU (systrap together today)",
    "patched + futex hand-off on the same CPU",
  };
  for (int k = 0; k < K; k++) {
    qsort(r[k], reps, sizeof(double), cmp);
    printf("%-64s %7.0f ns (min %.0f, max %.0f)\n", names[k], r[k][reps / 2], r[k][0], r[k][reps - 1]);
  }
  printf("XSAVE image %u bytes\n", b);
  return 0;
}
