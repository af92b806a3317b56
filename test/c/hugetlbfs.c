/* hugetlbfs: mounts (size=, min_size=, nr_inodes=, mode=, pagesize=),
 * statfs, files sized in whole huge pages, read(2) and the EINVAL of
 * write(2), shared and private mappings reserving from the pool at mmap,
 * size= and the pool refusing (ENOMEM, ENOSPC), truncation under a mapping
 * (SIGBUS past the end), fallocate and PUNCH_HOLE, unlink while mapped,
 * memfd_create(MFD_HUGETLB) with its sizes and seals, shmget(SHM_HUGETLB)
 * with shmat alignment. Needs root and a mount namespace of its own
 * (natively under unshare --mount: its mounts vanish with it); it sets
 * vm.nr_hugepages itself and restores the value it found (the host's). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#define HP (2UL << 20)
#define NR "/proc/sys/vm/nr_hugepages"
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 4U
#endif
#ifndef SHM_HUGETLB
#define SHM_HUGETLB 04000
#endif

static long saved = -1;

static long readnum(const char *path) {
  char b[64] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -errno;
  ssize_t n = read(fd, b, sizeof b - 1);
  close(fd);
  return n > 0 ? atol(b) : -1;
}

static int setpool(long n) {
  char b[32];
  int fd = open(NR, O_WRONLY);
  if (fd < 0) return -errno;
  int len = snprintf(b, sizeof b, "%ld\n", n);
  int r = write(fd, b, len) == len ? 0 : -errno;
  close(fd);
  return r;
}

static void restore(void) {
  if (saved >= 0) setpool(saved);
}

static long mi(const char *key) {
  char line[256];
  long v = -1;
  FILE *f = fopen("/proc/meminfo", "r");
  while (f && fgets(line, sizeof line, f)) {
    char k[64];
    long x;
    if (sscanf(line, "%63[^:]: %ld", k, &x) == 2 && !strcmp(k, key)) v = x;
  }
  if (f) fclose(f);
  return v;
}

static void pool(const char *tag) {
  printf("%s: Total=%ld Free=%ld Rsvd=%ld Surp=%ld\n", tag, mi("HugePages_Total"), mi("HugePages_Free"), mi("HugePages_Rsvd"), mi("HugePages_Surp"));
}

static void fsinfo(const char *tag, const char *path) {
  struct statfs s;
  if (statfs(path, &s)) {
    printf("%s statfs: %s\n", tag, ename(errno));
    return;
  }
  printf("%s statfs: type=%lx bsize=%ld blocks=%ld bfree=%ld bavail=%ld files=%ld ffree=%ld namelen=%ld\n", tag, (long)s.f_type, (long)s.f_bsize,
         (long)s.f_blocks, (long)s.f_bfree, (long)s.f_bavail, (long)s.f_files, (long)s.f_ffree, (long)s.f_namelen);
}

static void fileinfo(const char *tag, int fd) {
  struct stat st;
  if (fstat(fd, &st)) printf("%s fstat: %s\n", tag, ename(errno));
  else printf("%s: size=%ld blksize=%ld blocks=%ld mode=%o\n", tag, (long)st.st_size, (long)st.st_blksize, (long)st.st_blocks, st.st_mode & 07777);
}

static const char *res(void *p) {
  return p == MAP_FAILED ? ename(errno) : "OK";
}

static const char *rc(int r) {
  return r < 0 ? ename(errno) : "OK";
}

static sigjmp_buf jb;
static void onbus(int sig) {
  siglongjmp(jb, sig);
}

/* A touch of p: 0, or the signal it raised. */
static int touch(volatile char *p, int write) {
  int sig = sigsetjmp(jb, 1);
  if (sig) return sig;
  if (write) *p = 1;
  else (void)*p;
  return 0;
}

static const char *sig(int s) {
  return s == 0 ? "ok" : s == SIGBUS ? "SIGBUS" : s == SIGSEGV ? "SIGSEGV" : "other";
}

