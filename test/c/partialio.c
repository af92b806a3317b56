/* partialio: a transfer whose buffer is bad part-way moves the bytes before
 * the bad page and returns their count; only a transfer that moves nothing
 * fails with EFAULT. For regular files (tmpfs and the host's), pipes, proc
 * files and devices; readv/writev with empty and bad vectors; the
 * MAX_RW_COUNT cut. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

static char *half; /* two pages: the first mapped, the second not */
static char data[8192];

static void fill(const char *path) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, data, sizeof data) != sizeof data) DIE("fill");
  close(fd);
}

static void file_case(const char *label, const char *path) {
  char l[128];
  fill(path);
  int fd = open(path, O_RDWR);
  if (fd < 0) DIE("open");
  snprintf(l, sizeof l, "%s read across the hole", label);
  SHOW(l, read(fd, half, 8192));
  snprintf(l, sizeof l, "%s   offset", label);
  SHOW(l, lseek(fd, 0, SEEK_CUR));
  snprintf(l, sizeof l, "%s   data ok", label);
  SHOW(l, memcmp(half, data, 4096) == 0);
  snprintf(l, sizeof l, "%s read all bad", label);
  SHOW(l, read(fd, half + 4096, 10));
  snprintf(l, sizeof l, "%s   offset", label);
  SHOW(l, lseek(fd, 0, SEEK_CUR));
  snprintf(l, sizeof l, "%s pread 10 before the hole", label);
  SHOW(l, pread(fd, half + 4086, 100, 0));
  struct iovec v[3] = {{half, 100}, {NULL, 0}, {half + 4000, 200}};
  snprintf(l, sizeof l, "%s preadv good, empty, crossing", label);
  SHOW(l, preadv(fd, v, 3, 0));
  if (lseek(fd, 0, SEEK_SET) != 0) DIE("lseek");
  memcpy(half, "abcdefghij", 10);
  snprintf(l, sizeof l, "%s write across the hole", label);
  SHOW(l, write(fd, half + 4091, 100));
  snprintf(l, sizeof l, "%s   offset", label);
  SHOW(l, lseek(fd, 0, SEEK_CUR));
  snprintf(l, sizeof l, "%s pwrite across the hole", label);
  SHOW(l, pwrite(fd, half + 4090, 100, 100));
  snprintf(l, sizeof l, "%s write all bad", label);
  SHOW(l, write(fd, half + 4096, 10));
  struct iovec w[3] = {{half, 3}, {half, 0}, {half + 4095, 10}};
  snprintf(l, sizeof l, "%s pwritev good, empty, crossing", label);
  SHOW(l, pwritev(fd, w, 3, 200));
  struct stat st;
  fstat(fd, &st);
  snprintf(l, sizeof l, "%s   size", label);
  SHOW(l, st.st_size);
  char back[8];
  snprintf(l, sizeof l, "%s   bytes at 200", label);
  SHOW(l, pread(fd, back, 5, 200));
  printf("  %.5s\n", back);
  close(fd);
}

static void pipe_case(void) {
  int p[2];
  if (pipe2(p, O_NONBLOCK) < 0) DIE("pipe");
  SHOW("pipe write across the hole", write(p[1], half + 4000, 200));
  SHOW("pipe read empty", read(p[0], half, 10));
  SHOW("pipe write", write(p[1], half + 3800, 200));
  SHOW("pipe read all bad", read(p[0], half + 4096, 10));
  SHOW("pipe read across the hole", read(p[0], half + 4050, 100));
  char rest[300];
  SHOW("pipe   rest", read(p[0], rest, sizeof rest));
  SHOW("pipe write all bad", write(p[1], half + 4096, 10));
  struct iovec v[4] = {{NULL, 0}, {half, 5}, {NULL, 0}, {half + 4094, 10}};
  SHOW("pipe writev empty, good, empty, crossing", writev(p[1], v, 4));
  struct iovec g[3] = {{NULL, 0}, {half, 5}, {half + 4000, 10}};
  SHOW("pipe writev empty, good, good", writev(p[1], g, 3));
  struct iovec r[3] = {{half, 1}, {NULL, 0}, {half + 4090, 100}};
  SHOW("pipe readv crossing", readv(p[0], r, 3));
  SHOW("pipe   rest", read(p[0], rest, sizeof rest));
  SHOW("pipe read all bad, empty", read(p[0], half + 4096, 10));
  /* Whole pages before the fault go through; a page cut by it does not. */
  static char big[65536];
  SHOW("pipe write 8192, one page good", write(p[1], half, 8192));
  SHOW("pipe write from +100, 8192", write(p[1], half + 100, 8192));
  SHOW("pipe   drain", read(p[0], big, sizeof big));
  SHOW("pipe write 4096", write(p[1], big, 4096));
  SHOW("pipe write 4096", write(p[1], big, 4096));
  SHOW("pipe read 8192, one page good", read(p[0], half, 8192));
  SHOW("pipe   rest", read(p[0], big, sizeof big));
  close(p[0]);
  close(p[1]);
}

