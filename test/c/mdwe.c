/* mdwe: prctl PR_SET_MDWE / PR_GET_MDWE (Linux 6.3, NO_INHERIT 6.6) and
 * PR_GET_AUXV (6.4) against native: the argument checks, set once (EPERM
 * to change), writable+executable mmap and mprotect gaining execute refused
 * (EACCES) while executable-only mappings and dropping write stay allowed,
 * inherited by fork and kept across exec without NO_INHERIT, dropped with
 * it; PR_GET_AUXV's size, short copies and the vector it holds. */
#define _GNU_SOURCE
#include "common.h"
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define SET_MDWE 65
#define GET_MDWE 66
#define GET_AUXV 0x41555856

static void res(const char *what, long r) { printf("%-44s %ld %s\n", what, r, r < 0 ? ename(errno) : ""); }

static void maps(const char *who) {
  char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void *x = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("%s: mmap rwx %s\n", who, x == MAP_FAILED ? ename(errno) : "ok");
  if (x != MAP_FAILED) munmap(x, 4096);
  printf("%s: mprotect rw->rx %s\n", who, mprotect(p, 4096, PROT_READ | PROT_EXEC) ? ename(errno) : "ok");
  munmap(p, 4096);
}

int main(int argc, char **argv) {
  if (argc > 1) {
    printf("after exec: mdwe %ld\n", (long)prctl(GET_MDWE, 0, 0, 0, 0));
    maps("after exec");
    return 0;
  }
  /* PR_GET_AUXV */
  unsigned long buf[128];
  memset(buf, 0xee, sizeof buf);
  res("GET_AUXV len 0", prctl(GET_AUXV, buf, 0, 0, 0));
  printf("%-44s %s\n", "  nothing written", buf[0] == 0xeeeeeeeeeeeeeeeeul ? "yes" : "no");
  res("GET_AUXV len 8", prctl(GET_AUXV, buf, 8, 0, 0));
  printf("%-44s %s\n", "  one word written", buf[0] != 0xeeeeeeeeeeeeeeeeul && buf[1] == 0xeeeeeeeeeeeeeeeeul ? "yes" : "no");
  res("GET_AUXV len 1024", prctl(GET_AUXV, buf, sizeof buf, 0, 0));
  int words = 0;
  while (words < 128 && buf[words] != 0xeeeeeeeeeeeeeeeeul) words++;
  printf("%-44s %d\n", "  words written", words);
  int found = 0;
  for (int i = 0; i + 1 < words; i += 2)
    if (buf[i] == AT_PAGESZ && buf[i + 1] == (unsigned long)getauxval(AT_PAGESZ)) found++;
    else if (buf[i] == AT_ENTRY && buf[i + 1] == (unsigned long)getauxval(AT_ENTRY)) found++;
  printf("%-44s %d\n", "  AT_PAGESZ and AT_ENTRY as getauxval", found);
  res("GET_AUXV arg4", prctl(GET_AUXV, buf, 8, 1, 0));
  res("GET_AUXV bad address", prctl(GET_AUXV, (void *)8, 8, 0, 0));
  /* PR_SET_MDWE checks */
  res("GET_MDWE", prctl(GET_MDWE, 0, 0, 0, 0));
  res("GET_MDWE arg2", prctl(GET_MDWE, 1, 0, 0, 0));
  res("SET_MDWE arg3", prctl(SET_MDWE, 1, 1, 0, 0));
  res("SET_MDWE unknown bit", prctl(SET_MDWE, 4, 0, 0, 0));
  res("SET_MDWE NO_INHERIT alone", prctl(SET_MDWE, 2, 0, 0, 0));
  res("SET_MDWE 0", prctl(SET_MDWE, 0, 0, 0, 0));
  maps("before");
  fflush(stdout);
  /* A child with NO_INHERIT: its own children and images are free again. */
  pid_t c = fork();
  if (c == 0) {
    res("child: SET_MDWE REFUSE|NO_INHERIT", prctl(SET_MDWE, 3, 0, 0, 0));
    res("child: GET_MDWE", prctl(GET_MDWE, 0, 0, 0, 0));
    maps("child");
    fflush(stdout);
    pid_t g = fork();
    if (g == 0) {
      printf("grandchild: mdwe %ld\n", (long)prctl(GET_MDWE, 0, 0, 0, 0));
      fflush(stdout);
      _exit(0);
    }
    waitpid(g, NULL, 0);
    execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
    _exit(1);
  }
  waitpid(c, NULL, 0);
  res("SET_MDWE REFUSE_EXEC_GAIN", prctl(SET_MDWE, 1, 0, 0, 0));
  res("GET_MDWE", prctl(GET_MDWE, 0, 0, 0, 0));
  res("SET_MDWE again, same", prctl(SET_MDWE, 1, 0, 0, 0));
  res("SET_MDWE 0 (clear)", prctl(SET_MDWE, 0, 0, 0, 0));
  res("SET_MDWE 3 (change)", prctl(SET_MDWE, 3, 0, 0, 0));
  res("SET_MDWE unknown bit, when set", prctl(SET_MDWE, 5, 0, 0, 0));
  maps("set");
  void *rx = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("%-44s %s\n", "mmap r-x", rx == MAP_FAILED ? ename(errno) : "ok");
  res("mprotect r-x -> r--", mprotect(rx, 4096, PROT_READ));
  res("mprotect r-- -> r-x (gains exec again)", mprotect(rx, 4096, PROT_READ | PROT_EXEC));
  res("mprotect r-x -> rwx", mprotect((char *)rx + 4096, 4096, PROT_READ | PROT_WRITE | PROT_EXEC));
  res("mprotect r-x -> rw-", mprotect((char *)rx + 4096, 4096, PROT_READ | PROT_WRITE));
  fflush(stdout);
  c = fork();
  if (c == 0) {
    printf("fork: mdwe %ld\n", (long)prctl(GET_MDWE, 0, 0, 0, 0));
    fflush(stdout);
    execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
    _exit(1);
  }
  waitpid(c, NULL, 0);
  printf("done\n");
  return 0;
}
