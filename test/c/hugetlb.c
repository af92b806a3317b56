/* hugetlb: the huge page pool (vm.nr_hugepages, /proc/meminfo's HugePages_*,
 * /sys/kernel/mm/hugepages/hugepages-2048kB) and MAP_HUGETLB mappings:
 * ENOMEM with an empty pool, lengths rounded to 2 MiB, reservation at mmap
 * time, MAP_NORESERVE faulting to SIGBUS past the pool, munmap/mprotect of
 * parts not 2 MiB aligned, MAP_HUGE_* sizes, smaps' KernelPageSize, shared
 * huge pages across fork. Needs root: it sets
 * the pool itself and restores the value it found (natively the host's). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define HP (2UL << 20)
#define NR "/proc/sys/vm/nr_hugepages"
#define SYSD "/sys/kernel/mm/hugepages/hugepages-2048kB/"

static long saved = -1;

static long readnum(const char *path) {
  char b[64] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -errno;
  ssize_t n = read(fd, b, sizeof b - 1);
  close(fd);
  return n > 0 ? atol(b) : -1;
}

static int setpool(long n) {
  char b[32];
  int fd = open(NR, O_WRONLY);
  if (fd < 0) return -errno;
  int len = snprintf(b, sizeof b, "%ld\n", n);
  int r = write(fd, b, len) == len ? 0 : -errno;
  close(fd);
  return r;
}

static void restore(void) {
  if (saved >= 0) setpool(saved);
}

static void meminfo(const char *tag) {
  char line[256];
  FILE *f = fopen("/proc/meminfo", "r");
  printf("%s:", tag);
  while (f && fgets(line, sizeof line, f)) {
    long v;
    char k[64];
    if (sscanf(line, "%63[^:]: %ld", k, &v) != 2) continue;
    if (!strncmp(k, "HugePages_", 10) || !strcmp(k, "Hugepagesize") || !strcmp(k, "Hugetlb")) printf(" %s=%ld", k + (k[0] == 'H' && k[4] == 'P' && k[9] == '_' ? 10 : 0), v);
  }
  if (f) fclose(f);
  printf(" | sys nr=%ld free=%ld resv=%ld surplus=%ld\n", readnum(SYSD "nr_hugepages"), readnum(SYSD "free_hugepages"),
         readnum(SYSD "resv_hugepages"), readnum(SYSD "surplus_hugepages"));
}

static void *hmap(size_t len, int flags) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
  return p;
}

static const char *res(void *p) {
  return p == MAP_FAILED ? ename(errno) : "OK";
}

/* smaps' page sizes, Rss, huge pages and VmFlags of the VMA at addr. */
static void pagesize(void *addr) {
  char line[256], want[32];
  snprintf(want, sizeof want, "%lx-", (unsigned long)addr);
  FILE *f = fopen("/proc/self/smaps", "r");
  int in = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') && line[0] != ' ') in = !strncmp(line, want, strlen(want));
    else if (in && !strncmp(line, "VmFlags:", 8)) printf("  smaps %s", line);
    else if (in && (!strncmp(line, "KernelPageSize", 14) || !strncmp(line, "MMUPageSize", 11) || !strncmp(line, "Size:", 5) ||
                    !strncmp(line, "Rss:", 4) || strstr(line, "_Hugetlb:"))) {
      char k[32];
      long v;
      if (sscanf(line, "%31[^:]: %ld", k, &v) == 2) printf("  smaps %s %ld\n", k, v);
    }
  }
  if (f) fclose(f);
}

/* Touches npages huge pages of a fresh mapping in a child: how the child ends. */
static void touch_child(const char *tag, size_t npages, int flags) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char *p = hmap(npages * HP, flags);
    if (p == MAP_FAILED) _exit(100 + errno % 100);
    for (size_t i = 0; i < npages; i++) p[i * HP] = 1;
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st)) printf("%s: signal %s\n", tag, WTERMSIG(st) == SIGBUS ? "SIGBUS" : "other");
  else printf("%s: exit %d\n", tag, WEXITSTATUS(st));
}