static void mounts(const char *dir) {
  char mnt[512];
  snprintf(mnt, sizeof mnt, "%s/m", dir);
  mkdir(mnt, 0755);
  printf("pagesize=1M: %s\n", rc(mount("none", mnt, "hugetlbfs", 0, "pagesize=1M")));
  printf("bogus option: %s\n", rc(mount("none", mnt, "hugetlbfs", 0, "bogus=1")));
  printf("min_size=10M of 4: %s\n", rc(mount("none", mnt, "hugetlbfs", 0, "min_size=10M")));
  pool("after refused mounts");
  printf("plain mount: %s\n", rc(mount("none", mnt, "hugetlbfs", 0, NULL)));
  fsinfo("plain", mnt);
  struct stat st;
  stat(mnt, &st);
  printf("root mode %o\n", st.st_mode & 07777);
  printf("umount: %s\n", rc(umount(mnt)));
  printf("pagesize=2M,min_size=4M,size=8M,nr_inodes=3,mode=1700: %s\n",
         rc(mount("none", mnt, "hugetlbfs", 0, "pagesize=2M,min_size=4M,size=8M,nr_inodes=3,mode=1700")));
  pool("min_size 2");
  fsinfo("sized", mnt);
  stat(mnt, &st);
  printf("root mode %o\n", st.st_mode & 07777);
  char f[600];
  int fds[4];
  for (int i = 0; i < 3; i++) {
    snprintf(f, sizeof f, "%s/f%d", mnt, i);
    fds[i] = open(f, O_CREAT | O_RDWR, 0600);
    printf("create f%d: %s\n", i, fds[i] < 0 ? ename(errno) : "OK");
  }
  fsinfo("3 files", mnt);
  int fd = fds[0];
  /* size= is 4 huge pages: a mapping of 5 is refused, 3 fit (2 of them from min_size's reservation). */
  printf("map 5 of size=4: %s\n", res(mmap(NULL, 5 * HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)));
  char *a = mmap(NULL, 3 * HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("map 3: %s\n", res(a));
  pool("3 reserved via a mount with min 2");
  fsinfo("3 reserved", mnt);
  fileinfo("after writable map", fd);
  printf("map 2 more in f1: %s\n", res(mmap(NULL, 2 * HP, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1], 0)));
  printf("fallocate 2 in f1: %s\n", rc(fallocate(fds[1], 0, 0, 2 * HP)));
  printf("fallocate 1 in f1: %s\n", rc(fallocate(fds[1], 0, 0, HP)));
  fsinfo("full", mnt);
  pool("full");
  printf("munmap: %s\n", rc(munmap(a, 3 * HP)));
  for (int i = 0; i < 3; i++) close(fds[i]);
  for (int i = 0; i < 3; i++) {
    snprintf(f, sizeof f, "%s/f%d", mnt, i);
    unlink(f);
  }
  pool("files gone, min_size kept");
  fsinfo("empty", mnt);
  printf("umount: %s\n", rc(umount(mnt)));
  pool("unmounted");
}

