/* txtbusy: Linux's deny-write-access for running programs (LTP creat07,
 * execve04): while a process runs a file, opening it for writing, creat()
 * and truncate() are ETXTBSY; a file open for writing cannot be executed
 * (ETXTBSY); both end with the process or the descriptor. And an execve with
 * an empty argv gives the program argc 1 with an empty argv[0] (execve06). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

static void copy_self(const char *to) {
  int in = open("/proc/self/exe", O_RDONLY), out = open(to, O_CREAT | O_WRONLY | O_TRUNC, 0755);
  if (in < 0 || out < 0) DIE("copy");
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, n) != n) DIE("write");
  close(in);
  close(out);
}

/* Run prog with argv in a child; report how the exec went (the child prints 'ran' itself). */
static void run(const char *label, const char *prog, char *const argv[]) {
  pid_t p = xfork();
  if (p == 0) {
    execve(prog, argv, environ);
    printf("%s: execve = -1 %s\n", label, ename(errno));
    fflush(stdout);
    _exit(1);
  }
  int st;
  waitpid(p, &st, 0);
  printf("%s: exit %d\n", label, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc == 1 && argv[0] && argv[0][0] == '\0') {
    printf("ran with argc %d, argv[0] \"%s\", argv[1] %s\n", argc, argv[0], argv[1] ? "set" : "NULL");
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "hold") == 0) {
    /* Tell the parent we run, then wait to be killed. */
    if (write(atoi(argv[2]), "x", 1) != 1) return 1;
    for (;;) pause();
  }
  if (argc == 2 && strcmp(argv[1], "hello") == 0) {
    printf("hello ran\n");
    return 0;
  }
  if (argc != 2) return 2;
  char prog[512];
  snprintf(prog, sizeof prog, "%s/prog", argv[1]);
  copy_self(prog);

  int pp[2];
  if (pipe(pp)) DIE("pipe");
  pid_t holder = xfork();
  if (holder == 0) {
    char fd[16];
    snprintf(fd, sizeof fd, "%d", pp[1]);
    execl(prog, prog, "hold", fd, (char *)NULL);
    _exit(1);
  }
  char c;
  if (read(pp[0], &c, 1) != 1) DIE("read");
  SHOW("while running: open(O_WRONLY)", open(prog, O_WRONLY));
  SHOW("while running: open(O_RDWR)", open(prog, O_RDWR));
  SHOW("while running: creat", creat(prog, 0755));
  SHOW("while running: truncate", truncate(prog, 0));
  SHOW("while running: open(O_RDONLY|O_TRUNC)", open(prog, O_RDONLY | O_TRUNC));
  int r = open(prog, O_RDONLY);
  printf("while running: open(O_RDONLY) works: %d\n", r >= 0);
  close(r);
  kill(holder, SIGKILL);
  waitpid(holder, NULL, 0);
  int w = open(prog, O_WRONLY);
  printf("after it ended: open(O_WRONLY) works: %d\n", w >= 0);

  char *hello[] = {prog, "hello", NULL};
  run("exec while open for writing", prog, hello);
  close(w);
  run("exec after the close", prog, hello);

  /* A memfd is the exception: it runs while open for writing. */
  int mfd = memfd_create("prog", 0), self = open("/proc/self/exe", O_RDONLY);
  char buf[65536];
  ssize_t n;
  while ((n = read(self, buf, sizeof buf)) > 0)
    if (write(mfd, buf, n) != n) DIE("write");
  char mpath[64];
  snprintf(mpath, sizeof mpath, "/proc/self/fd/%d", mfd);
  char *mhello[] = {mpath, "hello", NULL};
  run("memfd exec while open for writing", mpath, mhello);

  char *none[] = {NULL};
  run("exec with an empty argv", prog, none);
  run("exec with a NULL argv", prog, NULL);
  printf("done\n");
  return 0;
}
