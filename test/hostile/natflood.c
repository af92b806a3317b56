// Hostile program for the user-mode NAT (nat.test.js): from inside the
// sandbox, open thousands of connections through the NAT to a host server
// that accepts and never reads, write to all of them until they block,
// and spray UDP datagrams at thousands of host ports (one NAT flow each).
// The Sentry must stay up with its memory bounded; afterwards a fresh
// connection to an echo server on the host still works.
// Usage: natflood HOST SINKPORT ECHOPORT
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNS 1200
#define UDP_PORTS 1500

static struct sockaddr_in addr(const char *ip, int port) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, ip, &sa.sin_addr);
  return sa;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);
  struct rlimit rl = {CONNS + 100, CONNS + 100};
  setrlimit(RLIMIT_NOFILE, &rl);
  static int fds[CONNS];
  struct sockaddr_in sink = addr(argv[1], atoi(argv[2]));
  int inprogress = 0, other = 0;
  for (int i = 0; i < CONNS; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fds[i] < 0) { other++; continue; }
    if (connect(fds[i], (struct sockaddr *)&sink, sizeof sink) < 0 && errno == EINPROGRESS) inprogress++;
    else other++;
  }
  printf("connect flood: %d in progress, %d other\n", inprogress, other);
  // Wait up to 60 s for the connects to finish one way or the other.
  int connected = 0, failed = 0;
  static char done[CONNS];
  double end = now() + 60;
  while (connected + failed < inprogress && now() < end) {
    for (int i = 0; i < CONNS; i++) {
      if (fds[i] < 0 || done[i]) continue;
      struct pollfd p = {.fd = fds[i], .events = POLLOUT};
      if (poll(&p, 1, 0) <= 0) continue;
      int e = 0;
      socklen_t len = sizeof e;
      getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &e, &len);
      done[i] = e ? 2 : 1;
      if (e) failed++; else connected++;
    }
    usleep(50000);
  }
  printf("connections: %s\n", connected >= 500 ? "many" : "few");
  // Write until every connection blocks; the NAT must hold back, not buffer.
  static char buf[16384];
  memset(buf, 'f', sizeof buf);
  long long total = 0;
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < CONNS; i++) {
      if (done[i] != 1) continue;
      ssize_t n = send(fds[i], buf, sizeof buf, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) total += n;
    }
  }
  printf("writers: %s\n", total > 0 ? "wrote" : "nothing");
  // UDP: one flow per destination port; the NAT keeps a bounded number.
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  int sent = 0;
  for (int p = 0; p < UDP_PORTS; p++) {
    struct sockaddr_in d = addr(argv[1], 20000 + p);
    if (sendto(u, buf, 1000, 0, (struct sockaddr *)&d, sizeof d) == 1000) sent++;
  }
  printf("udp spray: %s\n", sent > 0 ? "sent" : "nothing");
  for (int i = 0; i < CONNS; i++) if (fds[i] >= 0) close(fds[i]);
  // The NAT still carries a new connection.
  struct sockaddr_in e = addr(argv[1], atoi(argv[3]));
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {30, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char got[16] = {0};
  if (connect(s, (struct sockaddr *)&e, sizeof e) == 0 && send(s, "still-up", 8, 0) == 8 && recv(s, got, 8, MSG_WAITALL) == 8)
    printf("after: %s\n", got);
  else
    printf("after: %s\n", strerror(errno));
  fflush(stdout);
  return 0;
}