static void files(const char *dir) {
  char mnt[512], path[600];
  snprintf(mnt, sizeof mnt, "%s/h", dir);
  mkdir(mnt, 0755);
  printf("mount: %s\n", rc(mount("none", mnt, "hugetlbfs", 0, "size=100%")));
  fsinfo("size=100%", mnt);
  snprintf(path, sizeof path, "%s/file", mnt);
  int fd = open(path, O_CREAT | O_RDWR, 0644);
  printf("open: %s\n", fd < 0 ? ename(errno) : "OK");
  fileinfo("new", fd);
  printf("ftruncate 1M: %s\n", rc(ftruncate(fd, 1 << 20)));
  printf("ftruncate 4M: %s\n", rc(ftruncate(fd, 2 * HP)));
  fileinfo("4M", fd);
  pool("sized, nothing reserved");
  printf("write: %s\n", rc(write(fd, "x", 1)));
  printf("pwrite: %s\n", rc(pwrite(fd, "x", 1, 0)));
  printf("map at 4096: %s\n", res(mmap(NULL, HP, PROT_READ, MAP_SHARED, fd, 4096)));
  char *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("map 4096 bytes: %s aligned=%d\n", res(s), s != MAP_FAILED && (uintptr_t)s % HP == 0);
  pool("shared 1 reserved");
  printf("munmap 4096 of it: %s\n", rc(munmap(s, 4096)));
  char *s2 = mmap(NULL, 2 * HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("map shared 2: %s\n", res(s2));
  pool("shared range reserved once");
  printf("fixed unaligned: %s\n", res(mmap(s2 + 4096, HP, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0)));
  /* Through s2: s went with the whole huge page its munmap covered, and s2 need not land where it was. */
  memcpy(s2, "hello", 5);
  pool("1 touched");
  char buf[16] = {0};
  printf("read: %zd '%s'\n", pread(fd, buf, 5, 0), buf);
  /* Only the count of a hole's read: Linux 6.18 leaves the buffer as it was (reads of hugetlbfs pages at an offset in the page are wrong there too). */
  printf("read hole: %zd\n", pread(fd, buf, 8, HP));
  printf("read past end: %zd\n", pread(fd, buf, 8, 2 * HP));
  fileinfo("1 touched", fd);
  printf("SEEK_DATA 0: %ld SEEK_HOLE 0: %ld\n", (long)lseek(fd, 0, SEEK_DATA), (long)lseek(fd, 0, SEEK_HOLE));

  char *p = mmap(NULL, 2 * HP, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  printf("map private 2: %s\n", res(p));
  pool("private reserved 2");
  printf("private sees file: %d\n", p != MAP_FAILED && !memcmp(p, "hello", 5));
  p[0] = 'j';
  p[HP] = 'k';
  pool("private written");
  printf("file unchanged: %d %d\n", s2[0] == 'h', pread(fd, buf, 1, 0) == 1 && buf[0] == 'h');
  printf("munmap private: %s\n", rc(munmap(p, 2 * HP)));
  pool("private gone");

  /* Shrinking under the mapping: the page past the end is SIGBUS, its page back in the pool. */
  s2[HP] = 'z';
  pool("2 touched");
  printf("ftruncate 2M: %s\n", rc(ftruncate(fd, HP)));
  pool("shrunk");
  printf("touch first: %s past end: %s\n", sig(touch(s2, 0)), sig(touch(s2 + HP, 0)));
  printf("ftruncate 4M again: %s\n", rc(ftruncate(fd, 2 * HP)));
  printf("past end again: %s zero=%d\n", sig(touch(s2 + HP, 0)), s2[HP] == 0);
  pool("regrown, touched");

  /* fallocate and holes. */
  printf("fallocate ZERO_RANGE: %s\n", rc(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, HP)));
  printf("punch second: %s\n", rc(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, HP, HP)));
  pool("punched");
  printf("punch partial: %s\n", rc(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 3)));
  printf("after partial: %c%c%c%c%c\n", s2[0] ? s2[0] : '0', s2[1] ? s2[1] : '0', s2[2] ? s2[2] : '0', s2[3] ? s2[3] : '0', s2[4] ? s2[4] : '0');
  fileinfo("punched", fd);
  printf("fallocate 3 KEEP_SIZE: %s\n", rc(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 3 * HP)));
  fileinfo("allocated", fd);
  pool("allocated");
  printf("fallocate 3 more: %s\n", rc(fallocate(fd, 0, 3 * HP, 4 * HP)));
  fileinfo("pool short", fd);
  pool("pool short");
  printf("ftruncate 0: %s\n", rc(ftruncate(fd, 0)));
  pool("truncated");

  /* Unlinked while mapped: the pages stay until the mapping goes. */
  printf("ftruncate 2M: %s\n", rc(ftruncate(fd, HP)));
  munmap(s2, 2 * HP);
  munmap(s, HP);
  s = mmap(NULL, HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  s[0] = 1;
  close(fd);
  printf("unlink: %s\n", rc(unlink(path)));
  pool("unlinked, mapped");
  printf("still there: %d\n", s[0] == 1);
  munmap(s, HP);
  pool("unmapped");
  printf("umount: %s\n", rc(umount(mnt)));
}

static void memfds(void) {
  int fd = memfd_create("h", MFD_HUGETLB | MFD_ALLOW_SEALING);
  printf("memfd MFD_HUGETLB: %s\n", fd < 0 ? ename(errno) : "OK");
  int f2 = memfd_create("h2", MFD_HUGETLB | (21U << 26));
  printf("memfd MFD_HUGE_2MB: %s\n", f2 < 0 ? ename(errno) : "OK");
  if (f2 >= 0) close(f2);
  f2 = memfd_create("h3", MFD_HUGETLB | (16U << 26));
  printf("memfd MFD_HUGE_64KB: %s\n", f2 < 0 ? ename(errno) : "OK");
  printf("memfd size bits without HUGETLB: %s\n", memfd_create("h4", 21U << 26) < 0 ? ename(errno) : "OK");
  struct statfs sf;
  fstatfs(fd, &sf);
  printf("memfd statfs: type=%lx bsize=%ld\n", (long)sf.f_type, (long)sf.f_bsize);
  printf("ftruncate 4096: %s\n", rc(ftruncate(fd, 4096)));
  printf("ftruncate 2M: %s\n", rc(ftruncate(fd, HP)));
  printf("write: %s\n", rc(write(fd, "x", 1)));
  pool("memfd sized");
  char *m = mmap(NULL, HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("memfd map: %s\n", res(m));
  pool("memfd mapped");
  m[0] = 'm';
  char c = 0;
  printf("read back: %zd %c\n", pread(fd, &c, 1, 0), c);
  printf("F_GET_SEALS: %d\n", fcntl(fd, F_GET_SEALS));
  printf("F_SEAL_WRITE while mapped: %s\n", rc(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)));
  printf("F_SEAL_SHRINK|GROW: %s\n", rc(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)));
  printf("shrink sealed: %s grow sealed: %s\n", rc(ftruncate(fd, 0)), rc(ftruncate(fd, 2 * HP)));
  printf("fallocate past end sealed: %s\n", rc(fallocate(fd, 0, HP, HP)));
  munmap(m, HP);
  printf("F_SEAL_WRITE unmapped: %s\n", rc(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)));
  printf("map shared writable sealed: %s\n", res(mmap(NULL, HP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)));
  printf("F_GET_SEALS: %d\n", fcntl(fd, F_GET_SEALS));
  close(fd);
  fd = memfd_create("nos", MFD_HUGETLB);
  printf("seal without ALLOW_SEALING: %s\n", rc(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)));
  close(fd);
  pool("memfds gone");
}

