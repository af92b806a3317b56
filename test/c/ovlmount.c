// ovlmount: mount(2) of type overlay (Documentation/filesystems/overlayfs.rst)
// over a tmpfs of its own, in a private mount namespace of its own (the
// host's mounts never change): merged reads, copy-up on write, chmod and
// open for writing (the lower file unchanged, the inode number kept),
// whiteouts (0/0 character devices) and opaque directories
// (trusted.overlay.opaque, or user.overlay.opaque with userxattr) in the
// upper layer, readdir merging, EXDEV for renaming a lower directory, a
// read-only lower-only mount, and the errors of bad mounts.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static void ok(const char *what, int r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: ok\n", what);
}

static void put(const char *path, const char *s) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, s, strlen(s)) < 0) printf("FAILED put %s: %s\n", path, strerror(errno));
  close(fd);
}

static void show(const char *path) {
  char b[256];
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("%s: %s\n", path, strerrorname_np(errno));
    return;
  }
  ssize_t n = read(fd, b, sizeof b - 1);
  close(fd);
  b[n < 0 ? 0 : n] = 0;
  printf("%s: %s", path, b);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/** The entries of a directory, sorted, with their types. */
static void list(const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    printf("ls %s: %s\n", path, strerrorname_np(errno));
    return;
  }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char *s;
    if (asprintf(&s, "%s(%d)", e->d_name, e->d_type) < 0) exit(1);
    names[n++] = s;
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp);
  printf("ls %s:", path);
  for (int i = 0; i < n; i++) printf(" %s", names[i]), free(names[i]);
  printf("\n");
}

