/* numa: set_mempolicy/get_mempolicy/mbind on a machine with one NUMA node
 * (run natively on a one-node host): every mode accepted for node 0, EINVAL
 * for other nodes, the mode and mask read back, mbind per range. */
#define _GNU_SOURCE
#include "common.h"
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define MPOL_DEFAULT 0
#define MPOL_PREFERRED 1
#define MPOL_BIND 2
#define MPOL_INTERLEAVE 3
#define MPOL_LOCAL 4
#define MPOL_PREFERRED_MANY 5
#define MPOL_F_STATIC_NODES (1 << 15)
#define MPOL_F_RELATIVE_NODES (1 << 14)
#define MPOL_F_NUMA_BALANCING (1 << 13)
#define MPOL_F_NODE 1
#define MPOL_F_ADDR 2
#define MPOL_F_MEMS_ALLOWED 4

static long setp(int mode, unsigned long *mask, unsigned long maxnode) { return syscall(SYS_set_mempolicy, mode, mask, maxnode); }
static long getp(int *mode, unsigned long *mask, unsigned long maxnode, void *addr, unsigned long flags) {
  return syscall(SYS_get_mempolicy, mode, mask, maxnode, addr, flags);
}
static long mb(void *a, unsigned long len, int mode, unsigned long *mask, unsigned long maxnode, unsigned flags) {
  return syscall(SYS_mbind, a, len, mode, mask, maxnode, flags);
}

static void res(const char *what, long r) {
  if (r < 0) printf("%s: -1 %s\n", what, ename(errno));
  else printf("%s: %ld\n", what, r);
}

static void show(const char *what, void *addr, unsigned long flags) {
  int mode = -7;
  unsigned long mask[2] = {0xdead, 0xbeef};
  long r = getp(&mode, mask, 129, addr, flags);
  if (r < 0) printf("  %s: get %s\n", what, ename(errno));
  else printf("  %s: mode 0x%x mask %lx %lx\n", what, mode, mask[0], mask[1]);
}

static void set(const char *what, int mode, unsigned long m0, unsigned long maxnode) {
  unsigned long mask[2] = {m0, 0};
  res(what, setp(mode, mask, maxnode));
  show("now", NULL, 0);
}

