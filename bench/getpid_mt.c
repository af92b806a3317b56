/* getpid_mt: the system call loop of getpid.c in T threads at once.
 *
 * Usage: getpid_mt THREADS ITERS. Each thread calls syscall(SYS_getpid)
 * ITERS times after a warm-up; the main thread times from the moment all
 * are released (a spinning start flag) until the last has finished, and
 * prints "threads=T calls=N ns_total=X calls_per_sec=Y". */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long iters;
static atomic_int ready, go;

static void *loop(void *arg) {
  long sink = 0;
  for (int i = 0; i < 100; i++) sink += syscall(SYS_getpid);
  atomic_fetch_add(&ready, 1);
  while (!atomic_load(&go)) {
  }
  for (long i = 0; i < iters; i++) sink += syscall(SYS_getpid);
  return (void *)sink;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1;
  iters = argc > 2 ? atol(argv[2]) : 100000;
  if (n < 1 || n > 64 || iters < 1) return 2;
  pthread_t t[64];
  for (int i = 0; i < n; i++) pthread_create(&t[i], 0, loop, 0);
  while (atomic_load(&ready) < n) sched_yield();
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  atomic_store(&go, 1);
  for (int i = 0; i < n; i++) pthread_join(t[i], 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("threads=%d calls=%ld ns_total=%.0f calls_per_sec=%.0f\n", n, n * iters, ns, (double)(n * iters) / ns * 1e9);
  return 0;
}
