/* bigmap: a 1 TiB PROT_NONE reservation (as language runtimes make), part of
 * it made writable and filled, a large heap-like mapping shared copy-on-write
 * with a child, and the reservation unmapped again. The kernel must not spend
 * memory or time in proportion to the reservation. */
#include "common.h"
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIB (1UL << 40)
#define MIB (1UL << 20)

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  char *r = mmap(NULL, TIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  printf("1 TiB reservation: %s\n", r == MAP_FAILED ? ename(errno) : "ok");
  if (r == MAP_FAILED) return 1;
  char *mid = r + TIB / 2;
  printf("mprotect 64 MiB: %d\n", mprotect(mid, 64 * MIB, PROT_READ | PROT_WRITE));
  memset(mid, 7, 64 * MIB);
  long sum = 0;
  for (unsigned long i = 0; i < 64 * MIB; i += 4096) sum += mid[i];
  printf("sum %ld\n", sum);
  char *h = mmap(NULL, 64 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (unsigned long i = 0; i < 64 * MIB; i += 4096) h[i] = 1;
  pid_t p = fork();
  if (p == 0) {
    h[4096] = 2;
    _exit(h[0] + h[4096]);
  }
  int st;
  waitpid(p, &st, 0);
  printf("child saw %d, parent keeps %d\n", WEXITSTATUS(st), h[4096]);
  printf("munmap: %d\n", munmap(r, TIB));
  printf("done\n");
  return 0;
}
