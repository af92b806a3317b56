// ICMP echo through a ping socket (SOCK_DGRAM, IPPROTO_ICMP; for an IPv6
// address IPPROTO_ICMPV6), as iputils' ping does without privileges: for
// each address, 3 echo requests, each
// waited for at most 2 s; prints one line per address ("ADDR: 3 replies",
// "ADDR: N replies", or the errno of a failing call), for nat.test.js to
// compare with a native run.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
  case EACCES: return "EACCES";
  case EPERM: return "EPERM";
  case EHOSTUNREACH: return "EHOSTUNREACH";
  case ENETUNREACH: return "ENETUNREACH";
  case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
  default: return strerror(e);
  }
}

int main(int argc, char **argv) {
  for (int a = 1; a < argc; a++) {
    int v6 = strchr(argv[a], ':') != NULL;
    struct sockaddr_in to = {.sin_family = AF_INET};
    struct sockaddr_in6 to6 = {.sin6_family = AF_INET6};
    if (v6) inet_pton(AF_INET6, argv[a], &to6.sin6_addr);
    else inet_pton(AF_INET, argv[a], &to.sin_addr);
    struct sockaddr *dst = v6 ? (struct sockaddr *)&to6 : (struct sockaddr *)&to;
    socklen_t dlen = v6 ? sizeof to6 : sizeof to;
    int s = v6 ? socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6) : socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (s < 0) { printf("%s: socket: %s\n", argv[a], ename(errno)); continue; }
    int replies = 0;
    for (int seq = 1; seq <= 3; seq++) {
      unsigned char msg[8 + 32] = {v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO, 0};
      msg[6] = seq >> 8, msg[7] = seq & 0xff;
      memset(msg + 8, 'p', 32);
      if (sendto(s, msg, sizeof msg, 0, dst, dlen) < 0) { printf("%s: sendto: %s\n", argv[a], ename(errno)); break; }
      for (;;) {
        struct pollfd p = {s, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0) break;
        unsigned char in[128];
        struct sockaddr_in6 from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(s, in, sizeof in, 0, (struct sockaddr *)&from, &fl);
        if (n < 0) continue;
        // A reply to this request: echo reply, our sequence number, our data, from the address pinged.
        int same = v6 ? !memcmp(&from.sin6_addr, &to6.sin6_addr, 16) : ((struct sockaddr_in *)&from)->sin_addr.s_addr == to.sin_addr.s_addr;
        if (n == (ssize_t)sizeof msg && in[0] == (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) && in[6] == msg[6] && in[7] == msg[7] && !memcmp(in + 8, msg + 8, 32) && same) {
          replies++;
          break;
        }
      }
    }
    printf("%s: %d replies\n", argv[a], replies);
    close(s);
  }
  return 0;
}
