// Memory handed to a program reads as zeros, whoever held its frames before:
// runs of every size are mapped, partly written (a few scattered pages, or
// all of them), unmapped and mapped again, in this process and in forked
// children, and every byte of every new mapping is checked. The Sentry
// zeroes a reused run only where the host holds pages (memfile.ts
// zeroFrames); a page it skipped by mistake would show here as old data.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static int check_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return (int)(i / PG);
  return -1;
}

/* rounds of map, check, dirty, unmap; returns the number of bad mappings */
static int rounds(int seed, int count) {
  static const size_t sizes[] = {1, 3, 16, 17, 64, 200, 256, 300, 1024};
  int bad = 0;
  for (int r = 0; r < count; r++) {
    size_t pages = sizes[(r + seed) % (sizeof sizes / sizeof sizes[0])];
    size_t len = pages * PG;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    int at = check_zero(p, len);
    if (at >= 0) {
      printf("round %d: page %d of %zu held old data\n", r, at, pages);
      bad++;
    }
    if (r % 3 == 0) {
      memset(p, 0xa5, len);
    } else {
      /* a few scattered pages, last byte of a page included */
      for (size_t k = (size_t)(r * 7 + seed) % pages; k < pages; k += 1 + (size_t)(r % 13) * 5)
        p[k * PG + (k % PG)] = (unsigned char)(r | 1);
      p[len - 1] = 0x5a;
    }
    munmap(p, len);
  }
  return bad;
}

int main(void) {
  int bad = rounds(0, 300);
  printf("parent: %d bad\n", bad);
  for (int c = 0; c < 3; c++) {
    pid_t pid = fork();
    if (pid == 0) {
      int b = rounds(c + 1, 200);
      printf("child %d: %d bad\n", c, b);
      fflush(stdout);
      _exit(b ? 1 : 0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) bad++;
    /* frames the child freed, now mapped here */
    bad += rounds(c + 7, 60);
  }
  printf("total bad %d\n", bad);
  printf("done\n");
  return bad != 0;
}
