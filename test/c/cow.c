/* cow: copy-on-write after fork.
 *
 * The child writes to memory that looks shared (heap, anonymous private
 * mappings, .data, .bss, the stack) and the parent must not see it; the
 * parent writes first and the child must still see the old values; both
 * sides write many pages; grandchildren; MAP_SHARED anonymous memory, which
 * really is shared. */
#define _GNU_SOURCE
#include "common.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES 512
#define PAGE 4096

static unsigned char data_seg[8 * PAGE] = {1, 2, 3};
static unsigned char bss_seg[8 * PAGE];

static int wait_code(pid_t p) {
  int status;
  if (waitpid(p, &status, 0) != p) DIE("waitpid");
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 1000 + WTERMSIG(status);
}

static void fill(unsigned char *m, size_t pages, unsigned seed) {
  for (size_t pg = 0; pg < pages; pg++)
    for (size_t i = 0; i < PAGE; i += 64) m[pg * PAGE + i] = (unsigned char)(seed + pg * 7 + i);
}

/* check returns how many sampled bytes differ from fill(seed). */
static size_t check(const unsigned char *m, size_t pages, unsigned seed) {
  size_t bad = 0;
  for (size_t pg = 0; pg < pages; pg++)
    for (size_t i = 0; i < PAGE; i += 64)
      if (m[pg * PAGE + i] != (unsigned char)(seed + pg * 7 + i)) bad++;
  return bad;
}

static void report(const char *what, int code) {
  printf("%s: %s (code %d)\n", what, code == 0 ? "ok" : "FAILED", code);
}

