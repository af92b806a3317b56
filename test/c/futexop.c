/* futexop: FUTEX_WAKE_OP's encoded argument: every operation (SET, ADD, OR,
 * ANDN, XOR) with and without the shift flag (a shift past 31 is masked),
 * sign-extended 12-bit arguments, wrap-around, every comparison, invalid
 * operations (ENOSYS before the write) and comparisons (ENOSYS after it),
 * bad addresses; and whom it wakes, across processes sharing the words,
 * including the counts Linux rounds up to one. */
#define _GNU_SOURCE
#include "common.h"
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int *w1, *w2;

static long wake_op(int *u1, int n1, long n2, int *u2, unsigned op) {
  return syscall(SYS_futex, u1, FUTEX_WAKE_OP, n1, n2, u2, op);
}

static void show(const char *label, long r) {
  printf("%s: %ld %s\n", label, r, r < 0 ? ename(errno) : "");
}

static void try_op(const char *label, int start, unsigned op) {
  *w2 = start;
  long r = wake_op(w1, 1, 1, w2, op);
  printf("%-28s start %11d -> %11d: ret %ld %s\n", label, start, *w2, r, r < 0 ? ename(errno) : "");
}

/* A child that sleeps on word w until woken, then exits with code. */
static pid_t sleeper(int *w, int code) {
  pid_t p = fork();
  if (p == 0) {
    while (syscall(SYS_futex, w, FUTEX_WAIT, *w, NULL, NULL, 0) < 0 && errno == EINTR) {
    }
    _exit(code);
  }
  return p;
}

static void wait_asleep(pid_t p) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", p);
  for (int i = 0; i < 2000; i++) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *c = strrchr(buf, ')');
    if (c && c[2] == 'S') return;
    usleep(1000);
  }
}

static int reap_now(void) {
  int n = 0, st;
  usleep(100000);
  while (waitpid(-1, &st, WNOHANG) > 0) n++;
  return n;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  w1 = page;
  w2 = page + 16;
  try_op("SET 5", 7, FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0));
  try_op("ADD -3", 7, FUTEX_OP(FUTEX_OP_ADD, -3 & 0xfff, FUTEX_OP_CMP_EQ, 0));
  try_op("ADD wraps", INT32_MAX, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0));
  try_op("OR 0x30", 0x0f, FUTEX_OP(FUTEX_OP_OR, 0x30, FUTEX_OP_CMP_EQ, 0));
  try_op("ANDN 0x3", 0xff, FUTEX_OP(FUTEX_OP_ANDN, 0x3, FUTEX_OP_CMP_EQ, 0));
  try_op("XOR -1", 0x1234, FUTEX_OP(FUTEX_OP_XOR, 0xfff, FUTEX_OP_CMP_EQ, 0));
  try_op("SET 1<<4", 0, FUTEX_OP((FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT), 4, FUTEX_OP_CMP_EQ, 0));
  try_op("OR 1<<31", 1, FUTEX_OP((FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT), 31, FUTEX_OP_CMP_EQ, 0));
  try_op("SET 1<<(33&31)", 0, FUTEX_OP((FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT), 33, FUTEX_OP_CMP_EQ, 0));
  try_op("ADD 1<<(-1&31)", 0, FUTEX_OP((FUTEX_OP_ADD | FUTEX_OP_OPARG_SHIFT), 0xfff, FUTEX_OP_CMP_EQ, 0));
  try_op("op 5", 7, FUTEX_OP(5, 1, FUTEX_OP_CMP_EQ, 0));
  try_op("op 7", 7, FUTEX_OP(7, 1, FUTEX_OP_CMP_EQ, 0));
  try_op("cmp 6", 7, FUTEX_OP(FUTEX_OP_SET, 1, 6, 0));
  try_op("cmp 15", 7, FUTEX_OP(FUTEX_OP_SET, 2, 15, 0));
  *w2 = 0;
  show("misaligned uaddr2", wake_op(w1, 1, 1, (int *)((char *)w2 + 1), 0));
  int *ro = mmap(NULL, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  show("read-only uaddr2", wake_op(w1, 1, 1, ro, 0));
  show("unmapped uaddr2, bad op", wake_op(w1, 1, 1, (int *)8, FUTEX_OP(6, 0, 0, 0)));
  show("unmapped uaddr2", wake_op(w1, 1, 1, (int *)8, 0));
  show("misaligned uaddr1", wake_op((int *)((char *)w1 + 2), 1, 1, w2, 0));

  /* The comparisons, against the old value 10. */
  const char *names[] = {"EQ", "NE", "LT", "LE", "GT", "GE"};
  int args[] = {9, 10, 11, -2048};
  for (int c = 0; c < 6; c++) {
    printf("cmp %s:", names[c]);
    for (int i = 0; i < 4; i++) {
      *w1 = *w2 = 0;
      pid_t s = sleeper(w2, 0);
      wait_asleep(s);
      *w2 = 10;
      long r = wake_op(w1, 1, 1, w2, FUTEX_OP(FUTEX_OP_SET, 0, c, args[i] & 0xfff));
      if (r == 0) {
        *w2 = 0;
        syscall(SYS_futex, w2, FUTEX_WAKE, 1, NULL, NULL, 0);
      }
      waitpid(s, NULL, 0);
      printf(" %d:%ld", args[i], r);
    }
    printf("\n");
  }

  /* Whom it wakes. */
  *w1 = *w2 = 0;
  pid_t k[6];
  for (int i = 0; i < 3; i++) k[i] = sleeper(w1, 1);
  for (int i = 3; i < 6; i++) k[i] = sleeper(w2, 2);
  for (int i = 0; i < 6; i++) wait_asleep(k[i]);
  printf("wake 1 + 2 (cmp true): %ld", wake_op(w1, 1, 2, w2, FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_EQ, 0)));
  printf(", exited %d\n", reap_now());
  printf("wake 1 + 5 (cmp false): %ld", wake_op(w1, 1, 5, w2, FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_NE, 0)));
  printf(", exited %d\n", reap_now());
  printf("wake 0 + 0 (cmp true): %ld", wake_op(w1, 0, 0, w2, FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_EQ, 0)));
  printf(", exited %d\n", reap_now());
  printf("wake 5 + -1 (cmp true): %ld", wake_op(w1, 5, -1, w2, FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_EQ, 0)));
  printf(", exited %d\n", reap_now());
  pid_t last = sleeper(w1, 3);
  wait_asleep(last);
  printf("futex wake 0: %ld", syscall(SYS_futex, w1, FUTEX_WAKE, 0, NULL, NULL, 0));
  printf(", exited %d\n", reap_now());
  for (int i = 0; i < 6; i++) kill(k[i], SIGKILL);
  kill(last, SIGKILL);
  while (wait(NULL) > 0) {
  }
  printf("done\n");
  return 0;
}
