/* Threads contending on one mutex: the count must be exact. */
#include <pthread.h>
#include "work.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static int iters;

static void *bump(void *arg) {
  (void)arg;
  for (int i = 0; i < iters; i++) {
    pthread_mutex_lock(&mu);
    counter++;
    pthread_mutex_unlock(&mu);
  }
  return 0;
}

long contend(int threads, int iterations) {
  pthread_t t[64];
  iters = iterations;
  for (int i = 0; i < threads; i++) pthread_create(&t[i], 0, bump, 0);
  for (int i = 0; i < threads; i++) pthread_join(t[i], 0);
  return counter;
}
