/* A one-slot hand-over between a producer and a consumer thread on a
 * condition variable. */
#include <pthread.h>
#include "work.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int full, value, n;

static void *produce(void *arg) {
  (void)arg;
  for (int i = 1; i <= n; i++) {
    pthread_mutex_lock(&mu);
    while (full) pthread_cond_wait(&cv, &mu);
    value = i;
    full = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
  return 0;
}

long pipeline(int items) {
  pthread_t t;
  long sum = 0;
  n = items;
  pthread_create(&t, 0, produce, 0);
  for (int i = 0; i < items; i++) {
    pthread_mutex_lock(&mu);
    while (!full) pthread_cond_wait(&cv, &mu);
    sum += value;
    full = 0;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
  pthread_join(t, 0);
  return sum;
}
