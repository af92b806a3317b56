/* fileio: file system calls in the directory given as argv[1].
 *
 * Covers open/creat, read/write, lseek (holes), pread/pwrite, stat family,
 * rename, unlink, link, getdents64, mkdir/rmdir, symlink/readlink, truncate,
 * dup/dup2, fcntl, O_APPEND, the *at variants and common errors. Directory
 * listings are sorted, since entry order differs between file systems. */
#define _GNU_SOURCE
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* print_file prints a file's size and content, escaping unprintable bytes. */
static void print_file(const char *name) {
  int fd = open(name, O_RDONLY);
  if (fd < 0) {
    printf("  %s: open -1 %s\n", name, ename(errno));
    return;
  }
  char buf[8192];
  ssize_t n, total = 0;
  printf("  %s: \"", name);
  int zeros = 0;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char)buf[i];
      if (c == 0) {
        zeros++;
        continue;
      }
      if (zeros) {
        printf("<%d NULs>", zeros);
        zeros = 0;
      }
      if (c == '\n')
        printf("\\n");
      else if (c >= 32 && c < 127)
        putchar(c);
      else
        printf("\\x%02x", c);
    }
    total += n;
  }
  if (zeros) printf("<%d NULs>", zeros);
  printf("\" (%zd bytes)\n", total);
  close(fd);
}

static const char *ftype(mode_t m) {
  if (S_ISREG(m)) return "reg";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "lnk";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISCHR(m)) return "chr";
  return "other";
}

/* print_stat prints the parts of a stat that do not depend on the file
 * system type: directory sizes and link counts differ between ext4, tmpfs and
 * overlays, so they are left out for directories. */
static void print_stat(const char *label, const struct stat *st) {
  if (S_ISDIR(st->st_mode)) {
    printf("%s: type=dir mode=%04o\n", label, (unsigned)(st->st_mode & 07777));
    return;
  }
  printf("%s: type=%s mode=%04o size=%lld nlink=%lu\n", label,
         ftype(st->st_mode), (unsigned)(st->st_mode & 07777),
         (long long)st->st_size, (unsigned long)st->st_nlink);
}

static void stat_path(const char *name) {
  struct stat st;
  char label[256];
  snprintf(label, sizeof label, "stat %s", name);
  if (stat(name, &st) < 0)
    printf("%s = -1 %s\n", label, ename(errno));
  else
    print_stat(label, &st);
  snprintf(label, sizeof label, "lstat %s", name);
  if (lstat(name, &st) < 0)
    printf("%s = -1 %s\n", label, ename(errno));
  else
    print_stat(label, &st);
}

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static int cmpstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *dtype(unsigned char t) {
  switch (t) {
  case DT_REG: return "reg";
  case DT_DIR: return "dir";
  case DT_LNK: return "lnk";
  case DT_UNKNOWN: return "unknown";
  default: return "other";
  }
}

/* list_getdents lists a directory with raw getdents64 in a small buffer (to
 * force several calls), sorted by name. */
static void list_getdents(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) DIE("open dir");
  char buf[128];
  char *names[256];
  int count = 0, calls = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n < 0) DIE("getdents64");
    calls++;
    if (n == 0) break;
    for (long off = 0; off < n;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
      char *e = malloc(strlen(d->d_name) + 16);
      sprintf(e, "%s:%s", d->d_name, dtype(d->d_type));
      if (count < 256) names[count++] = e;
      off += d->d_reclen;
    }
  }
  qsort(names, count, sizeof names[0], cmpstr);
  /* a 128-byte buffer cannot hold 10 entries: the listing needs several calls */
  printf("getdents64 %s: %d entries%s\n", path, count,
         count <= 10 ? "" : calls > 2 ? ", several calls" : ", ONE CALL");
  for (int i = 0; i < count; i++) {
    printf("  %s\n", names[i]);
    free(names[i]);
  }
  close(fd);
}

static void list_readdir(const char *path) {
  DIR *d = opendir(path);
  if (!d) DIE("opendir");
  char *names[256];
  int count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (count < 256) names[count++] = strdup(e->d_name);
  closedir(d);
  qsort(names, count, sizeof names[0], cmpstr);
  printf("readdir %s:", path);
  for (int i = 0; i < count; i++) {
    printf(" %s", names[i]);
    free(names[i]);
  }
  printf("\n");
}

