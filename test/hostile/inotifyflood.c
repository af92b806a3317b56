// A hostile inotify user: makes instances and watches in loops and floods
// watched files with events. Each must meet a limit (EMFILE past
// max_user_instances, ENOSPC past max_user_watches, IN_Q_OVERFLOW for a
// full queue or a full kernel memory budget), never grow the Sentry.
// Usage: inotifyflood DIR
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define FLOOD_INSTANCES 100

static char dir[4096];

static const char *en(int e) {
  return e == EMFILE ? "EMFILE" : e == ENOSPC ? "ENOSPC" : e == ENOMEM ? "ENOMEM" : strerror(e);
}

static int readLimit(const char *name) {
  char p[128];
  snprintf(p, sizeof p, "/proc/sys/fs/inotify/%s", name);
  FILE *f = fopen(p, "r");
  int v = -1;
  if (f) {
    if (fscanf(f, "%d", &v) != 1) v = -1;
    fclose(f);
  }
  return v;
}

// Read everything queued on fd: the events, whether IN_Q_OVERFLOW came.
static long drain(int fd, int *overflow) {
  static char buf[1 << 16] __attribute__((aligned(8)));
  long n = 0;
  *overflow = 0;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r <= 0) break;
    for (char *p = buf; p < buf + r;) {
      struct inotify_event *e = (struct inotify_event *)p;
      if (e->mask & IN_Q_OVERFLOW) *overflow = 1;
      else n++;
      p += sizeof *e + e->len;
    }
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);
  struct rlimit rl = {4096, 4096};
  setrlimit(RLIMIT_NOFILE, &rl);
  int maxInst = readLimit("max_user_instances"), maxWatch = readLimit("max_user_watches"), maxQ = readLimit("max_queued_events");
  printf("limits: instances %d watches %d queued %d\n", maxInst, maxWatch, maxQ);

  // Instances in a loop.
  static int fds[4096];
  int n = 0;
  for (; n < 4096; n++) {
    fds[n] = inotify_init1(IN_NONBLOCK);
    if (fds[n] < 0) break;
  }
  printf("instances: %d, then %s\n", n, en(errno));
  for (int i = 0; i < n; i++) close(fds[i]);
  int again = inotify_init1(0);
  printf("after closing them: %s\n", again >= 0 ? "init ok" : en(errno));
  close(again);

  // Watches in a loop: 64 instances over 129 files.
  snprintf(dir, sizeof dir, "%s/w", argv[1]);
  mkdir(dir, 0755);
  char p[4200];
  for (int i = 0; i < 129; i++) {
    snprintf(p, sizeof p, "%s/f%d", dir, i);
    close(open(p, O_CREAT | O_WRONLY, 0644));
  }
  long watches = 0;
  int err = 0;
  for (int k = 0; k < 64 && !err; k++) {
    fds[k] = inotify_init1(IN_NONBLOCK);
    for (int i = 0; i < 129; i++) {
      snprintf(p, sizeof p, "%s/f%d", dir, i);
      if (inotify_add_watch(fds[k], p, IN_ALL_EVENTS) < 0) {
        err = errno;
        break;
      }
      watches++;
    }
  }
  printf("watches: %ld, then %s\n", watches, en(err));
  // The same file again changes a watch, adds none.
  snprintf(p, sizeof p, "%s/f0", dir);
  int same = 0;
  for (int i = 0; i < 100000; i++) same += inotify_add_watch(fds[0], p, IN_ALL_EVENTS) == 1;
  printf("re-adding a watched file 100000 times: %d gave wd 1\n", same);
  for (int k = 0; k < 64; k++) close(fds[k]);
  int fd = inotify_init1(IN_NONBLOCK);
  printf("after closing them: %s\n", inotify_add_watch(fd, p, IN_OPEN) >= 0 ? "watch ok" : en(errno));

  // Add and remove in a loop: every removal queues IN_IGNORED; the queue stops at its limit.
  long okPairs = 0;
  snprintf(p, sizeof p, "%s/f1", dir);
  for (int i = 0; i < 100000; i++) {
    int w = inotify_add_watch(fd, p, IN_OPEN | IN_MASK_CREATE);
    if (w >= 0 && inotify_rm_watch(fd, w) == 0) okPairs++;
  }
  int ov;
  long got = drain(fd, &ov);
  printf("add+rm 100000 times: %ld worked, %ld events read (max %d), overflow %d\n", okPairs, got, maxQ, ov);
  close(fd);

  // Flood: instances watching one directory while a long name is renamed back and forth.
  char name[256], a[4400], b[4400];
  memset(name, 'x', 250);
  name[250] = 0;
  snprintf(a, sizeof a, "%s/%sa", dir, name);
  snprintf(b, sizeof b, "%s/%sb", dir, name);
  close(open(a, O_CREAT | O_WRONLY, 0644));
  for (int k = 0; k < FLOOD_INSTANCES; k++) {
    fds[k] = inotify_init1(IN_NONBLOCK);
    if (fds[k] < 0 || inotify_add_watch(fds[k], dir, IN_MOVED_FROM | IN_MOVED_TO) < 0) {
      printf("flood set-up: %s\n", en(errno));
      return 1;
    }
  }
  int renames = maxQ / 2 + 100;
  for (int i = 0; i < renames; i++) {
    if (rename(i & 1 ? b : a, i & 1 ? a : b) < 0) {
      printf("rename %d: %s\n", i, en(errno));
      return 1;
    }
  }
  int overflowed = 0;
  long most = 0;
  for (int k = 0; k < FLOOD_INSTANCES; k++) {
    long c = drain(fds[k], &ov);
    overflowed += ov;
    if (c > most) most = c;
  }
  printf("flood: %d renames, %d of %d queues overflowed\n", renames, overflowed, FLOOD_INSTANCES);
  printf("flood: most events in one queue: %ld (%s)\n", most, most < maxQ ? "below max_queued_events" : "max_queued_events");
  // Drained queues take events again.
  rename(renames & 1 ? b : a, renames & 1 ? a : b);
  long after = 0;
  for (int k = 0; k < FLOOD_INSTANCES; k++) after += drain(fds[k], &ov);
  printf("after draining: %ld events\n", after);
  for (int k = 0; k < FLOOD_INSTANCES; k++) close(fds[k]);

  // Random calls: masks, paths, watch descriptors, read sizes and buffers, with changes in between.
  srand(1);
  const char *paths[] = {"/", "/proc/self/status", "/dev/null", dir, a, "/proc/self/fd/0", "/nonexistent", "", "/proc", "/tmp"};
  int ifd[4];
  for (int k = 0; k < 4; k++) ifd[k] = inotify_init1(k & 1 ? IN_NONBLOCK : IN_NONBLOCK | IN_CLOEXEC);
  static char rbuf[512] __attribute__((aligned(8)));
  long calls = 0;
  for (int i = 0; i < 20000; i++, calls++) {
    int k = rand() % 4;
    unsigned mask = (unsigned)rand() ^ ((unsigned)rand() << 16);
    char f[4200];
    snprintf(f, sizeof f, "%s/r%d", dir, rand() % 8);
    switch (rand() % 10) {
    case 0: inotify_add_watch(ifd[k], paths[rand() % 10], mask); break;
    case 1: inotify_add_watch(ifd[k], f, mask & ~IN_MASK_CREATE); break;
    case 2: inotify_rm_watch(ifd[k], rand() % 40 - 2); break;
    case 3: {
      void *buf = rand() % 8 ? (void *)rbuf : rand() % 2 ? NULL : (void *)1;
      syscall(0, ifd[k], buf, (long)(rand() % 520));
      break;
    }
    case 4: close(open(f, O_CREAT | O_RDWR, 0644)); break;
    case 5: unlink(f); break;
    case 6: {
      char g[4200];
      snprintf(g, sizeof g, "%s/r%d", dir, rand() % 8);
      rename(f, g);
      break;
    }
    case 7: mkdir(f, 0755); rmdir(f); break;
    case 8: {
      int o = dup(ifd[k]);
      close(ifd[k]);
      ifd[k] = o >= 0 ? o : inotify_init1(IN_NONBLOCK);
      break;
    }
    case 9: chmod(f, 0600 | (rand() & 066)); break;
    }
  }
  for (int k = 0; k < 4; k++) close(ifd[k]);
  printf("random: %ld calls\n", calls);
  printf("alive\n");
  return 0;
}
