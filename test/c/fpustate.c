/* fpustate: the FPU/SSE/AVX state is the thread's own. A signal handler
 * starts with the default MXCSR and x87 control word; ymm0-15 and MXCSR
 * set before a signal come back intact after two nested handlers that
 * clobbered them; fork inherits MXCSR and the x87 control word, exec resets
 * them. Needs AVX (checked at run time, same output either way). */
#define _GNU_SOURCE
#include "common.h"
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static unsigned get_mxcsr(void) {
  unsigned v;
  __asm__ volatile("stmxcsr %0" : "=m"(v));
  return v;
}
static void set_mxcsr(unsigned v) { __asm__ volatile("ldmxcsr %0" ::"m"(v)); }
static unsigned short get_fcw(void) {
  unsigned short v;
  __asm__ volatile("fnstcw %0" : "=m"(v));
  return v;
}
static void set_fcw(unsigned short v) { __asm__ volatile("fldcw %0" ::"m"(v)); }

static int have_avx;
static unsigned char junk[16 * 32] __attribute__((aligned(32)));

#define LOAD16(src)                                                                                                      \
  "vmovdqu 0(" src "), %%ymm0\n\tvmovdqu 32(" src "), %%ymm1\n\tvmovdqu 64(" src "), %%ymm2\n\tvmovdqu 96(" src        \
  "), %%ymm3\n\tvmovdqu 128(" src "), %%ymm4\n\tvmovdqu 160(" src "), %%ymm5\n\tvmovdqu 192(" src                      \
  "), %%ymm6\n\tvmovdqu 224(" src "), %%ymm7\n\tvmovdqu 256(" src "), %%ymm8\n\tvmovdqu 288(" src                     \
  "), %%ymm9\n\tvmovdqu 320(" src "), %%ymm10\n\tvmovdqu 352(" src "), %%ymm11\n\tvmovdqu 384(" src                   \
  "), %%ymm12\n\tvmovdqu 416(" src "), %%ymm13\n\tvmovdqu 448(" src "), %%ymm14\n\tvmovdqu 480(" src "), %%ymm15\n\t"
#define STORE16(dst)                                                                                                     \
  "vmovdqu %%ymm0, 0(" dst ")\n\tvmovdqu %%ymm1, 32(" dst ")\n\tvmovdqu %%ymm2, 64(" dst ")\n\tvmovdqu %%ymm3, 96(" dst  \
  ")\n\tvmovdqu %%ymm4, 128(" dst ")\n\tvmovdqu %%ymm5, 160(" dst ")\n\tvmovdqu %%ymm6, 192(" dst                       \
  ")\n\tvmovdqu %%ymm7, 224(" dst ")\n\tvmovdqu %%ymm8, 256(" dst ")\n\tvmovdqu %%ymm9, 288(" dst                      \
  ")\n\tvmovdqu %%ymm10, 320(" dst ")\n\tvmovdqu %%ymm11, 352(" dst ")\n\tvmovdqu %%ymm12, 384(" dst                   \
  ")\n\tvmovdqu %%ymm13, 416(" dst ")\n\tvmovdqu %%ymm14, 448(" dst ")\n\tvmovdqu %%ymm15, 480(" dst ")\n\t"
#define YMM_CLOBBERS                                                                                                     \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",     \
      "xmm14", "xmm15"

static void clobber(unsigned char v) {
  memset(junk, v, sizeof junk);
  if (have_avx) __asm__ volatile(LOAD16("%0") ::"r"(junk) : YMM_CLOBBERS, "memory");
  set_mxcsr(0x1f80 | 0x2000); /* round down */
  set_fcw(0x7f);
}

static volatile int depth_seen;
static void on_usr2(int sig) {
  (void)sig;
  printf("  inner handler: mxcsr %#x fcw %#x\n", get_mxcsr(), get_fcw());
  clobber(0xbb);
}
static void on_usr1(int sig) {
  (void)sig;
  printf("  outer handler: mxcsr %#x fcw %#x\n", get_mxcsr(), get_fcw());
  clobber(0xaa);
  raise(SIGUSR2);
  printf("  outer handler after the inner one: mxcsr %#x fcw %#x\n", get_mxcsr(), get_fcw());
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1) {
    printf("after exec: mxcsr %#x fcw %#x\n", get_mxcsr(), get_fcw());
    return 0;
  }
  unsigned a, b, c, d;
  have_avx = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_AVX) && (c & bit_OSXSAVE);
  signal(SIGUSR1, on_usr1);
  signal(SIGUSR2, on_usr2);
  printf("initial: mxcsr %#x fcw %#x\n", get_mxcsr(), get_fcw());

  static unsigned char in[16 * 32] __attribute__((aligned(32))), out[16 * 32] __attribute__((aligned(32)));
  for (int i = 0; i < (int)sizeof in; i++) in[i] = (unsigned char)(i * 7 + 3);
  set_mxcsr(0x1f80 | 0x6000); /* round toward zero */
  set_fcw(0x37f & ~0x300);    /* single precision */
  long pid = getpid();
  if (have_avx) {
    __asm__ volatile(LOAD16("%[in]") "mov $62, %%eax\n\tmov %[pid], %%rdi\n\tmov $10, %%esi\n\tsyscall\n\t" STORE16("%[out]")
                     :
                     : [in] "r"(in), [out] "r"(out), [pid] "r"(pid)
                     : "rax", "rdi", "rsi", "rcx", "r11", "memory", YMM_CLOBBERS);
  } else {
    kill(pid, SIGUSR1);
    memcpy(out, in, sizeof out);
  }
  printf("after the handlers: ymm0-15 intact %d, mxcsr %#x fcw %#x\n", memcmp(in, out, sizeof in) == 0, get_mxcsr(), get_fcw());

  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    printf("fork child: mxcsr %#x fcw %#x\n", get_mxcsr(), get_fcw());
    fflush(stdout);
    execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
    _exit(1);
  }
  waitpid(p, NULL, 0);
  printf("done\n");
  return 0;
}
