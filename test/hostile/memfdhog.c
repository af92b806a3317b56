// memfdhog: a program that tries to take the host's memory through memfds.
// Run in a sandbox with a small --memory (test/integration/memfd.test.js):
//   write     memfds stretched to 1 TiB each, written 1 MiB at a time until
//             the sandbox says no (ENOMEM or ENOSPC); then all closed and a
//             new one written, to show the memory came back.
//   touch     one memfd of 1 GiB mapped MAP_SHARED and touched page by page:
//             the OOM kill ends it (the caller checks signal 9).
//   fallocate terabytes asked of fallocate: refused at once (ENOSPC).
//   many      small memfds, each mapped and its descriptor closed, until the
//             sandbox refuses one; then all unmapped and one made again.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MIB (1L << 20)
#define TIB (1L << 40)

static int mfd(const char *name) {
  return (int)syscall(SYS_memfd_create, name, 0);
}

static int refill(void) {
  int fd = mfd("again");
  char *buf = calloc(1, MIB);
  for (int i = 0; i < 16; i++) {
    if (write(fd, buf, MIB) != MIB) {
      printf("write again: %s\n", strerrorname_np(errno));
      return 1;
    }
  }
  printf("write again: ok\n");
  close(fd);
  return 0;
}

static int hogWrite(void) {
  int fds[64];
  int n = 0;
  long total = 0;
  int err = 0;
  char *buf = malloc(MIB);
  memset(buf, 'h', MIB);
  while (n < 64 && !err) {
    int fd = mfd("hog");
    if (fd < 0) {
      err = errno;
      break;
    }
    fds[n++] = fd;
    if (ftruncate(fd, TIB) != 0) {
      printf("ftruncate 1 TiB: %s\n", strerrorname_np(errno));
      return 1;
    }
    for (long off = 0; off < 256 * MIB; off += MIB) {
      long w = pwrite(fd, buf, MIB, off);
      if (w < 0) {
        err = errno;
        break;
      }
      total += w;
      if (w < MIB) break;
    }
  }
  printf("write: %s\n", err ? strerrorname_np(err) : "no error");
  printf("written MiB: %ld\n", total / MIB);
  for (int i = 0; i < n; i++) close(fds[i]);
  return refill();
}

static int hogTouch(void) {
  int fd = mfd("toucher");
  if (ftruncate(fd, 1024 * MIB) != 0) return 1;
  char *m = mmap(NULL, 1024 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    printf("mmap: %s\n", strerrorname_np(errno));
    return 1;
  }
  printf("mapped 1 GiB\n");
  fflush(stdout);
  for (long i = 0; i < 1024 * MIB; i += 4096) m[i] = 1;
  printf("touched 1 GiB\n");
  return 0;
}

static int hogFallocate(void) {
  int fd = mfd("falloc");
  printf("fallocate 1 TiB: %s\n", fallocate(fd, 0, 0, TIB) ? strerrorname_np(errno) : "ok");
  printf("fallocate keep size 32 TiB: %s\n", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 32 * TIB) ? strerrorname_np(errno) : "ok");
  off_t size = lseek(fd, 0, SEEK_END);
  printf("size after: %ld\n", (long)size);
  close(fd);
  return refill();
}

static int hogMany(void) {
  enum { MAX = 200000 };
  char **maps = calloc(MAX, sizeof *maps);
  int n = 0, err = 0;
  while (n < MAX) {
    int fd = mfd("many");
    if (fd < 0) {
      err = errno;
      break;
    }
    if (ftruncate(fd, 4096) != 0) {
      err = errno;
      close(fd);
      break;
    }
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
      err = errno;
      break;
    }
    m[0] = 1;
    maps[n++] = m;
  }
  printf("many: %s after some\n", err ? strerrorname_np(err) : "no error");
  for (int i = 0; i < n; i++) munmap(maps[i], 4096);
  return refill();
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  int r = 2;
  if (!strcmp(argv[1], "write")) r = hogWrite();
  else if (!strcmp(argv[1], "touch")) r = hogTouch();
  else if (!strcmp(argv[1], "fallocate")) r = hogFallocate();
  else if (!strcmp(argv[1], "many")) r = hogMany();
  if (r == 0) printf("alive\n");
  return r;
}
