// memfd_create and file seals as Linux answers them: the flags and the name
// limit, what fstat and /proc/self/fd and /proc/self/maps show, read/write
// and MAP_SHARED coherence (across fork, a /proc/self/fd reopen and an fd
// passed over a socketpair), every seal with its errnos, fallocate on a
// memfd, and the madvise advice allocators use on shared and private memory.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define PG 4096

static pid_t xfork(void) {
  fflush(stdout);
  return fork();
}

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld\n", what, r);
}

static int mfd(const char *name, unsigned flags) {
  return (int)syscall(SYS_memfd_create, name, flags);
}

static void linkof(const char *what, int fd) {
  char p[64], buf[512];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  long n = readlink(p, buf, sizeof buf - 1);
  if (n < 0) {
    show(what, n);
    return;
  }
  buf[n] = 0;
  printf("%s: %s\n", what, buf);
}

/* The name column of the /proc/self/maps line of addr. */
static void mapname(const char *what, void *addr) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  unsigned long want = (unsigned long)addr;
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    char perms[8];
    int off = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s%n", &s, &e, perms, &off) < 3) continue;
    if (want < s || want >= e) continue;
    char *name = line + off;
    while (*name == ' ') name++;
    name[strcspn(name, "\n")] = 0;
    printf("%s: %s %s\n", what, perms, name);
    fclose(f);
    return;
  }
  printf("%s: not mapped\n", what);
  fclose(f);
}

/* How many /proc/self/maps lines cover [addr, addr+len), and the VmFlags this test is about of each. */
static void vmas(const char *what, void *addr, size_t len) {
  FILE *f = fopen("/proc/self/smaps", "r");
  char line[512];
  unsigned long a = (unsigned long)addr, b = a + len;
  int n = 0, in = 0;
  char flags[512] = "";
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    if (!strncmp(line, "VmFlags:", 8)) {
      if (!in) continue;
      static const char *keep[] = {"dd", "hg", "nh", "mw", "lo", NULL};
      strcat(flags, " [");
      for (int i = 0; keep[i]; i++) {
        char k[8];
        snprintf(k, sizeof k, " %s", keep[i]);
        char *p = strstr(line + 8, k);
        if (p && (p[3] == ' ' || p[3] == '\n')) {
          strcat(flags, keep[i]);
          strcat(flags, " ");
        }
      }
      strcat(flags, "]");
    } else if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      in = s < b && e > a;
      if (in) n++;
    }
  }
  fclose(f);
  printf("%s: %d vmas,%s\n", what, n, flags);
}

static void names(void) {
  FILE *nx = fopen("/proc/sys/vm/memfd_noexec", "r");
  int scope = -1;
  if (nx && fscanf(nx, "%d", &scope) != 1) scope = -1;
  if (nx) fclose(nx);
  printf("vm.memfd_noexec: %d\n", scope);
  show("bad flags", mfd("x", 0x100));
  show("EXEC|NOEXEC_SEAL", mfd("x", MFD_EXEC | MFD_NOEXEC_SEAL));
  show("NULL name", mfd(NULL, 0));
  char name[300];
  memset(name, 'n', sizeof name);
  name[249] = 0;
  int fd = mfd(name, 0);
  printf("249-byte name: %s\n", fd >= 0 ? "ok" : strerrorname_np(errno));
  close(fd);
  name[249] = 'n';
  name[250] = 0;
  show("250-byte name", mfd(name, 0));
  fd = mfd("", 0);
  linkof("empty name link", fd);
  close(fd);
  fd = mfd("with space/slash", MFD_CLOEXEC);
  linkof("odd name link", fd);
  show("MFD_CLOEXEC FD_CLOEXEC", fcntl(fd, F_GETFD));
  close(fd);
}

