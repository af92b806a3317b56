/* offsets: offsets and limits of the read/write family as Linux checks them:
 * overflowing pread/pwrite/lseek positions, ESPIPE against EBADF, seeking
 * devices and proc/sys directories, pipe sizes, sendfile to an O_APPEND
 * file, RLIMIT_FSIZE through writev/sendfile/copy_file_range. On the host
 * directory and on tmpfs (/dev/shm). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

static int xfsz;
static void on_xfsz(int s) { (void)s; xfsz++; }

/* huge: also the cases whose answer depends on the file system's largest
 * file size (ext4's 16 TiB natively; tmpfs's 2^63 is beyond the sandbox's
 * 2^53, so tmpfs runs only the generic checks). */
static void file_offsets(const char *label, const char *path, int huge) {
  char l[160], b[16] = "0123456789";
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) DIE("open");
  if (write(fd, b, 10) != 10) DIE("write");
#define L(s) (snprintf(l, sizeof l, "%s %s", label, s), l)
  SHOW(L("pread at -1"), pread(fd, b, 1, -1));
  SHOW(L("pread at LLONG_MAX"), pread(fd, b, 1, LLONG_MAX));
  SHOW(L("pread at LLONG_MAX-5, 10 bytes"), pread(fd, b, 10, LLONG_MAX - 5));
  SHOW(L("pread at 2^62"), pread(fd, b, 1, 1LL << 62));
  SHOW(L("pwrite at -1"), pwrite(fd, b, 1, -1));
  SHOW(L("pwrite at LLONG_MAX"), pwrite(fd, b, 1, LLONG_MAX));
  SHOW(L("pwrite at LLONG_MAX-5, 10 bytes"), pwrite(fd, b, 10, LLONG_MAX - 5));
  if (huge) SHOW(L("pwrite at 2^62"), pwrite(fd, b, 1, 1LL << 62));
  SHOW(L("pwrite 0 bytes at 2^62"), pwrite(fd, b, 0, 1LL << 62));
  struct iovec v = {b, 1};
  SHOW(L("preadv at -1"), preadv(fd, &v, 1, -1));
  SHOW(L("preadv2 at -1 (current)"), preadv2(fd, &v, 1, -1, 0));
  SHOW(L("preadv2 at -2"), preadv2(fd, &v, 1, -2, 0));
  SHOW(L("pwritev at LLONG_MAX"), pwritev(fd, &v, 1, LLONG_MAX));
  SHOW(L("lseek SET -1"), lseek(fd, -1, SEEK_SET));
  if (huge) SHOW(L("lseek SET LLONG_MAX"), lseek(fd, LLONG_MAX, SEEK_SET));
  if (huge) SHOW(L("lseek SET 2^62"), lseek(fd, 1LL << 62, SEEK_SET));
  SHOW(L("lseek SET 5"), lseek(fd, 5, SEEK_SET));
  SHOW(L("lseek CUR LLONG_MAX"), lseek(fd, LLONG_MAX, SEEK_CUR));
  SHOW(L("lseek CUR -6"), lseek(fd, -6, SEEK_CUR));
  SHOW(L("  still at"), lseek(fd, 0, SEEK_CUR));
  SHOW(L("lseek END LLONG_MAX"), lseek(fd, LLONG_MAX, SEEK_END));
  SHOW(L("lseek END -11"), lseek(fd, -11, SEEK_END));
  SHOW(L("lseek END 100"), lseek(fd, 100, SEEK_END));
  SHOW(L("lseek DATA 11"), lseek(fd, 11, SEEK_DATA));
  SHOW(L("lseek HOLE -1"), lseek(fd, -1, SEEK_HOLE));
  SHOW(L("lseek whence 5"), lseek(fd, 0, 5));
  SHOW(L("ftruncate -1"), ftruncate(fd, -1));
  if (huge) SHOW(L("ftruncate LLONG_MAX"), ftruncate(fd, LLONG_MAX));
  SHOW(L("fallocate at LLONG_MAX-5"), fallocate(fd, 0, LLONG_MAX - 5, 10));
  SHOW(L("fallocate len 0"), fallocate(fd, 0, 0, 0));
  if (huge) {
    if (lseek(fd, LLONG_MAX - 5, SEEK_SET) < 0) printf("  (seek to LLONG_MAX-5 refused)\n");
    SHOW(L("write at LLONG_MAX-5 offset"), write(fd, b, 10));
    SHOW(L("read at LLONG_MAX-5 offset"), read(fd, b, 10));
  }
  close(fd);
  int ro = open(path, O_RDONLY);
  SHOW(L("pwrite on O_RDONLY"), pwrite(ro, b, 1, 0));
  SHOW(L("pwrite on O_RDONLY at -1"), pwrite(ro, b, 1, -1));
  close(ro);
  unlink(path);
