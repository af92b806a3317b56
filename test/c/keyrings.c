// Keys and keyrings as Linux answers (add_key, request_key, keyctl): the key
// types, the special keyrings and how fork, threads and exec inherit them,
// joining session keyrings, update/revoke/invalidate/expiry, permissions and
// possession, links with cycles (EDEADLK) and nesting, searches,
// request_key without /sbin/request-key, the per-uid quota (EDQUOT), the
// bounds on descriptions and payloads, and /proc/keys and /proc/key-users.
// Natively it runs in a new session keyring of its own (it joins one first);
// serial numbers are random, so only comparisons of them are printed.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int32_t key_serial_t;
#define KEY_SPEC_THREAD_KEYRING -1
#define KEY_SPEC_PROCESS_KEYRING -2
#define KEY_SPEC_SESSION_KEYRING -3
#define KEY_SPEC_USER_KEYRING -4
#define KEY_SPEC_USER_SESSION_KEYRING -5
#define KEY_SPEC_GROUP_KEYRING -6
#define KEY_SPEC_REQKEY_AUTH_KEY -7

static long kc(long cmd, long a, long b, long c, long d) { return syscall(SYS_keyctl, cmd, a, b, c, d); }
static long addk(const char *type, const char *desc, const void *p, size_t n, long ring) {
  return syscall(SYS_add_key, type, desc, p, n, ring);
}
static long reqk(const char *type, const char *desc, const char *callout, long ring) {
  return syscall(SYS_request_key, type, desc, callout, ring);
}

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: ok\n", what);
}
static void showv(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

static void describe(const char *what, long id) {
  char buf[512];
  long n = kc(6, id, (long)buf, sizeof buf, 0);
  if (n < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld '%s'\n", what, n, buf);
}

static void readk(const char *what, long id) {
  char buf[256];
  memset(buf, 0, sizeof buf);
  long n = kc(11, id, (long)buf, sizeof buf - 1, 0);
  if (n < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld '%s'\n", what, n, buf);
}

/* The number of links in a keyring. */
static long nlinks(long ring) {
  long n = kc(11, ring, 0, 0, 0);
  return n < 0 ? -errno : n / 4;
}

/* The /proc/keys line of serial id, without the serial and usage columns. */
static void proc_line(const char *what, long id) {
  char want[16], line[512];
  snprintf(want, sizeof want, "%08lx ", id);
  FILE *f = fopen("/proc/keys", "r");
  if (!f) { printf("%s: no /proc/keys\n", what); return; }
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, want, 9) != 0) continue;
    char flags[16], exp[16], perm[16], type[32];
    int usage, uid, gid, off = 0;
    if (sscanf(line, "%*x %15s %d %15s %15s %d %d %31s %n", flags, &usage, exp, perm, &uid, &gid, type, &off) >= 7) {
      char *rest = line + off;
      rest[strcspn(rest, "\n")] = 0;
      printf("%s: %s %s %s %d %d %s '%s'\n", what, flags, exp, perm, uid, gid, type, rest);
      found = 1;
    }
  }
  fclose(f);
  if (!found) printf("%s: not listed\n", what);
}

/* A uid's /proc/key-users counters: keys and bytes in its quota, and the limits. */
static int key_user(unsigned uid, int *qk, int *mk, int *qb, int *mb) {
  char line[256];
  FILE *f = fopen("/proc/key-users", "r");
  if (!f) return -1;
  int ok = -1;
  while (fgets(line, sizeof line, f)) {
    unsigned u;
    int usage, n, ni;
    if (sscanf(line, " %u: %d %d/%d %d/%d %d/%d", &u, &usage, &n, &ni, qk, mk, qb, mb) == 8 && u == uid) ok = 0;
    if (ok == 0) break;
  }
  fclose(f);
  return ok;
}

