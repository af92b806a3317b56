// dnotify (fcntl F_NOTIFY): which changes in a directory signal the owner,
// with F_SETSIG's real-time signal (one per event, with si_fd and si_code)
// and with plain SIGIO; one-shot without DN_MULTISHOT; errors.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char base[4096];
static char P[4][4200];
static int pn;

static const char *path(const char *name) {
  char *p = P[pn++ & 3];
  snprintf(p, sizeof P[0], "%s/%s", base, name);
  return p;
}

// Print the signals queued now (they are blocked), one line each.
static void signals(const char *label, int dirfd) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN + 1);
  sigaddset(&set, SIGIO);
  struct timespec zero = {0, 0};
  siginfo_t si;
  printf("%s:", label);
  int n = 0;
  while (sigtimedwait(&set, &si, &zero) > 0) {
    if (si.si_signo == SIGIO) printf(" SIGIO");
    else printf(" RT(code %d fd %s band %lx)", si.si_code, si.si_fd == dirfd ? "ok" : "other", (long)si.si_band);
    n++;
  }
  printf("%s\n", n ? "" : " none");
}

static void touch(const char *p) {
  int fd = open(p, O_CREAT | O_WRONLY, 0644);
  if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);
  snprintf(base, sizeof base, "%s/dn", argv[1]);
  mkdir(base, 0755);
  mkdir(path("other"), 0755);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN + 1);
  sigaddset(&set, SIGIO);
  sigprocmask(SIG_BLOCK, &set, NULL);

  int fd = open(base, O_RDONLY | O_DIRECTORY);
  int file = open(path("plain"), O_CREAT | O_RDWR, 0644);
  int r = fcntl(file, F_NOTIFY, DN_CREATE);
  printf("F_NOTIFY on a file: %d %s\n", r, strerror(errno));
  printf("F_SETSIG: %d\n", fcntl(fd, F_SETSIG, SIGRTMIN + 1));
  printf("F_NOTIFY: %d\n", fcntl(fd, F_NOTIFY, DN_ACCESS | DN_MODIFY | DN_CREATE | DN_DELETE | DN_RENAME | DN_ATTRIB | DN_MULTISHOT));
  printf("owner is the caller: %d\n", fcntl(fd, F_GETOWN) == getpid());
  signals("nothing yet", fd);
  touch(path("a"));
  signals("create a (create, open, close)", fd);
  int w = open(path("a"), O_WRONLY);
  if (write(w, "x", 1) < 0) return 1;
  signals("open and write a", fd);
  close(w);
  w = open(path("a"), O_RDONLY);
  char c;
  if (read(w, &c, 1) < 0) return 1;
  close(w);
  signals("read a", fd);
  chmod(path("a"), 0600);
  signals("chmod a", fd);
  chmod(base, 0755);
  signals("chmod the directory", fd);
  rename(path("a"), path("b"));
  signals("rename a b", fd);
  rename(path("b"), path("other/b"));
  signals("rename b to other/", fd);
  rename(path("other/b"), path("c"));
  signals("rename other/b to c", fd);
  mkdir(path("sub"), 0755);
  signals("mkdir sub", fd);
  touch(path("sub/deep"));
  signals("create sub/deep", fd);
  unlink(path("c"));
  signals("unlink c", fd);

  // One-shot: one event, then nothing.
  printf("F_NOTIFY 0: %d\n", fcntl(fd, F_NOTIFY, 0));
  printf("F_NOTIFY one-shot: %d\n", fcntl(fd, F_NOTIFY, DN_CREATE));
  touch(path("d"));
  touch(path("e"));
  signals("two creates after a one-shot DN_CREATE", fd);
  // Masks accumulate; 0 removes everything.
  printf("F_NOTIFY DN_DELETE|DN_MULTISHOT: %d\n", fcntl(fd, F_NOTIFY, DN_DELETE | DN_MULTISHOT));
  printf("F_NOTIFY DN_ATTRIB|DN_MULTISHOT: %d\n", fcntl(fd, F_NOTIFY, DN_ATTRIB | DN_MULTISHOT));
  unlink(path("d"));
  chmod(path("e"), 0600);
  touch(path("f"));
  signals("unlink d, chmod e, create f (DELETE|ATTRIB)", fd);
  printf("F_NOTIFY 0: %d\n", fcntl(fd, F_NOTIFY, 0));
  unlink(path("e"));
  signals("after F_NOTIFY 0", fd);

  // Plain SIGIO (no F_SETSIG); a second descriptor of its own.
  int fd2 = open(base, O_RDONLY | O_DIRECTORY);
  printf("F_NOTIFY with SIGIO: %d\n", fcntl(fd2, F_NOTIFY, DN_CREATE | DN_MULTISHOT));
  touch(path("g"));
  signals("create g", fd2);
  // Closing the descriptor ends it.
  close(fd2);
  touch(path("h"));
  signals("create h after close", fd2);
  close(fd);
  printf("done\n");
  return 0;
}