static void kind(const char *path) {
  struct stat st;
  if (lstat(path, &st) < 0) {
    printf("%s: %s\n", path, strerrorname_np(errno));
    return;
  }
  const char *t = S_ISCHR(st.st_mode) ? "chr" : S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "reg" : "other";
  // A directory's size is the file system's business (tmpfs counts its entries).
  printf("%s: %s mode %o rdev %u:%u size %lld\n", path, t, st.st_mode & 07777, major(st.st_rdev), minor(st.st_rdev),
         S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
}

static void xattr(const char *path, const char *name) {
  char v[16];
  ssize_t n = getxattr(path, name, v, sizeof v);
  if (n < 0) printf("%s %s: %s\n", path, name, strerrorname_np(errno));
  else printf("%s %s: %.*s\n", path, name, (int)n, v);
}

static int ovl(const char *opts) { return mount("overlay", "m", "overlay", 0, opts); }

static void layers(void) {
  mkdir("l1", 0755), mkdir("l2", 0755), mkdir("u", 0755), mkdir("w", 0755), mkdir("m", 0755);
  mkdir("l1/d", 0755), mkdir("l2/d", 0755), mkdir("l2/e", 0755), mkdir("l2/sub", 0755), mkdir("l2/gone", 0755);
  put("l1/d/f", "top f\n");
  put("l2/d/f", "hidden f\n");
  put("l2/d/g", "lower g\n");
  put("l2/top", "lower top\n");
  put("l2/e/inside", "in e\n");
  put("l2/sub/s", "in sub\n");
  put("l1/w1", "whited\n");
  // user xattrs of lower files show through and go up with them.
  if (setxattr("l2/top", "user.color", "blue", 4, 0) < 0 || setxattr("l2/sub/s", "user.tag", "t", 1, 0) < 0)
    printf("FAILED setxattr: %s\n", strerror(errno));
}

int main(int argc, char **argv) {
  if (argc < 2 || chdir(argv[1]) < 0) return 1;
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
    printf("FAILED private mount namespace: %s\n", strerror(errno));
    return 1;
  }
  mkdir("t", 0755);
  if (mount("t", "t", "tmpfs", 0, "mode=755") < 0 || chdir("t") < 0) return 1;
  layers();

  printf("-- bad mounts\n");
  ok("no lowerdir", ovl("upperdir=u,workdir=w"));
  ok("missing lowerdir", ovl("lowerdir=nope:l1,upperdir=u,workdir=w"));
  ok("file as lowerdir", ovl("lowerdir=l2/top:l1"));
  ok("unknown option", ovl("lowerdir=l1:l2,bogus"));
  ok("no workdir", ovl("lowerdir=l1,upperdir=u"));
  ok("one lower, no upper", ovl("lowerdir=l1"));
  ok("lower is upper", ovl("lowerdir=u,upperdir=u,workdir=w"));
  ok("lower inside upper", ovl("lowerdir=l1,upperdir=.,workdir=w"));
  ok("workdir inside upper", ovl("lowerdir=l1,upperdir=l2,workdir=l2/e"));
  ok("missing workdir", ovl("lowerdir=l1,upperdir=u,workdir=w/none"));

  printf("-- merged\n");
  struct stat lower_st, before, after, mdir, mroot;
  stat("l2/top", &lower_st);
  ok("mount", ovl("lowerdir=l1:l2,upperdir=u,workdir=w"));
  kind("w/work");
  struct statfs sf;
  statfs("m", &sf);
  printf("f_type %lx\n", (unsigned long)sf.f_type);
  list("m");
  list("m/d");
  show("m/d/f");
  show("m/d/g");
  stat("m/top", &before);
  stat("m", &mroot);
  stat("m/d", &mdir);
  printf("nlink: merged root %ld, lower-only merged %ld\n", (long)mroot.st_nlink, (long)mdir.st_nlink);
  printf("dirs share st_dev: %d, file too: %d, file ino is the lower's: %d\n", mroot.st_dev == mdir.st_dev,
         mroot.st_dev == before.st_dev, before.st_ino == lower_st.st_ino);

  printf("-- copy-up\n");
  int fd = open("m/top", O_WRONLY | O_APPEND);
  if (fd < 0 || write(fd, "more\n", 5) != 5) printf("FAILED append: %s\n", strerror(errno));
  close(fd);
  stat("m/top", &after);
  printf("ino kept across copy-up: %d\n", before.st_ino == after.st_ino);
  show("m/top");
  show("u/top");
  show("l2/top");
  fd = open("m/d/g", O_RDWR);
  close(fd);
  kind("u/d/g");
  ok("chmod", chmod("m/d/f", 0600));
  kind("u/d/f");
  kind("l1/d/f");
  list("u");

  printf("-- whiteouts\n");
  ok("unlink lower file", unlink("m/w1"));
  kind("u/w1");
  kind("m/w1");
  ok("unlink lower file again", unlink("m/w1"));
  ok("unlink copied-up file", unlink("m/d/g"));
  kind("u/d/g");
  ok("rmdir lower dir", rmdir("m/gone"));
  kind("u/gone");
  ok("rmdir non-empty", rmdir("m/e"));
  ok("unlink in e", unlink("m/e/inside"));
  ok("rmdir e", rmdir("m/e"));
  ok("mkdir e again", mkdir("m/e", 0755));
  xattr("u/e", "trusted.overlay.opaque");
  list("m/e");
  ok("create in e", mknod("m/e/new", S_IFREG | 0644, 0));
  list("m/e");
  list("m");

  printf("-- rename\n");
  ok("rename lower dir", rename("m/sub", "m/sub2"));
  ok("rename merged dir", rename("m/d", "m/d2"));
  ok("rename upper dir", rename("m/e", "m/e2"));
  ok("rename lower file", rename("m/d/f", "m/moved"));
  kind("u/d/f");
  show("m/moved");
  ok("hard link", link("m/moved", "m/linked"));
  stat("m/linked", &after);
  printf("links %ld\n", (long)after.st_nlink);
  list("m");
  list("u");

  printf("-- xattrs\n");
  xattr("m/top", "user.color");
  xattr("u/top", "user.color");
  xattr("m/sub/s", "user.tag");
  ok("setxattr on a lower file", setxattr("m/sub/s", "user.new", "v", 1, 0));
  xattr("m/sub/s", "user.new");
  xattr("u/sub/s", "user.new");
  xattr("u/sub/s", "user.tag");
  xattr("l2/sub/s", "user.new");
  char names[256];
  ssize_t n = listxattr("m/e2", names, sizeof names);
  printf("listxattr m/e2: %zd\n", n);
  n = listxattr("u/e2", names, sizeof names);
  printf("listxattr u/e2: %zd %s\n", n, n > 0 ? names : "");
  xattr("m/e2", "trusted.overlay.opaque");
  // Kept escaped in the upper layer (trusted.overlay.overlay.*): the directory stays opaque.
  ok("set the overlay's own xattr", setxattr("m/e2", "trusted.overlay.opaque", "n", 1, 0));
  xattr("m/e2", "trusted.overlay.opaque");
  xattr("u/e2", "trusted.overlay.opaque");
  xattr("u/e2", "trusted.overlay.overlay.opaque");
  stat("m/e2", &mdir);
  printf("nlink: upper-only dir %ld\n", (long)mdir.st_nlink);
  stat("m/sub", &mdir);
  printf("nlink: lower-only dir %ld\n", (long)mdir.st_nlink);
  ok("umount", umount("m"));

  printf("-- after remount\n");
  ok("mount", ovl("lowerdir=l1:l2,upperdir=u,workdir=w"));
  list("m");
  list("m/d");
  list("m/e2");
  ok("umount", umount("m"));

  printf("-- read-only\n");
  ok("lower-only mount", ovl("lowerdir=u:l1:l2"));
  list("m");
  ok("create", open("m/x", O_WRONLY | O_CREAT, 0644));
  ok("write", open("m/top", O_WRONLY));
  ok("unlink", unlink("m/top"));
  ok("mkdir", mkdir("m/x", 0755));
  show("m/top");
  ok("umount", umount("m"));

  printf("-- layer count\n");
  {
    // Linux's bound: 500 lower layers.
    static char opts[4096];
    char name[16];
    int off = snprintf(opts, sizeof opts, "lowerdir=");
    for (int i = 0; i <= 500; i++) {
      snprintf(name, sizeof name, "s%d", i);
      mkdir(name, 0755);
      off += snprintf(opts + off, sizeof opts - off, "%s%s", i ? ":" : "", name);
      if (i == 499) {
        ok("500 lower layers", ovl(opts));
        umount("m");
      }
    }
    ok("501 lower layers", ovl(opts));
  }

  printf("-- userxattr\n");
  mkdir("u2", 0755), mkdir("w2", 0755);
  ok("mount", ovl("lowerdir=l2,upperdir=u2,workdir=w2,userxattr"));
  ok("rmdir sub", (unlink("m/sub/s"), rmdir("m/sub")));
  ok("mkdir sub", mkdir("m/sub", 0700));
  xattr("u2/sub", "user.overlay.opaque");
  xattr("u2/sub", "trusted.overlay.opaque");
  list("m/sub");
  ok("upper on the overlay", mount("overlay", "l1", "overlay", 0, "lowerdir=l2,upperdir=m/d,workdir=m/e"));
  ok("umount", umount("m"));
  ok("umount t", (chdir(".."), umount("t")));
  rmdir("t");
  printf("done\n");
  return 0;
}
