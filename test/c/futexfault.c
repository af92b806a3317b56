/* futexfault: how futex(2) checks its addresses and counts, compared with
 * Linux: a shared (non-private) futex word must be readable memory (EFAULT
 * for a hole, PROT_NONE); a private one is not looked
 * at by FUTEX_WAKE/REQUEUE (no waiter can be there); negative requeue
 * counts are EINVAL before anything else; a misaligned word is EINVAL
 * (LTP futex_wake05, futex_cmp_requeue02/03). */
#define _GNU_SOURCE
#include "common.h"
#include <linux/futex.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static long fx(void *u, int op, long val, long val2, void *u2, long val3) {
  errno = 0;
  return syscall(SYS_futex, u, op, val, val2, u2, val3);
}

static void show(const char *what, long r) { printf("%-40s %ld %s\n", what, r, r < 0 ? ename(errno) : ""); }

int main(void) {
  long pg = sysconf(_SC_PAGESIZE);
  int *ok = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int *shared = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  char *hole = mmap(NULL, 3 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(hole + pg, pg); /* a hole with mappings on both sides */
  int *gap = (int *)(hole + pg);
  int *none = (int *)hole;
  const struct { const char *name; int *addr; } where[] = {{"mapped", ok}, {"hole", gap}, {"PROT_NONE", none}, {"shared mapping", shared}};
  char what[64];
  for (int i = 0; i < 4; i++) {
    snprintf(what, sizeof what, "WAKE shared %s", where[i].name);
    show(what, fx(where[i].addr, FUTEX_WAKE, 1, 0, NULL, 0));
    snprintf(what, sizeof what, "WAKE private %s", where[i].name);
    show(what, fx(where[i].addr, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0));
    snprintf(what, sizeof what, "CMP_REQUEUE shared to %s", where[i].name);
    show(what, fx(ok, FUTEX_CMP_REQUEUE, 1, 1, where[i].addr, 0));
    snprintf(what, sizeof what, "REQUEUE private to %s", where[i].name);
    show(what, fx(ok, FUTEX_REQUEUE_PRIVATE, 1, 1, where[i].addr, 0));
    snprintf(what, sizeof what, "WAIT private %s", where[i].name);
    show(what, fx(where[i].addr, FUTEX_WAIT_PRIVATE, 1, 0, NULL, 0));
  }
  show("CMP_REQUEUE nr_wake -1", fx(ok, FUTEX_CMP_REQUEUE, -1, 1, ok + 1, 0));
  show("CMP_REQUEUE nr_requeue -1", fx(ok, FUTEX_CMP_REQUEUE, 1, -1, ok + 1, 0));
  show("CMP_REQUEUE -1 and value mismatch", fx(ok, FUTEX_CMP_REQUEUE, 1, -1, ok + 1, 5));
  show("REQUEUE nr_requeue -1", fx(ok, FUTEX_REQUEUE, 1, -1, ok + 1, 0));
  show("CMP_REQUEUE value mismatch", fx(ok, FUTEX_CMP_REQUEUE, 1, 1, ok + 1, 5));
  show("CMP_REQUEUE same word", fx(ok, FUTEX_CMP_REQUEUE, 1, 1, ok, 0));
  show("WAKE misaligned", fx((char *)ok + 1, FUTEX_WAKE, 1, 0, NULL, 0));
  show("WAKE private misaligned", fx((char *)ok + 1, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0));
  show("WAKE kernel address", fx((void *)0xffffffffff600000UL, FUTEX_WAKE, 1, 0, NULL, 0));
  show("WAKE private kernel address", fx((void *)0xffff800000000000UL, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0));
  printf("done\n");
  return 0;
}
