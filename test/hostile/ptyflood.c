// A hostile program against the pseudo-terminals: input floods that only
// edit a line (their echoes must stay bounded), output nobody reads, bad
// pointers and flags to the pty ioctls, and opening pairs until something
// refuses. The Sentry must answer each with an errno and live on.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#define SHOW(label, call) do { long r_ = (long)(call); int e_ = errno; printf("%s: %ld %s\n", label, r_, r_ < 0 ? strerror(e_) : "ok"); } while (0)

static int pair(int *s) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (m < 0) return -1;
  unlockpt(m);
  *s = open(ptsname(m), O_RDWR | O_NOCTTY | O_NONBLOCK);
  return m;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int s = -1, m = pair(&s);
  // 4 MiB of "a^U": each byte is echoed, none ever makes a line.
  char buf[4096];
  for (size_t i = 0; i < sizeof buf; i += 2) buf[i] = 'a', buf[i + 1] = 0x15;
  long in = 0;
  for (int i = 0; i < 1024; i++) {
    ssize_t n = write(m, buf, sizeof buf);
    if (n > 0) in += n;
  }
  int q = 0;
  ioctl(m, FIONREAD, &q);
  printf("edit flood: written %ld, master holds %d (bounded: %d)\n", in, q, q <= 65536);
  // Output nobody reads: the slave's writer gets EAGAIN once the master's queue is full.
  long out = 0;
  for (int i = 0; i < 1024; i++) {
    ssize_t n = write(s, buf, sizeof buf);
    if (n < 0) {
      printf("output flood: %s after %ld bytes (bounded: %d)\n", strerror(errno), out, out <= 65536);
      break;
    }
    out += n;
  }
  // Input nobody reads, raw: the master's writer gets EAGAIN.
  struct termios t;
  tcgetattr(s, &t);
  cfmakeraw(&t);
  tcsetattr(s, TCSAFLUSH, &t);
  in = 0;
  for (int i = 0; i < 1024; i++) {
    ssize_t n = write(m, buf, sizeof buf);
    if (n < 0) {
      printf("input flood: %s after %ld bytes (bounded: %d)\n", strerror(errno), in, in <= 131072);
      break;
    }
    in += n;
  }
  SHOW("TCGETS bad pointer", ioctl(s, TCGETS, (void *)8));
  SHOW("TCSETS bad pointer", ioctl(m, TCSETS, (void *)-4096L));
  SHOW("TIOCSWINSZ NULL", ioctl(m, TIOCSWINSZ, NULL));
  SHOW("TIOCGPTN bad pointer", ioctl(m, TIOCGPTN, (void *)1));
  SHOW("TIOCGPTPEER bad flags", ioctl(m, TIOCGPTPEER, 0x7fffffff));
  SHOW("TIOCSPGRP negative", ioctl(m, TIOCSPGRP, &(int){-5}));
  SHOW("TCFLSH bad", ioctl(m, TCFLSH, 77));
  // Pairs until something says no (fd limit, heap budget or the pty limit).
  struct rlimit rl = {65536, 65536};
  setrlimit(RLIMIT_NOFILE, &rl);
  int opened = 0;
  for (;;) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (fd < 0) {
      printf("pairs: %d, then %s\n", opened, strerror(errno));
      break;
    }
    opened++;
  }
  printf("sentry alive\n");
  return 0;
}