static key_serial_t thr_thread, thr_process;
static void *thread_main(void *arg) {
  (void)arg;
  thr_thread = kc(0, KEY_SPEC_THREAD_KEYRING, 0, 0, 0);
  thr_process = kc(0, KEY_SPEC_PROCESS_KEYRING, 0, 0, 0);
  return NULL;
}

static void types_and_bounds(void) {
  static char big[40000];
  char desc[5000];
  memset(big, 'p', sizeof big);
  show("keyring with payload", addk("keyring", "k", "x", 1, KEY_SPEC_SESSION_KEYRING));
  show("keyring named .x", addk("keyring", ".x", NULL, 0, KEY_SPEC_SESSION_KEYRING));
  show("type .user", addk(".user", "d", "x", 1, KEY_SPEC_SESSION_KEYRING));
  show("unknown type", addk("no_such_type", "d", "x", 1, KEY_SPEC_SESSION_KEYRING));
  show("type of 32 chars", addk("abcdefghijklmnopqrstuvwxyz012345", "d", "x", 1, KEY_SPEC_SESSION_KEYRING));
  show("empty type", addk("", "d", "x", 1, KEY_SPEC_SESSION_KEYRING));
  show("null type", addk(NULL, "d", "x", 1, KEY_SPEC_SESSION_KEYRING));
  show("user empty payload", addk("user", "d", "", 0, KEY_SPEC_SESSION_KEYRING));
  show("user 32767 bytes", addk("user", "big", big, 32767, KEY_SPEC_SESSION_KEYRING));
  show("user 32768 bytes", addk("user", "big2", big, 32768, KEY_SPEC_SESSION_KEYRING));
  show("payload 1 MiB", addk("user", "big3", big, 1 << 20, KEY_SPEC_SESSION_KEYRING));
  show("null payload", addk("user", "d", NULL, 16, KEY_SPEC_SESSION_KEYRING));
  show("bad payload pointer", addk("user", "d", (void *)8, 16, KEY_SPEC_SESSION_KEYRING));
  show("bad description pointer", addk("user", (char *)8, "x", 1, KEY_SPEC_SESSION_KEYRING));
  show("null description", addk("user", NULL, "x", 1, KEY_SPEC_SESSION_KEYRING));
  show("empty description", addk("user", "", "x", 1, KEY_SPEC_SESSION_KEYRING));
  memset(desc, 'd', sizeof desc);
  desc[4096] = 0;
  show("description 4096", addk("user", desc, "x", 1, KEY_SPEC_SESSION_KEYRING));
  desc[4095] = 0;
  long d = addk("user", desc, "x", 1, KEY_SPEC_SESSION_KEYRING);
  show("description 4095", d);
  kc(9, d, KEY_SPEC_SESSION_KEYRING, 0, 0);
  show("logon without colon", addk("logon", "nocolon", "x", 1, KEY_SPEC_SESSION_KEYRING));
  show("logon with leading colon", addk("logon", ":x", "x", 1, KEY_SPEC_SESSION_KEYRING));
  long lg = addk("logon", "svc:name", "secret", 6, KEY_SPEC_SESSION_KEYRING);
  show("logon", lg);
  describe("logon describe", lg);
  readk("logon read", lg);
  show("ring 0", addk("user", "d", "x", 1, 0));
  show("ring group", addk("user", "d", "x", 1, KEY_SPEC_GROUP_KEYRING));
  show("ring -9", addk("user", "d", "x", 1, -9));
  show("ring missing id", addk("user", "d", "x", 1, 0x7ffffff0));
  show("ring not a keyring", addk("user", "d", "x", 1, lg));
  kc(3, lg, 0, 0, 0);
  show("ring revoked", addk("user", "d", "x", 1, lg));
}