static void dev_case(const char *path) {
  char l[128];
  int fd = open(path, O_RDWR);
  if (fd < 0) DIE("open dev");
  snprintf(l, sizeof l, "%s read across the hole", path);
  SHOW(l, read(fd, half + 96, 8192));
  snprintf(l, sizeof l, "%s read all bad", path);
  SHOW(l, read(fd, half + 4096, 8192));
  snprintf(l, sizeof l, "%s write across the hole", path);
  SHOW(l, write(fd, half + 96, 8192));
  snprintf(l, sizeof l, "%s write all bad", path);
  SHOW(l, write(fd, half + 4096, 8192));
  snprintf(l, sizeof l, "%s write 3 GiB", path);
  SHOW(l, write(fd, half, 3UL << 30));
  close(fd);
}

static void proc_case(void) {
  int fd = open("/proc/self/status", O_RDONLY);
  if (fd < 0) DIE("open status");
  SHOW("proc read 10 before the hole", read(fd, half + 4086, 100));
  SHOW("proc read all bad", read(fd, half + 4096, 100));
  char b[10];
  SHOW("proc   next", read(fd, b, 10));
  close(fd);
  fd = open("/proc/self/status", O_RDONLY);
  SHOW("proc pread 10 before the hole", pread(fd, half + 4086, 100, 0));
  SHOW("proc   data ok", memcmp(half + 4086, "Name:\t", 6) == 0);
  close(fd);
}

static void vec_case(void) {
  int fd = open("/dev/zero", O_RDONLY);
  struct iovec v[2] = {{half, 10}, {(void *)0x7ffffffff000UL, 0x2000}};
  SHOW("iovec crossing the top of user space", readv(fd, v, 2));
  struct iovec v2[2] = {{half, 10}, {(void *)0xfffffffffffff000UL, 0x2000}};
  SHOW("iovec wrapping around", readv(fd, v2, 2));
  struct iovec v3[2] = {{half, 10}, {(void *)-1UL, 0}};
  SHOW("empty iovec at the last address", readv(fd, v3, 2));
  /* The iovec array itself runs into the hole. */
  struct iovec *at = (struct iovec *)(half + 4096 - sizeof(struct iovec));
  at->iov_base = half;
  at->iov_len = 8;
  SHOW("iovec array crossing the hole", readv(fd, at, 2));
  SHOW("iovec array inside", readv(fd, at, 1));
  struct iovec big[2] = {{half, 0x7fffffff}, {half, 0x7fffffff}};
  int nul = open("/dev/null", O_WRONLY);
  SHOW("writev 4 GiB to /dev/null", writev(nul, big, 2));
  struct iovec neg[1] = {{half, (size_t)-1}};
  SHOW("writev negative length", writev(nul, neg, 1));
  SHOW("read count beyond INT_MAX from a small file", 0);
  int f = open("small", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (write(f, "xyz", 3) != 3) DIE("small");
  SHOW("  pread", pread(f, half, 0x90000000UL, 0));
  SHOW("  read whole hole", read(f, half + 4096, 0));
  close(f);
  close(fd);
  close(nul);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) return 2;
  if (chdir(argv[1]) < 0) DIE("chdir");
  for (size_t i = 0; i < sizeof data; i++) data[i] = (char)('a' + i % 26);
  half = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (half == MAP_FAILED || munmap(half + 4096, 4096) < 0) DIE("mmap");
  file_case("host", "hostfile");
  char shm[64];
  snprintf(shm, sizeof shm, "/dev/shm/partialio-%d", (int)getpid());
  file_case("tmpfs", shm);
  unlink(shm);
  pipe_case();
  dev_case("/dev/zero");
  dev_case("/dev/null");
  proc_case();
  vec_case();
  printf("done\n");
  return 0;
}
