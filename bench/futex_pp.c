/* futex_pp: the futex ping-pong between two threads.
 *
 * Usage: futex_pp ITERS. Two threads hand a turn back and forth through one
 * futex word ITERS times after a warm-up: each waits (FUTEX_WAIT_PRIVATE)
 * until the word is its turn, then sets the other's turn and wakes it, so
 * every round trip is two waits and two wakes. Prints
 * "iterations=N ns_per_iter=X" (per round trip). */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int turn; /* 0: main's turn, 1: the other thread's */
static long total;

static void wait_for(int mine) {
  int v;
  while ((v = atomic_load(&turn)) != mine) syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, v, 0, 0, 0);
}

static void hand_to(int other) {
  atomic_store(&turn, other);
  syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
}

static void *pong(void *arg) {
  (void)arg;
  for (long i = 0; i < total; i++) {
    wait_for(1);
    hand_to(0);
  }
  return 0;
}

int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 10000;
  if (iters <= 0) iters = 1;
  const long warm = 100;
  total = warm + iters;
  pthread_t t;
  pthread_create(&t, 0, pong, 0);
  struct timespec a, b;
  for (long i = 0; i < total; i++) {
    if (i == warm) clock_gettime(CLOCK_MONOTONIC, &a);
    hand_to(1);
    wait_for(0);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  pthread_join(t, 0);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("iterations=%ld ns_per_iter=%.1f\n", iters, ns / (double)iters);
  return 0;
}
