/* inotify on a directory changed by another process (the host, for a bind
 * mount in the sandbox): hostnotify DIR watches DIR and DIR/watched, prints
 * "ready", then prints every event that comes within 3 s of quiet (names,
 * the masks without IN_ISDIR's place in the order, cookies paired), and
 * finally (without a second argument) makes changes of its own to check
 * they are reported once. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <fcntl.h>

static const char *names(unsigned m) {
  static char b[256];
  b[0] = 0;
  const struct { unsigned bit; const char *n; } t[] = {
    {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"}, {IN_CLOSE_WRITE, "CLOSE_WRITE"}, {IN_MOVED_FROM, "MOVED_FROM"},
    {IN_MOVED_TO, "MOVED_TO"}, {IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"},
    {IN_MOVE_SELF, "MOVE_SELF"}, {IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"}, {IN_OPEN, "OPEN"}, {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"}, {IN_ACCESS, "ACCESS"}};
  for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++)
    if (m & t[i].bit) { if (b[0]) strcat(b, "|"); strcat(b, t[i].n); }
  return b;
}

static unsigned first_cookie;

static int drain(int fd, int wd_dir, int wd_file, int quiet_ms) {
  char buf[4096] __attribute__((aligned(8)));
  int n_events = 0;
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, quiet_ms);
    if (r <= 0) return n_events;
    ssize_t len = read(fd, buf, sizeof buf);
    if (len <= 0) return n_events;
    for (char *at = buf; at < buf + len;) {
      struct inotify_event *e = (struct inotify_event *)at;
      const char *w = e->wd == wd_dir ? "dir" : e->wd == wd_file ? "file" : "?";
      unsigned c = 0;
      if (e->cookie) { if (!first_cookie) first_cookie = e->cookie; c = e->cookie - first_cookie + 1; }
      printf("%s %s %s cookie#%u\n", w, names(e->mask), e->len ? e->name : "-", c);
      n_events++;
      at += sizeof *e + e->len;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  char path[PATH_MAX];
  int fd = inotify_init1(IN_CLOEXEC);
  int wd_dir = inotify_add_watch(fd, argv[1], IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_CLOSE_WRITE);
  snprintf(path, sizeof path, "%s/watched", argv[1]);
  int wd_file = inotify_add_watch(fd, path, IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
  if (wd_dir < 0 || wd_file < 0) { printf("add_watch: %s\n", strerror(errno)); return 1; }
  printf("ready\n");
  fflush(stdout);
  /* The other side's changes, then 3 s of quiet. */
  printf("host: %d events\n", drain(fd, wd_dir, wd_file, 3000));
  if (argc > 2) return 0; /* a read-only bind: no changes of our own */
  /* Our own changes: each reported once. */
  snprintf(path, sizeof path, "%s/mine", argv[1]);
  int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (write(f, "x", 1) != 1) return 1;
  close(f);
  unlink(path);
  printf("own: %d events\n", drain(fd, wd_dir, wd_file, 500));
  fflush(stdout);
  return 0;
}
