/* cpu_mt: a CPU-bound program with T threads (default 2).
 *
 * Usage: cpu_mt THREADS MIB PASSES. Each thread fills its own array of MIB
 * MiB of longs, then sums it PASSES times. The program times the summing
 * only, after every array is filled and touched (so start-up and page
 * faults do not count): from releasing the threads to the end of the last
 * thread's summing, each thread reading the clock before it frees its
 * array. It prints "threads=T compute_ms=X joined_ms=Y sum=S", where
 * joined_ms runs on to the last join and so also counts freeing the arrays
 * (an munmap of MIB MiB each: 5-7 ms natively, 25-55 ms in the sandbox,
 * docs/PERFORMANCE.md; compute_ms counted it up to 2026-12-03). With two
 * threads it needs both CPUs to come close to native. With CPU_MT_TIMES=1
 * in the environment it also prints, on stderr, when the summing starts and
 * when each thread ends it (CLOCK_MONOTONIC, ms: the clock of the CPU
 * policy's TSVISOR_CPU_TRACE). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long words, passes;
static atomic_int ready, go;
static int times; /* CPU_MT_TIMES=1: when the summing starts and each thread ends, CLOCK_MONOTONIC ms, on stderr */
static double ended[64]; /* when each thread's summing ended, CLOCK_MONOTONIC ms */

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void *work(void *arg) {
  long *a = malloc(words * sizeof *a);
  if (!a) abort();
  for (long i = 0; i < words; i++) a[i] = i ^ (long)arg;
  atomic_fetch_add(&ready, 1);
  while (!atomic_load(&go)) {
  }
  long s = 0;
  for (long p = 0; p < passes; p++)
    for (long i = 0; i < words; i++) s += a[i] * (p + 1);
  ended[(long)arg] = now_ms();
  if (times) fprintf(stderr, "cpu_mt: thread %ld done at %.3f ms\n", (long)arg, ended[(long)arg]);
  free(a);
  return (void *)s;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2;
  long mib = argc > 2 ? atol(argv[2]) : 64;
  passes = argc > 3 ? atol(argv[3]) : 20;
  if (n < 1 || n > 64 || mib < 1 || passes < 1) return 2;
  words = mib * 1024 * 1024 / (long)sizeof(long);
  times = getenv("CPU_MT_TIMES") != NULL;
  pthread_t t[64];
  for (long i = 0; i < n; i++) pthread_create(&t[i], 0, work, (void *)i);
  while (atomic_load(&ready) < n) {
    struct timespec d = {0, 1000000};
    nanosleep(&d, 0);
  }
  double start = now_ms();
  atomic_store(&go, 1);
  if (times) fprintf(stderr, "cpu_mt: go at %.3f ms\n", start);
  long sum = 0;
  double last = start;
  for (int i = 0; i < n; i++) {
    void *r;
    pthread_join(t[i], &r);
    sum += (long)r;
    if (ended[i] > last) last = ended[i];
  }
  double joined = now_ms();
  printf("threads=%d compute_ms=%.1f joined_ms=%.1f sum=%ld\n", n, last - start, joined - start, sum);
  return 0;
}
