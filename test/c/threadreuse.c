// threadreuse: threads created one after another, each finding the state a
// new thread has on Linux whatever the thread before it left behind (in the
// sandbox the host thread of an ended thread may carry the next one): its
// CPU clock starts near zero, its signal mask is its creator's, its SSE and
// x87 control words are its creator's, its TLS is fresh, its alternate
// signal stack is none, and its tid is new.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <xmmintrin.h>

static __thread int tls = 7;
static int tids[64];

static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *body(void *arg) {
  int i = (int)(long)arg;
  int bad = 0;
  if (cpu_ms() > 40) bad |= 1;
  sigset_t m;
  pthread_sigmask(SIG_SETMASK, NULL, &m);
  if (!sigismember(&m, SIGUSR1) || sigismember(&m, SIGUSR2) || sigismember(&m, SIGTERM)) bad |= 2;
  if ((_mm_getcsr() & ~0x3fu) != 0x1f80) bad |= 4; // control bits, not the sticky flags
  unsigned short cw;
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  if (cw != 0x37f) bad |= 8;
  if (tls != 7) bad |= 16;
  stack_t ss;
  sigaltstack(NULL, &ss);
  if (!(ss.ss_flags & SS_DISABLE)) bad |= 32;
  tids[i] = (int)syscall(SYS_gettid);
  if (tids[i] == getpid()) bad |= 64;
  for (int k = 0; k < i; k++) if (tids[k] == tids[i]) bad |= 128;
  // Leave everything changed for whoever comes next.
  tls = 99;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, NULL);
  _mm_setcsr(0x7f80 | 0x6000);
  unsigned short ncw = 0x0c7f;
  __asm__ volatile("fldcw %0" : : "m"(ncw));
  static char alt[3][65536];
  ss.ss_sp = alt[i % 3];
  ss.ss_size = sizeof alt[0];
  ss.ss_flags = 0;
  sigaltstack(&ss, NULL);
  // Every fourth thread burns CPU: its successor's clock must not start there.
  if (i % 4 == 0) {
    double t0 = cpu_ms();
    volatile unsigned long x = 0;
    while (cpu_ms() - t0 < 60)
      for (int k = 0; k < 1000000; k++) x++;
  }
  return (void *)(long)bad;
}

int main(void) {
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  pthread_sigmask(SIG_SETMASK, &m, NULL);
  int failures = 0;
  for (int i = 0; i < 40; i++) {
    pthread_t t;
    void *ret;
    if (pthread_create(&t, NULL, body, (void *)(long)i) || pthread_join(t, &ret)) {
      printf("thread %d: cannot create or join\n", i);
      return 1;
    }
    if (ret) {
      printf("thread %d: state left over, bits %ld\n", i, (long)ret);
      failures++;
    }
  }
  // Two at once after the churn: both run, with distinct tids.
  pthread_t a, b;
  void *ra, *rb;
  pthread_create(&a, NULL, body, (void *)40L);
  pthread_join(a, &ra);
  pthread_create(&a, NULL, body, (void *)41L);
  pthread_create(&b, NULL, body, (void *)42L);
  pthread_join(a, &ra);
  pthread_join(b, &rb);
  if (ra || rb) printf("pair: bits %ld %ld\n", (long)ra, (long)rb), failures++;
  printf("40 threads in turn and a pair: %d with state left over\n", failures);
  printf("done\n");
  return 0;
}
