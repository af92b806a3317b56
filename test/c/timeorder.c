// File times never go backwards: a file's times set to "now" one after
// another (creation, futimens(NULL), a write, utimensat(UTIME_NOW)) are each
// at least the one before, across many files. The Sentry's clock for file
// times once added sub-millisecond digits of another clock to Date.now()'s
// milliseconds, and a second stamp could be 0.8 ms before the first
// (CPython's test_touch_common).
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static long long ns(const struct timespec *t) { return (long long)t->tv_sec * 1000000000LL + t->tv_nsec; }

int main(int argc, char **argv) {
  char path[4096];
  snprintf(path, sizeof path, "%s/timeorder", argc > 1 ? argv[1] : ".");
  int backwards = 0;
  long long last = 0;
  for (int i = 0; i < 3000; i++) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { perror("open"); return 1; }
    struct stat st;
    for (int step = 0; step < 3; step++) {
      if (step == 1) futimens(fd, NULL);
      if (step == 2 && write(fd, "x", 1) != 1) { perror("write"); return 1; }
      fstat(fd, &st);
      long long m = ns(&st.st_mtim);
      if (m < last) backwards++;
      last = m;
    }
    close(fd);
    unlink(path);
  }
  printf("stamps that went backwards: %d\n", backwards);
  printf("done\n");
  return 0;
}
