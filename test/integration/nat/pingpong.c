// Request/response over one TCP connection, for nat.test.js's count of what
// the NAT does per message:
//   pingpong server PORT          echo every byte of the first connection that
//                                 sends any, then exit
//   pingpong client PORT N SIZE   N round trips of SIZE bytes to 127.0.0.1:PORT,
//                                 each answer checked; prints "pingpong N ok"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int serve(int port) {
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4)) { perror("bind/listen"); return 1; }
  char buf[65536];
  // Connections that send nothing (a probe that the port is open) are closed; the first that sends is served to its end.
  for (;;) {
    int c = accept(l, 0, 0);
    if (c < 0) { perror("accept"); return 1; }
    long total = 0;
    for (;;) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n < 0) { perror("read"); return 1; }
      if (n == 0) break;
      total += n;
      if (write(c, buf, n) != n) { perror("write"); return 1; }
    }
    close(c);
    if (total > 0) return 0;
  }
}

static int client(int port, int n, size_t size) {
  if (n < 0 || size == 0 || size > 65536) { fprintf(stderr, "bad N or SIZE\n"); return 2; }
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(s, (struct sockaddr *)&a, sizeof a)) { perror("connect"); return 1; }
  char *out = malloc(size), *in = malloc(size);
  for (int i = 0; i < n; i++) {
    for (size_t j = 0; j < size; j++) out[j] = (char)(i + j);
    if (write(s, out, size) != (ssize_t)size) { perror("write"); return 1; }
    for (size_t got = 0; got < size;) {
      ssize_t r = read(s, in + got, size - got);
      if (r <= 0) { fprintf(stderr, "read: %s at %d\n", r ? "error" : "EOF", i); return 1; }
      got += r;
    }
    if (memcmp(in, out, size)) { fprintf(stderr, "answer %d differs\n", i); return 1; }
  }
  printf("pingpong %d ok\n", n);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "server")) return serve(atoi(argv[2]));
  if (argc == 5 && !strcmp(argv[1], "client")) return client(atoi(argv[2]), atoi(argv[3]), (size_t)strtoul(argv[4], 0, 10));
  fprintf(stderr, "usage: pingpong server PORT | pingpong client PORT N SIZE\n");
  return 2;
}
