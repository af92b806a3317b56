/* futexwaitv: futex_waitv(2) on several words shared by processes: the index
 * of the one woken, a value that differs (EAGAIN), timeouts on both clocks,
 * a signal (EINTR without SA_RESTART; with it the call restarts), and the
 * argument checks (flags, counts, the vector, its entries' flags, reserved
 * field and values, clock ids, timespecs, addresses). */
#include "futexpi.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

struct waitv {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};
#define F32 2u
#define FPRIV 128u

static uint32_t *words;
static struct waitv *vec; /* room for 129 entries */
static volatile int handled;

static void on_alrm(int s) {
  (void)s;
  handled++;
}

static long waitv(struct waitv *v, unsigned n, unsigned flags, const void *ts, int clk) {
  return syscall(SYS_futex_waitv, v, n, flags, ts, clk);
}

static void fill(int n, uint32_t flags) {
  for (int i = 0; i < n; i++) {
    vec[i].val = words[i];
    vec[i].uaddr = (uintptr_t)&words[i];
    vec[i].flags = flags;
    vec[i].reserved = 0;
  }
}

/* A wait that a waker ends; bounded so that a lost wake fails the run
 * (ETIMEDOUT in the output) instead of hanging it. */
static long waitv_woken(unsigned n) {
  struct timespec ts = in_ms(CLOCK_MONOTONIC, 20000);
  return waitv(vec, n, 0, &ts, CLOCK_MONOTONIC);
}

/* Wake up to n waiters on w once the parent sleeps. Sleeping is seen in
 * /proc, which cannot tell futex_waitv from another sleep, so a wake that
 * found nobody is retried rather than lost (a lost wake hung a CI run). */
static int wake_parent(pid_t parent, uint32_t *w, int n) {
  wait_asleep(parent);
  for (int tries = 0; tries < 5000; tries++) {
    long r = fx(w, FUTEX_WAKE, n, NULL, NULL, 0);
    if (r != 0) return (int)r;
    usleep(1000);
  }
  return 0;
}

/* A child that wakes word i (n times) once the parent waits. */
static pid_t waker(pid_t parent, int i, int n) {
  pid_t p = xfork();
  if (p) return p;
  _exit(wake_parent(parent, &words[i], n));
}

