/* loophostile: loop devices used against the kernel that serves them. A
 * device bound to itself or into a cycle (LOOP_CHANGE_FD onto a device
 * stacked on it), offsets at the top of the range, requests through bad
 * pointers, a discard range that wraps, a backing file unlinked while bound,
 * and (with SANDBOX=1: the host's limit is not the sandbox's) LOOP_CTL_ADD
 * until the bound refuses. Each case prints "ok NAME" or "FAIL NAME ...". */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

static int fails;

static void want(const char *name, long r, int want_errno) {
  int e = r < 0 ? errno : 0;
  if (e == want_errno) {
    printf("ok %s\n", name);
  } else {
    printf("FAIL %s: %s, want %s\n", name, ename(e), ename(want_errno));
    fails++;
  }
}

static int ctl;

static int new_dev(int *idx) {
  *idx = ioctl(ctl, LOOP_CTL_ADD, -1);
  if (*idx < 0) DIE("LOOP_CTL_ADD");
  char p[64];
  snprintf(p, sizeof p, "/dev/loop%d", *idx);
  int d = -1;
  for (int i = 0; i < 100 && d < 0; i++) {
    d = open(p, O_RDWR | O_CLOEXEC);
    if (d < 0) sleep_ms(10);
  }
  if (d < 0) DIE("open new device");
  return d;
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) return 2;
  int sandbox = getenv("SANDBOX") != NULL;
  char img[4096];
  snprintf(img, sizeof img, "%s/h.img", argv[1]);
  int f = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f < 0 || ftruncate(f, 1 << 20) < 0) DIE("image");
  ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) DIE("loop-control");
  int ia, ib;
  int a = new_dev(&ia), b = new_dev(&ib);

  want("bind to itself", ioctl(a, LOOP_SET_FD, a), EBADF);
  want("bind to an unbound loop", ioctl(a, LOOP_SET_FD, b), EINVAL);
  /* a reads the image read-only; b is stacked on a; a may not move onto b (a cycle). */
  int ro = open(img, O_RDONLY | O_CLOEXEC);
  want("bind a", ioctl(a, LOOP_SET_FD, ro), 0);
  want("stack b on a", ioctl(b, LOOP_SET_FD, a), 0);
  want("change a onto b", ioctl(a, LOOP_CHANGE_FD, b), EBADF);
  want("rebind b", ioctl(b, LOOP_SET_FD, ro), EBUSY);
  char buf[16];
  want("read through the stack", pread(b, buf, sizeof buf, 4096), 0);

  /* Offsets at the top of the range. */
  struct loop_info64 li;
  memset(&li, 0, sizeof li);
  li.lo_offset = UINT64_MAX;
  want("offset 2^64-1", ioctl(b, LOOP_SET_STATUS64, &li), EOVERFLOW);
  li.lo_offset = 0;
  li.lo_sizelimit = 1ULL << 63;
  want("sizelimit 2^63", ioctl(b, LOOP_SET_STATUS64, &li), EOVERFLOW);
  li.lo_sizelimit = 0;
  li.lo_offset = (1ULL << 40);
  want("offset 2^40", ioctl(b, LOOP_SET_STATUS64, &li), 0);
  uint64_t size = 1;
  want("size past the end", ioctl(b, BLKGETSIZE64, &size), 0);
  printf("%s size 0\n", size == 0 ? "ok" : "FAIL");
  want("read far", pread(b, buf, sizeof buf, (off_t)1 << 62), 0);
  want("lseek far", lseek(b, (off_t)1 << 62, SEEK_SET) < 0 ? -1 : 0, EINVAL);
  uint64_t wrap[2] = {512, UINT64_MAX - 511};
  want("discard on a read-only device", ioctl(a, BLKDISCARD, wrap), EPERM);

  /* Bad pointers. */
  void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  want("GET_STATUS64 bad pointer", ioctl(a, LOOP_GET_STATUS64, bad), EFAULT);
  want("SET_STATUS64 bad pointer", ioctl(a, LOOP_SET_STATUS64, bad), EFAULT);
  want("CONFIGURE bad pointer", ioctl(b, LOOP_CONFIGURE, bad), EFAULT);
  want("BLKGETSIZE64 bad pointer", ioctl(a, BLKGETSIZE64, bad), EFAULT);
  want("BLKDISCARD bad pointer", ioctl(a, BLKDISCARD, bad), EFAULT);

  /* The backing file unlinked and closed while bound: the device keeps it. */
  want("clear b", ioctl(b, LOOP_CLR_FD, 0), 0);
  close(b);
  want("clear a", ioctl(a, LOOP_CLR_FD, 0), 0);
  close(a);
  a = open("/dev/loop-control", O_RDONLY | O_CLOEXEC);
  close(a);
  char p[64];
  snprintf(p, sizeof p, "/dev/loop%d", ia);
  a = open(p, O_RDWR | O_CLOEXEC);
  want("bind read-write", ioctl(a, LOOP_SET_FD, f), 0);
  want("write", pwrite(a, "kept", 4, 0), 0);
  want("discard wraps", ioctl(a, BLKDISCARD, wrap), EINVAL);
  close(f);
  close(ro);
  unlink(img);
  memset(buf, 0, sizeof buf);
  want("read after unlink", pread(a, buf, 4, 0), 0);
  printf("%s data kept\n", memcmp(buf, "kept", 4) == 0 ? "ok" : "FAIL");
  want("clear", ioctl(a, LOOP_CLR_FD, 0), 0);
  close(a);
  want("remove a", ioctl(ctl, LOOP_CTL_REMOVE, ia), 0);
  want("remove b", ioctl(ctl, LOOP_CTL_REMOVE, ib), 0);

  if (sandbox) {
    /* The sandbox's bound on devices: adding stops with ENOSPC, and GET_FREE finds the free ones. */
    int made[256], n = 0, r;
    while (n < 256 && (r = ioctl(ctl, LOOP_CTL_ADD, -1)) >= 0) made[n++] = r;
    want("add past the bound", r, ENOSPC);
    printf("%s added some (%s)\n", n > 0 && n < 256 ? "ok" : "FAIL", n > 0 ? "bounded" : "none");
    want("add a huge index", ioctl(ctl, LOOP_CTL_ADD, 1 << 20), ENOSPC);
    int free1 = ioctl(ctl, LOOP_CTL_GET_FREE), free2 = ioctl(ctl, LOOP_CTL_GET_FREE);
    printf("%s get-free stable\n", free1 >= 0 && free1 == free2 ? "ok" : "FAIL");
    for (int i = 0; i < n; i++) ioctl(ctl, LOOP_CTL_REMOVE, made[i]);
    want("add after removing", (r = ioctl(ctl, LOOP_CTL_ADD, -1)) < 0 ? -1 : 0, 0);
    if (r >= 0) ioctl(ctl, LOOP_CTL_REMOVE, r);
    /* ext2 is the sandbox's one disk file system: on an unbound device it finds no superblock (EINVAL);
       the others do not exist there ("no such file system type"). */
    char mnt[4200];
    snprintf(mnt, sizeof mnt, "%s/mnt", argv[1]);
    if (mkdir(mnt, 0755) < 0) DIE("mkdir");
    int fr = ioctl(ctl, LOOP_CTL_GET_FREE);
    snprintf(p, sizeof p, "/dev/loop%d", fr);
    const char *types[] = {"ext2", "ext3", "ext4", "xfs", "btrfs", "vfat"};
    for (unsigned i = 0; i < sizeof types / sizeof *types; i++) {
      char name[64];
      snprintf(name, sizeof name, "mount %s", types[i]);
      want(name, mount(p, mnt, types[i], 0, NULL), i == 0 ? EINVAL : ENODEV);
    }
  }
  printf(fails ? "FAILED\n" : "done\n");
  return fails != 0;
}
