/* vmamerge: which neighbouring VMAs are one line of /proc/self/maps after
 * mmap, mprotect, munmap and mremap sequences (Linux merges neighbours with
 * the same backing at continuing offsets, the same flags and no conflicting
 * anonymous pages). Each scenario runs inside a private PROT_NONE window with
 * free pages at both ends; ranges are printed in pages from the window. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define P 4096UL
#define WIN 32
static char *win;

static void *at(int page, int npages, int prot, int flags) {
  void *p = mmap(win + page * P, npages * P, prot, flags | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED) { printf("mmap failed: %s\n", ename(errno)); exit(1); }
  return p;
}

static void *fat(int page, int npages, int prot, int flags, int fd, off_t off) {
  void *p = mmap(win + page * P, npages * P, prot, flags | MAP_FIXED, fd, off);
  if (p == MAP_FAILED) { printf("mmap file failed: %s\n", ename(errno)); exit(1); }
  return p;
}

static void touch(int page, int npages) {
  for (int i = 0; i < npages; i++) win[(page + i) * P] = 1;
}

static void show(const char *what) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  printf("%s:", what);
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3) continue;
    if (e <= (unsigned long)win + P || s >= (unsigned long)win + (WIN - 1) * P) continue;
    printf(" [%lu-%lu %s]", (s - (unsigned long)win) / P, (e - (unsigned long)win) / P, perms);
    n++;
  }
  fclose(f);
  printf(" (%d)\n", n);
}

/* A fresh window: PROT_NONE guards at pages 0 and WIN-1, free pages 1..WIN-2. */
static void fresh(void) {
  if (win) munmap(win, WIN * P);
  win = mmap(0, WIN * P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(win + P, (WIN - 2) * P);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const int RW = PROT_READ | PROT_WRITE, PA = MAP_PRIVATE | MAP_ANONYMOUS;

  fresh();
  at(2, 2, RW, PA);
  touch(2, 2);
  at(4, 2, RW, PA);
  show("adjacent anonymous areas");
  touch(4, 2);
  mprotect(win + 3 * P, 2 * P, PROT_READ);
  show("mprotect middle read-only");
  mprotect(win + 3 * P, 2 * P, RW);
  show("mprotect back");
  munmap(win + 3 * P, P);
  show("munmap one page");
  at(3, 1, RW, PA);
  show("hole mapped again");

  fresh();
  at(2, 2, RW, PA);
  at(4, 2, PROT_READ, PA);
  touch(2, 2);
  show("different protections");
  mprotect(win + 4 * P, 2 * P, RW);
  show("made equal");

  /* Written while apart: their anonymous pages differ, so they stay two. */
  fresh();
  at(2, 2, RW, PA);
  touch(2, 2);
  at(6, 2, RW, PA);
  touch(6, 2);
  at(4, 2, RW, PA);
  show("gap filled between written areas");

  fresh();
  at(2, 2, PROT_READ | PROT_EXEC, PA);
  at(4, 2, PROT_READ, PA);
  show("read-only neighbours");
  at(8, 2, RW, PA);
  mprotect(win + 8 * P, 2 * P, PROT_READ);
  at(10, 2, PROT_READ, PA);
  show("once writable next to never writable");

  fresh();
  at(2, 2, RW, PA | MAP_NORESERVE);
  at(4, 2, RW, PA);
  show("noreserve next to reserved");

  /* A malloc arena: a PROT_NONE reservation made writable in pieces. */
  fresh();
  at(2, 12, PROT_NONE, PA | MAP_NORESERVE);
  mprotect(win + 2 * P, 2 * P, RW);
  touch(2, 2);
  mprotect(win + 4 * P, 3 * P, RW);
  touch(4, 3);
  show("reservation made writable in pieces");

  fresh();
  at(2, 2, RW, MAP_SHARED | MAP_ANONYMOUS);
  at(4, 2, RW, MAP_SHARED | MAP_ANONYMOUS);
  show("two shared anonymous areas");
  at(8, 3, RW, MAP_SHARED | MAP_ANONYMOUS);
  mprotect(win + 9 * P, P, PROT_READ);
  mprotect(win + 9 * P, P, RW);
  show("shared area mprotect and back");

  char path[4096];
  snprintf(path, sizeof path, "%s/file", argc > 1 ? argv[1] : "/tmp");
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ftruncate(fd, 16 * P) != 0) { printf("file: %s\n", ename(errno)); return 1; }
  int fd2 = open(path, O_RDONLY);
  fresh();
  fat(2, 2, PROT_READ, MAP_PRIVATE, fd, 0);
  fat(4, 2, PROT_READ, MAP_PRIVATE, fd, 2 * P);
  show("one file, continuing offsets");
  fat(6, 2, PROT_READ, MAP_PRIVATE, fd, 6 * P);
  show("one file, offset jumps");
  fat(10, 2, PROT_READ, MAP_PRIVATE, fd, 0);
  fat(12, 2, PROT_READ, MAP_PRIVATE, fd2, 2 * P);
  show("two opens of the file");
  fat(16, 4, RW, MAP_SHARED, fd, 0);
  mprotect(win + 17 * P, P, PROT_READ);
  show("shared file, middle read-only");
  mprotect(win + 17 * P, P, RW);
  show("shared file, back");
  fat(22, 4, RW, MAP_PRIVATE, fd, 0);
  touch(22, 4);
  mprotect(win + 23 * P, 2 * P, PROT_READ);
  mprotect(win + 23 * P, 2 * P, RW);
  show("private file written, mprotect and back");

  /* mremap: growing in place up to a neighbour that continues it. */
  fresh();
  at(2, 2, RW, PA);
  at(6, 2, RW, PA);
  touch(2, 2);
  void *r = mremap(win + 2 * P, 2 * P, 4 * P, 0);
  printf("mremap in place: %s\n", r == win + 2 * P ? "ok" : ename(errno));
  show("grown up to the next area");

  /* After fork the child's pieces have anonymous pages of their own. */
  fresh();
  at(2, 6, RW, PA);
  touch(2, 6);
  mprotect(win + 4 * P, 2 * P, PROT_READ);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    mprotect(win + 4 * P, 2 * P, RW);
    show("child: mprotect back after fork");
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  mprotect(win + 4 * P, 2 * P, RW);
  show("parent: mprotect back after fork");

  /* Many single pages, each at a hint just below the last: one area, as one
   * mmap; then every other page unmapped. */
  munmap(win, WIN * P);
  char *big = mmap(0, 2100 * P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(big + P, 2098 * P);
  int placed = 0;
  for (int i = 0; i < 2000; i++) {
    char *p = mmap(big + (2050 - i) * P, P, RW, PA, -1, 0);
    if (p == MAP_FAILED) { printf("mmap: %s\n", ename(errno)); return 1; }
    placed += p == big + (2050 - i) * P;
    if (i % 3 == 0) *p = 1;
  }
  win = big;
  printf("2000 single pages at their hints: %d\n", placed);
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  int n = 0;
  unsigned long first = 0, last = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    if (sscanf(line, "%lx-%lx", &s, &e) != 2 || e <= (unsigned long)big + P || s >= (unsigned long)big + 2099 * P) continue;
    if (!n) first = (s - (unsigned long)big) / P;
    last = (e - (unsigned long)big) / P;
    n++;
  }
  fclose(f);
  printf("maps lines: %d, pages %lu-%lu\n", n, first, last);
  for (int i = 0; i < 2000; i += 2) munmap(big + (51 + i) * P, P);
  f = fopen("/proc/self/maps", "r");
  n = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    if (sscanf(line, "%lx-%lx", &s, &e) == 2 && e > (unsigned long)big + P && s < (unsigned long)big + 2099 * P) n++;
  }
  fclose(f);
  printf("after unmapping every other page: %d lines\n", n);
  printf("done\n");
  return 0;
}
