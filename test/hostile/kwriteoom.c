/* kwriteoom: a kernel-side write into application memory past the sandbox
 * memory limit starts the OOM killer, as the application's own page fault
 * would (Linux's memory cgroup does the same for a copy_to_user): a child
 * holds HOG MiB and waits; the parent read()s BUF MiB of /dev/urandom into
 * memory it never touched. The largest process (the child) is killed and
 * every read completes; before, the read failed with ENOMEM.
 *   kwriteoom HOG BUF */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  size_t hog = (size_t)atoi(argc > 1 ? argv[1] : "40") << 20;
  size_t buf = (size_t)atoi(argc > 2 ? argv[2] : "40") << 20;
  int ready[2];
  if (pipe(ready) < 0) return perror("pipe"), 1;
  pid_t c = fork();
  if (c < 0) return perror("fork"), 1;
  if (c == 0) {
    char *h = mmap(NULL, hog, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED) _exit(2);
    memset(h, 1, hog);
    if (write(ready[1], "r", 1) != 1) _exit(3);
    for (;;) pause();
  }
  char x;
  if (read(ready[0], &x, 1) != 1) return perror("ready"), 1;
  printf("child holds %zu MiB\n", hog >> 20);
  char *b = mmap(NULL, buf, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (b == MAP_FAILED) return perror("mmap"), 1;
  int fd = open("/dev/urandom", O_RDONLY);
  if (fd < 0) return perror("urandom"), 1;
  size_t done = 0;
  while (done < buf) {
    ssize_t n = read(fd, b + done, 1 << 20);
    if (n <= 0) {
      printf("read at %zu MiB: %s\n", done >> 20, n < 0 ? strerror(errno) : "EOF");
      break;
    }
    done += (size_t)n;
  }
  if (done == buf) printf("read %zu MiB: ok\n", buf >> 20);
  kill(c, SIGTERM);
  int st;
  waitpid(c, &st, 0);
  if (WIFSIGNALED(st)) printf("child: signal %d\n", WTERMSIG(st));
  else printf("child: status %d\n", WEXITSTATUS(st));
  return 0;
}
