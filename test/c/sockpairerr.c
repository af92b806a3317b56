// socketpair of families without pairs: the socket is made first, so its
// family, type and protocol errors come before EOPNOTSUPP (LTP socketpair01).
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
int main(void) {
  int sv[2];
  struct { int d, t, p; } c[] = {{AF_INET, SOCK_STREAM, 0}, {AF_INET, SOCK_DGRAM, IPPROTO_UDP}, {AF_INET, SOCK_STREAM, IPPROTO_UDP},
    {AF_INET, SOCK_DGRAM, IPPROTO_TCP}, {AF_NETLINK, SOCK_RAW, 0}, {AF_NETLINK, SOCK_STREAM, 0}, {12345, SOCK_STREAM, 0}, {AF_INET, 77, 0}};
  for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
    errno = 0;
    int r = socketpair(c[i].d, c[i].t, c[i].p, sv);
    printf("%d %d %d: %d %s\n", c[i].d, c[i].t, c[i].p, r, strerror(errno));
  }
  printf("done\n");
  return 0;
}
