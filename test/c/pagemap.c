/* pagemap: /proc/self/pagemap entries (LTP mmap12): present, file or
 * shared page, exclusively mapped, soft-dirty and swapped bits for
 * anonymous pages untouched and written, a copy made by a write after
 * fork, shared anonymous and private file pages before and after a write,
 * holes (not compared: an anonymous page only read, which the sandbox does
 * not tell from an untouched one, and a page shared with a fork child,
 * which the sandbox copies at fork for small areas);
 * the PFN is shown to root and hidden (0) from other users; offsets and
 * sizes that are not whole entries are EINVAL, reads past the top end. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static int pm;
static const long PG = 4096;

static uint64_t entry(void *addr) {
  uint64_t e = 0;
  if (pread(pm, &e, 8, (uintptr_t)addr / PG * 8) != 8) DIE("pread pagemap");
  return e;
}

static void show(const char *label, void *addr) {
  uint64_t e = entry(addr);
  printf("%-32s present %d swap %d file %d exclusive %d soft-dirty %d pfn %s\n", label, (int)(e >> 63 & 1), (int)(e >> 62 & 1),
         (int)(e >> 61 & 1), (int)(e >> 56 & 1), (int)(e >> 55 & 1), (e & ((1ULL << 55) - 1)) ? "set" : "0");
}

int main(int argc, char **argv) {
  line_buffered();
  const char *dir = argc > 1 ? argv[1] : ".";
  pm = open("/proc/self/pagemap", O_RDONLY);
  if (pm < 0) DIE("open pagemap");
  char *a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) DIE("mmap");
  a[2 * PG] = 1;
  show("anon untouched", a);
  show("anon written", a + 2 * PG);
  munmap(a + 3 * PG, PG);
  show("hole", a + 3 * PG);

  int sync[2];
  if (pipe(sync) < 0) DIE("pipe");
  pid_t c = xfork();
  if (c == 0) {
    char x;
    if (read(sync[0], &x, 1) < 0) _exit(1);
    _exit(0);
  }
  a[2 * PG] = 2;
  show("anon rewritten (copied)", a + 2 * PG);
  if (write(sync[1], "x", 1) != 1) DIE("write");
  waitpid(c, NULL, 0);

  char *s = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) DIE("mmap shared");
  s[0] = 1;
  show("shared anon untouched", s + PG);
  show("shared anon written", s);

  char path[4096];
  snprintf(path, sizeof path, "%s/pagemap-file", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) DIE("open file");
  char page[4096];
  memset(page, 'x', sizeof page);
  for (int i = 0; i < 2; i++)
    if (write(fd, page, sizeof page) != (ssize_t)sizeof page) DIE("write file");
  char *f = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (f == MAP_FAILED) DIE("mmap file");
  f[PG] = 'y';
  show("private file page read", f);
  show("private file page written", f + PG);
  char *fs = mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (fs == MAP_FAILED) DIE("mmap file shared");
  show("shared file page read", fs);

  uint64_t buf[2];
  errno = 0;
  SHOW("pread at offset 4", pread(pm, buf, 8, 4));
  SHOW("pread of 12 bytes", pread(pm, buf, 12, 0));
  SHOW("pread of 0 bytes", pread(pm, buf, 0, 0));
  SHOW("pread past the top", pread(pm, buf, 16, 0x7ffffffff000ULL / PG * 8));
  SHOW("pread of the last page", pread(pm, buf, 16, (0x7ffffffff000ULL / PG - 1) * 8));
  SHOW("lseek SEEK_END", lseek(pm, 0, SEEK_END));
  SHOW("write", write(pm, buf, 8));

  /* Another user reading its own pagemap sees no frame numbers. */
  fflush(stdout);
  c = xfork();
  if (c == 0) {
    if (setgid(65534) < 0 || setuid(65534) < 0) DIE("setuid");
    /* Dumpable again, so its /proc files are its own (not root's). */
    if (prctl(PR_SET_DUMPABLE, 1) < 0) DIE("prctl");
    int p2 = open("/proc/self/pagemap", O_RDONLY);
    if (p2 < 0) DIE("open as nobody");
    pm = p2;
    a[2 * PG] = 3;
    show("as nobody: anon written", a + 2 * PG);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  unlink(path);
  printf("done\n");
  return 0;
}
