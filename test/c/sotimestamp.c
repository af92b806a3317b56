/* sotimestamp: SO_TIMESTAMP, SO_TIMESTAMPNS and their _NEW forms on UDP (IPv4
 * and IPv6) and ICMP echo sockets: getsockopt after each set, the control
 * message recvmsg gives (level, type, length), that its time is the
 * datagram's arrival (before the read, after the send), SIOCGSTAMP and
 * SIOCGSTAMPNS, a control buffer too small, and bad option lengths. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#ifndef SO_TIMESTAMP_OLD
#define SO_TIMESTAMP_OLD 29
#endif
#ifndef SO_TIMESTAMPNS_OLD
#define SO_TIMESTAMPNS_OLD 35
#endif
#ifndef SO_TIMESTAMP_NEW
#define SO_TIMESTAMP_NEW 63
#endif
#ifndef SO_TIMESTAMPNS_NEW
#define SO_TIMESTAMPNS_NEW 64
#endif

static const int OPTS[] = { SO_TIMESTAMP_OLD, SO_TIMESTAMPNS_OLD, SO_TIMESTAMP_NEW, SO_TIMESTAMPNS_NEW };
static const char *ename(int e) { static char b[32]; switch (e) { case EINVAL: return "EINVAL"; case ENOENT: return "ENOENT"; case ENOPROTOOPT: return "ENOPROTOOPT"; case EFAULT: return "EFAULT"; case EAGAIN: return "EAGAIN"; default: snprintf(b, sizeof b, "errno %d", e); return b; } }
static long long nowns(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }

static void opts(const char *what, int s) {
  printf("%s:", what);
  for (int i = 0; i < 4; i++) { int v = -1; socklen_t l = sizeof v; int r = getsockopt(s, SOL_SOCKET, OPTS[i], &v, &l); if (r < 0) printf(" %s", ename(errno)); else printf(" %d/%u", v, l); }
  printf("\n");
}

/* Receive one datagram with a control buffer of room bytes; print its control messages; check the stamp lies in [lo, hi]. */
/* How many bytes recvone asks for (a stream's read of one byte of two). */
static size_t want = 256;
static void recvone(const char *what, int s, size_t room, long long lo, long long hi) {
  char data[256], ctl[256];
  struct iovec iov = { data, want };
  struct msghdr m = { 0 };
  m.msg_iov = &iov; m.msg_iovlen = 1; m.msg_control = room ? ctl : NULL; m.msg_controllen = room;
  ssize_t n = recvmsg(s, &m, 0);
  if (n < 0) { printf("%s: recvmsg %s\n", what, ename(errno)); return; }
  printf("%s: %zd bytes, flags%s%s, controllen %zu", what, n, m.msg_flags & MSG_CTRUNC ? " CTRUNC" : "", m.msg_flags & MSG_TRUNC ? " TRUNC" : "", (size_t)m.msg_controllen);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    printf(" [%d %d %zu", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_len == CMSG_LEN(16)) {
      long long a, b; memcpy(&a, CMSG_DATA(c), 8); memcpy(&b, CMSG_DATA(c) + 8, 8);
      int ns = c->cmsg_type == SO_TIMESTAMPNS_OLD || c->cmsg_type == SO_TIMESTAMPNS_NEW;
      long long t = a * 1000000000LL + (ns ? b : b * 1000);
      int sub = ns ? b < 1000000000LL : b < 1000000;
      printf(" %s%s", t >= lo - (ns ? 0 : 1000) && t <= hi ? "in-window" : "OUT-OF-WINDOW", sub ? "" : " bad-fraction");
    }
    printf("]");
  }
  printf("\n");
}

