/* execat: execveat(2)'s own rules. AT_SYMLINK_NOFOLLOW on a symlink is
 * ELOOP; AT_EMPTY_PATH runs the file an fd holds; a #! script reached
 * through a close-on-exec fd is ENOENT (the interpreter could not open
 * /dev/fd/N after exec), through an inheritable one the interpreter gets
 * /dev/fd/N (or /dev/fd/N/name) as the script's path; AT_EXECFN is that
 * name too; and the errors of bad flags, fds and paths. Run with a scratch
 * directory as argv[1]. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void run(const char *what, int dirfd, const char *path, int flags) {
  printf("%-34s", what);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    char *argv[] = {"whatever", "report", NULL};
    syscall(SYS_execveat, dirfd, path, argv, (char *[]){NULL}, flags);
    printf("exec failed: %s\n", ename(errno));
    fflush(stdout);
    _exit(1);
  }
  int st;
  waitpid(p, &st, 0);
}

/* Names that hold a descriptor number are printed with it replaced by N. */
static void show(const char *label, const char *s) {
  const char *d = strstr(s, "/dev/fd/");
  if (!d) {
    printf(" %s=%s", label, s);
    return;
  }
  const char *q = d + 8;
  while (*q >= '0' && *q <= '9') q++;
  printf(" %s=%.*s/dev/fd/N%s", label, (int)(d - s), s, q);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "report") == 0) {
    char name[32] = {0};
    prctl(PR_GET_NAME, name);
    printf("ran: comm=%s argc=%d", name, argc);
    if (argc > 2) show("script", argv[2]);
    show("execfn", (const char *)getauxval(AT_EXECFN));
    printf("\n");
    return 0;
  }
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (chdir(argv[1]) < 0) return 3;
  char self[4096];
  if (!getcwd(self, sizeof self - 8)) return 4;
  strcat(self, "/prog");
  int in = open("/proc/self/exe", O_RDONLY), out = open("prog", O_WRONLY | O_CREAT | O_TRUNC, 0755);
  if (in < 0 || out < 0) return 4;
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, n) != n) return 4;
  close(in);
  close(out);
  if (symlink("prog", "alias") < 0) return 5;
  FILE *s = fopen("script.sh", "w");
  if (!s) return 6;
  fprintf(s, "#!%s report\n", self);
  fclose(s);
  chmod("script.sh", 0755);
  if (symlink("script.sh", "slink") < 0) return 7;
  int dir = open(".", O_RDONLY | O_DIRECTORY);
  int cdir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fd = open("prog", O_RDONLY);
  int cfd = open("prog", O_RDONLY | O_CLOEXEC);
  int sfd = open("script.sh", O_RDONLY);
  int csfd = open("script.sh", O_RDONLY | O_CLOEXEC);
  int pfd = open("prog", O_PATH | O_CLOEXEC);
  int lfd = open("alias", O_PATH | O_NOFOLLOW);

  run("plain", AT_FDCWD, "prog", 0);
  run("nofollow on a file", AT_FDCWD, "prog", AT_SYMLINK_NOFOLLOW);
  run("nofollow on a symlink", AT_FDCWD, "alias", AT_SYMLINK_NOFOLLOW);
  run("nofollow on a symlink, dirfd", dir, "alias", AT_SYMLINK_NOFOLLOW);
  run("nofollow, symlink to script", AT_FDCWD, "slink", AT_SYMLINK_NOFOLLOW);
  run("symlink to script", AT_FDCWD, "slink", 0);
  run("empty path fd", fd, "", AT_EMPTY_PATH);
  run("empty path cloexec fd", cfd, "", AT_EMPTY_PATH);
  run("empty path O_PATH fd", pfd, "", AT_EMPTY_PATH);
  run("empty path O_PATH symlink", lfd, "", AT_EMPTY_PATH);
  run("empty path script fd", sfd, "", AT_EMPTY_PATH);
  run("empty path cloexec script fd", csfd, "", AT_EMPTY_PATH);
  run("dirfd script", dir, "script.sh", 0);
  run("cloexec dirfd script", cdir, "script.sh", 0);
  run("cloexec dirfd elf", cdir, "prog", 0);
  run("cloexec dirfd absolute script", cdir, self[0] ? "/proc/self/cwd/script.sh" : "", 0);
  run("empty path, no AT_EMPTY_PATH", fd, "", 0);
  run("empty path directory fd", dir, "", AT_EMPTY_PATH);
  run("bad flags", AT_FDCWD, "prog", 0x4);
  run("bad fd", 1000, "prog", 0);
  run("file fd with a relative path", fd, "prog", 0);
  run("nofollow, dangling", AT_FDCWD, "missing", AT_SYMLINK_NOFOLLOW);
  printf("done\n");
  return 0;
}
