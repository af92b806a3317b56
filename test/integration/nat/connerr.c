// connect(2) to each ADDR:PORT argument, blocking and then non-blocking
// (EINPROGRESS, poll, SO_ERROR), and print the outcome as an errno name:
// what the application sees of a destination the network refuses.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *name(int e) {
  switch (e) {
  case 0: return "OK";
  case ECONNREFUSED: return "ECONNREFUSED";
  case ENETUNREACH: return "ENETUNREACH";
  case EHOSTUNREACH: return "EHOSTUNREACH";
  case ETIMEDOUT: return "ETIMEDOUT";
  case EACCES: return "EACCES";
  case EPERM: return "EPERM";
  default: return strerror(e);
  }
}

static int parse(const char *arg, struct sockaddr_in *sa) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s", arg);
  char *colon = strrchr(buf, ':');
  if (!colon) return -1;
  *colon = 0;
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(atoi(colon + 1));
  return inet_pton(AF_INET, buf, &sa->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    struct sockaddr_in sa;
    if (parse(argv[i], &sa) < 0) return 2;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int r = connect(s, (struct sockaddr *)&sa, sizeof sa);
    printf("%s blocking: %s\n", argv[i], name(r == 0 ? 0 : errno));
    close(s);
    s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    r = connect(s, (struct sockaddr *)&sa, sizeof sa);
    int e = r == 0 ? 0 : errno;
    if (e == EINPROGRESS) {
      struct pollfd p = {.fd = s, .events = POLLOUT};
      poll(&p, 1, 20000);
      socklen_t len = sizeof e;
      getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len);
      printf("%s non-blocking: EINPROGRESS then %s\n", argv[i], name(e));
    } else {
      printf("%s non-blocking: %s\n", argv[i], name(e));
    }
    close(s);
  }
  return 0;
}
