/* futexpi.h: helpers of the PI futex and futex_waitv test programs
 * (futexpi.c, futexrqpi.c, futexwaitv.c): raw futex calls on words in
 * MAP_SHARED memory that forked processes share, futex words printed with
 * owner names instead of tids (native and sandboxed tids differ), and a wait
 * for a process to be asleep. */
#ifndef TSVISOR_TEST_FUTEXPI_H
#define TSVISOR_TEST_FUTEXPI_H

#define _GNU_SOURCE
#include "common.h"
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

/* Shared by every process of the test: who is who, and results children report. */
struct shared {
  pid_t tid[16];
  char name[16][8];
  int ntid;
  uint32_t ctl;
  long res[16];
  uint32_t seen[16];
  long count;
};
static struct shared *sh;

static inline long fx(uint32_t *u, int op, long val, const void *ts, uint32_t *u2, uint32_t val3) {
  return syscall(SYS_futex, u, op, val, ts, u2, val3);
}

static inline void shared_init(void) {
  sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) DIE("mmap");
}

/* Record the calling process under name (before it takes part in a test). */
static inline void iam(const char *name) {
  pid_t me = syscall(SYS_gettid);
  for (int i = 0; i < sh->ntid; i++)
    if (sh->tid[i] == me) {
      snprintf(sh->name[i], sizeof sh->name[i], "%s", name);
      return;
    }
  int i = __atomic_fetch_add(&sh->ntid, 1, __ATOMIC_SEQ_CST);
  snprintf(sh->name[i], sizeof sh->name[i], "%s", name);
  sh->tid[i] = me;
}

/* A futex word as "owner|WAITERS|OWNER_DIED" with the owner's name. */
static inline const char *word(uint32_t v) {
  static char buf[96];
  uint32_t tid = v & FUTEX_TID_MASK;
  const char *who = NULL;
  char num[16];
  for (int i = 0; i < sh->ntid; i++)
    if ((uint32_t)sh->tid[i] == tid) who = sh->name[i];
  if (!who) {
    snprintf(num, sizeof num, tid > 0x3fff0000 ? "0x%x" : tid ? "tid?" : "0", tid);
    who = num;
  }
  snprintf(buf, sizeof buf, "%s%s%s", who, v & FUTEX_WAITERS ? "|WAITERS" : "", v & FUTEX_OWNER_DIED ? "|OWNER_DIED" : "");
  return buf;
}

/* ename and the errnos of these calls it does not know. */
static inline const char *fename(int e) {
  switch (e) {
  case EDEADLK: return "EDEADLK";
  case ETIMEDOUT: return "ETIMEDOUT";
  case EOWNERDEAD: return "EOWNERDEAD";
  case ENOTRECOVERABLE: return "ENOTRECOVERABLE";
  default: return ename(e);
  }
}

static inline void show(const char *label, long r) {
  int e = errno;
  printf("%s: %ld%s%s\n", label, r, r < 0 ? " " : "", r < 0 ? fename(e) : "");
}

static inline void showw(const char *label, long r, uint32_t *w) {
  int e = errno;
  printf("%s: %ld%s%s, word %s\n", label, r, r < 0 ? " " : "", r < 0 ? fename(e) : "", word(*w));
}

/* Wait until process p sleeps (state S in /proc/p/stat). */
static inline void wait_asleep(pid_t p) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", p);
  for (int i = 0; i < 5000; i++) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *c = strrchr(buf, ')');
    if (c && c[2] == 'S') return;
    usleep(1000);
  }
  printf("FATAL: %d never slept\n", p);
  exit(98);
}

/* An absolute time ms milliseconds from now on clock c. */
static inline struct timespec in_ms(clockid_t c, long ms) {
  struct timespec ts;
  clock_gettime(c, &ts);
  ts.tv_nsec += ms * 1000000L;
  ts.tv_sec += ts.tv_nsec / 1000000000L;
  ts.tv_nsec %= 1000000000L;
  return ts;
}

static inline int exit_code(pid_t p) {
  int st;
  if (waitpid(p, &st, 0) != p) DIE("waitpid");
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif
