/* futexrqpi: a PI condition variable between processes. FUTEX_WAIT_REQUEUE_PI
 * waiters on a condition word are moved by FUTEX_CMP_REQUEUE_PI to a PI mutex
 * word: the top waiter takes a free mutex at once, the others queue on it and
 * get it in turn from the unlocks. The argument errnos of both calls, EDEADLK
 * for a waiter that owns the mutex, a waiter expecting another mutex (EINVAL),
 * timeouts before and after the requeue, signals before the requeue (the wait
 * restarts) and after it (EAGAIN), and a signal in LOCK_PI (it restarts). */
#include "futexpi.h"
#include <limits.h>

static uint32_t *c, *m, *m2;
static volatile int handled;

static void on_usr1(int s) {
  (void)s;
  handled++;
}

/* A condition waiter: lock m, read the condition, unlock, wait for a requeue to m. */
static pid_t cwaiter(const char *name, int slot, long timeout_ms, int keep_mutex, uint32_t *target) {
  pid_t p = xfork();
  if (p) return p;
  iam(name);
  handled = 0;
  if (fx(m, FUTEX_LOCK_PI, 0, NULL, NULL, 0)) _exit(20 + errno);
  uint32_t seq = *c;
  if (!keep_mutex && fx(m, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)) _exit(40 + errno);
  struct timespec ts = in_ms(CLOCK_MONOTONIC, timeout_ms);
  long r = fx(c, FUTEX_WAIT_REQUEUE_PI, seq, timeout_ms ? &ts : NULL, target, 0);
  sh->res[slot] = r < 0 ? -errno : r;
  sh->seen[slot] = *m;
  if (r == 0 || keep_mutex) {
    sh->count++;
    if (fx(m, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)) _exit(60 + errno);
  }
  _exit(handled);
}

static void report(const char *name, int slot, pid_t p) {
  int code = exit_code(p);
  long r = sh->res[slot];
  printf("%s: wait %ld%s%s, saw mutex %s, exit %d\n", name, r < 0 ? -1 : r, r < 0 ? " " : "", r < 0 ? fename(-r) : "", word(sh->seen[slot]), code);
}

static long requeue_pi(uint32_t *from, int nwake, long nmove, uint32_t *to, uint32_t val) {
  return fx(from, FUTEX_CMP_REQUEUE_PI, nwake, (void *)nmove, to, val);
}

static void errnos(void) {
  *c = 5;
  *m = 0;
  struct timespec ts = in_ms(CLOCK_MONOTONIC, 20);
  show("wait_requeue_pi same words", fx(c, FUTEX_WAIT_REQUEUE_PI, 5, NULL, c, 0));
  show("wait_requeue_pi value differs", fx(c, FUTEX_WAIT_REQUEUE_PI, 6, NULL, m, 0));
  show("wait_requeue_pi timeout", fx(c, FUTEX_WAIT_REQUEUE_PI, 5, &ts, m, 0));
  ts = in_ms(CLOCK_REALTIME, 20);
  show("wait_requeue_pi | CLOCK_REALTIME timeout", fx(c, FUTEX_WAIT_REQUEUE_PI | FUTEX_CLOCK_REALTIME, 5, &ts, m, 0));
  show("wait_requeue_pi misaligned mutex", fx(c, FUTEX_WAIT_REQUEUE_PI, 5, NULL, (uint32_t *)((char *)m + 1), 0));
  show("wait_requeue_pi NULL mutex", fx(c, FUTEX_WAIT_REQUEUE_PI, 5, NULL, NULL, 0));
  show("wait_requeue_pi misaligned cond", fx((uint32_t *)((char *)c + 2), FUTEX_WAIT_REQUEUE_PI, 5, NULL, m, 0));
  struct timespec bad = {-1, 0};
  show("wait_requeue_pi bad timespec", fx(c, FUTEX_WAIT_REQUEUE_PI, 5, &bad, m, 0));
  show("cmp_requeue_pi nr_wake 0", requeue_pi(c, 0, 1, m, 5));
  show("cmp_requeue_pi nr_wake 2", requeue_pi(c, 2, 1, m, 5));
  show("cmp_requeue_pi same words", requeue_pi(c, 1, 1, c, 5));
  show("cmp_requeue_pi nr_requeue -1", requeue_pi(c, 1, -1, m, 5));
  show("cmp_requeue_pi value differs", requeue_pi(c, 1, 1, m, 6));
  show("cmp_requeue_pi | CLOCK_REALTIME", fx(c, FUTEX_CMP_REQUEUE_PI | FUTEX_CLOCK_REALTIME, 1, (void *)1, m, 5));
  show("cmp_requeue_pi misaligned mutex", requeue_pi(c, 1, 1, (uint32_t *)((char *)m + 2), 5));
  show("cmp_requeue_pi no waiters", requeue_pi(c, 1, 1, m, 5));
  showw("mutex after", 0, m);
}

