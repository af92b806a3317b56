/* execerr: execve's errors for bad programs, as Linux reports them: ENOENT,
 * EACCES (no x bit, a directory), ENOEXEC (garbage, truncated ELF), ELOOP
 * (symlink loop, #! chain too deep), E2BIG, ENAMETOOLONG, and a #! script
 * whose interpreter is missing. Run with a scratch directory as argv[1]. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[4096];

static void put(const char *name, const char *content, int mode) {
  char p[8192];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, mode);
  if (fd < 0 || write(fd, content, strlen(content)) < 0) exit(2);
  close(fd);
  chmod(p, mode);
}

static void try_exec(const char *label, const char *name, char **argv) {
  char p[8192];
  if (name[0] == '/') snprintf(p, sizeof p, "%s", name);
  else snprintf(p, sizeof p, "%s/%s", dir, name);
  pid_t pid = fork();
  if (pid == 0) {
    char *dflt[] = {(char *)name, NULL};
    execve(p, argv ? argv : dflt, (char *[]){NULL});
    printf("%-28s %s\n", label, ename(errno));
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  if (WIFEXITED(st) && WEXITSTATUS(st) != 0) printf("%-28s ran, exit %d\n", label, WEXITSTATUS(st));
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  snprintf(dir, sizeof dir, "%s", argv[1]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  put("noexec", "#!/bin/sh\nexit 3\n", 0644);
  put("garbage", "this is not a program\n", 0755);
  put("trunc", "\177ELF\2\1\1", 0755);
  put("script", "#!/bin/sh\nexit 4\n", 0755);
  put("badinterp", "#!/nonexistent/interpreter\n", 0755);
  char chain[64];
  for (int i = 0; i < 8; i++) {
    char name[16], body[8200];
    snprintf(name, sizeof name, "c%d", i);
    snprintf(body, sizeof body, "#!%s/c%d\n", dir, i + 1);
    put(name, body, 0755);
  }
  put("c8", "#!/bin/sh\nexit 5\n", 0755);
  snprintf(chain, sizeof chain, "c%d", 5);
  char p1[8192], p2[8192];
  snprintf(p1, sizeof p1, "%s/loop1", dir);
  snprintf(p2, sizeof p2, "%s/loop2", dir);
  if (symlink(p2, p1) || symlink(p1, p2)) return 2;
  snprintf(p1, sizeof p1, "%s/subdir", dir);
  mkdir(p1, 0755);

  try_exec("nonexistent", "missing", NULL);
  try_exec("no execute permission", "noexec", NULL);
  try_exec("directory", "subdir", NULL);
  try_exec("garbage", "garbage", NULL);
  try_exec("truncated ELF", "trunc", NULL);
  try_exec("script", "script", NULL);
  try_exec("missing interpreter", "badinterp", NULL);
  try_exec("#! chain of 4", chain, NULL);
  try_exec("#! chain of 9", "c0", NULL);
  try_exec("symlink loop", "loop1", NULL);
  char longname[300];
  memset(longname, 'x', 299);
  longname[299] = 0;
  try_exec("name too long", longname, NULL);
  static char big[200000];
  memset(big, 'a', sizeof big - 1);
  char *bigargv[] = {"x", big, NULL};
  try_exec("argument too long", "/bin/true", bigargv);
  printf("done\n");
  return 0;
}