/* The last SIOCGSTAMPNS answer, to tell a stamp that did not move. */
static long long last;
static void stamp(const char *what, int s, long long lo, long long hi) {
  struct timeval tv; struct timespec ts;
  int r = ioctl(s, SIOCGSTAMP, &tv);
  if (r < 0) printf("%s: SIOCGSTAMP %s", what, ename(errno));
  else { long long t = tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL; printf("%s: SIOCGSTAMP %s", what, t >= lo - 1000 && t <= hi ? "in-window" : last / 1000 == t / 1000 ? "unchanged" : "OUT-OF-WINDOW"); }
  r = ioctl(s, SIOCGSTAMPNS, &ts);
  if (r < 0) printf(", SIOCGSTAMPNS %s\n", ename(errno));
  else { long long t = ts.tv_sec * 1000000000LL + ts.tv_nsec; printf(", SIOCGSTAMPNS %s\n", t >= lo && t <= hi ? "in-window" : last == t ? "unchanged" : "OUT-OF-WINDOW"); last = t; }
}

static void udp(int family) {
  const char *f = family == AF_INET ? "udp4" : "udp6";
  struct sockaddr_storage ss = { 0 }; socklen_t sl;
  if (family == AF_INET) { struct sockaddr_in *a = (void *)&ss; a->sin_family = AF_INET; a->sin_addr.s_addr = htonl(INADDR_LOOPBACK); sl = sizeof *a; }
  else { struct sockaddr_in6 *a = (void *)&ss; a->sin6_family = AF_INET6; a->sin6_addr = in6addr_loopback; sl = sizeof *a; }
  int r = socket(family, SOCK_DGRAM, 0), s = socket(family, SOCK_DGRAM, 0);
  bind(r, (void *)&ss, sl); getsockname(r, (void *)&ss, &sl);
  char name[64];
  snprintf(name, sizeof name, "%s defaults", f); opts(name, r);
  snprintf(name, sizeof name, "%s before any", f); stamp(name, r, 0, 0);
  /* A datagram read with no option set. */
  long long lo = nowns(); sendto(s, "a", 1, 0, (void *)&ss, sl);
  recvone("plain", r, 64, 0, 0);
  long long hi = nowns();
  snprintf(name, sizeof name, "%s after a plain read", f); stamp(name, r, lo, hi);
  for (int i = 0; i < 4; i++) {
    int one = 1;
    if (setsockopt(r, SOL_SOCKET, OPTS[i], &one, sizeof one) < 0) { printf("set %d: %s\n", OPTS[i], ename(errno)); continue; }
    snprintf(name, sizeof name, "%s set %d", f, OPTS[i]); opts(name, r);
    lo = nowns(); sendto(s, "bb", 2, 0, (void *)&ss, sl); long long sent = nowns();
    usleep(100000);
    /* The stamp is the arrival: within [lo, sent + a little], well before the read 100 ms later. */
    recvone(name, r, 256, lo, sent + 20000000);
    stamp(name, r, lo, sent + 20000000);
  }
  /* A control buffer with room for the header only: MSG_CTRUNC. */
  sendto(s, "c", 1, 0, (void *)&ss, sl);
  recvone("small control", r, sizeof(struct cmsghdr), 0, 0);
  sendto(s, "c", 1, 0, (void *)&ss, sl);
  recvone("no control", r, 0, 0, 0);
  int zero = 0;
  setsockopt(r, SOL_SOCKET, SO_TIMESTAMPNS_OLD, &zero, sizeof zero);
  snprintf(name, sizeof name, "%s cleared", f); opts(name, r);
  sendto(s, "d", 1, 0, (void *)&ss, sl);
  recvone("cleared", r, 64, 0, 0);
  /* Bad lengths: too short is EINVAL; a longer one is read as an int. */
  char big[8] = { 1, 0, 0, 0, 0, 0, 0, 0 };
  printf("short optlen: %s\n", setsockopt(r, SOL_SOCKET, SO_TIMESTAMP_OLD, big, 2) < 0 ? ename(errno) : "ok");
  printf("long optlen: %s\n", setsockopt(r, SOL_SOCKET, SO_TIMESTAMP_OLD, big, 8) < 0 ? ename(errno) : "ok");
  opts("after long", r);
  printf("bad optval: %s\n", setsockopt(r, SOL_SOCKET, SO_TIMESTAMP_OLD, (void *)8, 4) < 0 ? ename(errno) : "ok");
  { int v; socklen_t l = 2; int rr = getsockopt(r, SOL_SOCKET, SO_TIMESTAMP_OLD, &v, &l); printf("get short optlen: %s %u\n", rr < 0 ? ename(errno) : "ok", l); }
  printf("SIOCGSTAMP bad pointer: %s\n", ioctl(r, SIOCGSTAMP, (void *)8) < 0 ? ename(errno) : "ok");
  close(r); close(s);
}

