// A hostile program against the sandbox's network stack: a listener that
// never accepts flooded with non-blocking connects, thousands of connections
// opened at once, and senders that write into connections nobody reads.
// The Sentry's memory must stay bounded (the sandbox's budget answers with
// errnos or back-pressure) and the sandbox must stay up.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int listener(int backlog, int *port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, backlog)) return -1;
  socklen_t l = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &l);
  *port = ntohs(a.sin_port);
  return s;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct rlimit rl = {20000, 20000};
  setrlimit(RLIMIT_NOFILE, &rl);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  // 1. A connect flood at a listener that never accepts: the queues stay bounded.
  int port;
  int l = listener(8, &port);
  a.sin_port = htons(port);
  int inprogress = 0, other = 0;
  for (int i = 0; i < 3000; i++) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c < 0) { other++; break; }
    int r = connect(c, (struct sockaddr *)&a, sizeof a);
    if (r < 0 && errno == EINPROGRESS) inprogress++;
    else if (r < 0) other++;
    close(c);
  }
  printf("connect flood: %d in progress, %d other\n", inprogress, other);
  close(l);
  // 2. Thousands of established connections at once.
  l = listener(4096, &port);
  a.sin_port = htons(port);
  int made = 0, failed = 0;
  static int fds[8000];
  for (int i = 0; i < 4000; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    // A connect the listener cannot take (the sandbox's budget is spent) gives up after 2 s, not after the SYN retries.
    struct timeval tv = {2, 0};
    if (c >= 0) setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0) { failed++; if (c >= 0) close(c); break; }
    int s = accept(l, NULL, NULL);
    if (s < 0) { failed++; close(c); break; }
    fds[2 * made] = c;
    fds[2 * made + 1] = s;
    made++;
  }
  printf("connections: %d made, stopped by an errno: %d\n", made, failed);
  // 3. Write into every connection without reading: back-pressure, then EAGAIN or a budget errno.
  long long written = 0;
  int full = 0, budget = 0;
  for (int i = 0; i < made; i++) {
    int c = fds[2 * i];
    fcntl(c, F_SETFL, O_NONBLOCK);
    static char buf[65536];
    for (;;) {
      ssize_t n = write(c, buf, sizeof buf);
      if (n > 0) { written += n; continue; }
      if (errno == EAGAIN) full++;
      else budget++;
      break;
    }
  }
  printf("writers: %s, %d full, %d budget errnos\n", written > 0 ? "wrote" : "nothing", full, budget);
  for (int i = 0; i < 2 * made; i++) close(fds[i]);
  close(l);
  // 4. Still alive: a fresh connection works.
  l = listener(4, &port);
  a.sin_port = htons(port);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  int ok = connect(c, (struct sockaddr *)&a, sizeof a) == 0;
  int s = accept(l, NULL, NULL);
  ok = ok && s >= 0 && write(c, "ok", 2) == 2;
  char b[2];
  ok = ok && read(s, b, 2) == 2;
  printf("after: %s\n", ok ? "alive" : "broken");
  return 0;
}
