/* futex2: the futex2 calls of Linux 6.7 (futex_wake, futex_wait,
 * futex_requeue): their argument checks in Linux's order (flags, sizes,
 * values and masks wider than 32 bits, zero masks, clock ids, the requeue
 * vector), a count of 0 that wakes none, masks that choose which waiter a
 * wake reaches, timeouts on both clocks, and a requeue of two waiters,
 * private and shared, between threads. */
#define _GNU_SOURCE
#include "common.h"
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define NR_WAKE 454
#define NR_WAIT 455
#define NR_REQUEUE 456
#define U8 0u
#define U32 2u
#define U64 3u
#define PRIV 128u

struct waitv { uint64_t val, uaddr; uint32_t flags, reserved; };

static uint32_t *a, *b;

static long fwake(void *u, unsigned long mask, int nr, unsigned flags) { return syscall(NR_WAKE, u, mask, nr, flags); }
static long fwait(void *u, unsigned long val, unsigned long mask, unsigned flags, void *ts, int clk) {
  return syscall(NR_WAIT, u, val, mask, flags, ts, clk);
}
static long frequeue(struct waitv *w, unsigned flags, int nw, int nr) { return syscall(NR_REQUEUE, w, flags, nw, nr); }

static void res(const char *what, long r) { printf("%-40s %ld %s\n", what, r, r < 0 ? ename(errno) : ""); }

struct waiter { uint32_t *w; unsigned long mask; unsigned flags; long r; int e; volatile pid_t tid; };

static void *waiter(void *p) {
  struct waiter *x = p;
  x->tid = syscall(SYS_gettid);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += 20;
  x->r = fwait(x->w, 0, x->mask, x->flags, &ts, CLOCK_MONOTONIC);
  x->e = x->r < 0 ? errno : 0;
  return NULL;
}

/* Is thread tid asleep (state S in /proc)? It sleeps only in its futex wait. */
static int asleep(pid_t tid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' && p[2] == 'S';
}

/* Wake through f until it reaches a waiter (the waiter may not sleep yet), at most 5 s. */
static long wake_until(uint32_t *w, unsigned long mask, unsigned flags) {
  for (int i = 0; i < 5000; i++) {
    long r = fwake(w, mask, 1, flags);
    if (r != 0) return r;
    usleep(1000);
  }
  return 0;
}

