/* stdiosock: what the stdio descriptors say they are. Node's child_process
 * (and so the test harness) gives a child socketpairs as stdin, stdout and
 * stderr; libuv asks getsockname and SO_TYPE of a socket before it writes to
 * it, and drops the output of a socket it cannot name. Run with pipes,
 * files or sockets as stdio, the sandbox must answer as Linux does. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static void show(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    printf("fd %d: fstat %s\n", fd, strerror(errno));
    return;
  }
  const char *kind = S_ISSOCK(st.st_mode) ? "socket" : S_ISFIFO(st.st_mode) ? "fifo" : S_ISREG(st.st_mode) ? "file" : "other";
  struct sockaddr_storage ss;
  memset(&ss, 0xaa, sizeof ss);
  socklen_t len = sizeof ss;
  int r = getsockname(fd, (struct sockaddr *)&ss, &len);
  printf("fd %d: %s getsockname=%d", fd, kind, r == 0 ? 0 : -errno);
  if (r == 0) printf(" family=%d len=%u", ss.ss_family, (unsigned)len);
  len = sizeof ss;
  r = getpeername(fd, (struct sockaddr *)&ss, &len);
  printf(" getpeername=%d", r == 0 ? 0 : -errno);
  if (r == 0) printf(" family=%d len=%u", ss.ss_family, (unsigned)len);
  int opts[] = {SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN};
  for (unsigned i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    int v = -1;
    len = sizeof v;
    r = getsockopt(fd, SOL_SOCKET, opts[i], &v, &len);
    if (r == 0) printf(" opt%d=%d", opts[i], v);
    else printf(" opt%d=-%d", opts[i], errno);
  }
  printf("\n");
}

int main(void) {
  for (int fd = 0; fd < 3; fd++) show(fd);
  printf("done\n");
  return 0;
}
