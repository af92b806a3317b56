/* advice.c: posix_fadvise (fadvise64), readahead and sync_file_range: the
 * hints change nothing visible, but their checks and errors are Linux's. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/syscall.h>

static void res(const char *what, long r) {
  if (r < 0) printf("%s: -1 %s\n", what, ename(errno));
  else printf("%s: %ld\n", what, r);
}

/* The raw call: glibc's posix_fadvise returns the error instead of setting errno. */
static long fadv(int fd, long off, long len, int advice) {
  return syscall(SYS_fadvise64, fd, off, len, advice);
}

int main(int argc, char **argv) {
  if (argc < 2 || chdir(argv[1]) != 0) return 2;
  int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (write(fd, "some data here", 14) != 14) return 3;
  int p[2];
  if (pipe(p)) return 4;
  int dir = open(".", O_RDONLY | O_DIRECTORY);
  int wo = open("data", O_WRONLY);
  int opath = open("data", O_PATH);
  int devnull = open("/dev/null", O_RDWR);

  for (int adv = -1; adv <= 6; adv++) {
    char what[32];
    snprintf(what, sizeof what, "fadvise advice %d", adv);
    res(what, fadv(fd, 0, 0, adv));
  }
  res("fadvise range", fadv(fd, 4096, 1 << 20, POSIX_FADV_DONTNEED));
  res("fadvise negative len", fadv(fd, 0, -1, POSIX_FADV_NORMAL));
  res("fadvise negative offset", fadv(fd, -4096, 10, POSIX_FADV_WILLNEED));
  res("fadvise pipe", fadv(p[0], 0, 0, POSIX_FADV_NORMAL));
  res("fadvise pipe bad advice", fadv(p[0], 0, 0, 99));
  res("fadvise bad fd", fadv(99, 0, 0, POSIX_FADV_NORMAL));
  res("fadvise O_PATH", fadv(opath, 0, 0, POSIX_FADV_NORMAL));
  res("fadvise write-only", fadv(wo, 0, 0, POSIX_FADV_SEQUENTIAL));
  res("fadvise directory", fadv(dir, 0, 0, POSIX_FADV_RANDOM));
  printf("posix_fadvise returns %d\n", posix_fadvise(fd, 0, 0, 42));

  res("readahead", readahead(fd, 0, 4096));
  res("readahead past end", readahead(fd, 1 << 20, 4096));
  res("readahead negative count", syscall(SYS_readahead, fd, 0L, -1L));
  res("readahead pipe", readahead(p[0], 0, 10));
  res("readahead directory", readahead(dir, 0, 10));
  res("readahead /dev/null", readahead(devnull, 0, 10));
  res("readahead write-only", readahead(wo, 0, 10));
  res("readahead O_PATH", readahead(opath, 0, 10));
  res("readahead bad fd", readahead(99, 0, 10));

  unsigned all = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
  res("sync_file_range", sync_file_range(fd, 0, 0, all));
  res("sync_file_range write", sync_file_range(fd, 0, 100, SYNC_FILE_RANGE_WRITE));
  res("sync_file_range no flags", sync_file_range(fd, 0, 100, 0));
  res("sync_file_range bad flags", sync_file_range(fd, 0, 0, 8));
  res("sync_file_range negative offset", sync_file_range(fd, -1, 0, 0));
  res("sync_file_range negative count", sync_file_range(fd, 0, -1, 0));
  res("sync_file_range overflow", sync_file_range(fd, 0x7fffffffffffff00LL, 0x1000, 0));
  res("sync_file_range pipe", sync_file_range(p[1], 0, 0, SYNC_FILE_RANGE_WRITE));
  res("sync_file_range pipe bad flags", sync_file_range(p[1], 0, 0, 8));
  res("sync_file_range directory", sync_file_range(dir, 0, 0, SYNC_FILE_RANGE_WRITE));
  res("sync_file_range /dev/null", sync_file_range(devnull, 0, 0, 0));
  res("sync_file_range write-only", sync_file_range(wo, 0, 0, SYNC_FILE_RANGE_WRITE));
  res("sync_file_range O_PATH", sync_file_range(opath, 0, 0, 0));
  res("sync_file_range bad fd", sync_file_range(99, 0, 0, 8));
  printf("done\n");
  return 0;
}
