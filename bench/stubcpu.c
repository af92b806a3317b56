// bench/stubcpu.c: CPU time the calling thread itself uses per getpid (its
// getrusage(RUSAGE_THREAD) utime + stime over N calls through glibc's
// syscall()), printed as ns. In a systrap sandbox that is the stub thread's
// host CPU (the Sentry's work and the waits are not in it): the part of a
// call that instruction patching changes (the host's SIGSYS delivery and
// rt_sigreturn against the entry's frame), measured apart from the
// scheduler's queue on a loaded machine. Build: gcc -O2 -static; run:
// ./stubcpu [N].
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static double cpu_ns(void) {
  struct rusage r;
  getrusage(RUSAGE_THREAD, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e9 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e3;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100000;
  for (int i = 0; i < 100; i++) syscall(SYS_getpid);
  double t0 = cpu_ns();
  for (int i = 0; i < n; i++) syscall(SYS_getpid);
  printf("cpu_ns_per_call=%.0f\n", (cpu_ns() - t0) / n);
  return 0;
}
