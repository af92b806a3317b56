/* uffd: userfaultfd(2) as an application uses it. The API handshake and its
 * errors, registering ranges (bad ones EINVAL, a file mapping EINVAL), the
 * classic handler thread (a thread touches a registered page, the handler
 * reads the message and UFFDIO_COPYs), ZEROPAGE, WAKE without a fill (the
 * fault comes again), EEXIST and ENOENT, a read(2) of a pipe into a missing
 * page, a write(2) from one and a futex(2) on one (the system call waits for
 * the handler), poll readiness, a signal to
 * a task blocked in a fault (handler, then the fault again), close while a
 * task is blocked (it gets a zero page), MADV_DONTNEED (missing again), a
 * fork child (not registered), UFFD_USER_MODE_ONLY (a kernel access is
 * EFAULT), UFFD_FEATURE_SIGBUS and THREAD_ID, /dev/userfaultfd, and who may
 * make one, write protection, a memfd (missing and minor faults, CONTINUE)
 * and minor faults of shared anonymous memory, UFFDIO_POISON. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/futex.h>

#include <setjmp.h>

#ifndef UFFDIO_POISON /* Linux 6.6; older headers lack it */
struct uffdio_poison {
  struct uffdio_range range;
  __u64 mode;
  __s64 updated;
};
#define _UFFDIO_POISON 0x08
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#define UFFD_FEATURE_POISON (1 << 14)
#endif

#define PG 4096
#define NPAGES 16

static int uffd(int flags) { return syscall(SYS_userfaultfd, flags); }

static void show(const char *what, long r) {
  printf("%s: %s\n", what, r < 0 ? ename(errno) : "OK");
}

static int api(int fd, uint64_t features) {
  struct uffdio_api a = {.api = UFFD_API, .features = features};
  return ioctl(fd, UFFDIO_API, &a);
}

static int reg(int fd, void *start, uint64_t len) {
  struct uffdio_register r = {.range = {.start = (uintptr_t)start, .len = len}, .mode = UFFDIO_REGISTER_MODE_MISSING};
  return ioctl(fd, UFFDIO_REGISTER, &r);
}

static int copy(int fd, void *dst, void *src, uint64_t len, long long *out) {
  struct uffdio_copy c = {.dst = (uintptr_t)dst, .src = (uintptr_t)src, .len = len};
  int r = ioctl(fd, UFFDIO_COPY, &c);
  if (out) *out = c.copy;
  return r;
}

static char *area;
static int ufd;
static volatile int sigs;
static volatile pid_t toucher_tid;

static void *toucher(void *arg) {
  toucher_tid = gettid();
  volatile char *p = arg;
  char c = *p;
  return (void *)(intptr_t)c;
}

static int touch_in_thread(void *addr, pthread_t *th) {
  return pthread_create(th, NULL, toucher, addr);
}

static struct uffd_msg next_msg(int fd) {
  struct uffd_msg m;
  ssize_t n = read(fd, &m, sizeof m);
  if (n != sizeof m) {
    printf("read msg: %zd %s\n", n, ename(errno));
    exit(1);
  }
  return m;
}

static void print_msg(const char *what, struct uffd_msg m, char *base) {
  printf("%s: event %#x page %ld\n", what, m.event, (long)((char *)(uintptr_t)m.arg.pagefault.address - base) / PG);
}

static void on_usr1(int s) { (void)s; sigs++; }

static sigjmp_buf bus_jmp;
static volatile int bus_code, bus_lsb;
static void on_bus(int s, siginfo_t *si, void *uc) {
  (void)s;
  (void)uc;
  bus_code = si->si_code;
  bus_lsb = si->si_addr_lsb;
  siglongjmp(bus_jmp, 1);
}

static char *volatile wp_page;
static void *wp_writer(void *arg) {
  (void)arg;
  wp_page[0xf] = 'W';
  return NULL;
}

