/* commname: a process's name (comm) after execve is the basename of the path
 * given, not of the file a symlink leads to; longer names are cut to 15
 * bytes; a #! script is named after the script; execveat with a directory fd
 * and fexecve take the name of the file opened. prctl(PR_GET_NAME),
 * /proc/self/comm, /proc/self/stat and /proc/self/status all agree. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void report(void) {
  char name[32] = {0}, comm[64] = {0}, stat[256] = {0}, status[256] = {0};
  prctl(PR_GET_NAME, name);
  FILE *f = fopen("/proc/self/comm", "r");
  if (f && fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = 0;
  if (f) fclose(f);
  f = fopen("/proc/self/stat", "r");
  if (f && fgets(stat, sizeof stat, f)) {
    char *a = strchr(stat, '('), *b = strrchr(stat, ')');
    if (a && b) {
      *b = 0;
      memmove(stat, a + 1, strlen(a + 1) + 1);
    }
  }
  if (f) fclose(f);
  f = fopen("/proc/self/status", "r");
  if (f && fgets(status, sizeof status, f)) status[strcspn(status, "\n")] = 0;
  if (f) fclose(f);
  printf("  prctl=%s comm=%s stat=%s status=[%s]\n", name, comm, stat, status);
}

static void run(const char *what, int dirfd, const char *path, int flags, int script) {
  printf("%s\n", what);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    char *argv[] = {"whatever", "report", NULL};
    char *sargv[] = {"whatever", NULL};
    char *envp[] = {NULL};
    syscall(SYS_execveat, dirfd, path, script ? sargv : argv, envp, flags);
    printf("  exec failed: %s\n", ename(errno));
    fflush(stdout);
    _exit(1);
  }
  int st;
  waitpid(p, &st, 0);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "report") == 0) {
    report();
    return 0;
  }
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (chdir(argv[1]) < 0) return 3;
  /* A copy under a fixed name, so that names taken from the file are the
   * same for the dynamic and the static build. */
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
  if (symlink(self, "alias") < 0 || symlink(self, "a-name-longer-than-fifteen") < 0) return 5;
  FILE *s = fopen("script.sh", "w");
  if (!s) return 6;
  fprintf(s, "#!%s report\n", self);
  fclose(s);
  chmod("script.sh", 0755);
  if (symlink("script.sh", "script-link") < 0) return 7;
  int dir = open(".", O_RDONLY | O_DIRECTORY);
  int fd = open("alias", O_RDONLY);
  int sfd = open("script.sh", O_RDONLY);
  run("symlink", AT_FDCWD, "alias", 0, 0);
  run("long symlink name", AT_FDCWD, "a-name-longer-than-fifteen", 0, 0);
  run("script", AT_FDCWD, "./script.sh", 0, 1);
  run("symlink to script", AT_FDCWD, "script-link", 0, 1);
  run("execveat dirfd relative", dir, "alias", 0, 0);
  run("execveat dirfd absolute", dir, self, 0, 0);
  run("fexecve", fd, "", AT_EMPTY_PATH, 0);
  run("fexecve script", sfd, "", AT_EMPTY_PATH, 1);
  printf("done\n");
  return 0;
}
