// process_vm_readv/writev and membarrier as Linux answers them: copies
// between a parent and its child across scattered vectors, a transfer that
// stops at an unmapped page with the bytes done, permission against another
// user, the errors; membarrier's query and the private expedited barrier.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

static char shared_text[64] = "hello from the child's copy";

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  // The child's memory: a page followed by an unmapped one.
  char *area = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(area, 'a', 4096);
  munmap(area + 4096, 4096);
  int p[2];
  pipe(p);
  pid_t c = fork();
  if (c == 0) {
    strcpy(shared_text, "the child changed this");
    write(p[1], "x", 1);
    pause();
    _exit(0);
  }
  char x;
  read(p[0], &x, 1);
  char a[8] = {0}, b[32] = {0};
  struct iovec local[2] = {{a, 7}, {b, 20}}, remote[1] = {{shared_text, 22}};
  show("readv", process_vm_readv(c, local, 2, remote, 1, 0));
  printf("got '%s' + '%s'\n", a, b);
  char mine[] = "written by the parent";
  struct iovec l1 = {mine, sizeof mine}, r1 = {shared_text, sizeof mine};
  show("writev", process_vm_writev(c, &l1, 1, &r1, 1, 0));
  memset(b, 0, sizeof b);
  struct iovec l2 = {b, 31}, r2 = {shared_text, 31};
  process_vm_readv(c, &l2, 1, &r2, 1, 0);
  printf("child now has '%s'\n", b);
  static char big[8192];
  struct iovec l3 = {big, 8192}, r3 = {area, 8192};
  show("across an unmapped page", process_vm_readv(c, &l3, 1, &r3, 1, 0));
  struct iovec r4 = {area + 4096, 10};
  show("only unmapped", process_vm_readv(c, &l3, 1, &r4, 1, 0));
  show("flags", process_vm_readv(c, local, 2, remote, 1, 1));
  show("no such process", process_vm_readv(999999, local, 2, remote, 1, 0));
  show("bad local vector", process_vm_readv(c, (void *)8, 1, remote, 1, 0));
  show("too many vectors", process_vm_readv(c, local, 2000, remote, 1, 0));
  pid_t u = fork();
  if (u == 0) {
    if (setuid(65534)) _exit(1);
    show("other user", process_vm_readv(c, local, 2, remote, 1, 0));
    _exit(0);
  }
  waitpid(u, NULL, 0);
  kill(c, SIGKILL);
  waitpid(c, NULL, 0);

  long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  printf("private expedited offered: %s\n", q & MEMBARRIER_CMD_PRIVATE_EXPEDITED ? "yes" : "no");
  show("unregistered", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
  show("register", syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0));
  show("barrier", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
  show("bad flags", syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 5, 0));
  show("bad cmd", syscall(SYS_membarrier, 1 << 20, 0, 0));
  printf("done\n");
  return 0;
}
