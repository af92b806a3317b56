/* hostinfo: what a program learns about the machine it runs on: the auxv
 * entries that describe the CPU, and the CPU count by every route libc and
 * coreutils take (sysconf, get_nprocs, the affinity mask). In the sandbox
 * these come from the HostInfo captured at boot; with the real one they
 * equal the native run's. With "mem", also sysinfo's total RAM in MiB (the
 * sandbox's memory limit, so not compared with native). */
#define _GNU_SOURCE
#include "common.h"
#include <sched.h>
#include <sys/auxv.h>
#include <sys/sysinfo.h>

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

/* The value the kernel put in the auxiliary vector. Not getauxval: glibc
 * answers AT_HWCAP and AT_HWCAP2 from its own CPU feature detection. The
 * vector follows envp on the initial stack, where environ still points. */
static unsigned long rawAux(unsigned long type) {
  char **p = environ;
  while (*p) p++;
  for (unsigned long *a = (unsigned long *)(p + 1); a[0] != AT_NULL; a += 2)
    if (a[0] == type) return a[1];
  return 0;
}

int main(int argc, char **argv) {
  const char *plat = (const char *)rawAux(AT_PLATFORM);
  printf("hwcap %#lx\n", rawAux(AT_HWCAP));
  printf("hwcap2 %#lx\n", rawAux(AT_HWCAP2));
  printf("minsigstksz %lu\n", rawAux(AT_MINSIGSTKSZ));
  printf("platform %s\n", plat ? plat : "(none)");
  printf("sysconf onln %ld conf %ld\n", sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_CONF));
  printf("get_nprocs %d conf %d\n", get_nprocs(), get_nprocs_conf());
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    printf("sched_getaffinity: %s\n", ename(errno));
    return 1;
  }
  printf("affinity %d\n", CPU_COUNT(&set));
  if (argc > 1 && strcmp(argv[1], "mem") == 0) {
    struct sysinfo si;
    if (sysinfo(&si) != 0) return 1;
    printf("totalram %llu MiB\n", (unsigned long long)si.totalram * si.mem_unit >> 20);
  }
  printf("done\n");
  return 0;
}
