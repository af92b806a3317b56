/* mapcount: map single pages with gaps between them (so that no two
 * neighbours merge) until mmap says ENOMEM, then check that calls which
 * would split a mapping (munmap of a middle page, mprotect of a middle page)
 * fail with ENOMEM too, while unmapping a whole mapping still works. Safe to
 * run natively: it only maps anonymous memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX 70000

static void *maps[MAX];

int main(void) {
  char buf[32] = "";
  FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
  if (f && fgets(buf, sizeof buf, f)) printf("max_map_count %s", buf);
  if (f) fclose(f);
  unsigned char *three = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (three == MAP_FAILED) return 1;
  /* Every other page of a free area, at fixed addresses: no two neighbours
   * merge, and no search for free space (which is linear per call here). */
  unsigned char *area = mmap(NULL, 2 * MAX * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (area == MAP_FAILED) return 1;
  munmap(area, 2 * MAX * PAGE);
  int n = 0;
  for (; n < MAX; n++) {
    maps[n] = mmap(area + 2 * n * PAGE, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (maps[n] == MAP_FAILED) break;
  }
  int e = errno;
  printf("mapped %d before %s\n", n, e == ENOMEM ? "ENOMEM" : strerror(e));
  /* At the limit: splitting one mapping into three needs two more. */
  int r = munmap(three + PAGE, PAGE);
  printf("munmap of a middle page at the limit: %s\n", r ? (errno == ENOMEM ? "ENOMEM" : strerror(errno)) : "ok");
  r = mprotect(three + PAGE, PAGE, PROT_READ);
  printf("mprotect of a middle page at the limit: %s\n", r ? (errno == ENOMEM ? "ENOMEM" : strerror(errno)) : "ok");
  three[PAGE] = 1;
  printf("middle page still writable: %d\n", three[PAGE]);
  /* Whole mappings can always go. */
  int freed = 0;
  for (int i = 0; i < n; i++) freed += munmap(maps[i], PAGE) == 0;
  printf("unmapped all: %s\n", freed == n ? "yes" : "no");
  r = mprotect(three + PAGE, PAGE, PROT_READ);
  printf("mprotect of a middle page afterwards: %s\n", r ? strerror(errno) : "ok");
  return 0;
}
