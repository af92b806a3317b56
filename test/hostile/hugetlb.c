/* hugetlb (hostile, sandbox only): a program that asks a small sandbox for a
 * vast huge page pool, reserves it with many small MAP_HUGETLB mappings and
 * overcommits it with MAP_NORESERVE. The pool must stop at the sandbox's
 * memory limit, reservations must stop at the pool (ENOMEM), a touch past
 * the pool must be SIGBUS, and everything must come back when released.
 * Never run natively: the host would give it all of its memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define HP (2UL << 20)

static long readnum(const char *path) {
  char b[64] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, b, sizeof b - 1);
  close(fd);
  return n > 0 ? atol(b) : -1;
}

static int setpool(const char *v) {
  int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);
  if (fd < 0) return errno;
  int r = write(fd, v, strlen(v)) == (ssize_t)strlen(v) ? 0 : errno;
  close(fd);
  return r;
}

static long meminfo(const char *key) {
  char line[256];
  long v = -1;
  FILE *f = fopen("/proc/meminfo", "r");
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') v = atol(line + strlen(key) + 1);
  if (f) fclose(f);
  return v;
}

int main(void) {
  long total = meminfo("MemTotal");
  printf("vast pool: %d\n", setpool("2147483647\n"));
  long got = readnum("/proc/sys/vm/nr_hugepages");
  printf("pool bounded by memory: %d, some pages: %d\n", got * 2048 <= total, got > 0);
  printf("MemFree nearly none: %d\n", meminfo("MemFree") < 4096);
  int r = setpool("0");
  printf("back to 0: %d, total %ld, MemFree back: %d\n", r, readnum("/proc/sys/vm/nr_hugepages"), meminfo("MemFree") > total / 2);

  /* Many small mappings: one reservation each, ENOMEM at the pool's end. */
  setpool("8");
  static void *maps[64];
  int n = 0;
  for (; n < 64; n++) {
    maps[n] = mmap(NULL, 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (maps[n] == MAP_FAILED) break;
  }
  printf("small mappings: %d, then %s, Rsvd %ld\n", n, errno == ENOMEM ? "ENOMEM" : "other", meminfo("HugePages_Rsvd"));
  for (int i = 0; i < n; i++) munmap(maps[i], HP);
  printf("unmapped: Rsvd %ld Free %ld\n", meminfo("HugePages_Rsvd"), meminfo("HugePages_Free"));

  /* Overcommit: 1000 mappings of 1 GiB without reservations cost nothing until touched. */
  int big = 0;
  for (; big < 1000; big++)
    if (mmap(NULL, 1UL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE, -1, 0) == MAP_FAILED) break;
  printf("noreserve GiB mappings: %d\n", big);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char *p = mmap(NULL, 64UL << 30, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) _exit(2);
    for (unsigned long i = 0; i < 64UL << 30; i += HP) p[i] = 1;
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("touch 64 GiB: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS ? "SIGBUS" : "other");
  printf("after: Free %ld Rsvd %ld\n", meminfo("HugePages_Free"), meminfo("HugePages_Rsvd"));
  r = setpool("0");
  printf("released: %d Total %ld\n", r, meminfo("HugePages_Total"));
  printf("done\n");
  return 0;
}
