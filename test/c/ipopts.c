/* ipopts: IPv4 options on UDP: IP_OPTIONS set and read back, IP_RETOPTS as a
 * sendmsg control message, IP_RECVOPTS and IP_RECVRETOPTS on the receiver. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static void dump(const char *what, const unsigned char *p, size_t n) { printf("%s:", what); for (size_t i = 0; i < n; i++) printf(" %02x", p[i]); printf("\n"); }
static void recvone(const char *what, int s) {
  char data[64], ctl[256];
  struct iovec iov = { data, sizeof data };
  struct msghdr m = { 0 };
  m.msg_iov = &iov; m.msg_iovlen = 1; m.msg_control = ctl; m.msg_controllen = sizeof ctl;
  ssize_t n = recvmsg(s, &m, MSG_DONTWAIT);
  if (n < 0) { printf("%s: recvmsg errno %d\n", what, errno); return; }
  printf("%s: %zd bytes, flags %x\n", what, n, m.msg_flags);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    char t[32]; snprintf(t, sizeof t, "  cmsg %d/%d", c->cmsg_level, c->cmsg_type);
    dump(t, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
  }
}
int main(void) {
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t al = sizeof a;
  int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
  bind(r, (void *)&a, al); getsockname(r, (void *)&a, &al);
  unsigned char opt[40]; socklen_t ol = sizeof opt;
  int rc = getsockopt(s, IPPROTO_IP, IP_OPTIONS, opt, &ol);
  printf("get empty: %d len %u\n", rc, ol);
  /* Record route, room for 2 addresses, then an end. */
  unsigned char rr[12] = { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  printf("set rr: %d\n", setsockopt(s, IPPROTO_IP, IP_OPTIONS, rr, sizeof rr));
  ol = sizeof opt; rc = getsockopt(s, IPPROTO_IP, IP_OPTIONS, opt, &ol);
  printf("get rr: %d len %u\n", rc, ol); dump("  rr", opt, ol);
  unsigned char bad[3] = { 7, 9, 4 };
  rc = setsockopt(s, IPPROTO_IP, IP_OPTIONS, bad, sizeof bad);
  printf("set bad: %d errno %d\n", rc, rc < 0 ? errno : 0);
  unsigned char big[44] = { 1 };
  rc = setsockopt(s, IPPROTO_IP, IP_OPTIONS, big, sizeof big);
  printf("set 44: %d errno %d\n", rc, rc < 0 ? errno : 0);
  printf("recvopts: %d\n", setsockopt(r, IPPROTO_IP, IP_RECVOPTS, &one, sizeof one));
  sendto(s, "a", 1, 0, (void *)&a, al);
  recvone("sticky rr, recvopts", r);
  printf("recvretopts: %d\n", setsockopt(r, IPPROTO_IP, IP_RECVRETOPTS, &one, sizeof one));
  sendto(s, "b", 1, 0, (void *)&a, al);
  recvone("sticky rr, both", r);
  /* Clear the sticky options, send one per message. */
  printf("clear: %d\n", setsockopt(s, IPPROTO_IP, IP_OPTIONS, NULL, 0));
  char cbuf[CMSG_SPACE(8)] = { 0 };
  struct iovec iov = { "c", 1 };
  struct msghdr m = { .msg_name = &a, .msg_namelen = al, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = IPPROTO_IP; c->cmsg_type = IP_RETOPTS; c->cmsg_len = CMSG_LEN(8);
  unsigned char ts[8] = { 1, 1, 1, 1, 1, 1, 1, 0 };
  memcpy(CMSG_DATA(c), ts, 8);
  printf("sendmsg nop: %zd\n", sendmsg(s, &m, 0));
  recvone("per message", r);
  c->cmsg_len = CMSG_LEN(3); memcpy(CMSG_DATA(c), bad, 3);
  ssize_t sr = sendmsg(s, &m, 0);
  printf("sendmsg bad: %zd errno %d\n", sr, sr < 0 ? errno : 0);
  printf("done\n");
  return 0;
}
