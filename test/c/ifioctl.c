/* ifioctl: the interface ioctls of netdevice(7) (SIOCGIFCONF, SIOCGIFFLAGS,
 * SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFADDR,
 * SIOCGIFNETMASK, SIOCGIFBRDADDR) on a unix socket, or on an inet socket with
 * the argument "inet". Compared with native on the host (--network=host) and
 * in a fresh network namespace with lo up (the sandbox's loopback). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int fd;

static void sa4(const char *what, int req, const char *name) {
  struct ifreq r;
  memset(&r, 0, sizeof r);
  strncpy(r.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, req, &r) < 0) {
    printf(" %s %s", what, strerrorname_np(errno));
    return;
  }
  struct sockaddr_in *s = (struct sockaddr_in *)&r.ifr_addr;
  printf(" %s %d/%s", what, s->sin_family, inet_ntoa(s->sin_addr));
}

static void one(const char *name) {
  struct ifreq r;
  memset(&r, 0, sizeof r);
  strncpy(r.ifr_name, name, IFNAMSIZ - 1);
  printf("%s:", name);
  if (ioctl(fd, SIOCGIFFLAGS, &r) < 0) printf(" flags %s", strerrorname_np(errno));
  else printf(" flags %#x", (unsigned short)r.ifr_flags);
  if (ioctl(fd, SIOCGIFINDEX, &r) == 0) printf(" index %d", r.ifr_ifindex);
  if (ioctl(fd, SIOCGIFMTU, &r) == 0) printf(" mtu %d", r.ifr_mtu);
  if (ioctl(fd, SIOCGIFHWADDR, &r) == 0) {
    unsigned char *h = (unsigned char *)r.ifr_hwaddr.sa_data;
    printf(" hw %d %02x:%02x:%02x:%02x:%02x:%02x", r.ifr_hwaddr.sa_family, h[0], h[1], h[2], h[3], h[4], h[5]);
  }
  sa4("addr", SIOCGIFADDR, name);
  sa4("mask", SIOCGIFNETMASK, name);
  sa4("brd", SIOCGIFBRDADDR, name);
  printf("\n");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int inet = argc > 1 && strcmp(argv[1], "inet") == 0;
  fd = inet ? socket(AF_INET, SOCK_DGRAM, 0) : socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0) {
    printf("socket: %s\n", strerrorname_np(errno));
    return 1;
  }
  struct ifconf c = {0};
  printf("SIOCGIFCONF sizing: %s", ioctl(fd, SIOCGIFCONF, &c) < 0 ? strerrorname_np(errno) : "OK");
  printf(" len %d (%zu each)\n", c.ifc_len, sizeof(struct ifreq));
  struct ifreq reqs[64];
  c.ifc_len = sizeof reqs;
  c.ifc_req = reqs;
  ioctl(fd, SIOCGIFCONF, &c);
  int n = c.ifc_len / (int)sizeof(struct ifreq);
  for (int i = 0; i < n; i++) printf("conf %s %s\n", reqs[i].ifr_name, inet_ntoa(((struct sockaddr_in *)&reqs[i].ifr_addr)->sin_addr));
  c.ifc_len = sizeof(struct ifreq) + 3;
  ioctl(fd, SIOCGIFCONF, &c);
  printf("SIOCGIFCONF room for one: len %d\n", c.ifc_len);
  for (int i = 1; i <= 32; i++) {
    struct ifreq r;
    memset(&r, 0, sizeof r);
    r.ifr_ifindex = i;
    if (ioctl(fd, SIOCGIFNAME, &r) < 0) {
      printf("index %d: %s\n", i, strerrorname_np(errno));
      break;
    }
    one(r.ifr_name);
  }
  one("nosuchif0");
  struct ifreq r;
  memset(&r, 'A', sizeof r);
  printf("unterminated name: %s\n", ioctl(fd, SIOCGIFFLAGS, &r) < 0 ? strerrorname_np(errno) : "OK");
  printf("done\n");
  return 0;
}
