// IPv6 TCP and UDP to ADDR: a TCP echo at PORT (connect, a message and its
// echo, getpeername, the local address's prefix), a TCP connect to CLOSED
// (ECONNREFUSED), a UDP echo at PORT+1 (connected: send and recv; then
// sendto/recvfrom unconnected), and a connected UDP socket to CLOSED (the port
// unreachable comes back as ECONNREFUSED). Each outcome is one line, so
// native and sandbox runs compare line for line.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
  case 0: return "OK";
  case ECONNREFUSED: return "ECONNREFUSED";
  case ENETUNREACH: return "ENETUNREACH";
  case EHOSTUNREACH: return "EHOSTUNREACH";
  case EACCES: return "EACCES";
  case ETIMEDOUT: return "ETIMEDOUT";
  case EAGAIN: return "EAGAIN";
  default: return strerror(e);
  }
}

static struct sockaddr_in6 addr(const char *ip, int port) {
  struct sockaddr_in6 sa;
  memset(&sa, 0, sizeof sa);
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  if (inet_pton(AF_INET6, ip, &sa.sin6_addr) != 1) exit(2);
  return sa;
}

static void timeouts(int s) {
  struct timeval tv = {5, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  const char *ip = argv[1];
  int port = atoi(argv[2]), closed = atoi(argv[3]);
  char buf[256], txt[INET6_ADDRSTRLEN];

  struct sockaddr_in6 sa = addr(ip, port);
  int s = socket(AF_INET6, SOCK_STREAM, 0);
  timeouts(s);
  int r = connect(s, (struct sockaddr *)&sa, sizeof sa);
  printf("tcp connect: %s\n", ename(r == 0 ? 0 : errno));
  if (r == 0) {
    struct sockaddr_in6 peer, me;
    socklen_t len = sizeof peer;
    getpeername(s, (struct sockaddr *)&peer, &len);
    printf("tcp peer: [%s]:%d family %s\n", inet_ntop(AF_INET6, &peer.sin6_addr, txt, sizeof txt), ntohs(peer.sin6_port), peer.sin6_family == AF_INET6 ? "AF_INET6" : "?");
    len = sizeof me;
    getsockname(s, (struct sockaddr *)&me, &len);
    printf("tcp local: fd00::/64 %s\n", me.sin6_addr.s6_addr[0] == 0xfd && me.sin6_addr.s6_addr[1] == 0 ? "yes" : "no");
    const char msg[] = "hello over IPv6";
    send(s, msg, sizeof msg - 1, 0);
    size_t got = 0;
    while (got < sizeof msg - 1) {
      ssize_t n = recv(s, buf + got, sizeof buf - 1 - got, 0);
      if (n <= 0) break;
      got += n;
    }
    buf[got] = 0;
    printf("tcp echo: %s\n", buf);
    shutdown(s, SHUT_WR);
    printf("tcp eof: %zd\n", recv(s, buf, sizeof buf, 0));
  }
  close(s);

  struct sockaddr_in6 ca = addr(ip, closed);
  s = socket(AF_INET6, SOCK_STREAM, 0);
  timeouts(s);
  r = connect(s, (struct sockaddr *)&ca, sizeof ca);
  printf("tcp closed port: %s\n", ename(r == 0 ? 0 : errno));
  close(s);

  struct sockaddr_in6 ua = addr(ip, port + 1);
  s = socket(AF_INET6, SOCK_DGRAM, 0);
  timeouts(s);
  r = connect(s, (struct sockaddr *)&ua, sizeof ua);
  send(s, "ping6", 5, 0);
  ssize_t n = recv(s, buf, sizeof buf - 1, 0);
  buf[n > 0 ? n : 0] = 0;
  printf("udp connected: %s %s\n", ename(n >= 0 ? 0 : errno), buf);
  close(s);

  s = socket(AF_INET6, SOCK_DGRAM, 0);
  timeouts(s);
  sendto(s, "datagram", 8, 0, (struct sockaddr *)&ua, sizeof ua);
  struct sockaddr_in6 from;
  socklen_t flen = sizeof from;
  n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &flen);
  buf[n > 0 ? n : 0] = 0;
  printf("udp unconnected: %s %s from [%s]:%d\n", ename(n >= 0 ? 0 : errno), buf, inet_ntop(AF_INET6, &from.sin6_addr, txt, sizeof txt), ntohs(from.sin6_port));
  close(s);

  s = socket(AF_INET6, SOCK_DGRAM, 0);
  timeouts(s);
  connect(s, (struct sockaddr *)&ca, sizeof ca);
  send(s, "nobody", 6, 0);
  struct pollfd p = {s, POLLIN, 0};
  poll(&p, 1, 5000);
  n = recv(s, buf, sizeof buf, 0);
  printf("udp closed port: %s\n", ename(n >= 0 ? 0 : errno));
  close(s);
  return 0;
}
