/* ipopts4: IPv4 options on UDP over 127.0.0.1, as the Sentry's stack must
 * give them: IP_OPTIONS set (checked as Linux's ip_options_compile), read
 * back, sent with every datagram (record route and timestamps filled on the
 * way), IP_RETOPTS per message, IP_RECVOPTS and IP_RECVRETOPTS on receive.
 * Timestamps print as "ts" (set) or "0". */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* The options, with a timestamp option's time words shown as ts or 0. */
static void dump(const char *what, const unsigned char *p, size_t n) {
  printf("%s:", what);
  for (size_t i = 0; i < n;) {
    if (p[i] == 0x44 && i + 4 <= n && p[i + 1] >= 4 && i + p[i + 1] <= n) {
      size_t len = p[i + 1], fl = p[i + 3] & 15, step = fl ? 8 : 4;
      printf(" [ts %02x %02x %02x", p[i + 1], p[i + 2], p[i + 3]);
      for (size_t j = 4; j + step <= len; j += step) {
        if (fl) printf(" %02x%02x%02x%02x", p[i + j], p[i + j + 1], p[i + j + 2], p[i + j + 3]);
        const unsigned char *t = p + i + j + (fl ? 4 : 0);
        printf(" %s", t[0] | t[1] | t[2] | t[3] ? "ts" : "0");
      }
      printf("]");
      i += len;
      continue;
    }
    printf(" %02x", p[i++]);
  }
  printf("\n");
}
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
static int setopt(int s, const char *what, const void *v, socklen_t len) {
  int rc = setsockopt(s, IPPROTO_IP, IP_OPTIONS, v, len);
  printf("set %s (%u): %d errno %d\n", what, len, rc, rc < 0 ? errno : 0);
  unsigned char opt[64]; socklen_t ol = sizeof opt;
  rc = getsockopt(s, IPPROTO_IP, IP_OPTIONS, opt, &ol);
  if (rc < 0) printf("  get errno %d\n", errno);
  else dump("  get", opt, ol);
  return rc;
}
static void sendctl(int s, struct sockaddr_in *a, const char *what, const void *v, size_t len) {
  char cbuf[CMSG_SPACE(64)] = { 0 };
  struct iovec iov = { "m", 1 };
  struct msghdr m = { .msg_name = a, .msg_namelen = sizeof *a, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = CMSG_SPACE(len) };
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = IPPROTO_IP; c->cmsg_type = IP_RETOPTS; c->cmsg_len = CMSG_LEN(len);
  memcpy(CMSG_DATA(c), v, len);
  ssize_t r = sendmsg(s, &m, 0);
  printf("sendmsg %s (%zu): %zd errno %d\n", what, len, r, r < 0 ? errno : 0);
}
int main(void) {
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t al = sizeof a;
  int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
  bind(r, (void *)&a, al); getsockname(r, (void *)&a, &al);
  setsockopt(r, IPPROTO_IP, IP_RECVOPTS, &one, sizeof one);
  setsockopt(r, IPPROTO_IP, IP_RECVRETOPTS, &one, sizeof one);
  int v = -1; socklen_t vl = sizeof v;
  getsockopt(r, IPPROTO_IP, IP_RECVOPTS, &v, &vl); printf("recvopts: %d\n", v);
  struct { const char *what; unsigned char b[44]; int len; } cases[] = {
    { "rr 2", { 7, 11, 4 }, 12 },
    { "rr 1 odd", { 7, 7, 4 }, 7 },
    { "rr full", { 7, 7, 8, 1, 2, 3, 4 }, 7 },
    { "rr 9", { 7, 39, 4 }, 40 },
    { "nops", { 1, 1, 1 }, 3 },
    { "eol then junk", { 1, 0, 7, 7 }, 4 },
    { "ts only", { 0x44, 12, 5, 0 }, 12 },
    { "ts addr", { 0x44, 20, 5, 1 }, 20 },
    { "ts full", { 0x44, 8, 9, 0, 1, 2, 3, 4 }, 8 },
    { "ts prespec", { 0x44, 12, 5, 3, 127, 0, 0, 1 }, 12 },
    { "lsrr", { 0x83, 7, 4, 127, 0, 0, 1 }, 8 },
    { "ssrr 2", { 0x89, 11, 4, 127, 0, 0, 1, 127, 0, 0, 1 }, 12 },
    { "rr ptr 3", { 7, 7, 3 }, 8 },
    { "rr len 2", { 7, 2, 4 }, 4 },
    { "rr len past", { 7, 9, 4 }, 8 },
    { "rr len 1", { 7, 1 }, 4 },
    { "one byte", { 7 }, 1 },
    { "lsrr ptr 8", { 0x83, 7, 8, 127, 0, 0, 1 }, 8 },
    { "lsrr odd", { 0x83, 8, 4, 127, 0, 0, 1 }, 8 },
    { "two srr", { 0x83, 7, 4, 127, 0, 0, 1, 0x83, 7, 4, 127, 0, 0, 1 }, 16 },
    { "ts bad flag", { 0x44, 12, 5, 2 }, 12 },
    { "ts ptr 4", { 0x44, 12, 4, 0 }, 12 },
    { "ts addr odd", { 0x44, 16, 5, 1 }, 16 },
    { "router alert", { 0x94, 4, 0, 0 }, 4 },
    { "unknown", { 0x9e, 4, 0, 0 }, 4 },
    { "sec", { 0x82, 11 }, 12 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (setopt(s, cases[i].what, cases[i].b, cases[i].len) < 0) continue;
    ssize_t n = sendto(s, "x", 1, 0, (void *)&a, al);
    if (n < 0) printf("  sendto errno %d\n", errno);
    recvone("  recv", r);
  }
  setopt(s, "clear", NULL, 0);
  unsigned char rr[8] = { 7, 7, 4 };
  sendctl(s, &a, "rr", rr, 8);
  recvone("  recv", r);
  unsigned char ts[8] = { 0x44, 8, 5, 0 };
  sendctl(s, &a, "ts", ts, 8);
  recvone("  recv", r);
  unsigned char bad[4] = { 7, 9, 4, 0 };
  sendctl(s, &a, "bad", bad, 4);
  sendctl(s, &a, "empty", bad, 0);
  recvone("  recv", r);
  /* TCP: the client's options on its segments; the accepted socket's are the SYN's, echoed (Linux's default). */
  int l = socket(AF_INET, SOCK_STREAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_port = 0; al = sizeof a;
  bind(l, (void *)&a, al); getsockname(l, (void *)&a, &al); listen(l, 1);
  unsigned char rr9[40] = { 7, 39, 4 };
  setopt(t, "tcp rr", rr9, 40);
  printf("connect: %d\n", connect(t, (void *)&a, al));
  int c2 = accept(l, NULL, NULL);
  unsigned char opt[64]; socklen_t ol = sizeof opt;
  int rc = getsockopt(c2, IPPROTO_IP, IP_OPTIONS, opt, &ol);
  if (rc < 0) printf("accepted get errno %d\n", errno); else dump("accepted get", opt, ol);
  char buf[8] = { 0 };
  printf("write: %zd\n", write(t, "ping", 4));
  printf("read: %zd %s\n", read(c2, buf, 4), buf);
  printf("write back: %zd\n", write(c2, "pong", 4));
  printf("read back: %zd %s\n", read(t, buf, 4), buf);
  setopt(c2, "accepted clear", NULL, 0);
  unsigned char ts9[40] = { 0x44, 40, 5, 0 };
  setopt(t, "tcp ts", ts9, 40);
  printf("write: %zd\n", write(t, "more", 4));
  printf("read: %zd %s\n", read(c2, buf, 4), buf);
  printf("done\n");
  return 0;
}
