// System V shared memory as Linux answers it: private and keyed segments,
// data shared across fork, shm_nattch as mappings come and go, IPC_RMID of
// an attached segment, attach addresses, read-only attaches, permissions of
// another user, the /proc/self/maps name, and the errors.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

static long nattch(int id) {
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) < 0) return -1;
  return (long)ds.shm_nattch;
}

static void maps_line(void *addr) {
  char want[32], line[512];
  snprintf(want, sizeof want, "%lx-", (unsigned long)addr);
  FILE *f = fopen("/proc/self/maps", "r");
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, want, strlen(want))) continue;
    char perms[8], name[256] = "";
    sscanf(line, "%*s %7s %*s %*s %*s %255[^\n]", perms, name);
    printf("maps: %s %s\n", perms, name);
  }
  fclose(f);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  key_t key = 0x5a5a0000 + (getpid() & 0xffff);
  int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
  show("private", id >= 0 ? 0 : -1);
  char *p = shmat(id, NULL, 0);
  show("attach", p == (void *)-1 ? -1 : 0);
  strcpy(p, "parent");
  p[9999] = 'z';
  show("nattch", nattch(id));
  struct shmid_ds ds;
  shmctl(id, IPC_STAT, &ds);
  printf("segsz %zu mode %o key %d cpid-is-me %d\n", ds.shm_segsz, ds.shm_perm.mode, ds.shm_perm.__key, ds.shm_cpid == getpid());
  maps_line(p);

  pid_t c = fork();
  if (c == 0) {
    printf("child sees: %s %c nattch %ld\n", p, p[9999], nattch(id));
    strcpy(p, "child");
    char *q = shmat(id, NULL, SHM_RDONLY);
    printf("child second attach nattch %ld, reads %s\n", nattch(id), q);
    maps_line(q);
    shmdt(q);
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  printf("parent sees: %s, nattch %ld\n", p, nattch(id));

  // A read-only attach faults on write.
  c = fork();
  if (c == 0) {
    char *q = shmat(id, NULL, SHM_RDONLY);
    q[0] = 'x';
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  printf("write to read-only attach: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "no fault");

  // Keyed segments.
  int k = shmget(key, 8192, IPC_CREAT | IPC_EXCL | 0640);
  show("keyed", k >= 0 ? 0 : -1);
  show("same key", shmget(key, 4096, 0) == k ? 0 : -1);
  show("exclusive again", shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0640));
  show("larger than the segment", shmget(key, 9000, 0));
  show("unknown key", shmget(key + 1, 4096, 0));
  show("size 0", shmget(IPC_PRIVATE, 0, IPC_CREAT));
  show("huge", shmget(IPC_PRIVATE, (size_t)-1 / 2, IPC_CREAT));
  c = fork();
  if (c == 0) {
    if (setuid(65534)) _exit(1);
    show("other user, read-write", shmget(key, 4096, 0600));
    show("other user, no mode asked", shmget(key, 4096, 0) >= 0 ? 0 : -1);
    show("other user attach", shmat(k, NULL, 0) == (void *)-1 ? -1 : 0);
    show("other user RMID", shmctl(k, IPC_RMID, NULL));
    fflush(stdout);
    _exit(0);
  }
  waitpid(c, NULL, 0);

  // Attach addresses.
  char *want = mmap(NULL, 3 * 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(want, 3 * 8192);
  show("unaligned", shmat(k, want + 100, 0) == (void *)-1 ? -1 : 0);
  char *r = shmat(k, want + 100, SHM_RND);
  show("SHM_RND", r == want ? 0 : -1);
  show("over a mapping", shmat(k, want, 0) == (void *)-1 ? -1 : 0);
  char *r2 = shmat(k, want, SHM_REMAP);
  show("SHM_REMAP", r2 == want ? 0 : -1);
  show("detach", shmdt(r2));
  show("detach again", shmdt(r2));
  show("detach inside", shmdt(p + 4096));

  // IPC_RMID while attached: the key goes, the memory stays until the last detach.
  show("RMID attached", shmctl(id, IPC_RMID, NULL));
  shmctl(id, IPC_STAT, &ds);
  printf("after RMID: key %d dest %s nattch %lu data %s\n", ds.shm_perm.__key, ds.shm_perm.mode & 01000 ? "yes" : "no", ds.shm_nattch, p);
  shmdt(p);
  show("stat after last detach", shmctl(id, IPC_STAT, &ds));
  show("RMID keyed", shmctl(k, IPC_RMID, NULL));
  show("key free again", shmget(key, 4096, 0));
  show("bad cmd", shmctl(k, 99, &ds));
  struct shminfo info;
  show("IPC_INFO", shmctl(0, IPC_INFO, (struct shmid_ds *)&info) >= 0 ? 0 : -1);
  printf("shmmni %lu shmmin %lu\n", info.shmmni, info.shmmin);
  printf("done\n");
  return 0;
}
