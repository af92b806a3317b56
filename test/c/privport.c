/* privport: net.ipv4.ip_unprivileged_port_start decides which ports need
 * CAP_NET_BIND_SERVICE (Docker sets it to 0 in every container). Runs in a
 * fresh network namespace (native: unshare -n), as root there. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>

static const char *SYSCTL = "/proc/sys/net/ipv4/ip_unprivileged_port_start";

static const char *try_bind(int type, int port) {
  int s = socket(AF_INET, type, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int r = bind(s, (struct sockaddr *)&a, sizeof a);
  int e = errno;
  close(s);
  return r == 0 ? "OK" : ename(e);
}

static const char *put(const char *v) {
  int fd = open(SYSCTL, O_WRONLY);
  if (fd < 0) return ename(errno);
  ssize_t r = write(fd, v, strlen(v));
  int e = errno;
  close(fd);
  return r < 0 ? ename(e) : "OK";
}

static void show(void) {
  char buf[32] = {0};
  int fd = open(SYSCTL, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  printf("value: %s", n > 0 ? buf : "unreadable\n");
}

/* Drops CAP_NET_BIND_SERVICE from the effective set only: root keeps the rest (it writes the sysctl). */
static int drop_bind_cap(void) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) return -1;
  d[0].effective &= ~(1u << CAP_NET_BIND_SERVICE);
  return (int)syscall(SYS_capset, &h, d);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  show();
  printf("root binds tcp 80: %s\n", try_bind(SOCK_STREAM, 80));
  printf("drop CAP_NET_BIND_SERVICE: %s\n", drop_bind_cap() == 0 ? "OK" : ename(errno));
  printf("tcp 80: %s, udp 80: %s, tcp 1023: %s, tcp 1024: %s, tcp 0: %s\n", try_bind(SOCK_STREAM, 80), try_bind(SOCK_DGRAM, 80),
         try_bind(SOCK_STREAM, 1023), try_bind(SOCK_STREAM, 1024), try_bind(SOCK_STREAM, 0));
  printf("write 0: %s\n", put("0"));
  show();
  printf("tcp 80: %s, udp 80: %s, tcp 1: %s\n", try_bind(SOCK_STREAM, 80), try_bind(SOCK_DGRAM, 80), try_bind(SOCK_STREAM, 1));
  printf("write 500: %s\n", put("500\n"));
  printf("tcp 499: %s, tcp 500: %s\n", try_bind(SOCK_STREAM, 499), try_bind(SOCK_STREAM, 500));
  /* At or above the local port range's start (32768 by default), and out of range: EINVAL. */
  printf("write 32768: %s, 40000: %s, 65536: %s, -1: %s, x: %s\n", put("32768"), put("40000"), put("65536"), put("-1"), put("x"));
  printf("write 32767: %s\n", put("32767"));
  show();
  printf("done\n");
  return 0;
}