static void user_keys(void) {
  long k = addk("user", "one", "hello", 5, KEY_SPEC_SESSION_KEYRING);
  show("add user", k);
  describe("describe", k);
  readk("read", k);
  char small[3] = "--";
  long n = kc(11, k, (long)small, 2, 0);
  printf("read into 2 bytes: %ld '%s'\n", n, small);
  show("update", kc(2, k, (long)"world!", 6, 0));
  readk("read after update", k);
  long k2 = addk("user", "one", "again", 5, KEY_SPEC_SESSION_KEYRING);
  printf("add_key same description updates it: %s\n", k2 == k ? "yes" : "no");
  readk("read after add", k);
  static char page[5000];
  show("update 4097 bytes", kc(2, k, (long)page, 4097, 0));
  show("update empty", kc(2, k, (long)"", 0, 0));
  show("update bad pointer", kc(2, k, 8, 10, 0));
  long r = addk("keyring", "ring1", NULL, 0, KEY_SPEC_SESSION_KEYRING);
  describe("keyring describe", r);
  show("update keyring", kc(2, r, (long)"x", 1, 0));
  long r2 = addk("keyring", "ring1", NULL, 0, KEY_SPEC_SESSION_KEYRING);
  printf("second keyring of the same name is new: %s\n", r2 != r && r2 > 0 ? "yes" : "no");
  printf("session links: %ld\n", nlinks(KEY_SPEC_SESSION_KEYRING));
  char sec[8] = "xxxxxxx";
  showv("get_security", kc(17, k, (long)sec, sizeof sec, 0));
  printf("security label: '%s'\n", sec);
  show("unknown command", kc(99, 0, 0, 0, 0));
  show("instantiate without authority", kc(12, k, (long)"x", 1, 0));
  show("negate without authority", kc(13, k, 10, 0, 0));
  show("reject bad error", kc(19, k, 10, 0, 0));
  showv("assume authority 0", kc(16, 0, 0, 0, 0));
  show("reqkey auth key", kc(0, KEY_SPEC_REQKEY_AUTH_KEY, 0, 0, 0));
  proc_line("proc user", k);
  proc_line("proc keyring", r2);
}

static void specials(void) {
  show("thread, no create", kc(0, KEY_SPEC_THREAD_KEYRING, 0, 0, 0));
  long t1 = kc(0, KEY_SPEC_THREAD_KEYRING, 1, 0, 0);
  long t2 = kc(0, KEY_SPEC_THREAD_KEYRING, 0, 0, 0);
  printf("thread keyring made and kept: %s\n", t1 > 0 && t1 == t2 ? "yes" : "no");
  describe("thread keyring", t1);
  show("process, no create", kc(0, KEY_SPEC_PROCESS_KEYRING, 0, 0, 0));
  long p1 = kc(0, KEY_SPEC_PROCESS_KEYRING, 1, 0, 0);
  describe("process keyring", p1);
  long u = kc(0, KEY_SPEC_USER_KEYRING, 0, 0, 0);
  long us = kc(0, KEY_SPEC_USER_SESSION_KEYRING, 0, 0, 0);
  printf("user keyrings: %s\n", u > 0 && us > 0 && u != us ? "yes" : "no");
  show("group keyring", kc(0, KEY_SPEC_GROUP_KEYRING, 1, 0, 0));
  show("id 0", kc(0, 0, 1, 0, 0));
  show("id -9", kc(0, -9, 1, 0, 0));

  pthread_t th;
  pthread_create(&th, NULL, thread_main, NULL);
  pthread_join(th, NULL);
  printf("new thread: own thread keyring %s, same process keyring %s\n",
         thr_thread > 0 && thr_thread != t1 ? "yes" : "no", thr_process == p1 ? "yes" : "no");

  long s = kc(0, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    printf("child: session same %s\n", kc(0, KEY_SPEC_SESSION_KEYRING, 0, 0, 0) == s ? "yes" : "no");
    show("child: thread keyring", kc(0, KEY_SPEC_THREAD_KEYRING, 0, 0, 0));
    show("child: process keyring", kc(0, KEY_SPEC_PROCESS_KEYRING, 0, 0, 0));
    _exit(0);
  }
  waitpid(c, NULL, 0);

  // KEYCTL_SET_REQKEY_KEYRING: -1 asks; an unknown value is EINVAL.
  showv("reqkey get", kc(14, -1, 0, 0, 0));
  showv("reqkey set thread", kc(14, 1, 0, 0, 0));
  showv("reqkey get again", kc(14, -1, 0, 0, 0));
  show("reqkey group", kc(14, 6, 0, 0, 0));
  printf("thread keyring not replaced: %s\n", kc(0, KEY_SPEC_THREAD_KEYRING, 0, 0, 0) == t1 ? "yes" : "no");
  kc(14, 0, 0, 0, 0);
}

