/* stdiofile: stdio handed over as a host regular file behaves as one.
 *
 * Without arguments (stdio are pipes): lseek, pread and pwrite on them fail
 * with ESPIPE. With "files" (fd 0 redirected from a file of at least 20
 * bytes, fd 1 to a file): seeking, positional I/O, copy_file_range, sendfile
 * and pwritev2(RWF_APPEND) work on them; the report goes to fd 2 and the
 * file data to fd 1, both compared with a native run by the test. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>

static void report(const char *what, long r) {
  if (r < 0) fprintf(stderr, "%s: %s\n", what, ename(errno));
  else fprintf(stderr, "%s: %ld\n", what, r);
}

static const char *kind(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) return ename(errno);
  return S_ISREG(st.st_mode) ? "regular" : S_ISFIFO(st.st_mode) ? "fifo" : S_ISSOCK(st.st_mode) ? "socket" : "other";
}

int main(int argc, char **argv) {
  setvbuf(stderr, NULL, _IONBF, 0);
  char buf[64];
  if (argc < 2) {
    /* The test harness gives a pipe as stdout: pipes never seek. */
    int p[2];
    if (pipe(p) < 0) return 2;
    printf("stdout: %s\n", kind(1));
    printf("lseek stdout: %s\n", lseek(1, 0, SEEK_CUR) < 0 ? ename(errno) : "OK");
    printf("pwrite stdout: %s\n", pwrite(1, "x", 1, 0) < 0 ? ename(errno) : "OK");
    printf("pread pipe: %s\n", pread(p[0], buf, 1, 0) < 0 ? ename(errno) : "OK");
    printf("lseek pipe: %s\n", lseek(p[1], 0, SEEK_CUR) < 0 ? ename(errno) : "OK");
    printf("fsync pipe: %s\n", fsync(p[1]) < 0 ? ename(errno) : "OK");
    struct iovec sv = {.iov_base = "s", .iov_len = 1};
    printf("pwritev2 pipe RWF_DSYNC: %s\n", pwritev2(p[1], &sv, 1, -1, RWF_DSYNC) < 0 ? ename(errno) : "OK");
    printf("done\n");
    return 0;
  }
  fprintf(stderr, "kinds: %s %s\n", kind(0), kind(1));
  report("lseek 0 cur", lseek(0, 0, SEEK_CUR));
  report("read 0 4", read(0, buf, 4));
  report("lseek 0 cur", lseek(0, 0, SEEK_CUR));
  ssize_t n = pread(0, buf, 3, 10);
  report("pread 0 3@10", n);
  if (n > 0) fprintf(stderr, "  data %.*s\n", (int)n, buf);
  report("lseek 0 cur after pread", lseek(0, 0, SEEK_CUR));
  report("lseek 0 end", lseek(0, 0, SEEK_END));
  report("lseek 0 set 2", lseek(0, 2, SEEK_SET));
  report("lseek 0 bad whence", lseek(0, 0, 42));

  report("write 1", write(1, "hello world\n", 12));
  report("lseek 1 cur", lseek(1, 0, SEEK_CUR));
  report("pwrite 1 XY@1", pwrite(1, "XY", 2, 1));
  report("lseek 1 cur after pwrite", lseek(1, 0, SEEK_CUR));
  report("copy_file_range 0->1 5", copy_file_range(0, NULL, 1, NULL, 5, 0));
  report("lseek 0 cur", lseek(0, 0, SEEK_CUR));
  report("lseek 1 cur", lseek(1, 0, SEEK_CUR));
  off_t off = 0;
  report("sendfile 0@0 ->1 3", sendfile(1, 0, &off, 3));
  fprintf(stderr, "  off %ld\n", (long)off);
  report("sendfile 0 ->1 2", sendfile(1, 0, NULL, 2));
  report("lseek 0 cur", lseek(0, 0, SEEK_CUR));
  report("write 1 nl", write(1, "\n", 1));
  struct iovec iov = {.iov_base = "appended\n", .iov_len = 9};
  report("pwritev2 1 @0 RWF_APPEND", pwritev2(1, &iov, 1, 0, RWF_APPEND));
  report("lseek 1 cur", lseek(1, 0, SEEK_CUR));
  report("pwritev2 1 @-1 RWF_APPEND", pwritev2(1, &iov, 1, -1, RWF_APPEND));
  report("lseek 1 cur", lseek(1, 0, SEEK_CUR));
  report("lseek 1 set 0", lseek(1, 0, SEEK_SET));
  report("write 1 at 0", write(1, "H", 1));
  report("lseek 1 cur", lseek(1, 0, SEEK_CUR));
  report("fsync 1", fsync(1));
  report("fdatasync 1", fdatasync(1));
  struct iovec sv = {.iov_base = "s", .iov_len = 1};
  report("pwritev2 1 RWF_DSYNC", pwritev2(1, &sv, 1, -1, RWF_DSYNC));
  return 0;
}