#undef L
}

static void pipes(void) {
  int p[2];
  char b[8];
  if (pipe(p) < 0) DIE("pipe");
  SHOW("pread on pipe", pread(p[0], b, 1, 0));
  SHOW("pread on pipe write end", pread(p[1], b, 1, 0));
  SHOW("pwrite on pipe read end", pwrite(p[0], b, 1, 0));
  SHOW("pwrite on pipe", pwrite(p[1], b, 1, 0));
  SHOW("pread on pipe at -1", pread(p[0], b, 1, -1));
  SHOW("lseek on pipe", lseek(p[0], 0, SEEK_CUR));
  SHOW("read on write end", read(p[1], b, 1));
  SHOW("pread on closed fd", pread(1000, b, 1, 0));
  struct iovec v = {b, 1};
  SHOW("preadv on pipe", preadv(p[0], &v, 1, 0));
  SHOW("preadv2 on pipe at -1 nonblock", (fcntl(p[0], F_SETFL, O_NONBLOCK), preadv2(p[0], &v, 1, -1, 0)));
  SHOW("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
  SHOW("F_SETPIPE_SZ 0", fcntl(p[0], F_SETPIPE_SZ, 0));
  SHOW("F_SETPIPE_SZ 1", fcntl(p[0], F_SETPIPE_SZ, 1));
  SHOW("F_SETPIPE_SZ 4097", fcntl(p[0], F_SETPIPE_SZ, 4097));
  SHOW("F_SETPIPE_SZ 65536", fcntl(p[1], F_SETPIPE_SZ, 65536));
  SHOW("F_SETPIPE_SZ 1<<20", fcntl(p[1], F_SETPIPE_SZ, 1 << 20));
  SHOW("F_SETPIPE_SZ (1<<20)+1", fcntl(p[1], F_SETPIPE_SZ, (1 << 20) + 1));
  SHOW("F_SETPIPE_SZ 1<<31", fcntl(p[1], F_SETPIPE_SZ, 1U << 31));
  SHOW("F_SETPIPE_SZ -1", fcntl(p[1], F_SETPIPE_SZ, -1));
  static char big[20000];
  SHOW("fill 20000", write(p[1], big, sizeof big));
  SHOW("F_SETPIPE_SZ 4096 below the content", fcntl(p[1], F_SETPIPE_SZ, 4096));
  SHOW("F_SETPIPE_SZ 16384 below the content", fcntl(p[1], F_SETPIPE_SZ, 16384));
  SHOW("F_SETPIPE_SZ 32768", fcntl(p[1], F_SETPIPE_SZ, 32768));
  SHOW("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
  int fd = open("plain", O_RDWR | O_CREAT | O_TRUNC, 0644);
  SHOW("F_GETPIPE_SZ on a file", fcntl(fd, F_GETPIPE_SZ));
  SHOW("F_SETPIPE_SZ on a file", fcntl(fd, F_SETPIPE_SZ, 4096));
  close(fd);
  close(p[0]);
  close(p[1]);
}

static void seek_special(const char *path, int flags) {
  char l[160];
  int fd = open(path, flags);
  if (fd < 0) {
    printf("%s: open %s\n", path, ename(errno));
    return;
  }
  snprintf(l, sizeof l, "%s lseek SET 100", path);
  SHOW(l, lseek(fd, 100, SEEK_SET));
  snprintf(l, sizeof l, "%s lseek CUR 0", path);
  SHOW(l, lseek(fd, 0, SEEK_CUR));
  snprintf(l, sizeof l, "%s lseek END 0", path);
  SHOW(l, lseek(fd, 0, SEEK_END));
  snprintf(l, sizeof l, "%s lseek SET -1", path);
  SHOW(l, lseek(fd, -1, SEEK_SET));
  snprintf(l, sizeof l, "%s lseek DATA 0", path);
  SHOW(l, lseek(fd, 0, SEEK_DATA));
  snprintf(l, sizeof l, "%s lseek whence 9", path);
  SHOW(l, lseek(fd, 0, 9));
  close(fd);
}

static void appends(void) {
  int in = open("src", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || write(in, "abcdef", 6) != 6) DIE("src");
  int out = open("dst", O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
  off_t o = 0;
  SHOW("sendfile to O_APPEND", sendfile(out, in, &o, 6));
  SHOW("copy_file_range to O_APPEND", copy_file_range(in, &o, out, NULL, 6, 0));
  /* The types are checked before the access modes: a directory open read-only is EISDIR, not EBADF. */
  int dirfd = open(".", O_RDONLY | O_DIRECTORY);
  SHOW("copy_file_range to a read-only directory", copy_file_range(in, &o, dirfd, NULL, 6, 0));
  SHOW("copy_file_range from a write-only file", copy_file_range(out, NULL, in, NULL, 6, 0));
  close(dirfd);
  /* Within one file the ranges may not overlap; a count that wraps past 2^64 from the offset is EOVERFLOW. */
  loff_t a0 = 0, a2 = 2, a1 = 1;
  SHOW("copy_file_range overlapping", copy_file_range(in, &a0, in, &a2, 4, 0));
  SHOW("copy_file_range count wraps", copy_file_range(in, &a1, in, &a2, (size_t)-1, 0));
  close(out);
  out = open("dst", O_WRONLY | O_TRUNC);
  o = -1;
  SHOW("sendfile offset -1", sendfile(out, in, &o, 6));
  o = LLONG_MAX - 2;
  SHOW("sendfile offset LLONG_MAX-2", sendfile(out, in, &o, 6));
  int p[2];
  if (pipe(p) < 0) DIE("pipe");
  SHOW("sendfile from a pipe with offset", sendfile(out, p[0], &o, 6));
  close(p[0]);
  close(p[1]);

  struct rlimit lim = {100, RLIM_INFINITY};
  signal(SIGXFSZ, on_xfsz);
  setrlimit(RLIMIT_FSIZE, &lim);
  static char buf[200];
  struct iovec v[2] = {{buf, 60}, {buf, 60}};
  SHOW("writev 120 under FSIZE 100", writev(out, v, 2));
  SHOW("writev at the limit", writev(out, v, 2));
  printf("  SIGXFSZ %d\n", xfsz);
  if (ftruncate(out, 0) < 0 || lseek(out, 95, SEEK_SET) != 95) DIE("reset");
  o = 0;
  SHOW("sendfile 6 at 95 under FSIZE 100", sendfile(out, in, &o, 6));
  printf("  in offset %ld\n", (long)o);
  loff_t io = 0, oo = 98;
  SHOW("copy_file_range 6 at 98", copy_file_range(in, &io, out, &oo, 6, 0));
  oo = 100;
  SHOW("copy_file_range at 100", copy_file_range(in, &io, out, &oo, 6, 0));
  printf("  SIGXFSZ %d\n", xfsz);
  SHOW("fallocate to 200", fallocate(in, 0, 0, 200));
  SHOW("ftruncate to 200", ftruncate(in, 200));
  printf("  SIGXFSZ %d\n", xfsz);
  lim.rlim_cur = RLIM_INFINITY;
  setrlimit(RLIMIT_FSIZE, &lim);
  close(in);
  close(out);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) return 2;
  if (chdir(argv[1]) < 0) DIE("chdir");
  file_offsets("host", "f", 1);
  char shm[64];
  snprintf(shm, sizeof shm, "/dev/shm/offsets-%d", (int)getpid());
  file_offsets("tmpfs", shm, 0);
  pipes();
  seek_special("/dev/null", O_RDWR);
  seek_special("/dev/zero", O_RDONLY);
  seek_special("/dev/urandom", O_RDONLY);
  seek_special("/proc/self", O_RDONLY | O_DIRECTORY);
  seek_special("/proc/sys/kernel", O_RDONLY | O_DIRECTORY);
  seek_special("/proc/self/status", O_RDONLY);
  seek_special("/dev/shm", O_RDONLY | O_DIRECTORY);
  appends();
  printf("done\n");
  return 0;
}