static void *wp_reader(void *arg) {
  int *p = arg;
  return (void *)(intptr_t)read(p[0], wp_page + PG, 2);
}

static int copy_mode(int fd, void *dst, void *src, uint64_t len, uint64_t mode) {
  struct uffdio_copy c = {.dst = (uintptr_t)dst, .src = (uintptr_t)src, .len = len, .mode = mode};
  return ioctl(fd, UFFDIO_COPY, &c);
}

/* write(2) from a missing page, and a futex wait on a word in another: both wait for the handler. */
static void *writer(void *arg) {
  int *p = arg;
  return (void *)(intptr_t)write(p[1], area + 6 * PG, 4);
}

static void *futex_waiter(void *arg) {
  (void)arg;
  return (void *)(long)syscall(SYS_futex, (uint32_t *)(area + 7 * PG), FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
}

static void *reader(void *arg) {
  int *p = arg;
  char buf[8] = {0};
  ssize_t n = read(p[0], area + 3 * PG + 100, 8);
  (void)buf;
  return (void *)(intptr_t)n;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int st;
  char src[PG];
  memset(src, 'x', PG);

  /* Flags and the handshake. */
  errno = 0;
  show("userfaultfd bad flags", uffd(0x100));
  ufd = uffd(O_CLOEXEC);
  show("userfaultfd", ufd);
  struct uffdio_api a = {.api = UFFD_API};
  char buf[64];
  show("read before API", read(ufd, buf, sizeof buf));
  struct pollfd pf = {.fd = ufd, .events = POLLIN};
  int pr = poll(&pf, 1, 0);
  printf("poll before API: %d revents %#x\n", pr, pf.revents);
  area = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  show("register before API", reg(ufd, area, PG));
  a.api = 0x55;
  show("API bad api", ioctl(ufd, UFFDIO_API, &a));
  a.api = UFFD_API;
  a.features = 1ULL << 40;
  show("API unknown feature", ioctl(ufd, UFFDIO_API, &a));
  printf("  struct after: api %llu features %llu ioctls %llu\n", (unsigned long long)a.api, (unsigned long long)a.features, (unsigned long long)a.ioctls);
  show("API bad pointer", ioctl(ufd, UFFDIO_API, (void *)8));
  a.api = UFFD_API;
  a.features = 0;
  show("API", ioctl(ufd, UFFDIO_API, &a));
  printf("  api %#llx ioctls has REGISTER %d UNREGISTER %d API %d\n", (unsigned long long)a.api,
         !!(a.ioctls & (1ULL << _UFFDIO_REGISTER)), !!(a.ioctls & (1ULL << _UFFDIO_UNREGISTER)), !!(a.ioctls & (1ULL << _UFFDIO_API)));
  printf("  features has SIGBUS %d THREAD_ID %d WP %d MINOR_SHMEM %d MISSING_SHMEM %d\n", !!(a.features & UFFD_FEATURE_SIGBUS), !!(a.features & UFFD_FEATURE_THREAD_ID),
         !!(a.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP), !!(a.features & UFFD_FEATURE_MINOR_SHMEM), !!(a.features & UFFD_FEATURE_MISSING_SHMEM));
  show("API again", api(ufd, 0));
  show("unknown ioctl", ioctl(ufd, _IOWR(0xAA, 0x30, struct uffdio_range), buf));
  pr = poll(&pf, 1, 0);
  printf("poll after API: %d revents %#x\n", pr, pf.revents);

  /* Register: bad ranges, a file mapping, then the area. */
  show("register unaligned start", reg(ufd, area + 1, PG));
  show("register len 0", reg(ufd, area, 0));
  show("register unaligned len", reg(ufd, area, 100));
  show("register at 0", reg(ufd, NULL, PG));
  show("register huge", reg(ufd, area, 1ULL << 62));
  show("register past the top", reg(ufd, (void *)(1ULL << 47), PG));
  struct uffdio_register r = {.range = {.start = (uintptr_t)area, .len = PG}, .mode = 0};
  show("register mode 0", ioctl(ufd, UFFDIO_REGISTER, &r));
  r.mode = 1 << 5;
  show("register mode 32", ioctl(ufd, UFFDIO_REGISTER, &r));
  show("register bad pointer", ioctl(ufd, UFFDIO_REGISTER, (void *)8));
  char *hole = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(hole, 4 * PG);
  show("register unmapped", reg(ufd, hole, 4 * PG));
  char *holey = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(holey + PG, PG);
  show("register with a hole", reg(ufd, holey, 3 * PG));
  struct uffdio_range hr = {.start = (uintptr_t)holey, .len = 3 * PG};
  show("unregister with a hole", ioctl(ufd, UFFDIO_UNREGISTER, &hr));
  show("unregister unmapped", ioctl(ufd, UFFDIO_UNREGISTER, &((struct uffdio_range){.start = (uintptr_t)hole, .len = PG})));
  int exe = open("/proc/self/exe", O_RDONLY);
  char *fmap = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, exe, 0);
  show("register file mapping", reg(ufd, fmap, PG));
  r.mode = UFFDIO_REGISTER_MODE_MISSING;
  r.range.start = (uintptr_t)area;
  r.range.len = NPAGES * PG;
  show("register", ioctl(ufd, UFFDIO_REGISTER, &r));
  printf("  ioctls WAKE %d COPY %d ZEROPAGE %d\n", !!(r.ioctls & (1ULL << _UFFDIO_WAKE)), !!(r.ioctls & (1ULL << _UFFDIO_COPY)),
         !!(r.ioctls & (1ULL << _UFFDIO_ZEROPAGE)));
  /* smaps shows the registration ("um" in VmFlags). */
  FILE *sm = fopen("/proc/self/smaps", "r");
  char line[512];
  int inside = 0;
  unsigned long lo, hi;
  while (sm && fgets(line, sizeof line, sm)) {
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) inside = lo <= (uintptr_t)area && (uintptr_t)area < hi;
    else if (inside && !strncmp(line, "VmFlags:", 8)) printf("VmFlags has um: %d\n", strstr(line, " um") != NULL);
  }
  if (sm) fclose(sm);
  int other = uffd(O_CLOEXEC | O_NONBLOCK);
  api(other, 0);
  show("register with another uffd", reg(other, area, PG));
  show("read nonblocking, nothing pending", read(other, buf, sizeof buf));
  show("read short buffer", read(other, buf, 8));
  struct pollfd opf = {.fd = other, .events = POLLIN};
  pr = poll(&opf, 1, 0);
  printf("poll nonblocking uffd: %d revents %#x\n", pr, opf.revents);

  /* The classic handler: a thread touches page 0, we copy it in. */
  pthread_t th;
  touch_in_thread(area, &th);
  struct uffd_msg m = next_msg(ufd);
  print_msg("fault", m, area);
  long long res;
  show("copy", copy(ufd, area, src, PG, &res));
  printf("  copied %lld\n", res);
  void *ret;
  pthread_join(th, &ret);
  printf("thread read '%c'\n", (char)(intptr_t)ret);

  /* ZEROPAGE for page 1. */
  touch_in_thread(area + PG + 5, &th);
  m = next_msg(ufd);
  print_msg("fault", m, area);
  struct uffdio_zeropage z = {.range = {.start = (uintptr_t)area + PG, .len = PG}};
  show("zeropage", ioctl(ufd, UFFDIO_ZEROPAGE, &z));
  printf("  zeropage %lld\n", (long long)z.zeropage);
  pthread_join(th, &ret);
  printf("thread read %d\n", (int)(intptr_t)ret);
  show("zeropage again", ioctl(ufd, UFFDIO_ZEROPAGE, &z));
  printf("  zeropage %lld\n", (long long)z.zeropage);
  z.mode = 4;
  show("zeropage bad mode", ioctl(ufd, UFFDIO_ZEROPAGE, &z));

  /* Copy errors. */
  show("copy onto a present page", copy(ufd, area, src, PG, &res));
  printf("  copy %lld\n", res);
  show("copy unaligned dst", copy(ufd, area + 1, src, PG, &res));
  show("copy len 0", copy(ufd, area + 8 * PG, src, 0, &res));
  show("copy bad src", copy(ufd, area + 8 * PG, (void *)0x10000, PG, &res));
  printf("  copy %lld\n", res);
  char *plain = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  show("copy to unregistered", copy(ufd, plain, src, PG, &res));
  printf("  copy %lld\n", res);
  show("copy bad struct", ioctl(ufd, UFFDIO_COPY, (void *)8));
  show("copy onto page 9", copy(ufd, area + 9 * PG, src, PG, &res));
  printf("  copy %lld\n", res);
  show("copy pages 8-9, second present", copy(ufd, area + 8 * PG, src, 2 * PG, &res));
  printf("  copy %lld\n", res);
  show("copy pages 8-9, first present", copy(ufd, area + 8 * PG, src, 2 * PG, &res));
  printf("  copy %lld\n", res);

  /* WAKE without a fill: the fault comes again. */
  touch_in_thread(area + 2 * PG, &th);
  m = next_msg(ufd);
  print_msg("fault", m, area);
  struct uffdio_range wr = {.start = (uintptr_t)area + 2 * PG, .len = PG};
  show("wake", ioctl(ufd, UFFDIO_WAKE, &wr));
  m = next_msg(ufd);
  print_msg("fault again", m, area);
  wr.len = 0;
  show("wake len 0", ioctl(ufd, UFFDIO_WAKE, &wr));
  copy(ufd, area + 2 * PG, src, PG, NULL);
  pthread_join(th, &ret);
  printf("thread read '%c'\n", (char)(intptr_t)ret);

  /* A signal to a task blocked in a fault: its handler runs, then the fault again. */
  signal(SIGUSR1, on_usr1);
  touch_in_thread(area + 4 * PG, &th);
  m = next_msg(ufd);
  print_msg("fault", m, area);
  pthread_kill(th, SIGUSR1);
  m = next_msg(ufd);
  print_msg("fault after the signal", m, area);
  copy(ufd, area + 4 * PG, src, PG, NULL);
  pthread_join(th, &ret);
  printf("handler ran %d, thread read '%c'\n", sigs, (char)(intptr_t)ret);

  /* A read(2) into a missing page: the call waits for the handler (a write fault). */
  int p[2];
  pipe(p);
  write(p[1], "12345678", 8);
  pthread_create(&th, NULL, reader, p);
  pf.fd = ufd;
  pf.events = POLLIN;
  pr = poll(&pf, 1, -1);
  printf("poll with a fault pending: %d revents %#x\n", pr, pf.revents);
  m = next_msg(ufd);
  print_msg("fault of read(2)", m, area);
  printf("  write flag %d\n", !!(m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE));
  copy(ufd, area + 3 * PG, src, PG, NULL);
  pthread_join(th, &ret);
  printf("read returned %d, data '%.8s' then '%c'\n", (int)(intptr_t)ret, area + 3 * PG + 100, area[3 * PG + 108]);
  printf("poll nothing pending: %d\n", poll(&pf, 1, 0));

  pthread_create(&th, NULL, writer, p);
  m = next_msg(ufd);
  print_msg("fault of write(2)", m, area);
  printf("  write flag %d\n", !!(m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE));
  src[0] = 'w';
  copy(ufd, area + 6 * PG, src, PG, NULL);
  pthread_join(th, &ret);
  char wb[4];
  int rb = (int)read(p[0], wb, 4);
  printf("write returned %d, read back %d '%c'\n", (int)(intptr_t)ret, rb, wb[0]);
  pthread_create(&th, NULL, futex_waiter, NULL);
  m = next_msg(ufd);
  print_msg("fault of futex(2)", m, area);
  copy(ufd, area + 7 * PG, src, PG, NULL); /* the word is not 1: the wait ends at once */
  pthread_join(th, &ret);
  printf("futex returned %ld\n", (long)(intptr_t)ret);

  /* MADV_DONTNEED makes a page missing again. */
  madvise(area, PG, MADV_DONTNEED);
  touch_in_thread(area, &th);
  m = next_msg(ufd);
  print_msg("fault after DONTNEED", m, area);
  src[0] = 'y';
  copy(ufd, area, src, PG, NULL);
  pthread_join(th, &ret);
  printf("thread read '%c'\n", (char)(intptr_t)ret);

  /* A fork child's memory is not registered: it reads zeros. */
  pid_t c = fork();
  if (c == 0) {
    printf("child reads %d\n", area[5 * PG]);
    _exit(0);
  }
  waitpid(c, NULL, 0);

  /* UNREGISTER: the pages fill as plain memory. */
  struct uffdio_range ur = {.start = (uintptr_t)area + 12 * PG, .len = 4 * PG};
  show("unregister", ioctl(ufd, UFFDIO_UNREGISTER, &ur));
  area[12 * PG] = 7;
  printf("unregistered page reads %d\n", area[12 * PG]);
  ur.start++;
  show("unregister unaligned", ioctl(ufd, UFFDIO_UNREGISTER, &ur));
  show("copy after unregister", copy(ufd, area + 13 * PG, src, PG, &res));

  /* Shared anonymous memory. */
  char *sh = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  show("register shared", reg(ufd, sh, 2 * PG));
  touch_in_thread(sh + PG, &th);
  m = next_msg(ufd);
  print_msg("shared fault", m, sh);
  src[0] = 's';
  copy(ufd, sh + PG, src, PG, NULL);
  pthread_join(th, &ret);
  printf("thread read '%c'\n", (char)(intptr_t)ret);

  /* THREAD_ID and close while a task is blocked (it then gets a zero page). */
  int t2 = uffd(O_CLOEXEC);
  show("API THREAD_ID", api(t2, UFFD_FEATURE_THREAD_ID));
  char *b2 = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  b2[0] = 1; /* present: registering leaves it so */
  reg(t2, b2, PG);
  printf("present page reads %d\n", b2[0]);
  madvise(b2, PG, MADV_DONTNEED);
  toucher_tid = 0;
  touch_in_thread(b2, &th);
  m = next_msg(t2);
  print_msg("fault", m, b2);
  printf("  ptid is the toucher's: %d\n", m.arg.pagefault.feat.ptid == (uint32_t)toucher_tid);
  close(t2);
  pthread_join(th, &ret);
  printf("after close the thread read %d\n", (int)(intptr_t)ret);

  /* UFFD_FEATURE_SIGBUS: the touch is SIGBUS, a kernel access EFAULT (in a child: SIGBUS ends it). */
  write(p[1], "abcd", 4);
  c = fork();
  if (c == 0) {
    int t3 = uffd(O_CLOEXEC);
    show("API SIGBUS", api(t3, UFFD_FEATURE_SIGBUS));
    char *b3 = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    reg(t3, b3, PG);
    show("read(2) into a SIGBUS range", read(p[0], b3, 4));
    volatile char x = *b3;
    (void)x;
    _exit(0);
  }
  waitpid(c, &st, 0);
  printf("child touching it: signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);

  /* UFFD_USER_MODE_ONLY: the kernel's access to a missing page is EFAULT. */
  int t4 = uffd(O_CLOEXEC | UFFD_USER_MODE_ONLY);
  show("userfaultfd user mode only", t4);
  api(t4, 0);
  char *b4 = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  reg(t4, b4, PG);
  show("read(2) into a user-mode-only range", read(p[0], b4, 4));
  close(t4);
  printf("after close the page reads %d\n", b4[0]);

  /* Write protection: reads pass, a write waits (WRITE|WP) until released. */
  char *w = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(w, 'a', 2 * PG);
  r.range.start = (uintptr_t)w;
  r.range.len = 2 * PG;
  r.mode = UFFDIO_REGISTER_MODE_WP;
  show("register WP", ioctl(ufd, UFFDIO_REGISTER, &r));
  printf("  ioctls WRITEPROTECT %d COPY %d\n", !!(r.ioctls & (1ULL << _UFFDIO_WRITEPROTECT)), !!(r.ioctls & (1ULL << _UFFDIO_COPY)));
  struct uffdio_writeprotect wp = {.range = {.start = (uintptr_t)w, .len = 2 * PG}, .mode = UFFDIO_WRITEPROTECT_MODE_WP};
  show("writeprotect", ioctl(ufd, UFFDIO_WRITEPROTECT, &wp));
  printf("read of a protected page: '%c'\n", w[10]);
  wp_page = w;
  pthread_create(&th, NULL, wp_writer, NULL);
  m = next_msg(ufd);
  print_msg("WP fault", m, w);
  printf("  write %d wp %d, the page still '%c'\n", !!(m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE), !!(m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP), w[0xf]);
  wp.range.len = PG;
  wp.mode = 0;
  show("release page 0", ioctl(ufd, UFFDIO_WRITEPROTECT, &wp));
  pthread_join(th, NULL);
  printf("after release: '%c'\n", w[0xf]);
  write(p[1], "kw", 2);
  pthread_create(&th, NULL, wp_reader, p);
  m = next_msg(ufd);
  print_msg("WP fault of read(2)", m, w);
  printf("  write %d wp %d\n", !!(m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE), !!(m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP));
  wp.range.start = (uintptr_t)w + PG;
  show("release page 1", ioctl(ufd, UFFDIO_WRITEPROTECT, &wp));
  pthread_join(th, &ret);
  printf("read returned %d: '%c%c'\n", (int)(intptr_t)ret, w[PG], w[PG + 1]);
  wp.mode = UFFDIO_WRITEPROTECT_MODE_WP | UFFDIO_WRITEPROTECT_MODE_DONTWAKE;
  show("writeprotect WP|DONTWAKE", ioctl(ufd, UFFDIO_WRITEPROTECT, &wp));
  wp.mode = 4;
  show("writeprotect mode 4", ioctl(ufd, UFFDIO_WRITEPROTECT, &wp));
  wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
  wp.range.start = (uintptr_t)plain;
  show("writeprotect unregistered", ioctl(ufd, UFFDIO_WRITEPROTECT, &wp));
  show("copy WP into a WP-less range", copy_mode(ufd, area + 10 * PG, src, PG, UFFDIO_COPY_MODE_WP));
  /* MISSING|WP: a page copied in write-protected faults on its first write. */
  char *mw = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  r.range.start = (uintptr_t)mw;
  r.range.len = PG;
  r.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP;
  show("register MISSING|WP", ioctl(ufd, UFFDIO_REGISTER, &r));
  src[0] = 'c';
  show("copy WP", copy_mode(ufd, mw, src, PG, UFFDIO_COPY_MODE_WP));
  printf("read of it: '%c'\n", mw[0]);
  wp_page = mw;
  pthread_create(&th, NULL, wp_writer, NULL);
  m = next_msg(ufd);
  print_msg("WP fault", m, mw);
  wp.range.start = (uintptr_t)mw;
  wp.mode = 0;
  ioctl(ufd, UFFDIO_WRITEPROTECT, &wp);
  pthread_join(th, NULL);
  printf("after release: '%c'\n", mw[0xf]);

  /* A memfd (shmem file): MISSING for a page not in the file, MINOR for one in it, CONTINUE. */
  int mfd = memfd_create("uffd", MFD_CLOEXEC);
  if (ftruncate(mfd, 3 * PG) < 0 || pwrite(mfd, "F", 1, 0) != 1) return 1;
  char *mf = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
  r.range.start = (uintptr_t)mf;
  r.range.len = 3 * PG;
  r.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR;
  show("register memfd MISSING|MINOR", ioctl(ufd, UFFDIO_REGISTER, &r));
  printf("  ioctls CONTINUE %d\n", !!(r.ioctls & (1ULL << _UFFDIO_CONTINUE)));
  touch_in_thread(mf, &th);
  m = next_msg(ufd);
  print_msg("memfd fault, a page in the file", m, mf);
  printf("  minor %d\n", !!(m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR));
  struct uffdio_continue cont = {.range = {.start = (uintptr_t)mf, .len = PG}};
  show("continue", ioctl(ufd, UFFDIO_CONTINUE, &cont));
  pthread_join(th, &ret);
  printf("thread read '%c'\n", (char)(intptr_t)ret);
  touch_in_thread(mf + PG, &th);
  m = next_msg(ufd);
  print_msg("memfd fault", m, mf);
  printf("  minor %d\n", !!(m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR));
  src[0] = 'M';
  show("copy into the memfd", copy(ufd, mf + PG, src, PG, NULL));
  pthread_join(th, &ret);
  char fb = 0;
  if (pread(mfd, &fb, 1, PG) != 1) return 1;
  printf("thread read '%c', the file has '%c'\n", (char)(intptr_t)ret, fb);
  madvise(mf, 2 * PG, MADV_DONTNEED);
  touch_in_thread(mf + PG, &th);
  m = next_msg(ufd);
  print_msg("memfd fault after DONTNEED", m, mf);
  printf("  minor %d\n", !!(m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR));
  if (pwrite(mfd, "N", 1, PG) != 1) return 1;
  cont.range.start = (uintptr_t)mf + PG;
  show("continue", ioctl(ufd, UFFDIO_CONTINUE, &cont));
  printf("  mapped %lld\n", (long long)cont.mapped);
  pthread_join(th, &ret);
  printf("thread read '%c'\n", (char)(intptr_t)ret);
  show("continue again", ioctl(ufd, UFFDIO_CONTINUE, &cont));
  printf("  mapped %lld\n", (long long)cont.mapped);
  cont.range.start = (uintptr_t)mf + 2 * PG;
  show("continue, not in the file", ioctl(ufd, UFFDIO_CONTINUE, &cont));
  printf("  mapped %lld\n", (long long)cont.mapped);
  cont.range.start = (uintptr_t)area + 10 * PG;
  show("continue in a range without MINOR", ioctl(ufd, UFFDIO_CONTINUE, &cont));
  cont.mode = 2;
  show("continue mode 2", ioctl(ufd, UFFDIO_CONTINUE, &cont));
  show("register MINOR on private memory", ioctl(ufd, UFFDIO_REGISTER, &((struct uffdio_register){.range = {.start = (uintptr_t)plain, .len = PG}, .mode = UFFDIO_REGISTER_MODE_MINOR})));
  /* Shared anonymous memory, MINOR: a page another mapping filled. */
  char *sa = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  sa[0] = 'S';
  show("register shared MINOR", ioctl(ufd, UFFDIO_REGISTER, &((struct uffdio_register){.range = {.start = (uintptr_t)sa, .len = PG}, .mode = UFFDIO_REGISTER_MODE_MINOR})));
  madvise(sa, PG, MADV_DONTNEED);
  touch_in_thread(sa, &th);
  m = next_msg(ufd);
  print_msg("shared minor fault", m, sa);
  printf("  minor %d\n", !!(m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR));
  cont.range.start = (uintptr_t)sa;
  cont.mode = 0;
  show("continue", ioctl(ufd, UFFDIO_CONTINUE, &cont));
  pthread_join(th, &ret);
  printf("thread read '%c'\n", (char)(intptr_t)ret);

  /* UFFDIO_POISON: a touch of the page is SIGBUS (BUS_MCEERR_AR), a read(2) into it EFAULT, until MADV_DONTNEED. */
  printf("features has POISON %d\n", !!(a.features & UFFD_FEATURE_POISON));
  struct uffdio_poison po = {.range = {.start = (uintptr_t)area + 11 * PG, .len = PG}};
  show("poison", ioctl(ufd, UFFDIO_POISON, &po));
  printf("  updated %lld\n", (long long)po.updated);
  show("poison again", ioctl(ufd, UFFDIO_POISON, &po));
  printf("  updated %lld\n", (long long)po.updated);
  po.range.start = (uintptr_t)area;
  show("poison a present page", ioctl(ufd, UFFDIO_POISON, &po));
  po.mode = 2;
  show("poison mode 2", ioctl(ufd, UFFDIO_POISON, &po));
  struct sigaction bsa = {.sa_sigaction = on_bus, .sa_flags = SA_SIGINFO};
  sigaction(SIGBUS, &bsa, NULL);
  if (sigsetjmp(bus_jmp, 1) == 0) {
    volatile char x = area[11 * PG];
    (void)x;
    printf("no SIGBUS\n");
  } else {
    printf("SIGBUS code %d lsb %d\n", bus_code, bus_lsb);
  }
  signal(SIGBUS, SIG_DFL);
  c = fork();
  if (c == 0) {
    volatile char x = area[11 * PG];
    (void)x;
    _exit(0);
  }
  waitpid(c, &st, 0);
  printf("a fork child touching it: signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  write(p[1], "pq", 2);
  show("read(2) into a poisoned page", read(p[0], area + 11 * PG, 2));
  madvise(area + 11 * PG, PG, MADV_DONTNEED);
  touch_in_thread(area + 11 * PG, &th);
  m = next_msg(ufd);
  print_msg("fault after DONTNEED of a poisoned page", m, area);
  z.range.start = (uintptr_t)area + 11 * PG;
  z.range.len = PG;
  z.mode = 0;
  ioctl(ufd, UFFDIO_ZEROPAGE, &z);
  pthread_join(th, &ret);
  printf("thread read %d\n", (int)(intptr_t)ret);

  /* /dev/userfaultfd. */
  int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
  show("open /dev/userfaultfd", dev);
  int t5 = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
  show("USERFAULTFD_IOC_NEW", t5);
  show("  its API", api(t5, 0));
  printf("  nonblocking %d cloexec %d\n", !!(fcntl(t5, F_GETFL) & O_NONBLOCK), !!(fcntl(t5, F_GETFD) & FD_CLOEXEC));
  show("USERFAULTFD_IOC_NEW bad flags", ioctl(dev, USERFAULTFD_IOC_NEW, 0x100));
  show("other ioctl on the device", ioctl(dev, UFFDIO_API, &a));
  close(t5);
  close(dev);

  /* Who may: vm.unprivileged_userfaultfd (0 here), CAP_SYS_PTRACE, or user mode only. */
  FILE *sf = fopen("/proc/sys/vm/unprivileged_userfaultfd", "r");
  int sv = -1;
  if (sf && fscanf(sf, "%d", &sv) == 1) printf("vm.unprivileged_userfaultfd %d\n", sv);
  if (sf) fclose(sf);
  c = fork();
  if (c == 0) {
    if (setgid(65534) < 0 || setuid(65534) < 0) _exit(1);
    show("unprivileged userfaultfd", uffd(O_CLOEXEC));
    show("unprivileged userfaultfd, user mode only", uffd(O_CLOEXEC | UFFD_USER_MODE_ONLY));
    show("unprivileged open /dev/userfaultfd", open("/dev/userfaultfd", O_RDWR));
    _exit(0);
  }
  waitpid(c, NULL, 0);

  close(ufd);
  printf("done\n");
  return 0;
}