static void write_file(const char *name, const char *content) {
  int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) DIE("open for write_file");
  size_t len = strlen(content);
  if (write(fd, content, len) != (ssize_t)len) DIE("write_file");
  close(fd);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) {
    fprintf(stderr, "usage: fileio DIR\n");
    return 2;
  }
  umask(022);
  if (chdir(argv[1]) < 0) DIE("chdir");
  SHOW("mkdir w", mkdir("w", 0755));
  SHOW("chdir w", chdir("w"));
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) DIE("getcwd");
  size_t cl = strlen(cwd);
  printf("getcwd ends with /w: %s\n",
         cl >= 2 && strcmp(cwd + cl - 2, "/w") == 0 ? "yes" : "no");

  printf("--- create, write, lseek, holes\n");
  int fd = open("a.txt", O_CREAT | O_WRONLY | O_EXCL, 0644);
  printf("open a.txt O_CREAT|O_EXCL fd=%d\n", fd);
  SHOW("open a.txt O_CREAT|O_EXCL again", open("a.txt", O_CREAT | O_WRONLY | O_EXCL, 0644));
  SHOW("write", write(fd, "hello world\n", 12));
  SHOW("lseek CUR", lseek(fd, 0, SEEK_CUR));
  SHOW("lseek SET 6", lseek(fd, 6, SEEK_SET));
  SHOW("write WORLD", write(fd, "WORLD", 5));
  SHOW("lseek END -1", lseek(fd, -1, SEEK_END));
  SHOW("lseek SET -1", lseek(fd, -1, SEEK_SET));
  SHOW("lseek whence 42", lseek(fd, 0, 42));
  SHOW("lseek SET 100", lseek(fd, 100, SEEK_SET));
  SHOW("write X at 100", write(fd, "X", 1));
  SHOW("read on O_WRONLY", read(fd, cwd, 1));
  struct stat st;
  if (fstat(fd, &st) < 0) DIE("fstat");
  print_stat("fstat a.txt", &st);
  SHOW("close", close(fd));
  SHOW("close again", close(fd));
  print_file("a.txt");

  printf("--- pread, pwrite\n");
  fd = open("a.txt", O_RDWR);
  char buf[256];
  memset(buf, 0, sizeof buf);
  SHOW("pread 5 at 6", pread(fd, buf, 5, 6));
  printf("  got \"%s\"\n", buf);
  SHOW("offset after pread", lseek(fd, 0, SEEK_CUR));
  SHOW("pwrite HELLO at 0", pwrite(fd, "HELLO", 5, 0));
  SHOW("offset after pwrite", lseek(fd, 0, SEEK_CUR));
  memset(buf, 0, sizeof buf);
  SHOW("read 12", read(fd, buf, 12));
  printf("  got \"%.11s\"\n", buf);
  SHOW("pread at 1000 (EOF)", pread(fd, buf, 10, 1000));
  SHOW("pread at -1", pread(fd, buf, 10, -1));
  close(fd);

  printf("--- stat, rename, link, unlink\n");
  stat_path("a.txt");
  stat_path(".");
  stat_path("missing");
  SHOW("rename a.txt b.txt", rename("a.txt", "b.txt"));
  stat_path("a.txt");
  write_file("c.txt", "c content\n");
  SHOW("rename c.txt over b.txt", rename("c.txt", "b.txt"));
  print_file("b.txt");
  SHOW("rename missing x", rename("missing", "x"));
  SHOW("link b.txt hard.txt", link("b.txt", "hard.txt"));
  stat_path("b.txt");
  SHOW("link b.txt hard.txt again", link("b.txt", "hard.txt"));
  SHOW("unlink b.txt", unlink("b.txt"));
  SHOW("unlink b.txt again", unlink("b.txt"));
  stat_path("hard.txt");
  print_file("hard.txt");
  SHOW("chmod hard.txt 0600", chmod("hard.txt", 0600));
  stat_path("hard.txt");
  SHOW("access hard.txt F_OK", access("hard.txt", F_OK));
  SHOW("access nope F_OK", access("nope", F_OK));

  printf("--- directories\n");
  SHOW("mkdir d", mkdir("d", 0755));
  SHOW("mkdir d again", mkdir("d", 0755));
  SHOW("mkdir d/sub", mkdir("d/sub", 0700));
  SHOW("mkdir x/y (no parent)", mkdir("x/y", 0755));
  write_file("d/f1", "one\n");
  write_file("d/f2", "two\n");
  for (int i = 0; i < 20; i++) {
    char name[64];
    snprintf(name, sizeof name, "d/many-file-with-a-long-name-%02d", i);
    write_file(name, "x");
  }
  SHOW("symlink f1 d/lnk", symlink("f1", "d/lnk"));
  list_getdents("d");
  list_readdir("d/sub");
  stat_path("d/sub");
  SHOW("rmdir d (not empty)", rmdir("d"));
  SHOW("unlink d (a dir)", unlink("d"));
  SHOW("rmdir d/f1 (a file)", rmdir("d/f1"));
  SHOW("rename d into d/sub/x", rename("d", "d/sub/x"));
  SHOW("rename d/sub d/sub2", rename("d/sub", "d/sub2"));
  SHOW("rename d/f1 over dir d/sub2", rename("d/f1", "d/sub2"));
  SHOW("open d O_WRONLY", open("d", O_WRONLY));
  SHOW("open d/f1/x (ENOTDIR)", open("d/f1/x", O_RDONLY));
  SHOW("open missing", open("missing", O_RDONLY));
  SHOW("open empty path", open("", O_RDONLY));
  for (int i = 0; i < 20; i++) {
    char name[64];
    snprintf(name, sizeof name, "d/many-file-with-a-long-name-%02d", i);
    if (unlink(name) < 0) DIE("unlink many");
  }
  SHOW("unlink d/f1", unlink("d/f1"));
  SHOW("unlink d/f2", unlink("d/f2"));
  SHOW("unlink d/lnk", unlink("d/lnk"));
  SHOW("rmdir d/sub2", rmdir("d/sub2"));
  list_getdents("d");
  SHOW("rmdir d", rmdir("d"));
  SHOW("rmdir d again", rmdir("d"));

  printf("--- symlinks\n");
  SHOW("symlink target.txt link", symlink("target.txt", "link"));
  SHOW("symlink again", symlink("target.txt", "link"));
  memset(buf, 0, sizeof buf);
  SHOW("readlink link", readlink("link", buf, sizeof buf));
  printf("  target \"%s\"\n", buf);
  SHOW("readlink link (3 bytes)", readlink("link", buf, 3));
  SHOW("readlink hard.txt (not a link)", readlink("hard.txt", buf, sizeof buf));
  SHOW("open dangling link", open("link", O_RDONLY));
  stat_path("link");
  write_file("target.txt", "through the link\n");
  print_file("link");
  stat_path("link");
  SHOW("open link O_NOFOLLOW", open("link", O_RDONLY | O_NOFOLLOW));
  SHOW("symlink loop1 -> loop2", symlink("loop2", "loop1"));
  SHOW("symlink loop2 -> loop1", symlink("loop1", "loop2"));
  SHOW("open loop1", open("loop1", O_RDONLY));
  SHOW("mkdir real", mkdir("real", 0755));
  SHOW("symlink real dirlink", symlink("real", "dirlink"));
  write_file("dirlink/inside", "via dir link\n");
  print_file("real/inside");
  SHOW("symlink ../w/real/inside up", symlink("../w/real/inside", "up"));
  print_file("up");

  printf("--- truncate\n");
  write_file("t.txt", "0123456789abcdefghij");
  SHOW("truncate t.txt 10", truncate("t.txt", 10));
  print_file("t.txt");
  fd = open("t.txt", O_RDWR);
  SHOW("ftruncate 16", ftruncate(fd, 16));
  if (fstat(fd, &st) < 0) DIE("fstat");
  print_stat("fstat t.txt", &st);
  SHOW("ftruncate -1", ftruncate(fd, -1));
  close(fd);
  print_file("t.txt");
  SHOW("truncate missing", truncate("missing", 0));
  fd = open("t.txt", O_RDWR | O_TRUNC);
  if (fstat(fd, &st) < 0) DIE("fstat");
  print_stat("after O_TRUNC", &st);
  close(fd);

  printf("--- dup, dup2, fcntl\n");
  fd = open("dup.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
  printf("open dup.txt fd=%d\n", fd);
  SHOW("dup", dup(fd));
  SHOW("dup2 fd 10", dup2(fd, 10));
  SHOW("dup2 fd fd", dup2(fd, fd));
  SHOW("dup2 bad 11", dup2(77, 11));
  SHOW("write via 10", write(10, "abc", 3));
  SHOW("offset via fd (shared)", lseek(fd, 0, SEEK_CUR));
  SHOW("close 10", close(10));
  SHOW("write via closed 10", write(10, "x", 1));
  SHOW("F_GETFD", fcntl(fd, F_GETFD));
  SHOW("F_SETFD CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC));
  SHOW("F_GETFD", fcntl(fd, F_GETFD));
  SHOW("F_GETFL & ACCMODE == O_RDWR", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
  SHOW("F_GETFL has O_APPEND", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
  SHOW("F_SETFL O_APPEND", fcntl(fd, F_SETFL, O_APPEND | O_RDWR));
  SHOW("F_GETFL has O_APPEND", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
  SHOW("F_DUPFD 20", fcntl(fd, F_DUPFD, 20));
  SHOW("F_DUPFD 20 again", fcntl(fd, F_DUPFD, 20));
  SHOW("F_DUPFD_CLOEXEC 30", fcntl(fd, F_DUPFD_CLOEXEC, 30));
  SHOW("F_GETFD on 30", fcntl(30, F_GETFD));
  SHOW("F_GETFD on 21", fcntl(21, F_GETFD));
  SHOW("F_GETFD on bad fd", fcntl(99, F_GETFD));
  SHOW("lseek SET 0", lseek(fd, 0, SEEK_SET));
  SHOW("write (append) def", write(fd, "def", 3));
  SHOW("offset after append", lseek(fd, 0, SEEK_CUR));
  close(fd);
  close(20);
  close(21);
  close(30);
  print_file("dup.txt");

  int saved = dup(1);
  fd = open("stdout.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  fflush(stdout);
  dup2(fd, 1);
  printf("this line went to stdout.txt\n");
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  close(fd);
  print_file("stdout.txt");

  printf("--- O_APPEND\n");
  write_file("app.txt", "start\n");
  fd = open("app.txt", O_WRONLY | O_APPEND);
  SHOW("lseek SET 0", lseek(fd, 0, SEEK_SET));
  SHOW("write line1", write(fd, "line1\n", 6));
  SHOW("offset", lseek(fd, 0, SEEK_CUR));
  SHOW("pwrite at 0 (appends on Linux)", pwrite(fd, "line2\n", 6, 0));
  close(fd);
  int fa = open("app.txt", O_WRONLY | O_APPEND);
  int fb = open("app.txt", O_WRONLY | O_APPEND);
  SHOW("write via a", write(fa, "A\n", 2));
  SHOW("write via b", write(fb, "B\n", 2));
  SHOW("write via a", write(fa, "A\n", 2));
  close(fa);
  close(fb);
  print_file("app.txt");

  printf("--- *at variants\n");
  SHOW("mkdir at", mkdir("at", 0755));
  int dfd = open("at", O_RDONLY | O_DIRECTORY);
  printf("open at O_DIRECTORY fd=%d\n", dfd);
  SHOW("open hard.txt O_DIRECTORY", open("hard.txt", O_RDONLY | O_DIRECTORY));
  fd = openat(dfd, "inner", O_WRONLY | O_CREAT, 0640);
  SHOW("write inner", write(fd, "inner\n", 6));
  close(fd);
  SHOW("mkdirat sub", mkdirat(dfd, "sub", 0755));
  SHOW("renameat inner -> sub/moved", renameat(dfd, "inner", dfd, "sub/moved"));
  print_file("at/sub/moved");
  SHOW("symlinkat", symlinkat("sub/moved", dfd, "sl"));
  if (fstatat(dfd, "sl", &st, AT_SYMLINK_NOFOLLOW) < 0) DIE("fstatat");
  print_stat("fstatat sl NOFOLLOW", &st);
  if (fstatat(dfd, "sl", &st, 0) < 0) DIE("fstatat");
  print_stat("fstatat sl", &st);
  SHOW("unlinkat sub REMOVEDIR (not empty)", unlinkat(dfd, "sub", AT_REMOVEDIR));
  SHOW("unlinkat sub/moved", unlinkat(dfd, "sub/moved", 0));
  SHOW("unlinkat sub REMOVEDIR", unlinkat(dfd, "sub", AT_REMOVEDIR));
  SHOW("unlinkat sl", unlinkat(dfd, "sl", 0));
  SHOW("fchdir at", fchdir(dfd));
  SHOW("access ../hard.txt", access("../hard.txt", R_OK));
  SHOW("chdir ..", chdir(".."));
  close(dfd);
  SHOW("rmdir at", rmdir("at"));

  printf("--- big file\n");
  fd = open("big.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
  static unsigned char big[1 << 20];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i * 7 + (i >> 11));
  SHOW("write 1 MiB", write(fd, big, sizeof big));
  SHOW("lseek 0", lseek(fd, 0, SEEK_SET));
  static unsigned char back[1 << 20];
  size_t got = 0;
  ssize_t n;
  while ((n = read(fd, back + got, 65536)) > 0) got += (size_t)n;
  printf("read back %zu bytes, equal: %s\n", got,
         got == sizeof big && memcmp(big, back, got) == 0 ? "yes" : "no");
  close(fd);
  SHOW("unlink big.bin", unlink("big.bin"));

  list_readdir(".");
  printf("done\n");
  return 0;
}