static void broadcast(void) {
  *c = 0;
  *m = 0;
  sh->count = 0;
  pid_t p[3];
  const char *names[] = {"W1", "W2", "W3"};
  for (int i = 0; i < 3; i++) {
    p[i] = cwaiter(names[i], i, 0, 0, m);
    wait_asleep(p[i]);
  }
  show("FUTEX_WAKE on the condition", fx(c, FUTEX_WAKE, 1, NULL, NULL, 0));
  show("FUTEX_CMP_REQUEUE on the condition", fx(c, FUTEX_CMP_REQUEUE, 1, (void *)1, m2, 0));
  (*c)++;
  show("broadcast (mutex free)", requeue_pi(c, 1, INT_MAX, m, *c));
  for (int i = 0; i < 3; i++) report(names[i], i, p[i]);
  printf("count %ld\n", sh->count);
  showw("mutex after", 0, m);

  /* Signal one at a time while the mutex is held. */
  sh->count = 0;
  for (int i = 0; i < 2; i++) {
    p[i] = cwaiter(names[i], i, 0, 0, m);
    wait_asleep(p[i]);
  }
  showw("lock", fx(m, FUTEX_LOCK_PI, 0, NULL, NULL, 0), m);
  (*c)++;
  showw("signal (mutex held)", requeue_pi(c, 1, 0, m, *c), m);
  showw("signal again (mutex held)", requeue_pi(c, 1, 0, m, *c), m);
  /* (The word is W1's now, but W1 may have run and unlocked already: its report shows what it saw.) */
  show("unlock", fx(m, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
  report(names[0], 0, p[0]);
  report(names[1], 1, p[1]);
  showw("mutex after", 0, m);
  p[0] = cwaiter(names[0], 0, 0, 0, m);
  wait_asleep(p[0]);
  (*c)++;
  show("signal (mutex free, nr_requeue 0)", requeue_pi(c, 1, 0, m, *c));
  report(names[0], 0, p[0]);
  showw("mutex after", 0, m);
}

static void edges(void) {
  /* The waiter owns the mutex it waits to be requeued to. */
  *c = 0;
  *m = 0;
  pid_t x = cwaiter("X", 0, 200, 1, m);
  wait_asleep(x);
  showw("requeue to a mutex the waiter owns", requeue_pi(c, 1, 1, m, *c), m);
  report("X", 0, x);
  showw("mutex after", 0, m);

  /* The waiter expects another mutex. */
  x = cwaiter("X", 0, 100, 0, m);
  wait_asleep(x);
  show("requeue to another mutex", requeue_pi(c, 1, 1, m2, *c));
  report("X", 0, x);

  /* Timeout after the requeue. */
  x = cwaiter("X", 0, 100, 0, m);
  wait_asleep(x);
  fx(m, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
  (*c)++;
  showw("requeue behind our lock", requeue_pi(c, 1, 1, m, *c), m);
  report("X", 0, x);
  showw("unlock", fx(m, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), m);

  /* A signal before the requeue: the wait restarts; after it: EAGAIN. */
  x = cwaiter("X", 0, 0, 0, m);
  wait_asleep(x);
  kill(x, SIGUSR1);
  usleep(20000);
  wait_asleep(x);
  (*c)++;
  show("requeue after a signal", requeue_pi(c, 1, 1, m, *c));
  report("X", 0, x);
  x = cwaiter("X", 0, 0, 0, m);
  wait_asleep(x);
  fx(m, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
  (*c)++;
  show("requeue behind our lock", requeue_pi(c, 1, 1, m, *c));
  kill(x, SIGUSR1);
  report("X", 0, x);
  showw("unlock", fx(m, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), m);

  /* A signal in LOCK_PI: the handler runs and the lock goes on (no SA_RESTART needed). */
  fx(m, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
  pid_t z = xfork();
  if (z == 0) {
    iam("Z");
    long r = fx(m, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    sh->res[0] = r < 0 ? -errno : r;
    sh->seen[0] = *m;
    if (r == 0) fx(m, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    _exit(handled);
  }
  wait_asleep(z);
  kill(z, SIGUSR1);
  usleep(20000);
  wait_asleep(z);
  show("unlock", fx(m, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
  report("Z (exit: signals handled)", 0, z);
  showw("mutex after", 0, m);
}

int main(void) {
  line_buffered();
  shared_init();
  iam("P");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  uint32_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  c = page;
  m = page + 16;
  m2 = page + 32;
  errnos();
  broadcast();
  edges();
  printf("done\n");
  return 0;
}
