/* nropen: fs.nr_open, the ceiling of RLIMIT_NOFILE and of an fd table's
 * copy. Without arguments (safe natively: it changes nothing): the value,
 * setrlimit past it (EPERM) and at it, writes out of Linux's bounds
 * (EINVAL) and by another user (EACCES). With "set" (the sandbox only: it
 * would lower the host's limit): root lowers it to 64, and a table with a
 * descriptor at 64 or above cannot be copied by fork or unshare(CLONE_FILES)
 * (EMFILE), one below can. Run as root. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define PATH "/proc/sys/fs/nr_open"

static long readval(void) {
  char b[64] = {0};
  int fd = open(PATH, O_RDONLY);
  read(fd, b, sizeof b - 1);
  close(fd);
  return atol(b);
}

static const char *writeval(const char *s) {
  int fd = open(PATH, O_WRONLY);
  if (fd < 0) return ename(errno);
  int r = write(fd, s, strlen(s));
  int e = errno;
  close(fd);
  return r < 0 ? ename(e) : "OK";
}

static const char *forkit(void) {
  pid_t c = fork();
  if (c < 0) return ename(errno);
  if (c == 0) _exit(0);
  waitpid(c, NULL, 0);
  return "OK";
}

static char stack[65536];
static int unshare_files(void *arg) {
  (void)arg;
  printf("unshare(CLONE_FILES) with fd 65 shared: %s\n", unshare(CLONE_FILES) < 0 ? ename(errno) : "OK");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long nr = readval();
  printf("nr_open is Linux's default: %d\n", nr == 1048576);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  struct rlimit past = {rl.rlim_cur, nr + 1}, at = {rl.rlim_cur, nr};
  printf("setrlimit past it: %s\n", setrlimit(RLIMIT_NOFILE, &past) < 0 ? ename(errno) : "OK");
  printf("setrlimit at it: %s\n", setrlimit(RLIMIT_NOFILE, &at) < 0 ? ename(errno) : "OK");
  printf("write 63: %s\n", writeval("63"));
  printf("write 2147483647: %s\n", writeval("2147483647"));
  printf("write -1: %s\n", writeval("-1"));
  printf("unchanged: %d\n", readval() == nr);
  pid_t c = fork();
  if (c == 0) {
    setresuid(1000, 1000, 1000);
    printf("another user writes: %s\n", writeval("1048576"));
    _exit(0);
  }
  waitpid(c, NULL, 0);
  if (argc > 1 && !strcmp(argv[1], "set")) {
    dup2(2, 65);
    printf("write 64: %s\n", writeval("64"));
    printf("read back: %ld\n", readval());
    struct rlimit more = {64, 65};
    printf("setrlimit 65: %s\n", setrlimit(RLIMIT_NOFILE, &more) < 0 ? ename(errno) : "OK");
    /* Descriptors above it stay open; the table cannot be copied. */
    printf("fork with fd 65 open: %s\n", forkit());
    pid_t k = clone(unshare_files, stack + sizeof stack, CLONE_FILES | SIGCHLD, NULL);
    waitpid(k, NULL, 0);
    close(65);
    dup2(2, 63);
    printf("fork with fd 63 the highest: %s\n", forkit());
    close(63);
    printf("restore: %s\n", writeval("1048576"));
  }
  printf("done\n");
  return 0;
}
