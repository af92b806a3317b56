/* mmedges: mmap and mremap at the edges, compared with Linux: the flags
 * (MAP_SHARED|MAP_PRIVATE, MAP_SHARED_VALIDATE with unknown flags), huge and
 * wrapping lengths and offsets, hints in the negative range and at the top of
 * user memory, MAP_32BIT, RLIMIT_AS and RLIMIT_DATA, and mremap (old_size 0
 * duplicating a shared mapping, MAYMOVE|FIXED, shrinking across VMAs,
 * MREMAP_DONTUNMAP). Mode "top" (run by memedges.test.js) prints what differs
 * by design in the sandbox: the last page below TASK_SIZE. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define PG 4096UL
#define TOP 0x7ffffffff000UL /* x86-64 TASK_SIZE */

/* ename, and the errno values mmap has that it does not name. */
static const char *en(int e) { return e == EOVERFLOW ? "EOVERFLOW" : ename(e); }
static const char *res(void *p) { return p == MAP_FAILED ? en(errno) : "ok"; }

static void *anon(void *hint, size_t len, int prot, int flags) {
  return mmap(hint, len, prot, flags | MAP_ANONYMOUS, -1, 0);
}

static void flags_and_lengths(const char *dir) {
  void *p;
  p = anon(0, PG, PROT_READ, MAP_PRIVATE | MAP_SHARED);
  printf("private|shared: %s\n", res(p));
  if (p != MAP_FAILED) munmap(p, PG);
  p = anon(0, PG, PROT_READ, 0);
  printf("no type: %s\n", res(p));
  p = anon(0, PG, PROT_READ, 0x04);
  printf("type 4: %s\n", res(p));
  p = anon(0, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x800000);
  printf("validate anon unknown flag: %s\n", res(p));
  p = anon(0, PG, PROT_READ, MAP_SHARED | 0x800000);
  printf("shared anon unknown flag: %s\n", res(p));
  if (p != MAP_FAILED) munmap(p, PG);
  p = anon(0, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC);
  printf("validate anon MAP_SYNC: %s\n", res(p));
  p = anon(0, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_32BIT);
  printf("validate anon MAP_32BIT: %s\n", res(p));
  if (p != MAP_FAILED) munmap(p, PG);
  p = anon(0, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_POPULATE | MAP_NORESERVE);
  printf("validate anon legacy flags: %s\n", res(p));
  if (p != MAP_FAILED) munmap(p, PG);
  char path[4096];
  snprintf(path, sizeof path, "%s/mmedges.file", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) DIE("open");
  if (ftruncate(fd, 4 * PG) < 0) DIE("ftruncate");
  p = mmap(0, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, fd, 0);
  printf("validate file unknown flag: %s\n", res(p));
  p = mmap(0, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
  printf("validate file MAP_SYNC: %s\n", res(p));
  p = mmap(0, PG, PROT_READ, MAP_SHARED_VALIDATE, fd, 0);
  printf("validate file: %s\n", res(p));
  if (p != MAP_FAILED) munmap(p, PG);
  p = mmap(0, PG, PROT_READ, MAP_PRIVATE | MAP_SHARED, fd, 0);
  printf("file private|shared: %s\n", res(p));
  if (p != MAP_FAILED) munmap(p, PG);
  p = mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, (off_t)0x7ffffffffffff000LL);
  printf("offset+len past the largest file: %s\n", res(p));
  p = mmap(0, PG, PROT_READ, MAP_SHARED, fd, (off_t)-4096);
  printf("negative offset: %s\n", res(p));
  p = mmap(0, PG, PROT_READ, MAP_SHARED, fd, 100);
  printf("unaligned offset: %s\n", res(p));
  p = mmap(0, (size_t)1 << 50, PROT_READ, MAP_SHARED, fd, 0);
  printf("file 1 PiB: %s\n", res(p));
  close(fd);
  unlink(path);

  size_t lens[] = {0, SIZE_MAX, SIZE_MAX - PG + 1, SIZE_MAX - 2 * PG, (size_t)1 << 47, TOP, (size_t)1 << 62};
  for (unsigned i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    p = anon(0, lens[i], PROT_NONE, MAP_PRIVATE | MAP_NORESERVE);
    printf("len %#zx: %s\n", lens[i], res(p));
    if (p != MAP_FAILED) munmap(p, lens[i]);
  }
  /* Reservations: PROT_NONE and MAP_NORESERVE are not charged, so 16 TiB fits. */
  p = anon(0, (size_t)1 << 44, PROT_NONE, MAP_PRIVATE);
  printf("16 TiB PROT_NONE: %s\n", res(p));
  if (p != MAP_FAILED) munmap(p, (size_t)1 << 44);
  p = anon(0, (size_t)1 << 44, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
  printf("16 TiB noreserve: %s\n", res(p));
  if (p != MAP_FAILED) munmap(p, (size_t)1 << 44);
  p = anon(0, (size_t)1 << 44, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  printf("16 TiB private writable: %s\n", res(p));
  if (p != MAP_FAILED) munmap(p, (size_t)1 << 44);
}

static void hints(void) {
  void *p;
  uintptr_t hs[] = {(uintptr_t)-PG, (uintptr_t)-1 & ~(PG - 1), TOP, TOP + PG, (uintptr_t)1 << 56, 0x8000000000000000UL};
  for (unsigned i = 0; i < sizeof hs / sizeof hs[0]; i++) {
    p = anon((void *)hs[i], PG, PROT_READ, MAP_PRIVATE);
    printf("hint %#lx: %s below top %d\n", (unsigned long)hs[i], res(p), p != MAP_FAILED && (uintptr_t)p + PG <= TOP);
    if (p != MAP_FAILED) munmap(p, PG);
    p = anon((void *)hs[i], PG, PROT_READ, MAP_PRIVATE | MAP_FIXED);
    printf("fixed %#lx: %s\n", (unsigned long)hs[i], res(p));
    p = anon((void *)hs[i], PG, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE);
    printf("noreplace %#lx: %s\n", (unsigned long)hs[i], res(p));
    SHOW("  munmap", munmap((void *)hs[i], PG));
    SHOW("  mprotect", mprotect((void *)hs[i], PG, PROT_READ));
    SHOW("  madvise", madvise((void *)hs[i], PG, MADV_DONTNEED));
    SHOW("  msync", msync((void *)hs[i], PG, MS_SYNC));
    SHOW("  mlock", mlock((void *)hs[i], PG));
    SHOW("  munlock", munlock((void *)hs[i], PG));
  }
  /* A range that crosses TASK_SIZE. */
  p = anon((void *)(TOP - PG), 2 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED);
  printf("fixed across the top: %s\n", res(p));
  p = anon((void *)(TOP - PG), 2 * PG, PROT_READ, MAP_PRIVATE);
  printf("hint across the top: %s\n", res(p));
  if (p != MAP_FAILED) munmap(p, 2 * PG);
  SHOW("munmap across the top", munmap((void *)(TOP - PG), 2 * PG));
  SHOW("munmap unaligned", munmap((void *)(TOP - PG + 1), PG));
  SHOW("mprotect across the top", mprotect((void *)(TOP - PG), 2 * PG, PROT_READ));
  /* Below the top, inside what Linux gives the application, nothing is mapped. */
  SHOW("mprotect last page", mprotect((void *)(TOP - PG), PG, PROT_READ));
  SHOW("madvise last page", madvise((void *)(TOP - PG), PG, MADV_NORMAL));
  unsigned char vec[1];
  SHOW("mincore last page", mincore((void *)(TOP - PG), PG, vec));
  SHOW("mincore across the top", mincore((void *)(TOP - PG), 2 * PG, vec));
}

static void map32(void) {
  char *p = anon(0, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_32BIT);
  printf("MAP_32BIT: %s below 2 GiB %d\n", res(p), p != MAP_FAILED && (uintptr_t)p + 16 * PG <= 0x80000000UL);
  if (p != MAP_FAILED) {
    p[0] = 1;
    munmap(p, 16 * PG);
  }
  p = anon(0, 16 * PG, PROT_READ, MAP_SHARED | MAP_32BIT);
  printf("MAP_32BIT shared: %s below 2 GiB %d\n", res(p), p != MAP_FAILED && (uintptr_t)p + 16 * PG <= 0x80000000UL);
  if (p != MAP_FAILED) munmap(p, 16 * PG);
  p = anon(0, (size_t)3 << 30, PROT_NONE, MAP_PRIVATE | MAP_32BIT);
  printf("MAP_32BIT 3 GiB: %s\n", res(p));
  /* Fill the 2 GiB window: then MAP_32BIT is ENOMEM. */
  char *fill[8];
  int n = 0;
  for (; n < 8; n++) {
    fill[n] = anon(0, (size_t)256 << 20, PROT_NONE, MAP_PRIVATE | MAP_32BIT | MAP_NORESERVE);
    if (fill[n] == MAP_FAILED) break;
  }
  p = anon(0, (size_t)256 << 20, PROT_NONE, MAP_PRIVATE | MAP_32BIT);
  printf("MAP_32BIT once full: %s (some fitted %d)\n", res(p), n > 0);
  for (int i = 0; i < n; i++) munmap(fill[i], (size_t)256 << 20);
}

static void in_child(void (*fn)(void)) {
  pid_t c = xfork();
  if (c == 0) {
    fn();
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("child status %#x\n", st);
}

static void rlimit_as(void) {
  struct rlimit r = {(rlim_t)1 << 30, (rlim_t)1 << 30};
  SHOW("setrlimit AS 1 GiB", setrlimit(RLIMIT_AS, &r));
  void *p = anon(0, (size_t)2 << 30, PROT_NONE, MAP_PRIVATE | MAP_NORESERVE);
  printf("2 GiB PROT_NONE: %s\n", res(p));
  p = anon(0, (size_t)512 << 20, PROT_NONE, MAP_PRIVATE);
  printf("512 MiB PROT_NONE: %s\n", res(p));
  void *q = anon(0, (size_t)512 << 20, PROT_NONE, MAP_PRIVATE);
  printf("another 512 MiB: %s\n", res(q));
  void *g = mremap(p, (size_t)512 << 20, (size_t)900 << 20, MREMAP_MAYMOVE);
  printf("mremap grow past: %s\n", res(g));
  SHOW("munmap", munmap(p, (size_t)512 << 20));
  void *b = sbrk(0);
  void *s = sbrk((intptr_t)768 << 20);
  printf("sbrk 768 MiB: %s\n", s == (void *)-1 ? ename(errno) : "ok");
  if (s != (void *)-1) sbrk(-((intptr_t)768 << 20));
  (void)b;
  p = anon(0, (size_t)256 << 20, PROT_READ | PROT_WRITE, MAP_SHARED);
  printf("256 MiB shared: %s\n", res(p));
}

static void rlimit_data(void) {
  struct rlimit r = {(rlim_t)64 << 20, (rlim_t)64 << 20};
  SHOW("setrlimit DATA 64 MiB", setrlimit(RLIMIT_DATA, &r));
  void *p = anon(0, (size_t)128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  printf("128 MiB private writable: %s\n", res(p));
  p = anon(0, (size_t)128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
  printf("128 MiB private writable noreserve: %s\n", res(p));
  p = anon(0, (size_t)128 << 20, PROT_READ | PROT_WRITE, MAP_SHARED);
  printf("128 MiB shared writable: %s\n", res(p));
  p = anon(0, (size_t)128 << 20, PROT_READ, MAP_PRIVATE);
  printf("128 MiB private read-only: %s\n", res(p));
  SHOW("mprotect it writable", mprotect(p, (size_t)128 << 20, PROT_READ | PROT_WRITE));
  SHOW("mprotect 16 MiB of it", mprotect(p, (size_t)16 << 20, PROT_READ | PROT_WRITE));
  p = anon(0, (size_t)128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_GROWSDOWN);
  printf("128 MiB growsdown: %s\n", res(p));
  void *s = sbrk((intptr_t)96 << 20);
  printf("sbrk 96 MiB: %s\n", s == (void *)-1 ? ename(errno) : "ok");
  void *q = anon(0, (size_t)8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  void *g = mremap(q, (size_t)8 << 20, (size_t)100 << 20, MREMAP_MAYMOVE);
  printf("mremap data past: %s\n", res(g));
}

static void mremaps(void) {
  /* old_size 0: a second mapping of the same shared pages. */
  char *s = anon(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED);
  strcpy(s, "shared");
  char *d = mremap(s, 0, 2 * PG, MREMAP_MAYMOVE);
  printf("dup shared: %s\n", res(d));
  if (d != MAP_FAILED) {
    printf("  reads '%s', differs %d\n", d, d != s);
    strcpy(d + PG, "through the copy");
    printf("  original sees '%s'\n", s + PG);
  }
  /* A duplicate whose fixed destination covers the source mapping itself. */
  char *s2 = anon(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED);
  strcpy(s2, "over itself");
  char *o = mremap(s2, 0, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, s2);
  printf("dup onto itself: %s\n", res(o));
  if (o != MAP_FAILED) printf("  reads '%s'\n", o);
  char *big = anon(0, 8 * PG, PROT_NONE, MAP_PRIVATE);
  char *s3 = mmap(big + 2 * PG, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  strcpy(s3, "covered");
  o = mremap(s3, 0, PG, MREMAP_MAYMOVE | MREMAP_FIXED, big);
  printf("dup elsewhere: %s\n", res(o));
  o = mremap(s3, 0, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, big + PG);
  printf("dup covering the source: %s\n", res(o));
  if (o != MAP_FAILED) printf("  reads '%s' '%s'\n", o + PG, big);
  char *d2 = mremap(s, 0, PG, 0);
  printf("dup without MAYMOVE: %s\n", res(d2));
  char *p = anon(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  d2 = mremap(p, 0, PG, MREMAP_MAYMOVE);
  printf("dup private: %s\n", res(d2));
  /* MAYMOVE|FIXED moves the data; the old range is gone. */
  /* Destinations stay mapped (PROT_NONE) until a move replaces them, so no other mapping lands there. */
  char *dst = anon(0, 8 * PG, PROT_NONE, MAP_PRIVATE);
  strcpy(p, "moved data");
  strcpy(p + PG, "second page");
  char *m = mremap(p, 2 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + PG);
  printf("move fixed: %s at dst %d\n", res(m), m == dst + PG);
  if (m != MAP_FAILED) printf("  '%s' '%s' tail %d\n", m, m + PG, m[3 * PG]);
  unsigned char vec[2];
  SHOW("  old range mincore", mincore(p, 2 * PG, vec));
  SHOW("fixed without maymove", (long)mremap(m, PG, PG, MREMAP_FIXED, dst));
  SHOW("fixed overlapping", (long)mremap(m, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, m + PG));
  SHOW("fixed unaligned", (long)mremap(m, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, m + 4 * PG + 1));
  SHOW("unaligned old", (long)mremap(m + 1, PG, PG, 0));
  SHOW("new size 0", (long)mremap(m, PG, 0, MREMAP_MAYMOVE));
  SHOW("bad flags", (long)mremap(m, PG, PG, 8));
  /* Shrinking across several VMAs. */
  char *v = anon(0, 6 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  mprotect(v + 2 * PG, PG, PROT_READ);
  mprotect(v + 4 * PG, PG, PROT_READ | PROT_EXEC);
  v[0] = 'x';
  char *w = mremap(v, 6 * PG, PG, 0);
  printf("shrink across VMAs: %s same %d, reads %c\n", res(w), w == v, w[0]);
  SHOW("  rest gone", mincore(v + PG, PG, vec));
  char *x = anon(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  mprotect(x + 2 * PG, PG, PROT_READ);
  SHOW("grow across VMAs", (long)mremap(x, 4 * PG, 8 * PG, MREMAP_MAYMOVE));
  char *mx = mremap(x, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 4 * PG);
  printf("move across VMAs: %s at dst %d\n", res(mx), mx == dst + 4 * PG);
  SHOW("same size across VMAs", (long)mremap(x, 4 * PG, 4 * PG, 0));
  SHOW("unmapped old", (long)mremap(p, PG, PG, 0));

  /* MREMAP_DONTUNMAP: the pages move, the old range stays mapped. */
  char *a = anon(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  strcpy(a, "dontunmap");
  char *n = mremap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
  printf("dontunmap private: %s\n", res(n));
  if (n != MAP_FAILED) printf("  new '%s' old reads %d, old mincore %ld\n", n, a[0], (long)mincore(a, 2 * PG, vec));
  SHOW("dontunmap without maymove", (long)mremap(a, 2 * PG, 2 * PG, MREMAP_DONTUNMAP, NULL));
  SHOW("dontunmap other size", (long)mremap(a, 2 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL));
  char *f = anon(0, 2 * PG, PROT_NONE, MAP_PRIVATE);
  char *nf = mremap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, f);
  printf("dontunmap fixed: %s at %d\n", res(nf), nf == f);
  char path[] = "/tmp/mmedges.dontunmap";
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write(fd, "file data", 9) != 9) DIE("file");
  char *pf = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  pf[0] = 'F';
  char *npf = mremap(pf, PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
  printf("dontunmap private file: %s\n", res(npf));
  if (npf != MAP_FAILED) printf("  new '%s' old '%s'\n", npf, pf);
  close(fd);
  unlink(path);
  SHOW("mprotect bad prot, length 0", mprotect(a, 0, 0x40));
  SHOW("mprotect bad prot, wrapping", mprotect((void *)-PG, 2 * PG, 0x40));
  SHOW("mprotect bad prot", mprotect(a, PG, 0x40));
  char *sh = anon(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED);
  strcpy(sh, "shared pages");
  char *ns = mremap(sh, PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
  printf("dontunmap shared: %s\n", res(ns));
  if (ns != MAP_FAILED) printf("  new '%s' old '%s'\n", ns, sh);
}

static void top_mode(void) {
  void *p = anon((void *)(TOP - PG), PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED);
  printf("fixed last page: %s\n", res(p));
  p = anon((void *)(TOP - PG), PG, PROT_READ, MAP_PRIVATE);
  printf("hint last page: %s at hint %d\n", res(p), p == (void *)(TOP - PG));
  char *q = anon(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  p = mremap(q, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(TOP - PG));
  printf("mremap to last page: %s\n", res(p));
  SHOW("munmap last page", munmap((void *)(TOP - PG), PG));
}

/* mprotect's PROT_GROWSDOWN reaches down to the start of a grows-down
 * mapping and is EINVAL on any other; PROT_GROWSUP is always EINVAL on x86,
 * both together too. */
static void grows_flags(void) {
  long pg = sysconf(_SC_PAGESIZE);
  char *plain = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *down = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
  if (plain == MAP_FAILED || down == MAP_FAILED) {
    printf("grows: mmap failed\n");
    return;
  }
  int r = mprotect(plain + pg, pg, PROT_READ | PROT_GROWSDOWN);
  printf("grows: GROWSDOWN on a plain mapping: %s\n", r ? ename(errno) : "OK");
  r = mprotect(plain + pg, pg, PROT_READ | PROT_GROWSUP);
  printf("grows: GROWSUP on a plain mapping: %s\n", r ? ename(errno) : "OK");
  r = mprotect(down + pg, pg, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP);
  printf("grows: both: %s\n", r ? ename(errno) : "OK");
  r = mprotect(down + 2 * pg, pg, PROT_READ | PROT_GROWSDOWN);
  printf("grows: GROWSDOWN on a grows-down mapping: %s\n", r ? ename(errno) : "OK");
  /* The whole mapping below the range became read-only: a write there faults (checked through /proc/self/maps). */
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  int ro = 0;
  unsigned long lo, hi;
  char perms[8];
  while (f && fgets(line, sizeof line, f)) {
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && lo == (unsigned long)down) ro = hi - lo == (unsigned long)(3 * pg) && perms[1] == '-';
  }
  if (f) fclose(f);
  printf("grows: pages from the mapping's start made read-only: %d\n", ro);
  r = mprotect(down + pg, pg, PROT_READ | PROT_WRITE | PROT_GROWSUP);
  printf("grows: GROWSUP on a grows-down mapping: %s\n", r ? ename(errno) : "OK");
  munmap(plain, 4 * pg);
  munmap(down, 4 * pg);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc > 1 && strcmp(argv[1], "top") == 0) {
    top_mode();
    return 0;
  }
  flags_and_lengths(argc > 1 ? argv[1] : "/tmp");
  hints();
  map32();
  in_child(rlimit_as);
  in_child(rlimit_data);
  mremaps();
  grows_flags();
  printf("done\n");
  return 0;
}
