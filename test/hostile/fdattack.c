/* fdattack: hostile arguments aimed at the descriptor and transfer paths:
 * offsets at and past 2^63, lengths near 2^64, iovecs at the top of user
 * space or wrapping, counts past INT_MAX, lock ranges that overflow, times
 * past any calendar, O_PATH descriptors passed everywhere. Every call must
 * come back with an errno or a count; the program prints "sentry alive" at
 * the end, and the host file it was given must be unchanged (the test checks). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static const long long offs[] = {0, -1, -2, LLONG_MAX, LLONG_MAX - 1, LLONG_MIN, 1LL << 53, (1LL << 53) + 1, 1LL << 62, 0x7ffff000, 4096};
static const unsigned long addrs[] = {0, 1, 0x7ffffffff000UL, 0x7fffffffffffUL, 0x800000000000UL, 0xfffffffffffff000UL, ~0UL};
static const unsigned long lens[] = {0, 1, 4096, 0x7ffff000UL, 0x80000000UL, 0xffffffffUL, 1UL << 47, ~0UL, ~0UL >> 1};
#define N(a) (sizeof(a) / sizeof((a)[0]))

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  int host = open(argv[1], O_RDWR);
  int ro = open(argv[1], O_RDONLY);
  int path = open(argv[1], O_PATH);
  int dir = open("/", O_RDONLY | O_DIRECTORY);
  int shm = open("/dev/shm/fdattack", O_RDWR | O_CREAT, 0600);
  int p[2];
  if (host < 0 || ro < 0 || path < 0 || dir < 0 || shm < 0 || pipe2(p, O_NONBLOCK) < 0) return 3;
  int fds[] = {host, ro, path, dir, shm, p[0], p[1], -1, 1000};
  static char buf[8192];
  long calls = 0;
  for (unsigned f = 0; f < N(fds); f++) {
    int fd = fds[f];
    for (unsigned o = 0; o < N(offs); o++) {
      for (unsigned l = 0; l < N(lens); l++) {
        pread(fd, buf, lens[l], offs[o]);
        pwrite(fd == host ? ro : fd, buf, lens[l], offs[o]);
        lseek(fd, offs[o], (int)(l % 6));
        off_t so = offs[o];
        sendfile(shm, fd, &so, lens[l]);
        loff_t a = offs[o], b = offs[(o + l) % N(offs)];
        syscall(SYS_copy_file_range, fd, &a, shm, &b, lens[l], 0);
        fallocate(fd == host ? shm : fd, 0, offs[o], (off_t)lens[l]);
        ftruncate(fd == host ? shm : fd, offs[o]);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = (short)(l % 3), .l_start = offs[o], .l_len = (off_t)lens[l]};
        fcntl(fd, F_SETLK, &fl);
        fcntl(fd, F_GETLK, &fl);
        calls += 9;
      }
      for (unsigned ad = 0; ad < N(addrs); ad++) {
        for (unsigned l = 0; l < N(lens); l++) {
          read(fd, (void *)addrs[ad], lens[l]);
          write(fd == host ? ro : fd, (void *)addrs[ad], lens[l]);
          struct iovec v[3] = {{buf, 16}, {(void *)addrs[ad], lens[l]}, {buf, lens[(l + 1) % N(lens)]}};
          readv(fd, v, 3);
          writev(fd == host ? ro : fd, v, 3);
          preadv2(fd, v, 3, offs[o], (int)l);
          pwritev2(fd == host ? ro : fd, v, 3, offs[o], (int)(1u << l));
          syscall(SYS_getdents64, fd, addrs[ad], lens[l]);
          readlinkat(fd, "", (char *)addrs[ad], lens[l]);
          /* The iovec array itself at hostile addresses. */
          syscall(SYS_readv, fd, addrs[ad], (long)(l * 300));
          calls += 9;
        }
      }
    }
    struct timespec ts[2] = {{LLONG_MAX, 0}, {LLONG_MIN, 999999999}};
    futimens(fd, ts);
    syscall(SYS_utimensat, fd, NULL, ts, 0);
    utimensat(fd, "", ts, AT_EMPTY_PATH);
    fchmod(fd, 07777);
    fchown(fd, -1, -1);
    flock(fd, LOCK_EX | LOCK_NB);
    fcntl(fd, F_SETPIPE_SZ, INT_MAX);
    fcntl(fd, F_SETPIPE_SZ, -1);
    syscall(SYS_fcntl, fd, F_DUPFD, (long)INT_MAX);
    calls += 9;
  }
  unlink("/dev/shm/fdattack");
  printf("calls %ld\n", calls);
  printf("sentry alive\n");
  return 0;
}