static void exec_check(char *self) {
  long s = kc(0, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
  kc(0, KEY_SPEC_THREAD_KEYRING, 1, 0, 0);
  kc(0, KEY_SPEC_PROCESS_KEYRING, 1, 0, 0);
  char arg[32];
  snprintf(arg, sizeof arg, "%ld", s);
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    execl(self, self, "exec", arg, (char *)NULL);
    _exit(99);
  }
  int st;
  waitpid(c, &st, 0);
}

static void after_exec(long s) {
  printf("exec: session same %s\n", kc(0, KEY_SPEC_SESSION_KEYRING, 0, 0, 0) == s ? "yes" : "no");
  show("exec: thread keyring", kc(0, KEY_SPEC_THREAD_KEYRING, 0, 0, 0));
  show("exec: process keyring", kc(0, KEY_SPEC_PROCESS_KEYRING, 0, 0, 0));
}

static void states(void) {
  long k = addk("user", "rev", "x", 1, KEY_SPEC_SESSION_KEYRING);
  show("revoke", kc(3, k, 0, 0, 0));
  readk("read revoked", k);
  describe("describe revoked", k);
  show("update revoked", kc(2, k, (long)"y", 1, 0));
  showv("request revoked", reqk("user", "rev", NULL, 0));
  show("search revoked", kc(10, KEY_SPEC_SESSION_KEYRING, (long)"user", (long)"rev", 0));
  show("revoke again", kc(3, k, 0, 0, 0));
  show("unlink revoked", kc(9, k, KEY_SPEC_SESSION_KEYRING, 0, 0));

  long e = addk("user", "exp", "x", 1, KEY_SPEC_SESSION_KEYRING);
  show("set timeout 1000", kc(15, e, 1000, 0, 0));
  proc_line("proc timed", e);
  show("set timeout 1", kc(15, e, 1, 0, 0));
  sleep(2);
  readk("read expired", e);
  showv("request expired", reqk("user", "exp", NULL, 0));
  show("search expired", kc(10, KEY_SPEC_SESSION_KEYRING, (long)"user", (long)"exp", 0));
  show("timeout on expired", kc(15, e, 0, 0, 0));
  proc_line("proc expired", e);

  long i = addk("user", "inv", "x", 1, KEY_SPEC_SESSION_KEYRING);
  long before = nlinks(KEY_SPEC_SESSION_KEYRING);
  show("invalidate", kc(21, i, 0, 0, 0));
  usleep(300000);
  printf("invalidated key unlinked: %s\n", nlinks(KEY_SPEC_SESSION_KEYRING) == before - 1 ? "yes" : "no");
  readk("read invalidated", i);
}

