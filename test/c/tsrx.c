/* tsrx: SO_TIMESTAMPING's software receive stamps on UDP and TCP over
 * loopback (the part the Sentry's stack gives; tstamping.c has the send
 * stamps, host mode): SCM_TIMESTAMPING with the software time first and
 * the hardware ones zero, after SO_TIMESTAMP's message, the option read
 * back, unknown flags refused. Times print as now or 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/net_tstamp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static void rcv(const char *what, int s) {
  char data[64], ctl[512];
  struct iovec iov = { data, sizeof data };
  struct msghdr m = { 0 };
  m.msg_iov = &iov; m.msg_iovlen = 1; m.msg_control = ctl; m.msg_controllen = sizeof ctl;
  ssize_t n = recvmsg(s, &m, MSG_DONTWAIT);
  if (n < 0) { printf("%s: errno %d\n", what, errno); return; }
  printf("%s: %zd bytes, flags %x\n", what, n, m.msg_flags);
  struct timespec now; clock_gettime(CLOCK_REALTIME, &now);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    size_t len = c->cmsg_len - CMSG_LEN(0);
    printf("  cmsg %d/%d len %zu", c->cmsg_level, c->cmsg_type, len);
    if (len == 48) {
      struct timespec *ts = (void *)CMSG_DATA(c);
      for (int i = 0; i < 3; i++) printf(" ts%d=%s", i, ts[i].tv_sec == 0 && ts[i].tv_nsec == 0 ? "0" : (ts[i].tv_sec <= now.tv_sec && ts[i].tv_sec > now.tv_sec - 10 ? "now" : "odd"));
    }
    printf("\n");
  }
}
static void setts(int s, int name, int flags) {
  int rc = setsockopt(s, SOL_SOCKET, name, &flags, sizeof flags);
  printf("set %d %x: %d errno %d\n", name, flags, rc, rc < 0 ? errno : 0);
  int v[2] = { -1, -1 }; socklen_t vl = sizeof v;
  rc = getsockopt(s, SOL_SOCKET, name, v, &vl);
  printf("  get: %d %x %d len %u\n", rc, v[0], v[1], vl);
}
static void run(int family) {
  struct sockaddr_storage ss = { 0 };
  socklen_t al;
  if (family == AF_INET) {
    struct sockaddr_in *a = (void *)&ss; a->sin_family = AF_INET; a->sin_addr.s_addr = htonl(INADDR_LOOPBACK); al = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (void *)&ss; a->sin6_family = AF_INET6; a->sin6_addr = in6addr_loopback; al = sizeof *a;
  }
  printf("== family %d\n", family);
  int r = socket(family, SOCK_DGRAM, 0), s = socket(family, SOCK_DGRAM, 0), one = 1;
  bind(r, (void *)&ss, al); getsockname(r, (void *)&ss, &al);
  setts(r, SO_TIMESTAMPING_OLD, SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
  usleep(20000);
  sendto(s, "a", 1, 0, (void *)&ss, al);
  rcv("udp rx", r);
  setsockopt(r, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  sendto(s, "b", 1, 0, (void *)&ss, al);
  rcv("udp rx with SO_TIMESTAMPNS", r);
  setts(r, SO_TIMESTAMPING_NEW, SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RAW_HARDWARE);
  sendto(s, "c", 1, 0, (void *)&ss, al);
  rcv("udp rx new", r);
  setts(r, SO_TIMESTAMPING_OLD, SOF_TIMESTAMPING_RX_SOFTWARE);
  sendto(s, "d", 1, 0, (void *)&ss, al);
  rcv("udp rx not reported", r);
  setts(r, SO_TIMESTAMPING_OLD, 1 << 30);
  setts(r, SO_TIMESTAMPING_OLD, 1 << 16);
  setts(r, SO_TIMESTAMPING_OLD, 0);
  close(r); close(s);
  int l = socket(family, SOCK_STREAM, 0);
  if (family == AF_INET) ((struct sockaddr_in *)&ss)->sin_port = 0; else ((struct sockaddr_in6 *)&ss)->sin6_port = 0;
  bind(l, (void *)&ss, al); getsockname(l, (void *)&ss, &al); listen(l, 1);
  setts(l, SO_TIMESTAMPING_OLD, SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
  int cl = socket(family, SOCK_STREAM, 0);
  connect(cl, (void *)&ss, al);
  int sv = accept(l, NULL, NULL);
  int v[2] = { -1, -1 }; socklen_t vl = sizeof v;
  getsockopt(sv, SOL_SOCKET, SO_TIMESTAMPING_OLD, v, &vl);
  printf("accepted: %x\n", v[0]);
  write(cl, "xyz", 3);
  usleep(20000);
  rcv("tcp rx", sv);
  close(cl); close(sv); close(l);
}
int main(void) {
  /* Linux stamps arrivals only while some socket wants stamps (switched in the background): keep it on. */
  int keep = socket(AF_INET6, SOCK_DGRAM, 0), one = 1;
  setsockopt(keep, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof one);
  usleep(50000);
  run(AF_INET);
  run(AF_INET6);
  printf("done\n");
  return 0;
}
