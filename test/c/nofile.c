/* nofile: RLIMIT_NOFILE raised and lowered: descriptors up to the soft limit,
 * EMFILE at it, the lowest free number reused after closes far below it,
 * F_DUPFD at or above the limit EINVAL. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/resource.h>

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  struct rlimit want = {3000, rl.rlim_max};
  if (rl.rlim_max < 3000) want.rlim_cur = rl.rlim_max;
  printf("raise soft limit: %s\n", setrlimit(RLIMIT_NOFILE, &want) == 0 ? "ok" : ename(errno));
  int last = -1;
  for (;;) {
    int fd = dup(0);
    if (fd < 0) {
      printf("dup stopped: %s, highest %d (limit %s)\n", ename(errno), last,
             (rlim_t)last + 1 == want.rlim_cur ? "reached" : "not reached");
      break;
    }
    last = fd;
  }
  close(1000);
  close(70);
  close(2500);
  int a = dup(0), b = dup(0), c = dup(0);
  printf("lowest free reused: %d %d %d\n", a, b, c);
  printf("dup at the limit again: %s\n", dup(0) < 0 ? ename(errno) : "ok");
  printf("F_DUPFD at the limit: %s\n", fcntl(0, F_DUPFD, (int)want.rlim_cur) < 0 ? ename(errno) : "ok");
  struct rlimit low = {100, want.rlim_max};
  setrlimit(RLIMIT_NOFILE, &low);
  close(50);
  printf("below a lowered limit: %d\n", dup(0));
  close(150);
  printf("free slot above a lowered limit: %s\n", dup(0) < 0 ? ename(errno) : "ok");
  printf("dup2 above a lowered limit: %s\n", dup2(0, 200) < 0 ? ename(errno) : "ok");
  for (int fd = 3; fd <= last; fd++) close(fd);
  printf("done\n");
  return 0;
}