static void links(void) {
  long a = addk("keyring", "A", NULL, 0, KEY_SPEC_SESSION_KEYRING);
  long b = addk("keyring", "B", NULL, 0, a);
  long u = addk("user", "leaf", "x", 1, b);
  show("link A into B (cycle)", kc(8, a, b, 0, 0));
  show("link A into A", kc(8, a, a, 0, 0));
  show("link into a user key", kc(8, b, u, 0, 0));
  show("link leaf into A", kc(8, u, a, 0, 0));
  show("link leaf into A again", kc(8, u, a, 0, 0));
  printf("A links: %ld\n", nlinks(a));
  show("unlink leaf from A", kc(9, u, a, 0, 0));
  show("unlink leaf from A again", kc(9, u, a, 0, 0));
  show("unlink from a user key", kc(9, u, u, 0, 0));
  showv("search B from session", kc(10, KEY_SPEC_SESSION_KEYRING, (long)"keyring", (long)"B", 0) == b);
  showv("search leaf from session", kc(10, KEY_SPEC_SESSION_KEYRING, (long)"user", (long)"leaf", 0) == u);
  show("search missing", kc(10, KEY_SPEC_SESSION_KEYRING, (long)"user", (long)"nope", 0));
  show("search unknown type", kc(10, KEY_SPEC_SESSION_KEYRING, (long)"nosuch", (long)"leaf", 0));
  show("search in a user key", kc(10, u, (long)"user", (long)"leaf", 0));
  long c = addk("keyring", "C", NULL, 0, KEY_SPEC_SESSION_KEYRING);
  showv("search linking into C", kc(10, KEY_SPEC_SESSION_KEYRING, (long)"user", (long)"leaf", c) == u);
  printf("C links: %ld\n", nlinks(c));
  long m = addk("keyring", "M", NULL, 0, KEY_SPEC_SESSION_KEYRING);
  showv("move leaf C->M", kc(30, u, c, m, 0));
  printf("C links %ld, M links %ld\n", nlinks(c), nlinks(m));
  show("move again", kc(30, u, c, m, 0));
  show("move bad flags", kc(30, u, m, c, 2));

  // A chain of keyrings built downward: possession (which add_key needs, the
  // keyrings granting their user nothing) is found only as deep as a search goes.
  long chain[10];
  chain[0] = addk("keyring", "d0", NULL, 0, KEY_SPEC_SESSION_KEYRING);
  int depth = 1;
  for (; depth < 10; depth++) {
    chain[depth] = addk("keyring", "dn", NULL, 0, chain[depth - 1]);
    if (chain[depth] < 0) break;
  }
  printf("chain stops at %d: %s\n", depth, depth < 10 ? strerrorname_np(errno) : "no");
  long top = addk("keyring", "top", NULL, 0, KEY_SPEC_SESSION_KEYRING);
  show("link the chain below another keyring", kc(8, chain[0], top, 0, 0));
  show("link the chain's third into it", kc(8, chain[2], top, 0, 0));
  show("link the top of the chain into its bottom", kc(8, chain[0], chain[depth - 1], 0, 0));
  show("leaf at the bottom", addk("user", "deepleaf", "x", 1, chain[depth - 1]));
  show("leaf one above", addk("user", "deepleaf2", "x", 1, chain[depth - 2]));
  show("search the bottom from the session", kc(10, KEY_SPEC_SESSION_KEYRING, (long)"user", (long)"deepleaf", 0));
  show("search one above from the session", kc(10, KEY_SPEC_SESSION_KEYRING, (long)"user", (long)"deepleaf2", 0));
  show("search the bottom from the third", kc(10, chain[2], (long)"user", (long)"deepleaf", 0));
  kc(9, chain[0], KEY_SPEC_SESSION_KEYRING, 0, 0);
  kc(9, chain[2], top, 0, 0);

  show("clear A", kc(7, a, 0, 0, 0));
  printf("A links after clear: %ld\n", nlinks(a));
  show("clear a user key", kc(7, u, 0, 0, 0));

  // KEYCTL_READ of a keyring into a buffer too small: the full size, nothing written.
  long r = addk("keyring", "R", NULL, 0, KEY_SPEC_SESSION_KEYRING);
  addk("user", "r1", "x", 1, r);
  addk("user", "r2", "x", 1, r);
  int32_t ids[2] = {0, 0};
  long n = kc(11, r, (long)ids, 4, 0);
  printf("read 2 links into 4 bytes: %ld, second slot %s\n", n, ids[1] == 0 ? "untouched" : "written");

  show("restrict R", kc(29, r, 0, 0, 0));
  show("restrict R again", kc(29, r, 0, 0, 0));
  show("add into restricted", addk("user", "r3", "x", 1, r));
  show("link into restricted", kc(8, u, r, 0, 0));
  show("restrict a user key", kc(29, u, 0, 0, 0));
}

