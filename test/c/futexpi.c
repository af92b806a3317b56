/* futexpi: PI futexes between processes sharing memory. LOCK_PI, LOCK_PI2,
 * TRYLOCK_PI and UNLOCK_PI on a free word, on one's own (EDEADLK), on one
 * another owns (EPERM to unlock, EAGAIN to trylock, timeouts on both clocks),
 * on a tid nobody has (ESRCH); the word's FUTEX_WAITERS bit; the hand-over of
 * the lock to the waiters in turn on unlock; a plain waiter and a PI waiter on
 * one word (EINVAL); a dying owner's lock going to a waiter with OWNER_DIED,
 * through its robust list or not; and a PTHREAD_PRIO_INHERIT robust pshared
 * mutex contended by 4 processes. */
#include "futexpi.h"
#include <pthread.h>
#include <sched.h>

static uint32_t *w;

struct robust_ent {
  struct robust_ent *next;
  uint32_t word;
};

/* A holder: takes the PI lock at lk (raw), optionally on its robust list,
 * then waits for a command: 1 unlock and exit, 2 exit holding it. */
static pid_t holder(const char *name, uint32_t *lk, int robust) {
  pid_t p = xfork();
  if (p) {
    while (__atomic_load_n(&sh->ctl, __ATOMIC_SEQ_CST) != 1) usleep(1000);
    return p;
  }
  static struct robust_list_head head;
  iam(name);
  if (robust) {
    head.list.next = (struct robust_list *)((uintptr_t)((char *)lk - 8) | 1);
    head.futex_offset = 8;
    head.list_op_pending = NULL;
    /* The entry's next pointer sits 8 bytes before the word: the word's page holds both. */
    *(void **)((char *)lk - 8) = &head;
    if (syscall(SYS_set_robust_list, &head, sizeof head)) DIE("set_robust_list");
  }
  long r = fx(lk, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
  if (r) DIE("holder lock");
  __atomic_store_n(&sh->ctl, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&sh->ctl, __ATOMIC_SEQ_CST) == 1) fx(&sh->ctl, FUTEX_WAIT, 1, NULL, NULL, 0);
  if (sh->ctl == 2) {
    r = fx(lk, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    _exit(r == 0 ? 0 : 10 + errno);
  }
  _exit(0);
}

static void command(int c) {
  __atomic_store_n(&sh->ctl, c, __ATOMIC_SEQ_CST);
  fx(&sh->ctl, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* A waiter: LOCK_PI on lk, records the result and the word it then sees, unlocks, exits. */
static pid_t waiter(const char *name, int slot, uint32_t *lk) {
  pid_t p = xfork();
  if (p) return p;
  iam(name);
  long r = fx(lk, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
  sh->res[slot] = r < 0 ? -errno : r;
  sh->seen[slot] = *lk;
  if (r == 0) {
    sh->count++;
    r = fx(lk, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    if (r) _exit(10 + errno);
  }
  _exit(0);
}

static void report(const char *name, int slot, pid_t p) {
  int code = exit_code(p);
  long r = sh->res[slot];
  printf("%s: lock %ld%s%s, saw %s, exit %d\n", name, r < 0 ? -1 : r, r < 0 ? " " : "", r < 0 ? fename(-r) : "", word(sh->seen[slot]), code);
}

static void basics(void) {
  *w = 0;
  showw("lock free", fx(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), w);
  showw("lock own", fx(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), w);
  showw("trylock own", fx(w, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0), w);
  showw("lock2 own", fx(w, FUTEX_LOCK_PI2, 0, NULL, NULL, 0), w);
  show("lock | CLOCK_REALTIME", fx(w, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0));
  show("trylock | CLOCK_REALTIME", fx(w, FUTEX_TRYLOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0));
  show("unlock | CLOCK_REALTIME", fx(w, FUTEX_UNLOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0));
  showw("unlock", fx(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), w);
  showw("unlock again", fx(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), w);
  showw("trylock free", fx(w, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0), w);
  showw("unlock private", fx(w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), w);
  showw("lock2 free", fx(w, FUTEX_LOCK_PI2, 0, NULL, NULL, 0), w);
  showw("unlock", fx(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), w);
  show("lock misaligned", fx((uint32_t *)((char *)w + 2), FUTEX_LOCK_PI, 0, NULL, NULL, 0));
  show("unlock misaligned", fx((uint32_t *)((char *)w + 2), FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
  show("lock NULL", fx(NULL, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
  show("trylock NULL", fx(NULL, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0));
  show("unlock NULL", fx(NULL, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
  show("lock private NULL", fx(NULL, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
  struct timespec bad = {0, 1000000000L};
  *w = 0;
  show("lock bad timespec", fx(w, FUTEX_LOCK_PI, 0, &bad, NULL, 0));
  show("lock timespec at 8", fx(w, FUTEX_LOCK_PI, 0, (void *)8, NULL, 0));
  show("lock | CLOCK_REALTIME, bad timespec", fx(w, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, &bad, NULL, 0));
  showw("word after", 0, w);
  *w = FUTEX_OWNER_DIED;
  showw("lock OWNER_DIED", fx(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), w);
  showw("unlock", fx(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), w);
  *w = FUTEX_WAITERS;
  showw("lock WAITERS, no owner", fx(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), w);
  *w |= FUTEX_WAITERS;
  showw("unlock with WAITERS, nobody waits", fx(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), w);
  *w = 0x3ffffff0;
  showw("lock, no such tid", fx(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), w);
  *w = 0x3ffffff0;
  showw("trylock, no such tid", fx(w, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0), w);
  showw("unlock, no such tid", fx(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), w);
  struct timespec soon = in_ms(CLOCK_REALTIME, 10);
  *w = 0x3ffffff0 | FUTEX_OWNER_DIED;
  showw("timed lock, no such tid, OWNER_DIED", fx(w, FUTEX_LOCK_PI, 0, &soon, NULL, 0), w);
  uint32_t *ro = mmap(NULL, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  show("lock read-only", fx(ro, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
  show("trylock read-only", fx(ro, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0));
  show("unlock read-only", fx(ro, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
  munmap(ro, 4096);
}

static void owned_by_other(void) {
  *w = 0;
  sh->ctl = 0;
  pid_t h = holder("H", w, 0);
  showw("held by H", 0, w);
  showw("unlock H's", fx(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), w);
  showw("trylock H's", fx(w, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0), w);
  struct timespec rt = in_ms(CLOCK_REALTIME, 30);
  showw("lock, realtime timeout", fx(w, FUTEX_LOCK_PI, 0, &rt, NULL, 0), w);
  struct timespec mono = in_ms(CLOCK_MONOTONIC, 30);
  showw("lock2, monotonic timeout", fx(w, FUTEX_LOCK_PI2, 0, &mono, NULL, 0), w);
  rt = in_ms(CLOCK_REALTIME, 30);
  showw("lock2 | CLOCK_REALTIME, realtime timeout", fx(w, FUTEX_LOCK_PI2 | FUTEX_CLOCK_REALTIME, 0, &rt, NULL, 0), w);
  struct timespec past = {1, 0};
  showw("lock, timeout passed", fx(w, FUTEX_LOCK_PI, 0, &past, NULL, 0), w);
  showw("wait on it (value differs)", fx(w, FUTEX_WAIT, 0, NULL, NULL, 0), w);

  /* Two PI waiters queue; the unlocks hand the lock on in order. */
  sh->count = 0;
  pid_t a = waiter("A", 0, w);
  wait_asleep(a);
  showw("A waits", 0, w);
  pid_t b = waiter("B", 1, w);
  wait_asleep(b);
  show("FUTEX_WAKE with PI waiters", fx(w, FUTEX_WAKE, 1, NULL, NULL, 0));
  show("FUTEX_REQUEUE with PI waiters", fx(w, FUTEX_REQUEUE, 0, (void *)1, &sh->ctl, 0));
  uint32_t saved = *w;
  *w = (uint32_t)getpid() | FUTEX_WAITERS;
  showw("unlock of a word faked to be ours", fx(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), w);
  *w = 0x3ffffff0 | FUTEX_WAITERS;
  showw("lock, word not the owner's", fx(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), w);
  *w = saved;
  command(2);
  printf("H unlocked: exit %d\n", exit_code(h));
  report("A", 0, a);
  report("B", 1, b);
  showw("after both", 0, w);
  printf("count %ld\n", sh->count);

  /* A plain waiter first: a PI lock on the word is EINVAL. */
  *w = 0;
  sh->ctl = 0;
  h = holder("H", w, 0);
  pid_t p = xfork();
  if (p == 0) {
    long r = fx(w, FUTEX_WAIT, *w, NULL, NULL, 0);
    _exit(r == 0 ? 0 : 10 + errno);
  }
  wait_asleep(p);
  showw("lock with a plain waiter queued", fx(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0), w);
  showw("trylock with a plain waiter queued", fx(w, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0), w);
  show("wake the plain waiter", fx(w, FUTEX_WAKE, 1, NULL, NULL, 0));
  printf("plain waiter: exit %d\n", exit_code(p));
  command(2);
  printf("H: exit %d\n", exit_code(h));
  showw("after", 0, w);
}

static void owner_died(void) {
  uint32_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  uint32_t *lk = page + 4; /* room for the robust entry's next pointer before it */
  for (int robust = 0; robust < 2; robust++) {
    const char *how = robust ? "robust" : "no robust list";
    *lk = 0;
    sh->ctl = 0;
    pid_t h = holder("D", lk, robust);
    pid_t a = waiter("A", 0, lk);
    wait_asleep(a);
    command(3);
    printf("%s: D exits holding it: exit %d\n", how, exit_code(h));
    report("A", 0, a);
    showw("after", 0, lk);

    /* Nobody waits when the owner dies. */
    *lk = 0;
    sh->ctl = 0;
    h = holder("D", lk, robust);
    command(3);
    printf("%s, no waiter: exit %d\n", how, exit_code(h));
    showw("word", 0, lk);
    showw("lock", fx(lk, FUTEX_LOCK_PI, 0, NULL, NULL, 0), lk);
    if ((*lk & FUTEX_TID_MASK) == (uint32_t)getpid()) showw("unlock", fx(lk, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), lk);
  }
  munmap(page, 4096);
}

/* Two processes, two locks, each waiting for the other's: EDEADLK to the second. */
static void deadlock(void) {
  uint32_t *l1 = w, *l2 = w + 8;
  *l1 = *l2 = 0;
  showw("lock L1", fx(l1, FUTEX_LOCK_PI, 0, NULL, NULL, 0), l1);
  sh->ctl = 0;
  pid_t b = xfork();
  if (b == 0) {
    iam("B");
    if (fx(l2, FUTEX_LOCK_PI, 0, NULL, NULL, 0)) _exit(20 + errno);
    __atomic_store_n(&sh->ctl, 1, __ATOMIC_SEQ_CST);
    long r = fx(l1, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    sh->res[0] = r < 0 ? -errno : r;
    sh->seen[0] = *l1;
    fx(l1, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    fx(l2, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    _exit(0);
  }
  while (__atomic_load_n(&sh->ctl, __ATOMIC_SEQ_CST) != 1) usleep(1000);
  wait_asleep(b);
  showw("lock L2, whose owner waits for our L1", fx(l2, FUTEX_LOCK_PI, 0, NULL, NULL, 0), l2);
  struct timespec ts = in_ms(CLOCK_MONOTONIC, 10);
  showw("timed lock2 of L2", fx(l2, FUTEX_LOCK_PI2, 0, &ts, NULL, 0), l2);
  showw("trylock L2", fx(l2, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0), l2);
  show("unlock L1", fx(l1, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
  report("B", 0, b);
  printf("L1 %s, ", word(*l1));
  printf("L2 %s\n", word(*l2));
}

/* glibc's robust PI pshared mutex: EOWNERDEAD to the next locker, then 4 processes count under it. */
static void glibc_mutex(void) {
  pthread_mutex_t *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pthread_mutexattr_t at;
  pthread_mutexattr_init(&at);
  pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_INHERIT);
  pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(m, &at);
  pid_t p = xfork();
  if (p == 0) {
    pthread_mutex_lock(m);
    _exit(0);
  }
  exit_code(p);
  int r = pthread_mutex_lock(m);
  printf("pthread lock after owner died: %s\n", fename(r));
  int c = pthread_mutex_consistent(m);
  int u = pthread_mutex_unlock(m);
  printf("consistent %s, unlock %s\n", fename(c), fename(u));
  /* Now a waiter blocks while the owner dies. */
  sh->ctl = 0;
  pid_t o = xfork();
  if (o == 0) {
    pthread_mutex_lock(m);
    __atomic_store_n(&sh->ctl, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&sh->ctl, __ATOMIC_SEQ_CST) == 1) fx(&sh->ctl, FUTEX_WAIT, 1, NULL, NULL, 0);
    _exit(0);
  }
  while (__atomic_load_n(&sh->ctl, __ATOMIC_SEQ_CST) != 1) usleep(1000);
  p = xfork();
  if (p == 0) {
    r = pthread_mutex_lock(m);
    if (r == EOWNERDEAD) pthread_mutex_consistent(m);
    pthread_mutex_unlock(m);
    _exit(r == EOWNERDEAD ? 1 : 2 + r);
  }
  wait_asleep(p);
  command(3);
  printf("owner exit %d, waiter exit %d (1: EOWNERDEAD)\n", exit_code(o), exit_code(p));
  r = pthread_mutex_lock(m);
  printf("lock after: %s\n", fename(r));
  pthread_mutex_unlock(m);

  sh->count = 0;
  enum { PROCS = 4, ROUNDS = 400 };
  pid_t kids[PROCS];
  for (int i = 0; i < PROCS; i++) {
    kids[i] = xfork();
    if (kids[i] == 0) {
      for (int j = 0; j < ROUNDS; j++) {
        if (pthread_mutex_lock(m)) _exit(3);
        long c = sh->count;
        if (j % 8 == 0) sched_yield();
        sh->count = c + 1;
        if (pthread_mutex_unlock(m)) _exit(4);
      }
      _exit(0);
    }
  }
  int bad = 0;
  for (int i = 0; i < PROCS; i++) bad += exit_code(kids[i]) != 0;
  printf("4 processes x %d rounds: count %ld, failures %d\n", ROUNDS, sh->count, bad);
  printf("mutex word after: %s\n", word(*(uint32_t *)m));
}

int main(void) {
  line_buffered();
  shared_init();
  iam("P");
  w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  basics();
  owned_by_other();
  owner_died();
  deadlock();
  glibc_mutex();
  printf("done\n");
  return 0;
}
