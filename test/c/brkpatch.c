// A heap grown with brk far past 80 MiB after a hot system-call site: on
// systrap, patching a site maps a table of trampolines at 0x050f0000, and a
// non-PIE program's heap starts below it (just above its image); Linux lets
// brk grow up to the next mapping, so the table must not be in its way
// (mm/textpatch.ts leaves such an address space unpatched).
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  for (int i = 0; i < 2000; i++) syscall(SYS_getppid);
  char *start = sbrk(0);
  long got = 0;
  for (int i = 0; i < 400; i++) {
    if (sbrk(1 << 20) == (void *)-1) {
      printf("sbrk failed after %ld MiB\n", got);
      return 1;
    }
    got++;
    start[(got << 20) - 1] = 1;
  }
  printf("grew %ld MiB\n", got);
  printf("done\n");
  return 0;
}