static void perms(void) {
  long k = addk("user", "perm", "data", 4, KEY_SPEC_SESSION_KEYRING);
  show("setperm bad bits", kc(5, k, 0x40000000, 0, 0));
  show("setperm view+search only", kc(5, k, 0x09000000, 0, 0));
  describe("describe", k);
  readk("read possessed without read", k);
  show("update without write", kc(2, k, (long)"x", 1, 0));
  show("setperm without setattr", kc(5, k, 0x3f000000, 0, 0));
  show("setperm none", kc(5, k, 0, 0, 0));
  long k2 = addk("user", "perm2", "data", 4, KEY_SPEC_SESSION_KEYRING);
  kc(5, k2, 0x3f000000, 0, 0);
  describe("describe without view", k);
  // A keyring the caller cannot search any more: what is inside is no longer possessed.
  long h = addk("keyring", "hidden", NULL, 0, KEY_SPEC_SESSION_KEYRING);
  long in = addk("user", "inside", "x", 1, h);
  kc(5, in, 0x3f000000, 0, 0);
  describe("inside, possessed", in);
  kc(5, h, 0x37000000, 0, 0);
  describe("inside, not possessed", in);
  readk("read inside", in);
  show("request inside", reqk("user", "inside", NULL, 0));
  show("search the unsearchable keyring", kc(10, h, (long)"user", (long)"inside", 0));
  show("chown to 4321", kc(4, k2, 4321, -1, 0));
  describe("after chown", k2);
  show("chown nothing", kc(4, k2, -1, -1, 0));
}

static void request(void) {
  long k = addk("user", "wanted", "v", 1, KEY_SPEC_SESSION_KEYRING);
  printf("request finds it: %s\n", reqk("user", "wanted", NULL, 0) == k ? "yes" : "no");
  long r = addk("keyring", "dest", NULL, 0, KEY_SPEC_SESSION_KEYRING);
  printf("request links it: %s\n", reqk("user", "wanted", NULL, r) == k && nlinks(r) == 1 ? "yes" : "no");
  show("request missing", reqk("user", "missing", NULL, 0));
  show("request missing, callout", reqk("user", "missing", "info", r));
  printf("negative key in dest: %ld\n", nlinks(r));
  int32_t ids[4];
  kc(11, r, (long)ids, sizeof ids, 0);
  readk("read negative", ids[1]);
  describe("describe negative", ids[1]);
  proc_line("proc negative", ids[1]);
  show("request again", reqk("user", "missing", "info", r));
  show("request a keyring, callout", reqk("keyring", "nokr", "info", r));
  show("request type .x", reqk(".x", "d", NULL, 0));
  show("request unknown type", reqk("nosuch", "d", NULL, 0));
  show("request bad description", reqk("user", (char *)8, NULL, 0));
  show("request null description", reqk("user", NULL, NULL, 0));
  show("request bad callout", reqk("user", "d", (char *)8, 0));
  long ro = addk("keyring", "ro", NULL, 0, KEY_SPEC_SESSION_KEYRING);
  kc(5, ro, 0x3b000000, 0, 0);
  show("request into unwritable", reqk("user", "missing2", "info", ro));
}

