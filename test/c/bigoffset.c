/* bigoffset: a file written at offsets of terabytes, then punched and
 * truncated. The file stays sparse: the Sentry once sized a page table by
 * the highest offset and died (V8 "invalid size") on such a write. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2 || chdir(argv[1]) < 0) DIE("chdir");
  int fd = open("sparse", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) DIE("open");
  const off_t offs[] = {1LL << 40, (1LL << 40) * 8 + 4095, 3};
  for (int i = 0; i < 3; i++) {
    SHOW("pwrite", pwrite(fd, "xyz", 3, offs[i]));
    struct stat st;
    fstat(fd, &st);
    printf("size %lld\n", (long long)st.st_size);
    char b[4] = {0};
    SHOW("pread", pread(fd, b, 3, offs[i]));
    printf("read back '%s'\n", b);
  }
  SHOW("punch hole over 4 TiB", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 1LL << 42));
  char b[4] = {0};
  SHOW("pread punched", pread(fd, b, 3, 1LL << 40));
  printf("punched reads zeros: %d\n", b[0] == 0 && b[1] == 0 && b[2] == 0);
  SHOW("ftruncate 1 TiB + 1", ftruncate(fd, (1LL << 40) + 1));
  SHOW("ftruncate 0", ftruncate(fd, 0));
  struct stat st;
  fstat(fd, &st);
  printf("size %lld\n", (long long)st.st_size);
  close(fd);
  SHOW("unlink", unlink("sparse"));
  printf("done\n");
  return 0;
}
