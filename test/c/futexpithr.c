/* futexpithr: PI futexes and futex_waitv between threads of one process,
 * with private futexes: a PTHREAD_PRIO_INHERIT mutex contended by 4 threads
 * (exact count), raw LOCK_PI/UNLOCK_PI errnos between threads (EPERM,
 * EDEADLK, ETIMEDOUT, the hand-over), a thread exiting while it holds a
 * robust PI mutex (EOWNERDEAD to the waiting thread), and futex_waitv in a
 * thread woken by another on private words. */
#include "futexpi.h"
#include <pthread.h>
#include <sched.h>

static uint32_t lk, words[3];
static pthread_mutex_t m;
static long count;
static volatile pid_t tid_of[4];

static void *counter(void *arg) {
  (void)arg;
  for (int j = 0; j < 500; j++) {
    pthread_mutex_lock(&m);
    long c = count;
    if (j % 16 == 0) sched_yield();
    count = c + 1;
    pthread_mutex_unlock(&m);
  }
  return NULL;
}

struct res {
  long r;
  int e;
  uint32_t seen;
};

static void *locker(void *arg) {
  struct res *out = arg;
  iam("T");
  tid_of[0] = syscall(SYS_gettid);
  out->r = fx(&lk, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  out->e = errno;
  printf("thread unlock of main's: %ld %s\n", out->r, fename(out->e));
  struct timespec ts = in_ms(CLOCK_REALTIME, 20);
  long r = fx(&lk, FUTEX_LOCK_PI_PRIVATE, 0, &ts, NULL, 0);
  printf("thread timed lock: %ld %s, word %s\n", r, r < 0 ? fename(errno) : "", word(lk));
  __atomic_store_n(&sh->ctl, 1, __ATOMIC_SEQ_CST);
  out->r = fx(&lk, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  out->e = errno;
  out->seen = lk;
  fx(&lk, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  return NULL;
}

static pthread_mutex_t rm;

static void *dies_holding(void *arg) {
  (void)arg;
  pthread_mutex_lock(&rm);
  __atomic_store_n(&sh->ctl, 2, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&sh->ctl, __ATOMIC_SEQ_CST) == 2) usleep(1000);
  return NULL; /* exits holding rm */
}

static void *robust_waiter(void *arg) {
  int *out = arg;
  *out = pthread_mutex_lock(&rm);
  if (*out == EOWNERDEAD) pthread_mutex_consistent(&rm);
  pthread_mutex_unlock(&rm);
  return NULL;
}

struct wv {
  uint64_t val, uaddr;
  uint32_t flags, reserved;
};

static void *waitv_thread(void *arg) {
  long *out = arg;
  struct wv v[3];
  for (int i = 0; i < 3; i++) v[i] = (struct wv){words[i], (uintptr_t)&words[i], 2 | 128, 0};
  tid_of[1] = syscall(SYS_gettid);
  *out = syscall(449, v, 3, 0, NULL, 0);
  return NULL;
}

static void wait_thread_asleep(volatile pid_t *tid) {
  while (!*tid) usleep(1000);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", *tid);
  for (int i = 0; i < 5000; i++) {
    char buf[512];
    FILE *f = fopen(path, "r");
    if (!f) break;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *c = strrchr(buf, ')');
    if (c && c[2] == 'S') return;
    usleep(1000);
  }
}

int main(void) {
  line_buffered();
  shared_init();
  iam("P");
  pthread_mutexattr_t at;
  pthread_mutexattr_init(&at);
  pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_INHERIT);
  pthread_mutex_init(&m, &at);
  pthread_t th[4];
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, counter, NULL);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  printf("4 threads x 500: count %ld, mutex word %s\n", count, word(*(uint32_t *)&m));

  showw("main lock", fx(&lk, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), &lk);
  struct res res;
  pthread_t t;
  pthread_create(&t, NULL, locker, &res);
  while (__atomic_load_n(&sh->ctl, __ATOMIC_SEQ_CST) != 1) usleep(1000);
  wait_thread_asleep(&tid_of[0]);
  showw("main lock again", fx(&lk, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), &lk);
  show("main unlock", fx(&lk, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  pthread_join(t, NULL);
  printf("thread lock: %ld %s, saw %s\n", res.r, res.r < 0 ? fename(res.e) : "", word(res.seen));
  showw("after", 0, &lk);

  pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&rm, &at);
  pthread_t a, b;
  int got = -1;
  pthread_create(&a, NULL, dies_holding, NULL);
  while (__atomic_load_n(&sh->ctl, __ATOMIC_SEQ_CST) != 2) usleep(1000);
  tid_of[0] = 0;
  pthread_create(&b, NULL, robust_waiter, &got);
  usleep(50000);
  __atomic_store_n(&sh->ctl, 3, __ATOMIC_SEQ_CST);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("waiting thread after the owner thread exited: %s\n", fename(got));
  printf("lock after: %s\n", fename(pthread_mutex_lock(&rm)));
  pthread_mutex_unlock(&rm);

  long wr = -2;
  words[0] = 1, words[1] = 2, words[2] = 3;
  pthread_create(&t, NULL, waitv_thread, &wr);
  wait_thread_asleep(&tid_of[1]);
  show("wake word 2 (private)", fx(&words[2], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  pthread_join(t, NULL);
  printf("futex_waitv in the thread: %ld\n", wr);
  printf("done\n");
  return 0;
}
