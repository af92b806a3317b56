/* getcpu: a process pinned to one CPU reads that CPU from the getcpu system
 * call (LTP getcpu01). (glibc's sched_getcpu reads the vDSO, which tells
 * the host CPU the sandbox's process happens to run on: not compared.) */
#define _GNU_SOURCE
#include "common.h"
#include <sched.h>
#include <sys/syscall.h>

int main(void) {
  cpu_set_t all;
  sched_getaffinity(0, sizeof all, &all);
  int n = CPU_COUNT(&all), ok = 0;
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (!CPU_ISSET(c, &all)) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    if (sched_setaffinity(0, sizeof one, &one)) continue;
    unsigned cpu = 99, node = 99;
    syscall(SYS_getcpu, &cpu, &node, NULL);
    if ((int)cpu == c && node == 0) ok++;
    else printf("pinned to %d: getcpu %u node %u\n", c, cpu, node);
  }
  sched_setaffinity(0, sizeof all, &all);
  printf("pinned CPUs read back: %d of %d\n", ok, n);
  printf("done\n");
  return 0;
}
