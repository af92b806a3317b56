// keyflood: what a program can make the Sentry keep with keys. As root: huge
// payloads until root's byte quota (EDQUOT); keyrings nested as deep as
// possession reaches (EACCES below it) and linked in a cycle (EDEADLK) or
// under too deep a chain (ELOOP); descriptions and payloads over Linux's
// bounds (EINVAL); then, with the quotas raised to the maximum, payloads
// until the sandbox's memory budget refuses (ENOMEM); then everything is
// cleared. Prints one line per stage (keybound.test.js reads them).
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long kc(long cmd, long a, long b, long c, long d) { return syscall(SYS_keyctl, cmd, a, b, c, d); }
static long addk(const char *type, const char *desc, const void *p, size_t n, long ring) {
  return syscall(SYS_add_key, type, desc, p, n, ring);
}

static void put(const char *path, const char *v) {
  FILE *f = fopen(path, "w");
  if (!f || fputs(v, f) < 0 || fclose(f)) { printf("cannot write %s\n", path); exit(1); }
}

static int fill(long ring, const char *prefix, const char *pay, size_t n) {
  char d[64];
  for (int i = 0;; i++) {
    snprintf(d, sizeof d, "%s%d", prefix, i);
    if (addk("user", d, pay, n, ring) < 0) return i;
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  static char pay[40000];
  memset(pay, 'k', sizeof pay);
  if (kc(1, 0, 0, 0, 0) < 0) { printf("join: %s\n", strerror(errno)); return 1; }
  long ring = addk("keyring", "flood", NULL, 0, -3);
  int n = fill(ring, "q", pay, 32767);
  printf("32767-byte keys under root's quota: %d, then %s\n", n, strerrorname_np(errno));
  printf("payload 32768: %s\n", addk("user", "x", pay, 32768, ring) < 0 ? strerrorname_np(errno) : "ok");
  static char desc[8192];
  memset(desc, 'd', sizeof desc - 1);
  printf("description 8191: %s\n", addk("user", desc, "x", 1, ring) < 0 ? strerrorname_np(errno) : "ok");
  printf("keyctl_update 5000: %s\n", kc(2, ring, (long)pay, 5000, 0) < 0 ? strerrorname_np(errno) : "ok");
  kc(7, ring, 0, 0, 0);

  long chain[64];
  chain[0] = addk("keyring", "n", NULL, 0, -3);
  int depth = 1;
  for (; depth < 64; depth++) {
    chain[depth] = addk("keyring", "n", NULL, 0, chain[depth - 1]);
    if (chain[depth] < 0) break;
  }
  printf("nesting stops at %d: %s\n", depth, strerrorname_np(errno));
  printf("cycle: %s\n", kc(8, chain[0], chain[depth - 2], 0, 0) < 0 ? strerrorname_np(errno) : "ok");
  long other = addk("keyring", "other", NULL, 0, -3);
  printf("deep chain below another: %s\n", kc(8, chain[0], other, 0, 0) < 0 ? strerrorname_np(errno) : "ok");
  // Many links to one keyring from many keyrings: each check looks at a keyring once.
  long hub = addk("keyring", "hub", NULL, 0, -3);
  int linked = 0;
  for (int i = 0; i < 300; i++) {
    char d[16];
    snprintf(d, sizeof d, "h%d", i);
    long r = addk("keyring", d, NULL, 0, hub);
    if (r > 0 && kc(8, chain[3], r, 0, 0) == 0) linked++;
  }
  printf("keyrings linking one chain: %d, linking the hub below them: %s\n", linked,
         kc(8, hub, chain[5], 0, 0) < 0 ? strerrorname_np(errno) : "ok");

  put("/proc/sys/kernel/keys/root_maxkeys", "2147483647");
  put("/proc/sys/kernel/keys/root_maxbytes", "2147483647");
  n = fill(ring, "m", pay, 32767);
  printf("32767-byte keys without a quota: %d, then %s\n", n, strerrorname_np(errno));
  printf("clear: %s\n", kc(7, ring, 0, 0, 0) < 0 ? strerrorname_np(errno) : "ok");
  n = fill(ring, "again", pay, 1000);
  kc(7, ring, 0, 0, 0);
  kc(7, -3, 0, 0, 0);
  printf("after clearing, 1000-byte keys: %d, then %s\n", n, strerrorname_np(errno));
  kc(7, ring, 0, 0, 0);
  printf("done\n");
  return 0;
}
