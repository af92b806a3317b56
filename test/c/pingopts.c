/* pingopts: IPv4 options on an ICMP echo (ping) socket over 127.0.0.1: the
 * request carries the socket's record route, the reply the echo of it (as
 * Linux's icmp_reply), read with IP_RECVOPTS and IP_RECVRETOPTS. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static void dump(const char *what, const unsigned char *p, size_t n) { printf("%s:", what); for (size_t i = 0; i < n; i++) printf(" %02x", p[i]); printf("\n"); }
int main(void) {
  int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), one = 1;
  if (s < 0) { printf("socket errno %d\n", errno); return 1; }
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  unsigned char rr[40] = { 7, 39, 4 };
  printf("set rr: %d\n", setsockopt(s, IPPROTO_IP, IP_OPTIONS, rr, sizeof rr));
  printf("recvopts: %d\n", setsockopt(s, IPPROTO_IP, IP_RECVOPTS, &one, sizeof one));
  printf("recvretopts: %d\n", setsockopt(s, IPPROTO_IP, IP_RECVRETOPTS, &one, sizeof one));
  struct icmphdr h = { .type = ICMP_ECHO };
  h.un.echo.sequence = htons(1);
  printf("sendto: %zd\n", sendto(s, &h, sizeof h, 0, (void *)&a, sizeof a));
  struct pollfd p = { s, POLLIN, 0 };
  printf("poll: %d\n", poll(&p, 1, 2000));
  char data[64], ctl[256];
  struct iovec iov = { data, sizeof data };
  struct msghdr m = { 0 };
  m.msg_iov = &iov; m.msg_iovlen = 1; m.msg_control = ctl; m.msg_controllen = sizeof ctl;
  ssize_t n = recvmsg(s, &m, MSG_DONTWAIT);
  printf("recvmsg: %zd type %d\n", n, n > 0 ? (unsigned char)data[0] : -1);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    char t[32]; snprintf(t, sizeof t, "  cmsg %d/%d", c->cmsg_level, c->cmsg_type);
    dump(t, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
  }
  printf("done\n");
  return 0;
}
