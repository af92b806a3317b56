/* memargs: argument checks and answers of msync, mincore and mlock2 (LTP
 * msync03, mincore03, mlock201): MS_INVALIDATE of locked pages is EBUSY;
 * mincore counts pages never touched as absent, written and locked ones as
 * present. */
#define _GNU_SOURCE
#include "common.h"
#include <sys/mman.h>
#include <sys/syscall.h>

static int resident(char *p, int pages) {
  unsigned char v[64];
  if (mincore(p, pages * 4096, v)) DIE("mincore");
  int n = 0;
  for (int i = 0; i < pages; i++) n += v[i] & 1;
  return n;
}

int main(void) {
  line_buffered();
  char *p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) DIE("mmap");
  printf("untouched private: %d of 8 resident\n", resident(p, 8));
  p[0] = 1;
  p[3 * 4096] = 1;
  printf("two written: %d of 8 resident\n", resident(p, 8));
  SHOW("mlock 2 pages", mlock(p + 4 * 4096, 2 * 4096));
  printf("after mlock: %d of 8 resident\n", resident(p, 8));
  SHOW("msync(MS_INVALIDATE) over locked pages", msync(p, 8 * 4096, MS_INVALIDATE));
  SHOW("msync(MS_INVALIDATE) elsewhere", msync(p, 4096, MS_INVALIDATE));
  SHOW("msync(MS_SYNC|MS_ASYNC)", msync(p, 4096, MS_SYNC | MS_ASYNC));
  SHOW("msync(unaligned)", msync(p + 1, 4096, MS_SYNC));
  SHOW("msync(bad flag)", msync(p, 4096, 8));
  munlock(p + 4 * 4096, 2 * 4096);
  munmap(p, 8 * 4096);

  char *s = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  printf("untouched shared: %d of 8 resident\n", resident(s, 8));
  SHOW("mlock2(1 page)", syscall(SYS_mlock2, s, 4096, 0));
  printf("after mlock2: %d of 8 resident\n", resident(s, 8));
  s[5 * 4096] = 'x';
  printf("one more written: %d of 8 resident\n", resident(s, 8));
  printf("done\n");
  return 0;
}
