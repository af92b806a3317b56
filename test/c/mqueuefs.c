// The mqueue file system (man 7 mq_overview) as Linux answers it: the IPC
// namespace's queues as files of a mount (their mode, owner, size and the
// status line), a queue made by open(O_CREAT) and removed by unlink(2), a
// descriptor from open(2) that mq_send takes, poll on it, what the
// directory refuses (mkdir, symlink, link, mknod, rename, write), chmod and
// chown changing what mq_open checks, statfs's magic, two mounts of one
// namespace and a mount from a new IPC namespace. Natively it runs in a
// fresh IPC and mount namespace (`unshare -im`); argv[1] is a scratch
// directory for the mount points.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

static char mnt[512], mnt2[512];

static const char *at(const char *root, const char *name) {
  static char p[2][600];
  static int i;
  i ^= 1;
  snprintf(p[i], sizeof p[i], "%s/%s", root, name);
  return p[i];
}

/** The names in a directory, sorted, on one line. */
static void list(const char *what, const char *dir) {
  struct dirent **ents;
  int n = scandir(dir, &ents, NULL, alphasort);
  if (n < 0) {
    printf("%s: %s\n", what, strerrorname_np(errno));
    return;
  }
  printf("%s:", what);
  for (int i = 0; i < n; i++) {
    printf(" %s", ents[i]->d_name);
    free(ents[i]);
  }
  free(ents);
  printf("\n");
}

static void statOf(const char *what, const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    printf("%s: %s\n", what, strerrorname_np(errno));
    return;
  }
  printf("%s: mode %o uid %u gid %u size %lld nlink %lu\n", what, st.st_mode, st.st_uid, st.st_gid, (long long)st.st_size, (unsigned long)st.st_nlink);
}

