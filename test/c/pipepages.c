/* pipepages: per-user accounting of pipe pages (LTP pipe15). A user
 * without CAP_SYS_RESOURCE (uid 54321, which nothing else on the host uses)
 * gets 16-page pipes until its pages pass fs.pipe-user-pages-soft, then
 * 2-page ones; F_SETPIPE_SZ may shrink but not grow past the limit; closing
 * pipes gives the pages back. Root is not limited.
 *
 * With "hard N" (the sandbox only: natively it would change the host's
 * limit) root first sets fs.pipe-user-pages-hard to N: past it the user's
 * pipe() is ENFILE and F_SETPIPE_SZ growing is EPERM. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define MAXP 1400
static int fds[MAXP + 1][2];

static long sysctl(const char *name) {
  char path[128], buf[32] = {0};
  snprintf(path, sizeof path, "/proc/sys/fs/%s", name);
  int fd = open(path, O_RDONLY);
  if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0) DIE("read sysctl");
  close(fd);
  return atol(buf);
}

static int set_sysctl(const char *name, long v) {
  char path[128], buf[32];
  snprintf(path, sizeof path, "/proc/sys/fs/%s", name);
  snprintf(buf, sizeof buf, "%ld\n", v);
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  int r = write(fd, buf, strlen(buf)) < 0 ? -1 : 0;
  close(fd);
  return r;
}

static const char *res(int r) { return r >= 0 ? "OK" : ename(errno); }

static void as_user(long hard) {
  int n = 0;
  if (hard >= 0) {
    /* Full-size pipes until the hard limit: then pipe() is ENFILE and growing is EPERM. */
    while (n < MAXP && pipe(fds[n]) == 0) n++;
    printf("pipes below the hard limit: %d, then %s\n", n, ename(errno));
    printf("grow a pipe: %s\n", res(fcntl(fds[0][1], F_SETPIPE_SZ, 131072)));
    printf("shrink a pipe: %d\n", fcntl(fds[0][1], F_SETPIPE_SZ, 4096));
    printf("then a pipe: %s\n", res(pipe(fds[n])));
    printf("shrink another: %d\n", fcntl(fds[1][1], F_SETPIPE_SZ, 4096));
    if (pipe(fds[n])) DIE("pipe after shrinking");
    printf("then a pipe: %d\n", fcntl(fds[n][1], F_GETPIPE_SZ));
    n++;
  } else {
    long soft = sysctl("pipe-user-pages-soft");
    int full = (int)(soft / 16);
    int sizes_ok = 1;
    /* Up to the soft limit exactly: full-size pipes. */
    for (; n < full && n < MAXP; n++) {
      if (pipe(fds[n])) DIE("pipe within soft");
      if (fcntl(fds[n][1], F_GETPIPE_SZ) != 65536) sizes_ok = 0;
    }
    printf("%d pipes within the soft limit, all 64 KiB: %d\n", n, sizes_ok);
    if (pipe(fds[n])) DIE("pipe past soft");
    printf("next pipe size: %d\n", fcntl(fds[n][1], F_GETPIPE_SZ));
    printf("grow it to 64 KiB: %s\n", res(fcntl(fds[n][1], F_SETPIPE_SZ, 65536)));
    printf("shrink a full one to 4 KiB: %d\n", fcntl(fds[0][1], F_SETPIPE_SZ, 4096));
    printf("grow the small one to 64 KiB: %s\n", res(fcntl(fds[n][1], F_SETPIPE_SZ, 65536)));
    printf("grow the small one to 16 KiB: %d\n", fcntl(fds[n][1], F_SETPIPE_SZ, 16384));
    static char buf[16384];
    printf("write 16 KiB without blocking: %zd\n", write(fds[n][1], buf, sizeof buf));
    n++;
    if (pipe(fds[n])) DIE("pipe past soft");
    printf("another pipe size: %d\n", fcntl(fds[n][1], F_GETPIPE_SZ));
    n++;
  }
  for (int i = 0; i < n; i++) {
    close(fds[i][0]);
    close(fds[i][1]);
  }
  if (pipe(fds[0])) DIE("pipe after close");
  printf("after closing them all, a pipe: %d\n", fcntl(fds[0][1], F_GETPIPE_SZ));
}

int main(int argc, char **argv) {
  line_buffered();
  long hard = argc > 2 && !strcmp(argv[1], "hard") ? atol(argv[2]) : -1;
  if (hard >= 0) {
    printf("set hard %ld: %s\n", hard, res(set_sysctl("pipe-user-pages-hard", hard)));
    printf("read back: %d\n", sysctl("pipe-user-pages-hard") == hard);
    printf("set hard -1: %s\n", res(set_sysctl("pipe-user-pages-hard", -1)));
  }
  struct rlimit rl = {4096, 4096};
  if (setrlimit(RLIMIT_NOFILE, &rl)) DIE("setrlimit");
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    if (setresgid(54321, 54321, 54321) || setresuid(54321, 54321, 54321)) DIE("setresuid");
    as_user(hard);
    _exit(0);
  }
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) DIE("child");
  /* Root: past the soft limit its pipes stay full-size. */
  int n = (int)(sysctl("pipe-user-pages-soft") / 16) + 20, ok = 1;
  if (n > MAXP) n = MAXP;
  for (int i = 0; i < n; i++) {
    if (pipe(fds[i])) DIE("root pipe");
    if (fcntl(fds[i][1], F_GETPIPE_SZ) != 65536) ok = 0;
  }
  printf("root's %d pipes all 64 KiB: %d\n", n, ok);
  printf("done\n");
  return 0;
}