static void join(void) {
  long s0 = kc(0, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
  long n1 = kc(1, (long)"tsv-named", 0, 0, 0);
  describe("named session", n1);
  printf("named session installed: %s\n", kc(0, KEY_SPEC_SESSION_KEYRING, 0, 0, 0) == n1 && n1 != s0 ? "yes" : "no");
  long n2 = kc(1, (long)"tsv-named", 0, 0, 0);
  printf("joined again: %s\n", n2 == n1 ? "same" : n2 > 0 ? "a new one" : strerrorname_np(errno));
  long a = kc(1, 0, 0, 0, 0);
  printf("anonymous: new %s\n", a > 0 && a != n1 ? "yes" : "no");
  long n3 = kc(1, (long)"tsv-named", 0, 0, 0);
  printf("named joined from another: %s\n", n3 == n1 ? "same" : n3 == n2 ? "the second" : n3 > 0 ? "a new one" : strerrorname_np(errno));
  // A named keyring its user may search is found by name.
  kc(5, n3, 0x3f1b0000, 0, 0);
  kc(1, 0, 0, 0, 0);
  long n4 = kc(1, (long)"tsv-named", 0, 0, 0);
  printf("searchable named keyring found: %s\n", n4 == n3 ? "yes" : "no");
  show("join .builtin_trusted_keys", kc(1, (long)".builtin_trusted_keys", 0, 0, 0));
  show("join bad pointer", kc(1, 8, 0, 0, 0));
  kc(1, 0, 0, 0, 0);
}

/* The quota of a fresh unprivileged uid: keys and bytes up to the limits, then EDQUOT. */
static void quota(void) {
  unsigned uid = 20000 + getpid() % 20000;
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    if (setgid(uid) || setuid(uid)) { printf("setuid failed\n"); _exit(1); }
    kc(1, 0, 0, 0, 0);
    int qk, mk, qb, mb;
    if (key_user(uid, &qk, &mk, &qb, &mb)) { printf("no key-users line\n"); _exit(1); }
    printf("quota: %d keys, %d bytes after joining\n", qk, qb);
    static char pay[32768];
    long k = addk("user", "q", pay, 64, KEY_SPEC_SESSION_KEYRING);
    int qk2, qb2;
    key_user(uid, &qk2, &mk, &qb2, &mb);
    printf("one key of 64 bytes costs %d key, %d bytes\n", qk2 - qk, qb2 - qb);
    show("payload over the byte quota", addk("user", "qbig", pay, mb - qb2 - 8 + 1, KEY_SPEC_SESSION_KEYRING));
    long fit = addk("user", "qfit", pay, mb - qb2 - 9 - 4, KEY_SPEC_SESSION_KEYRING);
    show("payload filling the byte quota", fit);
    key_user(uid, &qk2, &mk, &qb2, &mb);
    printf("bytes used == limit: %s\n", qb2 == mb ? "yes" : "no");
    show("update over quota", kc(2, k, (long)pay, 100, 0));
    kc(9, fit, KEY_SPEC_SESSION_KEYRING, 0, 0);
    kc(7, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
    usleep(300000);
    int n = 0;
    long r;
    char d[32];
    long ring = addk("keyring", "many", NULL, 0, KEY_SPEC_SESSION_KEYRING);
    for (;;) {
      snprintf(d, sizeof d, "k%d", n);
      r = addk("user", d, "x", 1, ring);
      if (r < 0) break;
      n++;
    }
    printf("keys until %s\n", strerrorname_np(errno));
    key_user(uid, &qk2, &mk, &qb2, &mb);
    printf("keys used == limit: %s\n", qk2 == mk ? "yes" : "no");
    show("keyring over quota", addk("keyring", "more", NULL, 0, KEY_SPEC_SESSION_KEYRING));
    show("chown to root, not root", kc(4, k, 0, -1, 0));
      FILE *f = fopen("/proc/sys/kernel/keys/maxkeys", "w");
    printf("maxkeys writable by a user: %s\n", f ? "yes" : "no");
    if (f) fclose(f);
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 3 && strcmp(argv[1], "exec") == 0) {
    after_exec(atol(argv[2]));
    return 0;
  }
  long s = kc(1, 0, 0, 0, 0);
  show("join new session", s);
  describe("session", s);
  show("session by spec", kc(0, KEY_SPEC_SESSION_KEYRING, 0, 0, 0) == s ? 0 : -1);
  types_and_bounds();
  user_keys();
  specials();
  exec_check(argv[0]);
  states();
  links();
  perms();
  request();
  join();
  quota();
  printf("done\n");
  return 0;
}