static void args(void) {
  struct timespec ts = in_ms(CLOCK_MONOTONIC, 10);
  fill(3, F32);
  show("flags 1", waitv(vec, 3, 1, &ts, CLOCK_MONOTONIC));
  show("nr 0", waitv(vec, 0, 0, &ts, CLOCK_MONOTONIC));
  show("nr 129", waitv(vec, 129, 0, &ts, CLOCK_MONOTONIC));
  show("nr 0xffffffff", waitv(vec, 0xffffffffu, 0, &ts, CLOCK_MONOTONIC));
  show("NULL vector", waitv(NULL, 3, 0, &ts, CLOCK_MONOTONIC));
  show("vector at 8", waitv((void *)8, 3, 0, &ts, CLOCK_MONOTONIC));
  show("clock 2", waitv(vec, 3, 0, &ts, CLOCK_PROCESS_CPUTIME_ID));
  show("clock -1", waitv(vec, 3, 0, &ts, -1));
  show("timespec at 8", waitv(vec, 3, 0, (void *)8, CLOCK_MONOTONIC));
  struct timespec bad = {0, -1};
  show("bad timespec", waitv(vec, 3, 0, &bad, CLOCK_MONOTONIC));
  fill(3, F32);
  vec[1].flags = 0;
  show("entry without FUTEX_32", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  vec[1].flags = 3;
  show("entry FUTEX_64", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  vec[1].flags = 1;
  show("entry FUTEX_16", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  vec[1].flags = F32 | 0x40;
  show("entry unknown flag", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  vec[1].flags = F32 | 0x100;
  show("entry FUTEX_CLOCK_REALTIME", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  vec[1].flags = F32;
  vec[1].reserved = 1;
  show("entry reserved 1", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  vec[1].reserved = 0;
  vec[1].val = 1ull << 32;
  show("entry value past 32 bits", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  fill(3, F32);
  vec[2].uaddr += 2;
  show("entry misaligned", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  vec[2].uaddr = 8;
  show("entry unmapped", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  vec[2].flags = F32 | FPRIV;
  show("entry unmapped, private", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  vec[2].uaddr = 1ull << 60;
  show("entry past user memory", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  fill(3, F32);
  vec[1].val = words[1] + 1;
  vec[2].uaddr = 8;
  vec[2].flags = F32 | FPRIV;
  show("value differs before an unmapped private entry", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  fill(3, F32);
  vec[0].val = words[0] + 1;
  show("value differs", waitv(vec, 3, 0, NULL, 0));
  fill(3, F32);
  vec[2].uaddr = (uintptr_t)vec;
  vec[2].val = 1;
  show("value differs (last)", waitv(vec, 3, 0, NULL, 0));
}

static void waits(void) {
  pid_t me = getpid();
  fill(3, F32);
  struct timespec ts = in_ms(CLOCK_MONOTONIC, 30);
  show("timeout, monotonic", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  ts = in_ms(CLOCK_REALTIME, 30);
  show("timeout, realtime", waitv(vec, 3, 0, &ts, CLOCK_REALTIME));
  struct timespec past = {0, 0};
  show("timeout passed", waitv(vec, 3, 0, &past, CLOCK_MONOTONIC));
  for (int i = 0; i < 3; i++) {
    pid_t k = waker(me, i, 1);
    long r = waitv_woken(3);
    printf("woken at word %d: %ld, waker woke %d\n", i, r, exit_code(k));
  }
  /* The same word twice: one wake takes the first entry, two take both (the last index is returned). */
  fill(3, F32);
  vec[2] = vec[1];
  pid_t k = waker(me, 1, 1);
  long r = waitv_woken(3);
  printf("same word twice, wake 1: %ld, waker woke %d\n", r, exit_code(k));
  k = waker(me, 1, 2);
  r = waitv_woken(3);
  printf("same word twice, wake 2: %ld, waker woke %d\n", r, exit_code(k));
  /* Private entries: the words are shared memory, so only a private wake in this process would find them. */
  fill(3, F32 | FPRIV);
  ts = in_ms(CLOCK_MONOTONIC, 30);
  show("private entries, timeout", waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC));
  /* 128 entries, the last woken. */
  uint32_t *many = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  for (int i = 0; i < 128; i++) {
    vec[i].val = 0;
    vec[i].uaddr = (uintptr_t)&many[i];
    vec[i].flags = F32;
    vec[i].reserved = 0;
  }
  k = xfork();
  if (k == 0) {
    _exit(wake_parent(me, &many[127], 1));
  }
  r = waitv_woken(128);
  printf("128 entries, last woken: %ld, waker woke %d\n", r, exit_code(k));

  /* Signals. */
  fill(3, F32);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alrm;
  sigaction(SIGALRM, &sa, NULL);
  ualarm(20000, 0);
  ts = in_ms(CLOCK_MONOTONIC, 2000);
  r = waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC);
  printf("signal, no SA_RESTART: %ld %s, handled %d\n", r, r < 0 ? fename(errno) : "", handled);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  ualarm(20000, 0);
  ts = in_ms(CLOCK_MONOTONIC, 80);
  r = waitv(vec, 3, 0, &ts, CLOCK_MONOTONIC);
  printf("signal, SA_RESTART, then timeout: %ld %s, handled %d\n", r, r < 0 ? fename(errno) : "", handled);
}

int main(void) {
  line_buffered();
  shared_init();
  iam("P");
  words = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  vec = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  words[0] = 7;
  words[1] = 0xfffffffe;
  words[2] = 0;
  args();
  waits();
  printf("done\n");
  return 0;
}