static void basics(void) {
  int fd = mfd("basic", 0);
  struct stat st;
  fstat(fd, &st);
  printf("mode %o size %ld nlink %ld blocks %ld\n", st.st_mode, (long)st.st_size, (long)st.st_nlink, (long)st.st_blocks);
  linkof("link", fd);
  show("F_GETFL accmode", fcntl(fd, F_GETFL) & O_ACCMODE);
  show("F_GETFD", fcntl(fd, F_GETFD));
  show("write", write(fd, "hello memfd", 11));
  show("lseek end", lseek(fd, 0, SEEK_END));
  char buf[64] = {0};
  show("pread", pread(fd, buf, sizeof buf, 6));
  printf("read back: %s\n", buf);
  show("ftruncate 3 pages", ftruncate(fd, 3 * PG));
  char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    show("mmap shared", -1);
    return;
  }
  mapname("maps", m);
  printf("map sees write: %.11s\n", m);
  memcpy(m + PG + 10, "through the map", 15);
  memset(buf, 0, sizeof buf);
  show("pread map data", pread(fd, buf, 15, PG + 10));
  printf("read sees map: %s\n", buf);
  show("pwrite page 2", pwrite(fd, "ZZZ", 3, 2 * PG));
  printf("map sees pwrite: %.3s\n", m + 2 * PG);
  fstat(fd, &st);
  printf("blocks after touching 3 pages %ld\n", (long)st.st_blocks);
  show("ftruncate shrink 1 page", ftruncate(fd, PG));
  show("ftruncate grow 2 pages", ftruncate(fd, 2 * PG));
  printf("page 1 after shrink and grow: %d\n", m[PG + 10]);
  munmap(m, 3 * PG);
  show("F_GET_SEALS no sealing", fcntl(fd, F_GET_SEALS));
  show("F_ADD_SEALS no sealing", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
  show("fchmod 0644", fchmod(fd, 0644));
  fstat(fd, &st);
  printf("mode after fchmod %o\n", st.st_mode);
  close(fd);

  fd = mfd("noexec", MFD_NOEXEC_SEAL);
  fstat(fd, &st);
  printf("NOEXEC_SEAL mode %o\n", st.st_mode);
  show("NOEXEC_SEAL seals", fcntl(fd, F_GET_SEALS));
  show("NOEXEC_SEAL fchmod 0755", fchmod(fd, 0755));
  show("NOEXEC_SEAL fchmod 0600", fchmod(fd, 0600));
  show("NOEXEC_SEAL write", write(fd, "x", 1));
  close(fd);
  fd = mfd("exec", MFD_EXEC | MFD_ALLOW_SEALING);
  fstat(fd, &st);
  printf("EXEC mode %o\n", st.st_mode);
  show("EXEC seals", fcntl(fd, F_GET_SEALS));
  show("add F_SEAL_EXEC to 0777", fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC));
  show("F_SEAL_EXEC implies", fcntl(fd, F_GET_SEALS));
  show("write after F_SEAL_EXEC", write(fd, "x", 1));
  close(fd);
}

