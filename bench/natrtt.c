// bench/natrtt.c: request/response round trips over one TCP connection, with
// a latency histogram, to see where the tail of a ping-pong comes from.
//   natrtt server PORT            echo server (one connection at a time)
//   natrtt client PORT N SIZE     N round trips of SIZE bytes to 127.0.0.1:PORT;
//                                 prints count, p50, p90, p99, max (us) and the
//                                 number of round trips over 10, 30, 150 ms.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int serve(int port) {
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (bind(l, (void *)&a, sizeof a) || listen(l, 16)) { perror("bind/listen"); return 1; }
  char buf[65536];
  for (;;) {
    int c = accept(l, 0, 0);
    if (c < 0) continue;
    for (;;) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      if (write(c, buf, n) != n) break;
    }
    close(c);
  }
}

static int client(int port, int n, int size) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(s, (void *)&a, sizeof a)) { perror("connect"); return 1; }
  char *buf = malloc(size);
  memset(buf, 'x', size);
  double *lat = malloc(n * sizeof *lat), t0 = now_us();
  for (int i = 0; i < n; i++) {
    double t = now_us();
    if (write(s, buf, size) != size) { perror("write"); return 1; }
    for (int got = 0; got < size;) {
      ssize_t r = read(s, buf + got, size - got);
      if (r <= 0) { perror("read"); return 1; }
      got += r;
    }
    lat[i] = now_us() - t;
  }
  double total = now_us() - t0;
  qsort(lat, n, sizeof *lat, cmp);
  int o10 = 0, o30 = 0, o150 = 0;
  for (int i = 0; i < n; i++) o10 += lat[i] > 10000, o30 += lat[i] > 30000, o150 += lat[i] > 150000;
  printf("n %d total_ms %.0f per_s %.0f p50_us %.0f p90_us %.0f p99_us %.0f max_us %.0f over10ms %d over30ms %d over150ms %d\n",
         n, total / 1000, n / (total / 1e6), lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100], lat[n - 1], o10, o30, o150);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "server")) return serve(atoi(argv[2]));
  if (argc == 5 && !strcmp(argv[1], "client")) return client(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
  fprintf(stderr, "usage: natrtt server PORT | natrtt client PORT N SIZE\n");
  return 2;
}
