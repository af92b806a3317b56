/* tcpbench: TCP over the loopback (::1, else 127.0.0.1) between two processes of the same
 * program, the client timing itself with CLOCK_MONOTONIC.
 *   tcpbench throughput MB   client sends MB MiB in 64 KiB writes; the server
 *                            reads it all and answers one byte.
 *                            Prints "mbit_per_s=X".
 *   tcpbench connect N       N connect + accept + close; prints "conn_per_s=X". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: tcpbench throughput MB | connect N\n");
    return 2;
  }
  long n = atol(argv[2]);
  int tp = strcmp(argv[1], "throughput") == 0;
  /* ::1, or 127.0.0.1 where the host has IPv6 disabled. */
  struct sockaddr_storage a;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;
  memset(&a, 0, sizeof a);
  a6->sin6_family = AF_INET6;
  a6->sin6_addr = in6addr_loopback;
  socklen_t al = sizeof *a6;
  int l = socket(AF_INET6, SOCK_STREAM, 0);
  if (l < 0 || bind(l, (struct sockaddr *)&a, al) < 0) {
    if (l >= 0) close(l);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&a;
    memset(&a, 0, sizeof a);
    a4->sin_family = AF_INET;
    a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    al = sizeof *a4;
    l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, al) < 0) die("bind");
  }
  int fam = a.ss_family;
  if (listen(l, 512) < 0) die("listen");
  getsockname(l, (struct sockaddr *)&a, &al);
  pid_t kid = fork();
  if (kid < 0) die("fork");
  if (kid == 0) {
    static char buf[1 << 16];
    for (long i = 0; i < (tp ? 1 : n); i++) {
      int c = accept(l, NULL, NULL);
      if (c < 0) _exit(1);
      if (tp) {
        long want = n << 20, got = 0;
        while (got < want) {
          ssize_t r = read(c, buf, sizeof buf);
          if (r <= 0) _exit(1);
          got += r;
        }
        if (write(c, "k", 1) != 1) _exit(1);
      }
      close(c);
    }
    _exit(0);
  }
  close(l);
  double t0 = now();
  if (tp) {
    int c = socket(fam, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, al) < 0) die("connect");
    static char buf[1 << 16];
    memset(buf, 'x', sizeof buf);
    for (long i = 0; i < n * 16; i++) {
      for (size_t off = 0; off < sizeof buf;) {
        ssize_t w = write(c, buf + off, sizeof buf - off);
        if (w <= 0) die("write");
        off += w;
      }
    }
    char k;
    if (read(c, &k, 1) != 1) die("ack");
    double s = now() - t0;
    printf("mib=%ld seconds=%.3f mbit_per_s=%.1f\n", n, s, n * 8.0 * 1.048576 / s);
  } else {
    for (long i = 0; i < n; i++) {
      int c = socket(fam, SOCK_STREAM, 0);
      if (connect(c, (struct sockaddr *)&a, al) < 0) die("connect");
      close(c);
    }
    int st;
    waitpid(kid, &st, 0);
    double s = now() - t0;
    printf("connections=%ld seconds=%.3f conn_per_s=%.1f\n", n, s, n / s);
    return 0;
  }
  int st;
  waitpid(kid, &st, 0);
  return WEXITSTATUS(st);
}
