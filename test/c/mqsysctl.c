// /proc/sys/fs/mqueue as Linux answers it: the five limits of the caller's
// IPC namespace (a new namespace starts from the defaults, the old one keeps
// what was written), the ranges a write must be in, and what mq_open makes
// of them: the attributes of a queue created without any (the defaults,
// capped by the maxima), attributes past msg_max or msgsize_max refused for
// a caller without CAP_SYS_RESOURCE (allowed up to the hard limits with it:
// root here has it or not as the host's root does, whose bounding set the
// sandbox's follows), queues_max binding likewise and checked before the
// attributes.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const LIMITS[] = {"queues_max", "msg_max", "msgsize_max", "msg_default", "msgsize_default"};

static void dump(const char *when) {
  printf("%s:", when);
  for (unsigned i = 0; i < sizeof LIMITS / sizeof LIMITS[0]; i++) {
    char path[80], buf[64];
    snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", LIMITS[i]);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0) close(fd);
    if (n <= 0) {
      printf(" %s=%s", LIMITS[i], strerrorname_np(errno));
      continue;
    }
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    printf(" %s=%s", LIMITS[i], buf);
  }
  printf("\n");
}

static void put(const char *name, const char *value) {
  char path[80];
  snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", name);
  int fd = open(path, O_WRONLY);
  if (fd < 0) {
    printf("open %s for writing: %s\n", name, strerrorname_np(errno));
    return;
  }
  ssize_t n = write(fd, value, strlen(value));
  printf("write %s %s: %s\n", name, value, n < 0 ? strerrorname_np(errno) : "ok");
  close(fd);
}

/** Create a queue (attributes a, or none), print what it got, and remove it. */
static void create(const char *what, const char *name, long maxmsg, long msgsize) {
  struct mq_attr a = {0, maxmsg, msgsize, 0};
  mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, maxmsg || msgsize ? &a : NULL);
  if (q == (mqd_t)-1) {
    printf("%s: %s\n", what, strerrorname_np(errno));
    return;
  }
  struct mq_attr got;
  mq_getattr(q, &got);
  printf("%s: maxmsg %ld msgsize %ld\n", what, got.mq_maxmsg, got.mq_msgsize);
  mq_close(q);
  mq_unlink(name);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  dump("initial");
  create("no attributes", "/mqs-a", 0, 0);
  put("msg_default", "20");
  create("msg_default 20 past msg_max 10", "/mqs-a", 0, 0);
  put("msg_max", "30");
  create("msg_max 30", "/mqs-a", 0, 0);
  put("msg_max", "5");
  put("msgsize_default", "256");
  create("msg_max 5, msgsize_default 256", "/mqs-a", 0, 0);
  put("msgsize_max", "200");
  create("msgsize_max 200", "/mqs-a", 0, 0);
  put("msgsize_max", "8192");
  // Out of range, or not a number.
  put("msg_max", "0");
  put("msg_max", "65537");
  put("msg_default", "0");
  put("msgsize_max", "127");
  put("msgsize_default", "16777217");
  put("msg_max", "five");
  put("queues_max", "-1");
  dump("queues_max -1");
  put("queues_max", "2");
  dump("after the writes");

  // A new IPC namespace has the defaults; this one keeps its values.
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    if (unshare(CLONE_NEWIPC) != 0) {
      printf("unshare: %s\n", strerrorname_np(errno));
      _exit(1);
    }
    dump("a new IPC namespace");
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  dump("ours again");

  // Root: with CAP_SYS_RESOURCE msg_max and queues_max do not bind it, the hard limits do; without it, as any user.
  create("root, maxmsg 6 past msg_max 5", "/mqs-a", 6, 64);
  create("root, maxmsg past the hard limit", "/mqs-a", 65537, 64);
  struct mq_attr small = {0, 1, 16, 0};
  const char *names[] = {"/mqs-1", "/mqs-2", "/mqs-3"};
  for (int i = 0; i < 3; i++) {
    mqd_t q = mq_open(names[i], O_CREAT | O_EXCL | O_RDWR, 0666, &small);
    printf("root, queue %d of queues_max 2: %s\n", i + 1, q == (mqd_t)-1 ? strerrorname_np(errno) : "ok");
    if (q != (mqd_t)-1) mq_close(q);
  }
  // Another user (no capabilities): all of them bind.
  fflush(stdout);
  c = fork();
  if (c == 0) {
    if (setresgid(1000, 1000, 1000) != 0 || setresuid(1000, 1000, 1000) != 0) {
      printf("setresuid: %s\n", strerrorname_np(errno));
      _exit(1);
    }
    create("user, maxmsg 6 past msg_max 5", "/mqs-u", 6, 64);
    create("user, msgsize 9000 past msgsize_max 8192", "/mqs-u", 1, 9000);
    create("user, 3 queues of queues_max 2", "/mqs-u", 0, 0);
    create("user, 3 queues of queues_max 2, maxmsg 0", "/mqs-u", -1, 64);
    _exit(0);
  }
  waitpid(c, &st, 0);
  mq_unlink(names[2]);
  mq_unlink(names[1]);
  c = fork();
  if (c == 0) {
    if (setresgid(1000, 1000, 1000) != 0 || setresuid(1000, 1000, 1000) != 0) _exit(1);
    create("user, 1 queue of queues_max 2", "/mqs-u", 0, 0);
    create("user, 1 queue of queues_max 2, maxmsg 6 past msg_max 5", "/mqs-u", 6, 64);
    create("user, 1 queue of queues_max 2, maxmsg 0", "/mqs-u", -1, 64);
    _exit(0);
  }
  waitpid(c, &st, 0);
  mq_unlink(names[0]);
  printf("done\n");
  return 0;
}