/** The status line, read through the file system in small pieces, then at its end. */
static void status(const char *what, const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("%s: %s\n", what, strerrorname_np(errno));
    return;
  }
  char buf[256] = {0};
  size_t got = 0;
  for (ssize_t n; (n = read(fd, buf + got, 7)) > 0;) got += n;
  // The registered process's pid differs natively and in the sandbox: told as "self" (its field keeps its width).
  char *p = strstr(buf, "NOTIFY_PID:");
  if (p && atoi(p + 11) == getpid()) {
    int w = (int)strcspn(p + 11, " \n");
    memset(p + 11, ' ', w);
    memcpy(p + 11, "self", 4);
  }
  printf("%s (%zu bytes): %s", what, got, buf);
  show("  read at the end", read(fd, buf, sizeof buf));
  close(fd);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  snprintf(mnt, sizeof mnt, "%s/mq", argv[1]);
  snprintf(mnt2, sizeof mnt2, "%s/mq2", argv[1]);
  mkdir(mnt, 0755);
  mkdir(mnt2, 0755);
  show("mount", mount("none", mnt, "mqueue", 0, NULL));
  show("bad option", mount("none", mnt2, "mqueue", 0, "nosuchoption=1"));
  struct statfs sf;
  show("statfs", statfs(mnt, &sf));
  printf("f_type %#lx f_bsize %ld f_namelen %ld\n", (unsigned long)sf.f_type, (long)sf.f_bsize, (long)sf.f_namelen);
  statOf("root", mnt);
  list("empty", mnt);

  // A queue made with mq_open is a file.
  umask(022);
  struct mq_attr attr = {0, 5, 64, 0};
  mqd_t q = mq_open("/tsvq1", O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0640, &attr);
  show("mq_open", q < 0 ? -1 : 0);
  list("one queue", mnt);
  statOf("queue", at(mnt, "tsvq1"));
  status("empty status", at(mnt, "tsvq1"));
  mq_send(q, "hello", 5, 1);
  mq_send(q, "world!!", 7, 3);
  mq_send(q, "x", 1, 3);
  status("three messages", at(mnt, "tsvq1"));
  statOf("queue with messages", at(mnt, "tsvq1"));
  struct stat fst, pst;
  fstat(q, &fst);
  stat(at(mnt, "tsvq1"), &pst);
  printf("fstat of the mq descriptor: mode %o size %lld nlink %lu same file as the mount's %d\n", fst.st_mode, (long long)fst.st_size,
         (unsigned long)fst.st_nlink, fst.st_ino == pst.st_ino && fst.st_dev == pst.st_dev);

  // mq_notify shows in the status line.
  struct sigevent ev = {0};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGUSR2;
  signal(SIGUSR2, SIG_IGN);
  show("mq_notify", mq_notify(q, &ev));
  status("notify signal", at(mnt, "tsvq1"));
  mq_notify(q, NULL);
  ev.sigev_notify = SIGEV_NONE;
  show("mq_notify none", mq_notify(q, &ev));
  status("notify none", at(mnt, "tsvq1"));
  mq_notify(q, NULL);

  // A second mount of the same namespace shows the same queues.
  show("second mount", mount("mq", mnt2, "mqueue", MS_NOSUID | MS_NODEV, NULL));
  list("second mount", mnt2);
  show("umount second", umount(mnt2));

  // chmod and chown through the file: mq_open checks what they set.
  show("chmod", chmod(at(mnt, "tsvq1"), 0600));
  statOf("after chmod", at(mnt, "tsvq1"));
  pid_t c = fork();
  if (c == 0) {
    if (setgid(65534) || setuid(65534)) _exit(1);
    show("other user opens 0600", mq_open("/tsvq1", O_RDONLY));
    show("other user chmod", chmod(at(mnt, "tsvq1"), 0666));
    show("other user unlink", unlink(at(mnt, "tsvq1")));
    _exit(0);
  }
  waitpid(c, NULL, 0);
  show("chown", chown(at(mnt, "tsvq1"), 65534, 65534));
  statOf("after chown", at(mnt, "tsvq1"));
  c = fork();
  if (c == 0) {
    if (setgid(65534) || setuid(65534)) _exit(1);
    mqd_t o = mq_open("/tsvq1", O_RDONLY);
    show("owner opens", o < 0 ? -1 : 0);
    struct mq_attr a;
    mq_getattr(o, &a);
    printf("owner sees curmsgs %ld\n", a.mq_curmsgs);
    _exit(0);
  }
  waitpid(c, NULL, 0);

  // Files of the mount: what works and what is refused.
  show("mkdir", mkdir(at(mnt, "dir"), 0755));
  show("rmdir root", rmdir(mnt));
  show("symlink", symlink("tsvq1", at(mnt, "link")));
  show("link", link(at(mnt, "tsvq1"), at(mnt, "hard")));
  show("mknod fifo", mknod(at(mnt, "fifo"), S_IFIFO | 0600, 0));
  show("rename", rename(at(mnt, "tsvq1"), at(mnt, "renamed")));
  show("open missing", open(at(mnt, "nothere"), O_RDONLY));
  show("open missing dir", open(at(mnt, "nothere/x"), O_RDONLY | O_CREAT, 0600));
  int wfd = open(at(mnt, "tsvq1"), O_WRONLY);
  show("open for writing", wfd < 0 ? -1 : 0);
  show("write", write(wfd, "x", 1));
  close(wfd);
  show("truncate", truncate(at(mnt, "tsvq1"), 7));
  statOf("after truncate", at(mnt, "tsvq1"));
  show("open O_EXCL existing", open(at(mnt, "tsvq1"), O_RDWR | O_CREAT | O_EXCL, 0600));
  char longname[300];
  memset(longname, 'n', 256);
  longname[256] = 0;
  show("long name", open(at(mnt, longname), O_RDWR | O_CREAT, 0600));

  // open(O_CREAT) makes a queue with the namespace's default attributes, and its descriptor is one mq_send takes.
  int fd = open(at(mnt, "tsvq2"), O_RDWR | O_CREAT | O_EXCL, 0666);
  show("create by open", fd < 0 ? -1 : 0);
  statOf("created", at(mnt, "tsvq2"));
  struct mq_attr def;
  show("mq_getattr on it", mq_getattr(fd, &def));
  printf("default attributes: maxmsg %ld msgsize %ld curmsgs %ld\n", def.mq_maxmsg, def.mq_msgsize, def.mq_curmsgs);
  show("mq_send on it", mq_send(fd, "via open", 8, 2));
  struct pollfd pf = {fd, POLLIN | POLLOUT, 0};
  poll(&pf, 1, 0);
  printf("poll: %#x\n", pf.revents);
  mqd_t q2 = mq_open("/tsvq2", O_RDONLY);
  char msg[8192];
  unsigned prio;
  ssize_t n = mq_receive(q2, msg, sizeof msg, &prio);
  printf("received through mq_open: %.*s prio %u\n", (int)(n < 0 ? 0 : n), msg, prio);
  int rofd = open(at(mnt, "tsvq2"), O_RDONLY);
  show("mq_send on a read-only open", mq_send(rofd, "x", 1, 0));
  close(rofd);
  list("two queues", mnt);

  // unlink(2) is mq_unlink: the open descriptors keep working.
  show("unlink", unlink(at(mnt, "tsvq2")));
  show("mq_open after unlink", mq_open("/tsvq2", O_RDONLY));
  show("send after unlink", mq_send(fd, "still", 5, 0));
  list("after unlink", mnt);
  show("mq_unlink removes the file", mq_unlink("/tsvq1"));
  list("after mq_unlink", mnt);
  show("stat after mq_unlink", stat(at(mnt, "tsvq1"), &fst));
  close(fd);
  mq_close(q);
  mq_close(q2);

  // A new IPC namespace has its own queues: its mount shows none of ours.
  mq_open("/tsvq3", O_CREAT | O_RDWR, 0600, NULL);
  c = fork();
  if (c == 0) {
    show("unshare ipc", unshare(CLONE_NEWIPC));
    show("mq_open of the parent's queue", mq_open("/tsvq3", O_RDONLY));
    mq_open("/tsvchild", O_CREAT | O_RDWR, 0600, NULL);
    show("mount in the new namespace", mount("none", mnt2, "mqueue", 0, NULL));
    list("new namespace", mnt2);
    list("old mount from the new namespace", mnt);
    umount(mnt2);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  list("parent after", mnt);
  mq_unlink("/tsvq3");
  show("umount", umount(mnt));
  rmdir(mnt);
  rmdir(mnt2);
  printf("done\n");
  return 0;
}