static void seals(void) {
  int fd = mfd("seals", MFD_ALLOW_SEALING);
  show("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
  show("add unknown seal", fcntl(fd, F_ADD_SEALS, 0x40));
  show("write 2 pages", write(fd, memset(malloc(2 * PG), 'a', 2 * PG), 2 * PG));
  show("add SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
  show("ftruncate smaller", ftruncate(fd, PG));
  show("ftruncate same", ftruncate(fd, 2 * PG));
  show("ftruncate larger", ftruncate(fd, 3 * PG));
  show("add GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
  show("ftruncate larger sealed", ftruncate(fd, 4 * PG));
  show("write at end", pwrite(fd, "b", 1, 3 * PG));
  show("write across end", pwrite(fd, memset(malloc(PG + 100), 'c', PG + 100), PG + 100, 2 * PG + 50));
  show("write across unaligned end", pwrite(fd, "dd", 2, 3 * PG - 1));
  show("write inside", pwrite(fd, "e", 1, 10));
  int odd = mfd("odd size", MFD_ALLOW_SEALING);
  ftruncate(odd, 100);
  fcntl(odd, F_ADD_SEALS, F_SEAL_GROW);
  show("GROW: write across unaligned size", pwrite(odd, memset(malloc(50), 'o', 50), 50, 80));
  show("GROW: write up to unaligned size", pwrite(odd, "o", 1, 99));
  ftruncate(odd, 0);
  show("GROW: ftruncate to 0", ftruncate(odd, 0));
  close(odd);
  show("fallocate past end", fallocate(fd, 0, 0, 4 * PG));
  show("fallocate keep size past end", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4 * PG));
  show("fallocate inside", fallocate(fd, 0, 0, PG));
  char *w = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  show("add WRITE with writable map", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  munmap(w, PG);
  char *r = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
  show("add WRITE with read-only shared map of O_RDWR fd", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  munmap(r, PG);
  char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  show("add WRITE with private map", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  show("F_GET_SEALS now", fcntl(fd, F_GET_SEALS));
  p[0] = 'P';
  char c = 0;
  pread(fd, &c, 1, 0);
  printf("private write leaves file: %c\n", c);
  munmap(p, PG);
  show("write sealed", write(fd, "x", 1));
  show("pwrite sealed", pwrite(fd, "x", 1, 0));
  struct iovec iov = {"x", 1};
  show("pwritev sealed", pwritev(fd, &iov, 1, 0));
  show("ftruncate same sealed", ftruncate(fd, 3 * PG));
  show("punch hole sealed", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG));
  void *m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  show("mmap shared writable sealed", m == MAP_FAILED ? -1 : 0);
  r = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
  show("mmap shared read-only sealed", r == MAP_FAILED ? -1 : 0);
  show("mprotect it writable", mprotect(r, PG, PROT_READ | PROT_WRITE));
  vmas("read-only shared map of sealed", r, PG);
  munmap(r, PG);
  p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  show("mmap private writable sealed", p == MAP_FAILED ? -1 : 0);
  p[1] = 'Q';
  printf("private copy: %c%c\n", p[0], p[1]);
  munmap(p, PG);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int ro = open(path, O_RDONLY);
  show("reopen seals", fcntl(ro, F_GET_SEALS));
  show("add seal through read-only fd", fcntl(ro, F_ADD_SEALS, F_SEAL_SEAL));
  close(ro);
  show("add SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
  show("add after SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
  show("add nothing after SEAL", fcntl(fd, F_ADD_SEALS, 0));
  show("final seals", fcntl(fd, F_GET_SEALS));
  close(fd);

  fd = mfd("future", MFD_ALLOW_SEALING);
  ftruncate(fd, PG);
  w = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  show("add FUTURE_WRITE with writable map", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
  strcpy(w, "old mapping still writes");
  char buf[32] = {0};
  pread(fd, buf, 24, 0);
  printf("read: %s\n", buf);
  show("write future-sealed", write(fd, "x", 1));
  m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  show("new shared writable map", m == MAP_FAILED ? -1 : 0);
  r = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
  show("mprotect new read-only map writable", mprotect(r, PG, PROT_READ | PROT_WRITE));
  show("ftruncate grow future-sealed", ftruncate(fd, 2 * PG));
  show("punch future-sealed", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG));
  show("MADV_REMOVE future-sealed", madvise(w, PG, MADV_REMOVE));
  show("add WRITE while writable map", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  munmap(w, PG);
  munmap(r, PG);
  close(fd);

  /* Seals on files that are not memfds. */
  int pp[2];
  pipe(pp);
  show("pipe write end F_GET_SEALS", fcntl(pp[1], F_GET_SEALS));
  show("pipe write end F_ADD_SEALS", fcntl(pp[1], F_ADD_SEALS, F_SEAL_GROW));
  show("pipe read end F_ADD_SEALS", fcntl(pp[0], F_ADD_SEALS, F_SEAL_GROW));
  close(pp[0]);
  close(pp[1]);
  int sh = open("/dev/shm/tsvisor-memfd-test", O_RDWR | O_CREAT | O_TRUNC, 0600);
  unlink("/dev/shm/tsvisor-memfd-test");
  show("/dev/shm file F_GET_SEALS", fcntl(sh, F_GET_SEALS));
  show("/dev/shm file F_ADD_SEALS", fcntl(sh, F_ADD_SEALS, F_SEAL_GROW));
  close(sh);
  int pr = open("/proc/self/status", O_RDONLY);
  show("procfs F_GET_SEALS", fcntl(pr, F_GET_SEALS));
  close(pr);
}

static void forked(void) {
  int fd = mfd("fork", 0);
  ftruncate(fd, 2 * PG);
  char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  strcpy(m, "parent");
  pid_t c = fork();
  if (c == 0) {
    int ok = m[0] == 'p';
    strcpy(m + PG, "child wrote the map");
    pwrite(fd, "CHILD", 5, 0);
    _exit(ok ? 0 : 1);
  }
  int st;
  waitpid(c, &st, 0);
  printf("fork: child status %d, parent sees [%s] [%s]\n", WEXITSTATUS(st), m, m + PG);
  munmap(m, 2 * PG);
  close(fd);
}

static void passed(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    int fd = mfd("passed", MFD_ALLOW_SEALING);
    ftruncate(fd, PG);
    char *m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    strcpy(m, "from the sender");
    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {"f", 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    sendmsg(sv[0], &msg, 0);
    close(fd);
    char ack;
    if (read(sv[0], &ack, 1) != 1) _exit(2);
    /* The receiver wrote through its own mapping. */
    _exit(strcmp(m, "receiver answered") == 0 ? 0 : 1);
  }
  char cbuf[CMSG_SPACE(sizeof(int))];
  char data;
  struct iovec iov = {&data, 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  show("recvmsg", recvmsg(sv[1], &msg, 0));
  int fd;
  memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
  linkof("received link", fd);
  show("received seals", fcntl(fd, F_GET_SEALS));
  show("received ftruncate", ftruncate(fd, 2 * PG));
  char *m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("receiver maps: %s\n", m);
  strcpy(m, "receiver answered");
  write(sv[1], "k", 1);
  int st;
  waitpid(c, &st, 0);
  printf("sender saw the answer: %s\n", WEXITSTATUS(st) == 0 ? "yes" : "no");
  munmap(m, PG);
  close(fd);
  close(sv[0]);
  close(sv[1]);
}

static void reopened(void) {
  int fd = mfd("reopen", 0);
  write(fd, "0123456789", 10);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int fd2 = open(path, O_RDWR);
  show("reopen O_RDWR", fd2 >= 0 ? 0 : -1);
  linkof("reopened link", fd2);
  show("reopen offset", lseek(fd2, 0, SEEK_CUR));
  char *m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
  m[0] = 'X';
  char c;
  pread(fd, &c, 1, 0);
  printf("first fd sees reopen's map: %c\n", c);
  struct stat a, b;
  fstat(fd, &a);
  fstat(fd2, &b);
  printf("same inode: %d\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
  munmap(m, PG);
  close(fd2);
  close(fd);
}

static void falloc(void) {
  int fd = mfd("falloc", 0);
  show("fallocate 3 pages", fallocate(fd, 0, 0, 3 * PG));
  struct stat st;
  fstat(fd, &st);
  printf("size %ld blocks %ld\n", (long)st.st_size, (long)st.st_blocks);
  char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  memset(m, 'x', 3 * PG);
  show("punch middle page", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PG, PG));
  printf("after punch: %c %d %c\n", m[PG - 1], m[PG + 100], m[2 * PG]);
  show("SEEK_HOLE", lseek(fd, 0, SEEK_HOLE));
  show("SEEK_DATA after hole", lseek(fd, PG, SEEK_DATA));
  show("punch partial", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10, 20));
  printf("partial: %c %d %c\n", m[9], m[10], m[30]);
  fstat(fd, &st);
  printf("size %ld blocks %ld\n", (long)st.st_size, (long)st.st_blocks);
  show("punch without keep size", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, PG));
  show("collapse range", fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, PG));
  show("zero range", fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, PG));
  show("keep size beyond", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 5 * PG));
  fstat(fd, &st);
  printf("size %ld blocks %ld\n", (long)st.st_size, (long)st.st_blocks);
  munmap(m, 3 * PG);
  close(fd);
}

/* A sparse terabyte: SEEK_DATA/SEEK_HOLE and punches over it answer from the pages present. */
static void sparse(void) {
  int fd = mfd("sparse", 0);
  ftruncate(fd, 1L << 42);
  pwrite(fd, "x", 1, (1L << 41) + 5);
  pwrite(fd, "y", 1, 8192);
  show("SEEK_DATA from 0", lseek(fd, 0, SEEK_DATA));
  show("SEEK_DATA past the first page", lseek(fd, 8193 + 4096, SEEK_DATA));
  show("SEEK_HOLE after it", lseek(fd, 8192, SEEK_HOLE));
  show("SEEK_DATA past the last page", lseek(fd, (1L << 41) + 4096, SEEK_DATA));
  show("SEEK_HOLE in the last page", lseek(fd, (1L << 41) + 1, SEEK_HOLE));
  show("punch a terabyte", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1L << 30, 1L << 40));
  show("SEEK_DATA after the punch", lseek(fd, 4096 * 3, SEEK_DATA));
  struct stat st;
  fstat(fd, &st);
  printf("blocks %ld\n", (long)st.st_blocks);
  close(fd);
}

/* Forced writes (/proc/self/mem, as ptrace's) copy private pages but never write a shared mapping that cannot write. */
static void forced(void) {
  int fd = mfd("forced", MFD_ALLOW_SEALING);
  ftruncate(fd, PG);
  pwrite(fd, "orig", 4, 0);
  fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE);
  char *r = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
  char *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
  int mem = open("/proc/self/mem", O_RDWR);
  show("/proc/self/mem write to shared read-only", pwrite(mem, "X", 1, (off_t)(uintptr_t)r));
  show("/proc/self/mem write to private read-only", pwrite(mem, "Y", 1, (off_t)(uintptr_t)p));
  char buf[5] = {0};
  pread(fd, buf, 4, 0);
  printf("file %s, shared map %.4s, private map %.4s\n", buf, r, p);
  close(mem);
  pid_t c = xfork();
  if (c == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    _exit(r[0] == 'o' && p[0] == 'Z' ? 0 : 1);
  }
  int st;
  waitpid(c, &st, 0);
  show("PTRACE_POKEDATA to shared read-only", ptrace(PTRACE_POKEDATA, c, r, 0x5a5a5a5a5a5a5a5aL));
  show("PTRACE_POKEDATA to private read-only", ptrace(PTRACE_POKEDATA, c, p, 0x5a5a5a5a5a5a5a5aL));
  ptrace(PTRACE_CONT, c, 0, 0);
  waitpid(c, &st, 0);
  pread(fd, buf, 4, 0);
  printf("child saw the private poke only: %d, file %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0, buf);
  munmap(r, PG);
  munmap(p, PG);
  close(fd);
}

static void advice(void) {
  int fd = mfd("advice", 0);
  ftruncate(fd, 4 * PG);
  char *s = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  memset(s, 's', 4 * PG);
  show("DONTNEED shared memfd", madvise(s, PG, MADV_DONTNEED));
  printf("shared after DONTNEED: %c\n", s[0]);
  show("FREE shared memfd", madvise(s, PG, MADV_FREE));
  show("REMOVE shared memfd", madvise(s + PG, PG, MADV_REMOVE));
  char c = 1;
  pread(fd, &c, 1, PG + 5);
  printf("after REMOVE: map %d file %d next page %c\n", s[PG + 5], c, s[2 * PG]);
  struct stat st;
  fstat(fd, &st);
  printf("blocks after REMOVE %ld\n", (long)st.st_blocks);
  show("REMOVE unaligned", madvise(s + 1, PG, MADV_REMOVE));
  char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  p[2 * PG - 1] = 'p';
  printf("private sees file: %c\n", p[0]);
  show("DONTNEED private memfd", madvise(p, 2 * PG, MADV_DONTNEED));
  printf("private after DONTNEED: %c %d\n", p[0], p[2 * PG - 1]);
  show("FREE private file map", madvise(p, PG, MADV_FREE));
  show("REMOVE private file map", madvise(p, PG, MADV_REMOVE));
  munmap(p, 2 * PG);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int ro = open(path, O_RDONLY);
  char *r = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
  show("REMOVE read-only shared map", madvise(r, PG, MADV_REMOVE));
  show("mprotect read-only fd map writable", mprotect(r, PG, PROT_READ | PROT_WRITE));
  vmas("read-only fd shared map", r, PG);
  munmap(r, PG);
  close(ro);

  char *a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(a, 'a', 4 * PG);
  show("DONTNEED private anon", madvise(a, PG, MADV_DONTNEED));
  printf("anon after DONTNEED: %d %c\n", a[0], a[PG]);
  show("FREE private anon", madvise(a + PG, PG, MADV_FREE));
  a[PG] = 'w';
  printf("anon written after FREE: %c\n", a[PG]);
  show("REMOVE private anon", madvise(a, PG, MADV_REMOVE));
  show("DONTDUMP", madvise(a + PG, PG, MADV_DONTDUMP));
  vmas("after DONTDUMP middle", a, 4 * PG);
  show("DODUMP", madvise(a + PG, PG, MADV_DODUMP));
  vmas("after DODUMP", a, 4 * PG);
  show("HUGEPAGE", madvise(a, 2 * PG, MADV_HUGEPAGE));
  vmas("after HUGEPAGE", a, 4 * PG);
  show("NOHUGEPAGE", madvise(a, 2 * PG, MADV_NOHUGEPAGE));
  vmas("after NOHUGEPAGE", a, 4 * PG);
  show("mlock", mlock(a + 3 * PG, PG));
  show("DONTNEED locked", madvise(a + 3 * PG, PG, MADV_DONTNEED));
  show("FREE locked", madvise(a + 3 * PG, PG, MADV_FREE));
  show("REMOVE locked", madvise(a + 3 * PG, PG, MADV_REMOVE));
  munlock(a + 3 * PG, PG);
  munmap(a, 4 * PG);

  char *sa = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  memset(sa, 'z', 2 * PG);
  pid_t ch = fork();
  if (ch == 0) {
    madvise(sa, PG, MADV_REMOVE);
    _exit(0);
  }
  waitpid(ch, NULL, 0);
  printf("shared anon after child REMOVE: %d %c\n", sa[0], sa[PG]);
  show("FREE shared anon", madvise(sa, PG, MADV_FREE));
  show("DONTNEED shared anon", madvise(sa + PG, PG, MADV_DONTNEED));
  printf("shared anon after DONTNEED: %c\n", sa[PG]);
  munmap(sa, 2 * PG);
  munmap(s, 4 * PG);
  close(fd);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  names();
  basics();
  seals();
  forked();
  passed();
  reopened();
  falloc();
  sparse();
  forced();
  advice();
  printf("done\n");
  return 0;
}
