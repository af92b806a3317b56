/* cpu_mt: a CPU-bound program with T threads (default 2).
 *
 * Usage: cpu_mt THREADS MIB PASSES. Each thread fills its own array of MIB
 * MiB of longs, then sums it PASSES times. The program times the summing
 * only (from releasing the threads to the last join, after every array is
 * filled and touched), so start-up and page faults do not count, and prints
 * "threads=T compute_ms=X sum=S". With two threads it needs both CPUs to
 * come close to native. With CPU_MT_TIMES=1 in the environment it also
 * prints, on stderr, when the summing starts and when each thread ends
 * (CLOCK_MONOTONIC, ms: the clock of the CPU policy's TSVISOR_CPU_TRACE). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long words, passes;
static atomic_int ready, go;
static int times; /* CPU_MT_TIMES=1: when the summing starts and each thread ends, CLOCK_MONOTONIC ms, on stderr */

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
  if (times) {
    struct timespec e;
    clock_gettime(CLOCK_MONOTONIC, &e);
    fprintf(stderr, "cpu_mt: thread %ld done at %.3f ms\n", (long)arg, (double)e.tv_sec * 1e3 + (double)e.tv_nsec / 1e6);
  }
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
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  atomic_store(&go, 1);
  if (times) fprintf(stderr, "cpu_mt: go at %.3f ms\n", (double)a.tv_sec * 1e3 + (double)a.tv_nsec / 1e6);
  long sum = 0;
  for (int i = 0; i < n; i++) {
    void *r;
    pthread_join(t[i], &r);
    sum += (long)r;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  printf("threads=%d compute_ms=%.1f sum=%ld\n", n, ms, sum);
  return 0;
}
