// inotifyexec: executing a watched file gives the events Linux gives:
// IN_OPEN, IN_ACCESS for the loader's reads of it, and IN_CLOSE_NOWRITE
// once the last reference goes (the process's exit for a program it runs,
// at once for a script handed to its interpreter or a file that is not a
// program). Run on this program itself (static or dynamic, as built), a
// #! script and a file that is not executable code.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void drain(int fd, const char *when) {
  char buf[8192] __attribute__((aligned(8)));
  printf("%s:", when);
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    for (char *q = buf; q < buf + n;) {
      struct inotify_event *e = (struct inotify_event *)q;
      printf(" %x", e->mask);
      q += sizeof *e + e->len;
    }
  }
  printf("\n");
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) exit(1);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc > 3 && !strcmp(argv[1], "child")) {
    // Running (loaded): say so, and wait for the parent's go, so it can
    // look at the events while this program is still in use.
    char c = 'r';
    if (write(atoi(argv[3]), &c, 1) != 1 || read(atoi(argv[2]), &c, 1) != 1) return 2;
    return 5;
  }
  if (argc < 2) return 1;
  setvbuf(stdout, NULL, _IOLBF, 0);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) return 1;
  self[n] = 0;
  int in = inotify_init1(IN_NONBLOCK);

  // 1. This program: open and reads now, the close only once the child is gone.
  int w = inotify_add_watch(in, self, IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE | IN_CLOSE_WRITE);
  int go[2], ready[2];
  if (pipe(go) || pipe(ready)) return 1;
  pid_t p = fork();
  if (p == 0) {
    char fd[16], rfd[16];
    snprintf(fd, sizeof fd, "%d", go[0]);
    snprintf(rfd, sizeof rfd, "%d", ready[1]);
    execl(self, self, "child", fd, rfd, (char *)NULL);
    _exit(127);
  }
  char c;
  if (read(ready[0], &c, 1) != 1) return 1;
  drain(in, "program running");
  if (write(go[1], "x", 1) != 1) return 1;
  int st;
  waitpid(p, &st, 0);
  drain(in, "program exited");
  printf("status %d\n", WEXITSTATUS(st));
  inotify_rm_watch(in, w);
  drain(in, "watch removed");

  // 2. A #! script: opened, its first line read, closed when its interpreter takes over.
  char script[PATH_MAX];
  snprintf(script, sizeof script, "%s/script", argv[1]);
  write_file(script, "#!/bin/sh\nexit 4\n");
  w = inotify_add_watch(in, script, IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE | IN_CLOSE_WRITE);
  p = fork();
  if (p == 0) {
    execl(script, "script", (char *)NULL);
    _exit(127);
  }
  waitpid(p, &st, 0);
  drain(in, "script");
  printf("status %d\n", WEXITSTATUS(st));
  inotify_rm_watch(in, w);
  drain(in, "watch removed");

  // 3. Not a program: the same three, and ENOEXEC.
  char junk[PATH_MAX];
  snprintf(junk, sizeof junk, "%s/junk", argv[1]);
  write_file(junk, "this is not a program\n");
  w = inotify_add_watch(in, junk, IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE | IN_CLOSE_WRITE);
  char *args[] = {junk, NULL};
  int r = execv(junk, args);
  printf("exec of junk: %d %s\n", r, strerror(errno));
  drain(in, "junk");
  printf("done\n");
  return 0;
}
