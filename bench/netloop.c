// bench/netloop.c: TCP over 127.0.0.1 between two processes. "stream MB":
// one process writes MB MiB in 64 KiB writes, the other reads them; prints
// Gbit/s. "connect N": N connect/accept/close cycles; prints cycles per
// second. Timed by the program itself (CLOCK_MONOTONIC).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  long n = atol(argv[2]);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 128)) return perror("listen"), 1;
  socklen_t l = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &l);
  if (!strcmp(argv[1], "stream")) {
    pid_t pid = fork();
    if (pid == 0) {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(c, (struct sockaddr *)&a, sizeof a)) _exit(1);
      static char buf[65536];
      long left = n << 20;
      while (left > 0) {
        ssize_t w = write(c, buf, left < (long)sizeof buf ? left : (long)sizeof buf);
        if (w <= 0) _exit(1);
        left -= w;
      }
      close(c);
      _exit(0);
    }
    int c = accept(s, NULL, NULL);
    static char buf[65536];
    long got = 0;
    double t0 = now();
    ssize_t r;
    while ((r = read(c, buf, sizeof buf)) > 0) got += r;
    double dt = now() - t0;
    waitpid(pid, NULL, 0);
    if (got != n << 20) return fprintf(stderr, "short: %ld\n", got), 1;
    printf("%.3f Gbit/s\n", got * 8 / dt / 1e9);
    return 0;
  }
  double t0 = now();
  for (long i = 0; i < n; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a)) return perror("connect"), 1;
    int d = accept(s, NULL, NULL);
    close(c);
    close(d);
  }
  printf("%.0f connections/s\n", n / (now() - t0));
  return 0;
}
