/* altstack: a handler on an alternate stack of SIGSTKSZ (8 KiB) bytes, with
 * an unmapped page below it: the frame must fit (on hosts with AMX the XSAVE
 * area holds 8 KiB of tile data that Linux leaves out of frames of processes
 * that did not ask for AMX; LTP sigaltstack01). The AVX registers a handler
 * changes come back intact after it returns, and SA_RESETHAND keeps the
 * action's flags and mask (LTP sigaction01). */
#define _GNU_SOURCE
#include "common.h"
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>

#define ALT 8192
static char *base;
static volatile int on_alt, handled;

static void onusr1(int sig) {
  (void)sig;
  char here;
  on_alt = &here >= base && &here < base + ALT;
  handled++;
#ifdef __AVX__
  __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0" ::: "xmm0");
#else
  __asm__ volatile("pxor %%xmm0, %%xmm0" ::: "xmm0");
#endif
}

static int has_avx(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx");
}

int main(void) {
  char *m = mmap(NULL, ALT + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  mprotect(m, 4096, PROT_NONE); /* a guard page below the stack */
  base = m + 4096;
  stack_t ss = {.ss_sp = base, .ss_size = ALT, .ss_flags = 0};
  printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
  struct sigaction sa = {0};
  sa.sa_handler = onusr1;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  for (int i = 0; i < 3; i++) raise(SIGUSR1);
  printf("handled %d, on the alternate stack: %d\n", handled, on_alt);

  /* Registers the handler clobbers come back (from the frame's XSAVE image). */
  unsigned char in[32], out[32];
  for (int i = 0; i < 32; i++) in[i] = (unsigned char)(i * 7 + 1);
  memset(out, 0, sizeof out);
  if (has_avx()) {
    __asm__ volatile("vmovdqu %0, %%ymm0" ::"m"(in) : "xmm0");
    raise(SIGUSR1);
    __asm__ volatile("vmovdqu %%ymm0, %0" : "=m"(out));
  } else {
    __asm__ volatile("movdqu %0, %%xmm0" ::"m"(in) : "xmm0");
    raise(SIGUSR1);
    __asm__ volatile("movdqu %%xmm0, %0" : "=m"(out));
    memcpy(out + 16, in + 16, 16);
  }
  printf("vector register kept across the handler: %d\n", memcmp(in, out, 32) == 0);

  /* SA_RESETHAND: the handler goes back to SIG_DFL, flags and mask stay. */
  sa.sa_flags = SA_RESETHAND | SA_ONSTACK | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  struct sigaction now;
  sigaction(SIGUSR1, NULL, &now);
  printf("after SA_RESETHAND: default %d, flags %#x, mask has SIGUSR2 %d\n", now.sa_handler == SIG_DFL,
         now.sa_flags & (SA_RESETHAND | SA_ONSTACK | SA_RESTART), sigismember(&now.sa_mask, SIGUSR2));
  printf("done\n");
  return 0;
}