static void ping(void) {
  /* Echo sockets for root's group (a fresh namespace admits none). */
  FILE *g = fopen("/proc/sys/net/ipv4/ping_group_range", "w");
  if (g) { fputs("0 0\n", g); fclose(g); }
  int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  if (s < 0) { printf("ping socket: %s\n", ename(errno)); return; }
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS_OLD, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  struct icmphdr e = { .type = ICMP_ECHO };
  e.un.echo.sequence = htons(1);
  long long lo = nowns();
  sendto(s, &e, sizeof e, 0, (void *)&a, sizeof a);
  long long sent = nowns();
  usleep(50000);
  recvone("ping", s, 256, lo, sent + 20000000);
  close(s);
}

/* AF_UNIX: datagrams (and seqpacket) carry the stamp, first, before the credentials; a stream takes the option and gives none. */
static void unixpart(void) {
  static const int types[] = { SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM };
  static const char *names[] = { "unix dgram", "unix seqpacket", "unix stream" };
  for (int i = 0; i < 3; i++) {
    int sv[2], one = 1;
    socketpair(AF_UNIX, types[i], 0, sv);
    opts(names[i], sv[0]);
    stamp(names[i], sv[0], 0, 0);
    printf("%s set: %s\n", names[i], setsockopt(sv[0], SOL_SOCKET, SO_TIMESTAMPNS_OLD, &one, sizeof one) < 0 ? ename(errno) : "ok");
    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    opts(names[i], sv[0]);
    long long lo = nowns();
    write(sv[1], "xyz", 3);
    long long sent = nowns();
    usleep(50000);
    recvone(names[i], sv[0], 256, lo, sent + 20000000);
    stamp(names[i], sv[0], lo, sent + 20000000);
    close(sv[0]); close(sv[1]);
  }
}

int main(void) {
  /* Linux turns arrival stamps on for the whole machine a moment after a first socket asks (a deferred static key): ask first, and wait. */
  int warm = socket(AF_INET, SOCK_DGRAM, 0), on = 1;
  setsockopt(warm, SOL_SOCKET, SO_TIMESTAMP_OLD, &on, sizeof on);
  usleep(200000);
  udp(AF_INET);
  udp(AF_INET6);
  ping();
  unixpart();
  /* TCP: the option, SIOCGSTAMP (never a time), and a read's stamp: Linux coalesces small segments queued on loopback, so a read gets the newest arrival's time. */
  int t = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  printf("tcp set: %s\n", setsockopt(t, SOL_SOCKET, SO_TIMESTAMP_OLD, &one, sizeof one) < 0 ? ename(errno) : "ok");
  opts("tcp", t);
  printf("tcp SIOCGSTAMP: %s\n", ioctl(t, SIOCGSTAMP, &(struct timeval){0}) < 0 ? ename(errno) : "ok");
  {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    bind(l, (void *)&a, al); listen(l, 1); getsockname(l, (void *)&a, &al);
    /* The listener's flags pass to the accepted socket. */
    setsockopt(l, SOL_SOCKET, SO_TIMESTAMPNS_OLD, &one, sizeof one);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (void *)&a, al);
    int s = accept(l, 0, 0);
    opts("tcp accepted", s);
    long long lo = nowns(); write(c, "a", 1); usleep(100000);
    long long lo2 = nowns(); write(c, "b", 1); long long sent = nowns(); usleep(100000);
    want = 1;
    recvone("tcp first byte", s, 256, lo2, sent + 20000000);
    recvone("tcp second byte", s, 256, lo2, sent + 20000000);
    want = 256;
    (void)lo;
    long long lo3 = nowns(); write(c, "c", 1); long long sent3 = nowns(); usleep(50000);
    recvone("tcp third", s, 256, lo3, sent3 + 20000000);
    stamp("tcp after reads", s, 0, 0);
    close(s); close(c); close(l);
  }
  printf("done\n");
  return 0;
}