int main(void) {
  show("start", NULL, 0);
  show("mems allowed", NULL, MPOL_F_MEMS_ALLOWED);
  set("BIND 0", MPOL_BIND, 1, 64);
  set("BIND 0,1", MPOL_BIND, 3, 64);
  set("BIND 1", MPOL_BIND, 2, 64);
  set("BIND 0 maxnode 1 (empty)", MPOL_BIND, 1, 1);
  set("BIND 0 maxnode 2", MPOL_BIND, 1, 2);
  set("INTERLEAVE 0", MPOL_INTERLEAVE, 1, 64);
  show("interleave next node", NULL, MPOL_F_NODE);
  set("PREFERRED 0", MPOL_PREFERRED, 1, 64);
  show("F_NODE not interleave", NULL, MPOL_F_NODE);
  set("PREFERRED empty", MPOL_PREFERRED, 0, 64);
  set("PREFERRED empty static", MPOL_PREFERRED | MPOL_F_STATIC_NODES, 0, 64);
  set("PREFERRED_MANY 0", MPOL_PREFERRED_MANY, 1, 64);
  set("LOCAL", MPOL_LOCAL, 0, 64);
  set("LOCAL with node", MPOL_LOCAL, 1, 64);
  set("BIND static 0,1", MPOL_BIND | MPOL_F_STATIC_NODES, 3, 64);
  set("BIND static 1", MPOL_BIND | MPOL_F_STATIC_NODES, 2, 64);
  set("BIND relative 1", MPOL_BIND | MPOL_F_RELATIVE_NODES, 2, 64);
  set("static and relative", MPOL_BIND | MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES, 1, 64);
  set("BIND numa balancing", MPOL_BIND | MPOL_F_NUMA_BALANCING, 1, 64);
  set("INTERLEAVE numa balancing", MPOL_INTERLEAVE | MPOL_F_NUMA_BALANCING, 1, 64);
  set("BIND empty", MPOL_BIND, 0, 64);
  set("mode 7", 7, 1, 64);
  set("mode -1", -1, 1, 64);
  set("DEFAULT with node", MPOL_DEFAULT, 1, 64);
  res("maxnode 0 with mask", setp(MPOL_BIND, (unsigned long[]){1}, 0));
  res("maxnode huge", setp(MPOL_BIND, (unsigned long[]){1}, 40000));
  res("bad mask pointer", setp(MPOL_BIND, (unsigned long *)8, 64));
  set("DEFAULT", MPOL_DEFAULT, 0, 64);

  int mode;
  unsigned long mask[2];
  res("get maxnode 0 with mask", getp(&mode, mask, 0, NULL, 0));
  res("get maxnode 1", getp(&mode, mask, 1, NULL, 0));
  res("get huge maxnode", getp(&mode, mask, 1 << 20, NULL, 0));
  res("get bad flags", getp(&mode, NULL, 0, NULL, 8));
  res("get addr without F_ADDR", getp(&mode, NULL, 0, (void *)4096, 0));
  res("get mems allowed with F_NODE", getp(&mode, NULL, 0, NULL, MPOL_F_MEMS_ALLOWED | MPOL_F_NODE));
  res("get bad mode pointer", getp((int *)8, NULL, 0, NULL, 0));

  char *m = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned long one = 1, two = 2;
  res("mbind BIND 0 on pages 2-3", mb(m + 2 * 4096, 2 * 4096, MPOL_BIND, &one, 64, 0));
  show("page 0", m, MPOL_F_ADDR);
  show("page 2", m + 2 * 4096, MPOL_F_ADDR);
  show("page 3", m + 3 * 4096 + 100, MPOL_F_ADDR);
  show("page 4", m + 4 * 4096, MPOL_F_ADDR);
  show("node of page 2", m + 2 * 4096, MPOL_F_ADDR | MPOL_F_NODE);
  res("mbind INTERLEAVE strict move", mb(m, 4096, MPOL_INTERLEAVE, &one, 64, 3));
  show("page 0", m, MPOL_F_ADDR);
  res("mbind node 1", mb(m, 4096, MPOL_BIND, &two, 64, 0));
  res("mbind unaligned", mb(m + 1, 4096, MPOL_BIND, &one, 64, 0));
  res("mbind len 0", mb(m, 0, MPOL_BIND, &two, 64, 0));
  res("mbind bad flags", mb(m, 4096, MPOL_BIND, &one, 64, 8));
  res("mbind len rounds up", mb(m + 5 * 4096, 1, MPOL_PREFERRED, &one, 64, 0));
  show("page 5", m + 5 * 4096, MPOL_F_ADDR);
  show("page 6", m + 6 * 4096, MPOL_F_ADDR);
  munmap(m + 7 * 4096, 4096);
  res("mbind over a hole", mb(m + 6 * 4096, 2 * 4096, MPOL_BIND, &one, 64, 0));
  res("mbind DEFAULT over a hole", mb(m + 6 * 4096, 2 * 4096, MPOL_DEFAULT, NULL, 0, 0));
  res("mbind DEFAULT all hole", mb(m + 7 * 4096, 4096, MPOL_DEFAULT, NULL, 0, 0));
  res("mbind DEFAULT pages 0-3", mb(m, 4 * 4096, MPOL_DEFAULT, NULL, 0, 0));
  show("page 2", m + 2 * 4096, MPOL_F_ADDR);
  show("unmapped", m + 7 * 4096, MPOL_F_ADDR);
  fflush(stdout);
  set("INTERLEAVE 0 before fork", MPOL_INTERLEAVE, 1, 64);
  fflush(stdout);
  if (fork() == 0) {
    show("child", NULL, 0);
    show("child page 5", m + 5 * 4096, MPOL_F_ADDR);
    fflush(stdout);
    _exit(0);
  }
  wait(NULL);
  printf("done\n");
  return 0;
}