int main(void) {
  line_buffered();
  unsigned char *anon = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (anon == MAP_FAILED) DIE("mmap");
  unsigned char *heap = malloc(PAGES * PAGE);
  if (!heap) DIE("malloc");
  fill(anon, PAGES, 1);
  fill(heap, PAGES, 2);
  fill(data_seg, 8, 3);
  fill(bss_seg, 8, 4);
  volatile unsigned char stack_buf[2 * PAGE];
  for (size_t i = 0; i < sizeof stack_buf; i++) stack_buf[i] = (unsigned char)(i * 3);

  printf("--- child writes, parent unchanged\n");
  pid_t p = xfork();
  if (p == 0) {
    int bad = 0;
    if (check(anon, PAGES, 1) || check(heap, PAGES, 2) || check(data_seg, 8, 3) ||
        check(bss_seg, 8, 4))
      bad |= 1; /* child must see the parent's values first */
    fill(anon, PAGES, 11);
    fill(heap, PAGES, 12);
    fill(data_seg, 8, 13);
    fill(bss_seg, 8, 14);
    for (size_t i = 0; i < sizeof stack_buf; i++) stack_buf[i] = 0xee;
    if (check(anon, PAGES, 11) || check(heap, PAGES, 12) || check(data_seg, 8, 13) ||
        check(bss_seg, 8, 14))
      bad |= 2; /* and its own writes afterwards */
    _exit(bad);
  }
  report("child saw parent's memory, then its own writes", wait_code(p));
  printf("parent anon unchanged: %s\n", check(anon, PAGES, 1) == 0 ? "yes" : "no");
  printf("parent heap unchanged: %s\n", check(heap, PAGES, 2) == 0 ? "yes" : "no");
  printf("parent .data unchanged: %s\n", check(data_seg, 8, 3) == 0 ? "yes" : "no");
  printf("parent .bss unchanged: %s\n", check(bss_seg, 8, 4) == 0 ? "yes" : "no");
  int stack_ok = 1;
  for (size_t i = 0; i < sizeof stack_buf; i++)
    if (stack_buf[i] != (unsigned char)(i * 3)) stack_ok = 0;
  printf("parent stack unchanged: %s\n", stack_ok ? "yes" : "no");

  printf("--- parent writes first, child keeps the old values\n");
  int go[2], done[2];
  if (pipe(go) < 0 || pipe(done) < 0) DIE("pipe");
  p = xfork();
  if (p == 0) {
    close(go[1]);
    close(done[0]);
    char c;
    if (read(go[0], &c, 1) != 1) _exit(90); /* parent has written by now */
    int bad = 0;
    if (check(anon, PAGES, 1)) bad |= 1;
    if (check(heap, PAGES, 2)) bad |= 2;
    if (check(data_seg, 8, 3)) bad |= 4;
    if (check(bss_seg, 8, 4)) bad |= 8;
    fill(anon, PAGES / 2, 21); /* the child then writes half */
    if (check(anon, PAGES / 2, 21) || check(anon + PAGES / 2 * PAGE, PAGES / 2, 1 + PAGES / 2 * 7))
      bad |= 16;
    if (write(done[1], "d", 1) != 1) _exit(91);
    _exit(bad);
  }
  close(go[0]);
  close(done[1]);
  fill(anon, PAGES, 31);
  fill(heap, PAGES, 32);
  fill(data_seg, 8, 33);
  fill(bss_seg, 8, 34);
  if (write(go[1], "g", 1) != 1) DIE("write");
  char c;
  if (read(done[0], &c, 1) != 1) DIE("read");
  report("child still saw the values from before the fork", wait_code(p));
  printf("parent sees its own writes: %s\n",
         check(anon, PAGES, 31) == 0 && check(heap, PAGES, 32) == 0 &&
                 check(data_seg, 8, 33) == 0 && check(bss_seg, 8, 34) == 0
             ? "yes"
             : "no");
  close(go[1]);
  close(done[0]);

  printf("--- several children and a grandchild\n");
  pid_t kids[4];
  for (int k = 0; k < 4; k++) {
    kids[k] = xfork();
    if (kids[k] == 0) {
      int bad = check(anon, PAGES, 31) ? 1 : 0;
      fill(anon, PAGES, 40 + k);
      if (k == 3) {
        pid_t g = fork();
        if (g < 0) _exit(92);
        if (g == 0) {
          int gbad = check(anon, PAGES, 43) ? 1 : 0;
          fill(anon, PAGES, 50);
          _exit(gbad);
        }
        int gs = wait_code(g);
        if (gs) bad |= 4;
      }
      if (check(anon, PAGES, 40 + k)) bad |= 2;
      _exit(bad);
    }
  }
  for (int k = 0; k < 4; k++) {
    char label[64];
    snprintf(label, sizeof label, "child %d", k);
    report(label, wait_code(kids[k]));
  }
  printf("parent anon unchanged after 4 children: %s\n", check(anon, PAGES, 31) == 0 ? "yes" : "no");

  printf("--- MAP_SHARED anonymous memory is shared\n");
  unsigned char *shared = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) DIE("mmap shared");
  fill(shared, 16, 60);
  p = xfork();
  if (p == 0) {
    int bad = check(shared, 16, 60) ? 1 : 0;
    fill(shared, 16, 61);
    _exit(bad);
  }
  report("child saw the shared mapping", wait_code(p));
  printf("parent sees the child's writes: %s\n", check(shared, 16, 61) == 0 ? "yes" : "no");

  printf("--- fork after munmap of part of a region, and after mprotect\n");
  if (munmap(anon + 100 * PAGE, 10 * PAGE) < 0) DIE("munmap");
  if (mprotect(anon, PAGE, PROT_READ) < 0) DIE("mprotect");
  p = xfork();
  if (p == 0) {
    int bad = 0;
    if (check(anon, 100, 31)) bad |= 1;
    if (check(anon + 110 * PAGE, PAGES - 110, 31 + 110 * 7)) bad |= 2;
    fill(anon + PAGE, 99, 70);
    _exit(bad);
  }
  report("child saw both remaining pieces", wait_code(p));
  printf("parent unchanged: %s\n",
         check(anon, 100, 31) == 0 && check(anon + 110 * PAGE, PAGES - 110, 31 + 110 * 7) == 0
             ? "yes"
             : "no");
  printf("done\n");
  return 0;
}