static void shm(void) {
  printf("SHM_HUGETLB 64KB: %s\n", ename(shmget(IPC_PRIVATE, HP, IPC_CREAT | SHM_HUGETLB | (16 << 26) | 0600) < 0 ? errno : 0));
  printf("SHM_HUGETLB 5 of 4: %s\n", ename(shmget(IPC_PRIVATE, 5 * HP, IPC_CREAT | SHM_HUGETLB | 0600) < 0 ? errno : 0));
  int id = shmget(IPC_PRIVATE, 3 * HP / 2, IPC_CREAT | SHM_HUGETLB | 0600);
  printf("SHM_HUGETLB 3M: %s\n", id < 0 ? ename(errno) : "OK");
  pool("segment reserved");
  struct shmid_ds ds;
  shmctl(id, IPC_STAT, &ds);
  printf("segsz=%zu nattch=%lu\n", ds.shm_segsz, (unsigned long)ds.shm_nattch);
  char *a = shmat(id, NULL, 0);
  printf("shmat: %s aligned=%d\n", res(a), a != (void *)-1 && (uintptr_t)a % HP == 0);
  printf("shmat unaligned: %s\n", res(shmat(id, a + 4 * HP + 4096, SHM_RND)));
  char *b = shmat(id, a + 4 * HP, 0);
  printf("shmat aligned: %s\n", res(b));
  /* /proc/sysvipc/shm's line for it: perms, size, nattch (rss left out: Linux 6.18 counts a huge page's 512 small pages 512 times there). */
  FILE *sv = fopen("/proc/sysvipc/shm", "r");
  char line[512];
  while (sv && fgets(line, sizeof line, sv)) {
    int key, sid, nat;
    unsigned perms;
    unsigned long sz;
    if (sscanf(line, "%d %d %o %lu %*u %*u %d", &key, &sid, &perms, &sz, &nat) == 5 && sid == id) printf("sysvipc: perms %o size %lu nattch %d\n", perms, sz, nat);
  }
  if (sv) fclose(sv);
  else printf("sysvipc: %s\n", ename(errno));
  a[HP + 1] = 'q';
  printf("seen in second: %c\n", b[HP + 1]);
  pool("segment touched");
  printf("munmap part: %s\n", rc(munmap(a, 4096)));
  shmdt(a);
  shmdt(b);
  printf("IPC_RMID: %s\n", rc(shmctl(id, IPC_RMID, NULL)));
  pool("segment gone");
}

/* A private MAP_HUGETLB mapping partly replaced by MAP_FIXED, then unmapped piece by piece: the part that goes takes its page and reservations along. */
static void fixedover(void) {
  char *a = mmap(NULL, 3 * HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
  printf("private 3: %s\n", res(a));
  if (a == MAP_FAILED) return;
  a[0] = 1;
  a[2 * HP] = 1;
  pool("3 private, 2 touched");
  printf("fixed over 2 of 3: %s\n", res(mmap(a, 2 * HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, -1, 0)));
  pool("replaced");
  munmap(a + 2 * HP, HP);
  pool("tail unmapped");
  munmap(a, 2 * HP);
  pool("all unmapped");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  saved = readnum(NR);
  if (saved < 0) {
    printf("no %s\n", NR);
    return 1;
  }
  atexit(restore);
  struct sigaction sa = {.sa_handler = onbus};
  sigaction(SIGBUS, &sa, NULL);
  FILE *fs = fopen("/proc/filesystems", "r");
  char line[128];
  int found = 0;
  while (fs && fgets(line, sizeof line, fs)) found |= !strcmp(line, "nodev\thugetlbfs\n");
  if (fs) fclose(fs);
  printf("/proc/filesystems: %d\n", found);
  printf("set 4: %s\n", ename(-setpool(4)));
  pool("pool 4");
  mounts(argv[1]);
  files(argv[1]);
  memfds();
  shm();
  fixedover();
  printf("set 0: %s\n", ename(-setpool(0)));
  pool("pool 0");
  printf("done\n");
  return 0;
}
