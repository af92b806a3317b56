/* rusage: children's CPU times and peak resident size reach the parent when
 * it reaps them (wait4, waitid, RUSAGE_CHILDREN), grandchildren included only
 * if their own parent reaped them; ru_maxrss of children is the largest, not
 * the sum. Prints only comparisons with floors. */
#define _GNU_SOURCE
#include "common.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* The user time of this process: burn counts that, not its CPU time, since
 * system time (page faults, the checks themselves, a sandbox's stops) would
 * otherwise make up part of the budget and leave user time short of it. */
static double cpu_self(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
}
/* burn uses at least s seconds of CPU (user time). */
static void burn(double s) {
  double start = cpu_self();
  volatile long x = 0;
  while (cpu_self() - start < s)
    for (int i = 0; i < 100000; i++) x += i;
}
static double utime(const struct rusage *ru) { return ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6; }
/* touch maps and writes mb MiB (kept mapped: the sandbox samples the peak at
 * getrusage, exec and exit, so a peak freed in between is not seen). */
static void touch(int mb) {
  size_t n = (size_t)mb << 20;
  char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (size_t i = 0; i < n; i += 4096) p[i] = 1;
}
/* The sum is checked against 0.5 only at the end (three 0.3 s children by
 * then): the user/system split Linux reports is scaled from sampled ticks, so
 * a single 0.3 s child natively reads anywhere from 0.3 to over 0.5. */
static void children(const char *when) {
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  printf("%s: children utime>=0.25 %d maxrss>=48M %d >=96M %d\n", when, utime(&ru) >= 0.25, ru.ru_maxrss >= 48 * 1024,
         ru.ru_maxrss >= 96 * 1024);
  if (strcmp(when, "end") == 0) printf("children utime summed >=0.5 %d\n", utime(&ru) >= 0.5);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct rusage ru;
  children("start");
  getrusage(RUSAGE_SELF, &ru);
  printf("self maxrss>0 %d <48M %d\n", ru.ru_maxrss > 0, ru.ru_maxrss < 48 * 1024);
  printf("bad who: %s\n", getrusage(7, &ru) < 0 ? ename(errno) : "OK");

  /* A child that burns CPU and touches 64 MiB. */
  pid_t p = fork();
  if (p == 0) {
    touch(64);
    burn(0.3);
    _exit(0);
  }
  children("before wait");
  memset(&ru, 0x55, sizeof ru);
  int st;
  pid_t r = wait4(p, &st, 0, &ru);
  printf("wait4: %d utime>=0.25 %d maxrss>=48M %d\n", r == p, utime(&ru) >= 0.25, ru.ru_maxrss >= 48 * 1024);
  children("after wait");

  /* A bigger child: the largest child's peak counts, not the sum. */
  p = fork();
  if (p == 0) {
    touch(112);
    getrusage(RUSAGE_SELF, &ru);
    printf("child self maxrss>=96M %d\n", ru.ru_maxrss >= 96 * 1024);
    _exit(0);
  }
  waitpid(p, &st, 0);
  children("after big child");

  /* Grandchild reaped by the child: its CPU reaches us through the child. */
  p = fork();
  if (p == 0) {
    pid_t g = fork();
    if (g == 0) {
      burn(0.3);
      _exit(0);
    }
    waitpid(g, NULL, 0);
    _exit(0);
  }
  memset(&ru, 0, sizeof ru);
  wait4(p, &st, 0, &ru);
  printf("reaped grandchild in wait4 rusage: utime>=0.25 %d\n", utime(&ru) >= 0.25);

  /* Grandchild never reaped by the child: not ours. */
  int pfd[2];
  pipe(pfd);
  p = fork();
  if (p == 0) {
    pid_t g = fork();
    if (g == 0) {
      close(pfd[0]);
      burn(0.3);
      write(pfd[1], "x", 1);
      _exit(0);
    }
    _exit(0);
  }
  close(pfd[1]);
  memset(&ru, 0, sizeof ru);
  wait4(p, &st, 0, &ru);
  char c;
  read(pfd[0], &c, 1); /* the orphan finished its burn */
  printf("orphaned grandchild in wait4 rusage: utime>=0.25 %d\n", utime(&ru) >= 0.25);

  /* waitid's fifth argument. */
  p = fork();
  if (p == 0) {
    burn(0.3);
    _exit(3);
  }
  siginfo_t si;
  memset(&ru, 0, sizeof ru);
  long w = syscall(SYS_waitid, P_PID, p, &si, WEXITED, &ru);
  printf("waitid: %ld status %d utime>=0.25 %d\n", w, si.si_status, utime(&ru) >= 0.25);

  /* Nothing to report: rusage is left alone. */
  p = fork();
  if (p == 0) {
    pause();
    _exit(0);
  }
  memset(&ru, 0x55, sizeof ru);
  r = wait4(p, &st, WNOHANG, &ru);
  printf("wait4 WNOHANG: %d untouched %d\n", r, ((unsigned char *)&ru)[0] == 0x55);
  memset(&ru, 0x55, sizeof ru);
  w = syscall(SYS_waitid, P_PID, p, &si, WEXITED | WNOHANG, &ru);
  printf("waitid WNOHANG: %ld untouched %d\n", w, ((unsigned char *)&ru)[0] == 0x55);
  kill(p, SIGKILL);
  waitpid(p, NULL, 0);
  children("end");
  printf("done\n");
  return 0;
}