int main(void) {
  saved = readnum(NR);
  if (saved < 0) {
    printf("no %s\n", NR);
    return 1;
  }
  atexit(restore);
  /* vm.drop_caches, which LTP writes before growing the pool: write-only, even to root; 0 is out of range. */
  int dc = open("/proc/sys/vm/drop_caches", O_RDONLY);
  printf("drop_caches read: %s\n", dc < 0 ? ename(errno) : "OK");
  if (dc >= 0) close(dc);
  dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
  printf("drop_caches 0: %s\n", dc < 0 ? ename(errno) : write(dc, "0", 1) < 0 ? ename(errno) : "OK");
  if (dc >= 0) close(dc);
  printf("set 0: %s\n", ename(-setpool(0)));
  meminfo("empty");
  printf("private empty pool: %s\n", res(hmap(HP, MAP_PRIVATE)));
  printf("shared empty pool: %s\n", res(hmap(HP, MAP_SHARED)));
  printf("noreserve empty pool: %s\n", res(hmap(HP, MAP_PRIVATE | MAP_NORESERVE)));
  touch_child("noreserve touch empty", 1, MAP_PRIVATE | MAP_NORESERVE);

  printf("set 4: %s\n", ename(-setpool(4)));
  printf("nr: %ld\n", readnum(NR));
  meminfo("pool 4");
  printf("MAP_HUGE_2MB: %s\n", res(hmap(HP, MAP_PRIVATE | MAP_NORESERVE | (21 << MAP_HUGE_SHIFT))));
  printf("MAP_HUGE_16MB: %s\n", res(hmap(HP, MAP_PRIVATE | (24 << MAP_HUGE_SHIFT))));
  printf("MAP_HUGE_64KB: %s\n", res(hmap(HP, MAP_PRIVATE | (16 << MAP_HUGE_SHIFT))));
  printf("MAP_HUGE_2MB without HUGETLB: %s\n",
         res(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | (21 << MAP_HUGE_SHIFT), -1, 0)));

  char *p = hmap(1, MAP_PRIVATE);
  printf("map 1 byte: %s aligned=%d\n", res(p), p != MAP_FAILED && ((uintptr_t)p % HP) == 0);
  meminfo("reserved 1");
  pagesize(p);
  p[0] = 'x';
  p[HP - 1] = 'y';
  meminfo("touched 1");
  pagesize(p);
  printf("munmap 4096: %s\n", ename(munmap(p, 4096) ? errno : 0));
  printf("munmap +4096: %s\n", ename(munmap(p + 4096, 4096) ? errno : 0));
  printf("mprotect 4096: %s\n", ename(mprotect(p, 4096, PROT_READ) ? errno : 0));
  printf("mprotect +4096 len HP: %s\n", ename(mprotect(p + 4096, HP - 4096, PROT_READ) ? errno : 0));
  printf("mprotect 1 byte: %s\n", ename(mprotect(p, 1, PROT_READ) ? errno : 0));
  printf("mprotect whole: %s\n", ename(mprotect(p, HP, PROT_READ) ? errno : 0));
  printf("madvise DONTNEED 4096: %s\n", ename(madvise(p, 4096, MADV_DONTNEED) ? errno : 0));
  printf("munmap 1 byte: %s\n", ename(munmap(p, 1) ? errno : 0));
  printf("mremap grow: %s\n", res(mremap(p, HP, 2 * HP, MREMAP_MAYMOVE)));
  printf("mremap unaligned: %s\n", res(mremap(p, 4096, 4096, MREMAP_MAYMOVE)));
  printf("munmap HP: %s\n", ename(munmap(p, HP) ? errno : 0));
  meminfo("unmapped 1");

  printf("map 5 of 4: %s\n", res(hmap(5 * HP, MAP_PRIVATE)));
  printf("map 5 of 4 shared: %s\n", res(hmap(5 * HP, MAP_SHARED)));
  char *a = hmap(3 * HP, MAP_SHARED);
  printf("map 3: %s\n", res(a));
  printf("map 2 more: %s\n", res(hmap(2 * HP, MAP_PRIVATE)));
  meminfo("reserved 3");
  printf("munmap middle: %s\n", ename(munmap(a + HP, HP) ? errno : 0));
  meminfo("middle gone");
  printf("fixed unaligned: %s\n", res(mmap(a + 4096, HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, -1, 0)));
  a[0] = 1;
  char *m = mmap(a + HP, HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, -1, 0);
  printf("fixed aligned: %s same=%d\n", res(m), m == a + HP);
  meminfo("fixed in middle");
  printf("munmap all: %s\n", ename(munmap(a, 3 * HP) ? errno : 0));
  /* A hint: rounded up to a huge page and used when that range is free. */
  char *hinted = mmap(a + 4096, HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
  printf("hint: %s at rounded hint=%d\n", res(hinted), hinted == a + HP);
  if (hinted != MAP_FAILED) munmap(hinted, HP);
  meminfo("all gone");

  /* Shared huge pages: a child's write is seen by the parent. */
  char *s = hmap(2 * HP, MAP_SHARED);
  printf("shared 2: %s\n", res(s));
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    s[HP + 5] = 'c';
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  printf("child's write seen: %d\n", s != MAP_FAILED && s[HP + 5] == 'c');
  meminfo("shared touched");
  munmap(s, 2 * HP);

  /* Private huge pages after fork: copy on write. */
  char *c = hmap(HP, MAP_PRIVATE);
  c[0] = 'p';
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    c[0] = 'q';
    _exit(c[0] == 'q' ? 0 : 1);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("private after fork: child %d parent sees %c\n", WEXITSTATUS(st), c[0]);
  munmap(c, HP);
  meminfo("after cow");

  /* MAP_NORESERVE beyond the pool: no reservation, SIGBUS at the fault past it. */
  char *n = hmap(6 * HP, MAP_PRIVATE | MAP_NORESERVE);
  printf("noreserve 6 of 4: %s\n", res(n));
  meminfo("noreserve mapped");
  munmap(n, 6 * HP);
  touch_child("noreserve touch 4", 4, MAP_PRIVATE | MAP_NORESERVE);
  touch_child("noreserve touch 5", 5, MAP_PRIVATE | MAP_NORESERVE);
  meminfo("after children");

  /* Shrinking the pool below what is in use: those pages are surplus until freed. */
  char *u = hmap(2 * HP, MAP_SHARED);
  u[0] = 1;
  printf("set 1 with 2 reserved: %s\n", ename(-setpool(1)));
  printf("nr: %ld\n", readnum(NR));
  meminfo("shrunk");
  munmap(u, 2 * HP);
  meminfo("released");

  printf("done\n");
  return 0;
}
