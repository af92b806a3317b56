// thread_cj N: create and join N threads one after the other (each does
// nothing); prints the time per create+join, measured inside the program.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *body(void *arg) { return arg; }

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  struct timespec a, b;
  // One thread first: the first creation in a process maps its stack pool.
  pthread_t t;
  if (pthread_create(&t, NULL, body, NULL) || pthread_join(t, NULL)) return 1;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) {
    if (pthread_create(&t, NULL, body, NULL) || pthread_join(t, NULL)) return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  printf("threads=%d us_per_create_join=%.2f\n", n, ns / n / 1e3);
  return 0;
}
