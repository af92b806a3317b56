/* futexflood: what a program can make the Sentry keep with futexes. Children
 * sleep in futex_waitv on 128 words each, others in FUTEX_LOCK_PI behind
 * locks the parent holds; the parent prints "asleep", reads a byte from
 * stdin (the driver samples the Sentry meanwhile and may shrink its heap
 * budget), tries one more 128-entry futex_waitv (ENOMEM once the budget is
 * spent), throws bad vector lengths at futex_waitv, then lets everyone go and
 * checks that each child got what it waited for. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ENTRIES 128
#define LOCKS 4

struct waitv {
  uint64_t val, uaddr;
  uint32_t flags, reserved;
};

static uint32_t *words, *locks;
static struct waitv vec[ENTRIES + 1];

static long fx(uint32_t *u, int op, long val) {
  return syscall(SYS_futex, u, op, val, NULL, NULL, 0);
}

static long waitv(unsigned n, const struct timespec *ts) {
  return syscall(449, vec, n, 0, ts, CLOCK_MONOTONIC);
}

static int asleep(pid_t p) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", p);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *c = strrchr(buf, ')');
  return c && c[2] == 'S';
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int n = argc > 1 ? atoi(argv[1]) : 16;
  words = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  locks = words + 512;
  for (int i = 0; i < ENTRIES + 1; i++) vec[i] = (struct waitv){0, (uintptr_t)&words[i % ENTRIES], 2, 0};
  for (int i = 0; i < LOCKS; i++)
    if (fx(&locks[i * 4], FUTEX_LOCK_PI, 0)) return perror("lock"), 1;
  pid_t kids[256];
  for (int i = 0; i < n; i++) {
    fflush(stdout);
    kids[i] = fork();
    if (kids[i] == 0) {
      if (i % 2 == 0) {
        long r = waitv(ENTRIES, NULL);
        _exit(r >= 0 ? 0 : 100 + errno);
      }
      uint32_t *l = &locks[(i / 2 % LOCKS) * 4];
      long r = fx(l, FUTEX_LOCK_PI, 0);
      if (r) _exit(100 + errno);
      _exit(fx(l, FUTEX_UNLOCK_PI, 0) ? 150 + errno : 0);
    }
  }
  for (int i = 0; i < n; i++)
    while (!asleep(kids[i])) usleep(1000);
  printf("asleep %d\n", n);
  char c;
  if (read(0, &c, 1) != 1) return perror("read stdin"), 1;
  struct timespec soon;
  clock_gettime(CLOCK_MONOTONIC, &soon);
  soon.tv_sec += 1;
  long r = waitv(ENTRIES, &soon);
  printf("one more 128-entry futex_waitv: %ld %s\n", r, r < 0 ? strerror(errno) : "");
  int einval = 0;
  unsigned lens[] = {0, ENTRIES + 1, 0x80000000u, 0xffffffffu};
  for (int i = 0; i < 40000; i++) einval += waitv(lens[i % 4], &soon) < 0 && errno == EINVAL;
  printf("bad lengths: %d of 40000 EINVAL\n", einval);
  for (int i = 0; i < ENTRIES; i++) fx(&words[i], FUTEX_WAKE, INT_MAX);
  for (int i = 0; i < LOCKS; i++) fx(&locks[i * 4], FUTEX_UNLOCK_PI, 0);
  int ok = 0;
  for (int i = 0; i < n; i++) {
    int st;
    waitpid(kids[i], &st, 0);
    ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
  printf("children that got what they waited for: %d of %d\n", ok, n);
  clock_gettime(CLOCK_MONOTONIC, &soon);
  r = waitv(ENTRIES, &soon);
  printf("128-entry futex_waitv after: %ld %s\n", r, r < 0 ? strerror(errno) : "");
  printf("done\n");
  return 0;
}