int main(void) {
  a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) return 1;
  b = a + 16;
  *a = 0;
  *b = 0;
  struct timespec past = {0, 0}, badns = {0, 1000000000};

  res("wake: nobody", fwake(a, ~0u, 1, U32));
  res("wake: nr 0", fwake(a, ~0u, 0, U32));
  res("wake: nr -1", fwake(a, ~0u, -1, U32));
  res("wake: mask 0", fwake(a, 0, 1, U32));
  res("wake: mask past 32 bits", fwake(a, 1ul << 32, 1, U32));
  res("wake: size u8", fwake(a, 1, 1, U8));
  res("wake: size u64", fwake(a, 1, 1, U64));
  res("wake: unknown flag 0x100", fwake(a, 1, 1, U32 | 0x100));
  res("wake: unaligned", fwake((char *)a + 1, 1, 1, U32));
  res("wake: bad address", fwake((void *)8, 1, 1, U32));
  res("wake: bad address, private", fwake((void *)8, 1, 1, U32 | PRIV));
  res("wake: mask 0 and bad address", fwake((void *)8, 0, 1, U32));

  res("wait: value differs", fwait(a, 1, ~0u, U32, NULL, 0));
  res("wait: past deadline, monotonic", fwait(a, 0, ~0u, U32, &past, CLOCK_MONOTONIC));
  res("wait: past deadline, realtime", fwait(a, 0, ~0u, U32 | PRIV, &past, CLOCK_REALTIME));
  res("wait: clock boottime", fwait(a, 0, ~0u, U32, &past, CLOCK_BOOTTIME));
  res("wait: bad timespec", fwait(a, 0, ~0u, U32, &badns, CLOCK_MONOTONIC));
  res("wait: timespec fault", fwait(a, 0, ~0u, U32, (void *)8, CLOCK_MONOTONIC));
  res("wait: value past 32 bits", fwait(a, 1ul << 32, ~0u, U32, &past, CLOCK_MONOTONIC));
  res("wait: mask 0", fwait(a, 0, 0, U32, &past, CLOCK_MONOTONIC));
  res("wait: size u64", fwait(a, 0, ~0u, U64, &past, CLOCK_MONOTONIC));
  res("wait: bad address", fwait((void *)8, 0, ~0u, U32, &past, CLOCK_MONOTONIC));
  res("wait: unaligned", fwait((char *)a + 2, 0, ~0u, U32, &past, CLOCK_MONOTONIC));
  struct timespec soon;
  clock_gettime(CLOCK_MONOTONIC, &soon);
  soon.tv_nsec += 20000000;
  if (soon.tv_nsec >= 1000000000) { soon.tv_sec++; soon.tv_nsec -= 1000000000; }
  res("wait: 20 ms deadline", fwait(a, 0, ~0u, U32, &soon, CLOCK_MONOTONIC));

  /* Masks: a waiter on bit 0 is not woken by a wake of bit 1. */
  struct waiter w1 = {a, 1, U32, 0, 0, 0};
  pthread_t t1;
  pthread_create(&t1, NULL, waiter, &w1);
  for (int i = 0; i < 5000 && !(w1.tid && asleep(w1.tid)); i++) usleep(1000);
  res("wake mask 2 (waiter on mask 1)", fwake(a, 2, 1, U32));
  res("wake mask 3", wake_until(a, 3, U32));
  pthread_join(t1, NULL);
  printf("%-40s %ld %s\n", "waiter", w1.r, w1.r < 0 ? ename(w1.e) : "");

  /* A private waiter on shared memory is not found by a shared wake, and the other way. */
  struct waiter w2 = {a, ~0u, U32 | PRIV, 0, 0, 0};
  pthread_create(&t1, NULL, waiter, &w2);
  for (int i = 0; i < 5000 && !(w2.tid && asleep(w2.tid)); i++) usleep(1000);
  res("shared wake, private waiter", fwake(a, ~0u, 1, U32));
  res("private wake", wake_until(a, ~0u, U32 | PRIV));
  pthread_join(t1, NULL);

  /* Requeue: the argument checks, then two waiters on a: one woken, one moved to b. */
  struct waitv v[2] = {{0, (uintptr_t)a, U32, 0}, {0, (uintptr_t)b, U32, 0}};
  res("requeue: flags 1", frequeue(v, 1, 1, 1));
  res("requeue: NULL", frequeue(NULL, 0, 1, 1));
  res("requeue: vector fault", frequeue((void *)8, 0, 1, 1));
  v[1].reserved = 1;
  res("requeue: reserved", frequeue(v, 0, 1, 1));
  v[1].reserved = 0;
  v[0].flags = U64;
  res("requeue: size u64", frequeue(v, 0, 1, 1));
  v[0].flags = U32;
  v[0].val = 1ul << 32;
  res("requeue: value past 32 bits", frequeue(v, 0, 1, 1));
  v[0].val = 0;
  res("requeue: nr_wake -1", frequeue(v, 0, -1, 1));
  res("requeue: nr_requeue -1", frequeue(v, 0, 1, -1));
  v[0].val = 5;
  res("requeue: value differs", frequeue(v, 0, 1, 1));
  v[0].val = 0;
  v[1].uaddr = 8;
  res("requeue: bad second address", frequeue(v, 0, 1, 1));
  v[1].uaddr = (uintptr_t)b;
  res("requeue: nobody", frequeue(v, 0, 1, 1));
  struct waiter w3 = {a, ~0u, U32, 0, 0, 0}, w4 = {a, ~0u, U32, 0, 0, 0};
  pthread_t t3, t4;
  pthread_create(&t3, NULL, waiter, &w3);
  pthread_create(&t4, NULL, waiter, &w4);
  for (int i = 0; i < 5000 && !(w3.tid && w4.tid && asleep(w3.tid) && asleep(w4.tid)); i++) usleep(1000);
  long moved = frequeue(v, 0, 1, 1);
  printf("%-40s %ld\n", "requeue: woken + moved", moved);
  res("wake b: the moved one", wake_until(b, ~0u, U32));
  pthread_join(t3, NULL);
  pthread_join(t4, NULL);
  printf("%-40s %ld %ld\n", "waiters", w3.r, w4.r);
  printf("done\n");
  return 0;
}
