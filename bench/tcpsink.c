/* tcpsink: TCP throughput between two hosts (containers), the client timing itself.
 *   tcpsink serve PORT          accept connections one after another on 0.0.0.0:PORT; read
 *                               each to its end, then answer one byte.
 *   tcpsink send HOST PORT MB   send MB MiB in 64 KiB writes to HOST (IPv4), wait for the
 *                               byte; prints "mbit_per_s=X". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *w) {
  perror(w);
  exit(1);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static char buf[65536];

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "serve") == 0) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 16) < 0) die("listen");
    for (;;) {
      int c = accept(l, NULL, NULL);
      if (c < 0) die("accept");
      while (read(c, buf, sizeof buf) > 0) {
      }
      if (write(c, "k", 1) != 1) perror("write");
      close(c);
    }
  }
  if (argc == 5 && strcmp(argv[1], "send") == 0) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
    if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) die("address");
    long total = atol(argv[4]) << 20;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
    double t0 = now();
    for (long left = total; left > 0;) {
      ssize_t n = write(s, buf, left < (long)sizeof buf ? left : (long)sizeof buf);
      if (n <= 0) die("write");
      left -= n;
    }
    shutdown(s, SHUT_WR);
    char k;
    if (read(s, &k, 1) != 1) die("read");
    double dt = now() - t0;
    printf("mbit_per_s=%.1f\n", total * 8 / dt / 1e6);
    return 0;
  }
  fprintf(stderr, "usage: tcpsink serve PORT | tcpsink send HOST PORT MB\n");
  return 2;
}
