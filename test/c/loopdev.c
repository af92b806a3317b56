/* loopdev: loop block devices (loop(4)). A free device from
 * /dev/loop-control, bound to a file of the test's directory: writes through
 * the device land in the file at the offset and back, the status
 * round-trips, the block ioctls answer, and Linux's errors for unbound,
 * busy, read-only and unprivileged use. Run as root (natively it uses the
 * host's loop driver: device numbers are never printed, only compared). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

static char img[4096], img2[4096];
static char devpath[64];
static int idx;

#define E(label, expr) SHOW(label, expr)

static int ctl_open(void) {
  int c = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (c < 0) DIE("open loop-control");
  return c;
}

/* A free device, opened read-write (another user may take it first on a host: try again). */
static int get_free(int flags) {
  for (int tries = 0; tries < 50; tries++) {
    int c = ctl_open();
    idx = ioctl(c, LOOP_CTL_GET_FREE);
    close(c);
    if (idx < 0) DIE("LOOP_CTL_GET_FREE");
    snprintf(devpath, sizeof devpath, "/dev/loop%d", idx);
    int d = -1;
    for (int i = 0; i < 100 && d < 0; i++) {
      d = open(devpath, flags | O_CLOEXEC);
      if (d < 0) sleep_ms(10); /* the node may come a moment after the device (udev) */
    }
    if (d < 0) DIE("open loop device");
    struct loop_info64 li;
    if (ioctl(d, LOOP_GET_STATUS64, &li) < 0 && errno == ENXIO) return d;
    close(d);
  }
  DIE("no free loop device");
}

static void mkfile(const char *path, size_t size, int seed) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) DIE("create image");
  char buf[4096];
  for (size_t off = 0; off < size; off += sizeof buf) {
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)((off + i) * 7 + seed);
    size_t n = size - off < sizeof buf ? size - off : sizeof buf;
    if (write(fd, buf, n) != (ssize_t)n) DIE("fill image");
  }
  close(fd);
}

static uint64_t size64(int d) {
  uint64_t s = 0;
  if (ioctl(d, BLKGETSIZE64, &s) < 0) printf("BLKGETSIZE64: %s\n", ename(errno));
  return s;
}

static void status(int d, const char *when) {
  struct loop_info64 li;
  memset(&li, 0, sizeof li);
  if (ioctl(d, LOOP_GET_STATUS64, &li) < 0) {
    printf("%s: status %s\n", when, ename(errno));
    return;
  }
  struct stat st;
  int same = stat(img, &st) == 0 && li.lo_inode == st.st_ino;
  printf("%s: number-ok %d inode-ok %d offset %llu sizelimit %llu flags %#x name '%s' crypt '%s' type %u size %llu\n", when,
         (int)li.lo_number == idx, same, (unsigned long long)li.lo_offset, (unsigned long long)li.lo_sizelimit,
         li.lo_flags, (char *)li.lo_file_name, (char *)li.lo_crypt_name, li.lo_encrypt_type, (unsigned long long)size64(d));
}

static void sysattr(const char *name) {
  char p[128], buf[4200] = "";
  snprintf(p, sizeof p, "/sys/block/loop%d/%s", idx, name);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    printf("sys %s: %s\n", name, ename(errno));
    return;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
  if (strcmp(name, "loop/backing_file") == 0) {
    char real[4096];
    printf("sys %s: is-image %d\n", name, realpath(img, real) && strcmp(real, buf) == 0);
  } else {
    printf("sys %s: %s\n", name, buf);
  }
}

/* The device's line of /proc/partitions (only devices with a capacity have one). */
static void partitions(const char *when) {
  FILE *f = fopen("/proc/partitions", "r");
  char line[256], name[64], want[64];
  unsigned maj, min;
  unsigned long long blocks;
  int found = 0;
  snprintf(want, sizeof want, "loop%d", idx);
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "%u %u %llu %63s", &maj, &min, &blocks, name) == 4 && strcmp(name, want) == 0) {
      printf("%s: partitions major %u minor-ok %d blocks %llu\n", when, maj, (int)min == idx, blocks);
      found = 1;
    }
  if (!found) printf("%s: partitions none\n", when);
  if (f) fclose(f);
}

static void drop_sys_admin(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct cd[2];
  if (syscall(SYS_capget, &h, cd) < 0) DIE("capget");
  cd[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
  if (syscall(SYS_capset, &h, cd) < 0) DIE("capset");
}

static void unbound_cases(int d) {
  struct stat st;
  if (fstat(d, &st) < 0) DIE("fstat");
  printf("node: blk %d major %u minor-ok %d\n", S_ISBLK(st.st_mode), major(st.st_rdev), (int)minor(st.st_rdev) == idx);
  struct loop_info64 li;
  memset(&li, 0, sizeof li);
  E("unbound GET_STATUS64", ioctl(d, LOOP_GET_STATUS64, &li));
  E("unbound SET_STATUS64", ioctl(d, LOOP_SET_STATUS64, &li));
  E("unbound CLR_FD", ioctl(d, LOOP_CLR_FD, 0));
  E("unbound SET_CAPACITY", ioctl(d, LOOP_SET_CAPACITY, 0));
  E("unbound SET_BLOCK_SIZE", ioctl(d, LOOP_SET_BLOCK_SIZE, 4096));
  E("unbound SET_DIRECT_IO", ioctl(d, LOOP_SET_DIRECT_IO, 0));
  printf("unbound size %llu\n", (unsigned long long)size64(d));
  char b[16];
  E("unbound GET_STATUS64 NULL", ioctl(d, LOOP_GET_STATUS64, NULL));
  E("unbound GET_STATUS NULL", ioctl(d, LOOP_GET_STATUS, NULL));
  E("unbound SET_STATUS64 NULL", ioctl(d, LOOP_SET_STATUS64, NULL));
  uint64_t range[2] = {0, 512};
  E("unbound BLKDISCARD", ioctl(d, BLKDISCARD, range));
  E("unbound BLKZEROOUT", ioctl(d, BLKZEROOUT, range));
  range[1] = 0;
  E("unbound BLKDISCARD empty", ioctl(d, BLKDISCARD, range));
  E("unbound read", read(d, b, sizeof b));
  E("unbound write", write(d, "x", 1));
  E("unbound lseek end", lseek(d, 0, SEEK_END));
  int dir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  E("SET_FD directory", ioctl(d, LOOP_SET_FD, dir));
  close(dir);
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) DIE("pipe");
  E("SET_FD pipe", ioctl(d, LOOP_SET_FD, p[0]));
  close(p[0]);
  close(p[1]);
  E("SET_FD bad fd", ioctl(d, LOOP_SET_FD, 999));
  E("SET_FD self", ioctl(d, LOOP_SET_FD, d));
  sysattr("size");
  partitions("unbound");
}

static void io_cases(int d) {
  int f = open(img, O_RDWR | O_CLOEXEC);
  if (f < 0) DIE("open image");
  E("SET_FD", ioctl(d, LOOP_SET_FD, f));
  E("SET_FD again", ioctl(d, LOOP_SET_FD, f));
  status(d, "bound");
  E("GET_STATUS64 NULL", ioctl(d, LOOP_GET_STATUS64, NULL));
  E("SET_STATUS64 NULL", ioctl(d, LOOP_SET_STATUS64, NULL));
  E("CONFIGURE NULL", ioctl(d, LOOP_CONFIGURE, NULL));
  uint64_t zr[2] = {0, 0};
  E("BLKDISCARD empty", ioctl(d, BLKDISCARD, zr));
  E("BLKZEROOUT empty", ioctl(d, BLKZEROOUT, zr));
  E("BLKSECDISCARD", ioctl(d, BLKSECDISCARD, zr));
  unsigned long sectors = 0;
  int ssz = 0, ro = -1;
  unsigned int pbsz = 0, iomin = 0;
  E("BLKGETSIZE", ioctl(d, BLKGETSIZE, &sectors));
  E("BLKSSZGET", ioctl(d, BLKSSZGET, &ssz));
  E("BLKPBSZGET", ioctl(d, BLKPBSZGET, &pbsz));
  E("BLKIOMIN", ioctl(d, BLKIOMIN, &iomin));
  E("BLKROGET", ioctl(d, BLKROGET, &ro));
  printf("sectors %lu ssz %d pbsz %u iomin %u ro %d\n", sectors, ssz, pbsz, iomin, ro);
  long ra = -1;
  size_t bsz = 0;
  unsigned int ioopt = 9, dz = 9;
  unsigned short rot = 9;
  int align = -1;
  E("BLKRAGET", ioctl(d, BLKRAGET, &ra));
  E("BLKBSZGET", ioctl(d, BLKBSZGET, &bsz));
  E("BLKIOOPT", ioctl(d, BLKIOOPT, &ioopt));
  E("BLKALIGNOFF", ioctl(d, BLKALIGNOFF, &align));
  E("BLKDISCARDZEROES", ioctl(d, BLKDISCARDZEROES, &dz));
  E("BLKROTATIONAL", ioctl(d, BLKROTATIONAL, &rot)); /* its value follows the backing device */
  E("BLKRRPART", ioctl(d, BLKRRPART, 0));
  printf("ra-set %d bsz %zu ioopt %u align %d dz %u rot-ok %d\n", ra > 0, bsz, ioopt, align, dz, rot <= 1);
  /* BLKRASET keeps whole pages: 1001 sectors read back as 1000. */
  long ra2 = -1;
  E("BLKRASET", ioctl(d, BLKRASET, 1001UL));
  E("BLKRAGET after set", ioctl(d, BLKRAGET, &ra2));
  printf("ra after set %ld\n", ra2);
  E("BLKRASET back", ioctl(d, BLKRASET, (unsigned long)ra));
  sysattr("size");
  sysattr("ro");
  sysattr("loop/backing_file");
  sysattr("loop/offset");
  sysattr("loop/sizelimit");
  sysattr("loop/autoclear");
  partitions("bound");

  /* Through the device to the file and back. */
  E("pwrite dev", pwrite(d, "hello loop", 10, 512));
  E("fsync dev", fsync(d));
  char b[32] = "";
  E("pread file", pread(f, b, 10, 512));
  printf("file at 512: %.10s\n", b);
  E("pwrite file", pwrite(f, "from file", 9, 4096));
  memset(b, 0, sizeof b);
  E("pread dev", pread(d, b, 9, 4096));
  printf("dev at 4096: %.9s\n", b);
  E("lseek end", lseek(d, 0, SEEK_END));
  E("read at end", read(d, b, 8));
  E("write at end", write(d, "x", 1));
  E("lseek past end", lseek(d, 1, SEEK_END));
  E("lseek back", lseek(d, -8, SEEK_END));
  E("read tail", read(d, b, 30));
  E("lseek data", lseek(d, 0, SEEK_DATA));
  E("lseek hole", lseek(d, 0, SEEK_HOLE));

  /* Status: offset, size limit, names, the flags SET_STATUS64 may change. */
  struct loop_info64 li;
  memset(&li, 0, sizeof li);
  li.lo_offset = 1024;
  li.lo_sizelimit = 8192;
  li.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_READ_ONLY | LO_FLAGS_DIRECT_IO | 0x100;
  strcpy((char *)li.lo_file_name, "backing-name");
  strcpy((char *)li.lo_crypt_name, "crypt-name");
  E("SET_STATUS64", ioctl(d, LOOP_SET_STATUS64, &li));
  status(d, "after set");
  sysattr("loop/offset");
  sysattr("loop/sizelimit");
  sysattr("loop/autoclear");
  sysattr("size");
  partitions("after set");
  memset(b, 0, sizeof b);
  E("pread dev at 0", pread(d, b, 9, 4096 - 1024));
  printf("dev at 3072: %.9s\n", b);
  li.lo_flags = 0;
  E("SET_STATUS64 clear autoclear", ioctl(d, LOOP_SET_STATUS64, &li));
  status(d, "cleared");
  li.lo_encrypt_type = 1;
  E("SET_STATUS64 xor", ioctl(d, LOOP_SET_STATUS64, &li));
  li.lo_encrypt_type = 0;
  li.lo_encrypt_key_size = 33;
  E("SET_STATUS64 key size", ioctl(d, LOOP_SET_STATUS64, &li));
  li.lo_encrypt_key_size = 0;
  li.lo_offset = 1ULL << 63;
  E("SET_STATUS64 huge offset", ioctl(d, LOOP_SET_STATUS64, &li));
  li.lo_offset = 1ULL << 40;
  E("SET_STATUS64 offset past end", ioctl(d, LOOP_SET_STATUS64, &li));
  status(d, "offset past end");
  E("read past-end device", read(d, b, 8));

  /* The old interface. */
  struct loop_info old;
  memset(&old, 0, sizeof old);
  old.lo_offset = 512;
  strcpy(old.lo_name, "old-name");
  E("SET_STATUS", ioctl(d, LOOP_SET_STATUS, &old));
  memset(&old, 0, sizeof old);
  E("GET_STATUS", ioctl(d, LOOP_GET_STATUS, &old));
  printf("old: number-ok %d offset %d flags %#x name '%s'\n", old.lo_number == idx, old.lo_offset, old.lo_flags, old.lo_name);
  status(d, "after old");
  old.lo_offset = -1;
  E("SET_STATUS negative offset", ioctl(d, LOOP_SET_STATUS, &old));
  old.lo_offset = 0;
  E("SET_STATUS zero", ioctl(d, LOOP_SET_STATUS, &old));

  /* Block sizes. */
  E("SET_BLOCK_SIZE 1000", ioctl(d, LOOP_SET_BLOCK_SIZE, 1000));
  E("SET_BLOCK_SIZE 256", ioctl(d, LOOP_SET_BLOCK_SIZE, 256));
  E("SET_BLOCK_SIZE 4096", ioctl(d, LOOP_SET_BLOCK_SIZE, 4096));
  E("BLKSSZGET", ioctl(d, BLKSSZGET, &ssz));
  E("BLKPBSZGET", ioctl(d, BLKPBSZGET, &pbsz));
  printf("ssz %d pbsz %u\n", ssz, pbsz);
  E("SET_BLOCK_SIZE 512", ioctl(d, LOOP_SET_BLOCK_SIZE, 512));
  E("SET_DIRECT_IO 0", ioctl(d, LOOP_SET_DIRECT_IO, 0));

  /* Capacity follows the file only when asked. */
  if (ftruncate(f, (1 << 20) + 8192) < 0) DIE("grow image");
  printf("grown, size %llu\n", (unsigned long long)size64(d));
  E("SET_CAPACITY", ioctl(d, LOOP_SET_CAPACITY, 0));
  printf("capacity, size %llu\n", (unsigned long long)size64(d));

  /* Discard punches the file; the range is checked. */
  uint64_t r[2] = {512, 100};
  E("BLKDISCARD unaligned", ioctl(d, BLKDISCARD, r));
  r[0] = 0;
  r[1] = 1ULL << 40;
  E("BLKDISCARD past end", ioctl(d, BLKDISCARD, r));
  r[0] = 4096;
  r[1] = 4096;
  E("BLKDISCARD", ioctl(d, BLKDISCARD, r));
  memset(b, 1, sizeof b);
  E("pread file punched", pread(f, b, 9, 4096));
  printf("punched zero %d\n", b[0] == 0 && b[8] == 0);
  E("BLKZEROOUT", ioctl(d, BLKZEROOUT, (uint64_t[2]){8192, 512}));
  E("BLKFLSBUF", ioctl(d, BLKFLSBUF, 0));

  /* BLKROSET: writes refused while set. */
  int one = 1, zero = 0;
  E("BLKROSET 1", ioctl(d, BLKROSET, &one));
  E("BLKROGET", ioctl(d, BLKROGET, &ro));
  printf("ro %d\n", ro);
  E("write ro", pwrite(d, "x", 1, 0));
  E("BLKROSET 0", ioctl(d, BLKROSET, &zero));
  E("write rw", pwrite(d, "x", 1, 0));
  E("unknown loop ioctl", ioctl(d, 0x4C55, 0));
  E("unknown ioctl", ioctl(d, _IO('Z', 7), 0));
  E("mmap-less fstat size", ({ struct stat st; fstat(d, &st) < 0 ? -1 : (long)st.st_size; }));

  /* Unprivileged: the privileged block ioctls and changes through a read-only open. */
  int rd = open(devpath, O_RDONLY | O_CLOEXEC);
  if (rd < 0) DIE("open read-only");
  pid_t pid = xfork();
  if (pid == 0) {
    drop_sys_admin();
    E("nocap BLKROSET", ioctl(d, BLKROSET, &zero));
    E("nocap BLKFLSBUF", ioctl(d, BLKFLSBUF, 0));
    E("nocap SET_STATUS64 rw", ioctl(d, LOOP_SET_STATUS64, &li));
    E("nocap SET_STATUS64 ro", ioctl(rd, LOOP_SET_STATUS64, &li));
    E("nocap SET_BLOCK_SIZE ro", ioctl(rd, LOOP_SET_BLOCK_SIZE, 512));
    E("nocap SET_CAPACITY ro", ioctl(rd, LOOP_SET_CAPACITY, 0));
    E("nocap GET_STATUS64 ro", ioctl(rd, LOOP_GET_STATUS64, &li));
    E("nocap BLKDISCARD ro", ioctl(rd, BLKDISCARD, r));
    int c = ctl_open();
    E("nocap CTL_REMOVE", ioctl(c, LOOP_CTL_REMOVE, 1 << 19));
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  E("BLKDISCARD ro", ioctl(rd, BLKDISCARD, r));
  E("write through ro open", write(rd, "x", 1));

  /* loop-control against a bound device. */
  int c = ctl_open();
  E("CTL_ADD existing", ioctl(c, LOOP_CTL_ADD, idx) < 0 ? -1 : 0);
  E("CTL_REMOVE bound", ioctl(c, LOOP_CTL_REMOVE, idx));
  E("CTL_REMOVE missing", ioctl(c, LOOP_CTL_REMOVE, (1 << 20) - 1));
  E("CTL_REMOVE negative", ioctl(c, LOOP_CTL_REMOVE, -1));
  E("CTL unknown", ioctl(c, 0x4C8F, 0));
  close(c);

  /* Detach with another open: marked AUTOCLEAR, still bound. */
  E("CLR_FD two openers", ioctl(d, LOOP_CLR_FD, 0));
  status(d, "clear pending");
  close(rd);
  /* The only opener: the device runs down now and goes at the close. */
  E("CLR_FD", ioctl(d, LOOP_CLR_FD, 0));
  E("CLR_FD again", ioctl(d, LOOP_CLR_FD, 0));
  E("GET_STATUS64 rundown", ioctl(d, LOOP_GET_STATUS64, &li));
  E("SET_FD rundown", ioctl(d, LOOP_SET_FD, f));
  close(f);
}

static void readonly_cases(void) {
  int d = get_free(O_RDWR);
  int f = open(img, O_RDONLY | O_CLOEXEC);
  E("SET_FD read-only file", ioctl(d, LOOP_SET_FD, f));
  status(d, "read-only");
  int ro = -1;
  E("BLKROGET", ioctl(d, BLKROGET, &ro));
  printf("ro %d\n", ro);
  sysattr("ro");
  E("write read-only", pwrite(d, "x", 1, 0));
  /* CHANGE_FD needs a read-only device and a file of the same size. */
  int f2 = open(img2, O_RDONLY | O_CLOEXEC);
  E("CHANGE_FD other size", ioctl(d, LOOP_CHANGE_FD, f2));
  if (ftruncate(open(img2, O_RDWR | O_CLOEXEC), (1 << 20) + 8192) < 0) DIE("size image2");
  E("CHANGE_FD", ioctl(d, LOOP_CHANGE_FD, f2));
  char b[8] = "";
  E("pread changed", pread(d, b, 4, 0));
  printf("changed first byte %d\n", b[0]);
  E("CHANGE_FD self", ioctl(d, LOOP_CHANGE_FD, d));
  E("CLR_FD", ioctl(d, LOOP_CLR_FD, 0));
  close(f);
  close(f2);
  close(d);
}

static void configure_cases(void) {
  int d = get_free(O_RDWR);
  int f = open(img, O_RDWR | O_CLOEXEC);
  struct loop_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.fd = f;
  cfg.block_size = 3000;
  E("CONFIGURE bad block size", ioctl(d, LOOP_CONFIGURE, &cfg));
  cfg.block_size = 4096;
  cfg.info.lo_flags = 0x100;
  E("CONFIGURE bad flags", ioctl(d, LOOP_CONFIGURE, &cfg));
  cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_READ_ONLY;
  cfg.info.lo_offset = 4096;
  cfg.info.lo_sizelimit = 65536;
  E("CONFIGURE", ioctl(d, LOOP_CONFIGURE, &cfg));
  status(d, "configured");
  int ssz = 0;
  E("BLKSSZGET", ioctl(d, BLKSSZGET, &ssz));
  printf("ssz %d\n", ssz);
  E("CONFIGURE again", ioctl(d, LOOP_CONFIGURE, &cfg));
  /* A second device on the first (a loop over a loop), and nothing over an unbound one. */
  int d2 = get_free(O_RDWR);
  int save = idx;
  E("SET_FD on loop", ioctl(d2, LOOP_SET_FD, d));
  printf("stacked size %llu\n", (unsigned long long)size64(d2));
  E("CLR_FD stacked", ioctl(d2, LOOP_CLR_FD, 0));
  close(d2);
  idx = save;
  /* AUTOCLEAR: the last close detaches. */
  close(f);
  close(d);
  d = open(devpath, O_RDONLY | O_CLOEXEC);
  struct loop_info64 li;
  E("autocleared GET_STATUS64", ioctl(d, LOOP_GET_STATUS64, &li));
  close(d);
}

static void control_cases(void) {
  int c = ctl_open();
  int n = ioctl(c, LOOP_CTL_ADD, -1);
  printf("CTL_ADD -1 ok %d\n", n >= 0);
  if (n >= 0) {
    char p[64];
    snprintf(p, sizeof p, "/dev/loop%d", n);
    struct stat st;
    int ok = 0;
    for (int i = 0; i < 100 && !ok; i++) {
      ok = stat(p, &st) == 0 && S_ISBLK(st.st_mode) && (int)minor(st.st_rdev) == n;
      if (!ok) sleep_ms(10);
    }
    printf("new node ok %d\n", ok);
    int n2 = ioctl(c, LOOP_CTL_ADD, -1);
    printf("CTL_ADD -1 again ok %d\n", n2 >= 0 && n2 != n);
    if (n2 >= 0) {
      char p2[64];
      snprintf(p2, sizeof p2, "/dev/loop%d", n2);
      int a = open(p, O_RDWR | O_CLOEXEC), b = open(p2, O_RDWR | O_CLOEXEC);
      E("SET_FD on unbound loop", ioctl(a, LOOP_SET_FD, b));
      E("CTL_REMOVE open", ioctl(c, LOOP_CTL_REMOVE, n2));
      close(a);
      close(b);
      E("CTL_REMOVE new 2", ioctl(c, LOOP_CTL_REMOVE, n2));
    }
    E("CTL_REMOVE new", ioctl(c, LOOP_CTL_REMOVE, n));
    E("CTL_REMOVE removed", ioctl(c, LOOP_CTL_REMOVE, n));
    E("stat removed", stat(p, &st));
  }
  close(c);
}

int main(int argc, char **argv) {
  line_buffered();
  if (argc < 2) return 2;
  snprintf(img, sizeof img, "%s/loop.img", argv[1]);
  snprintf(img2, sizeof img2, "%s/loop2.img", argv[1]);
  mkfile(img, (1 << 20) + 100, 1);
  mkfile(img2, 1 << 19, 2);
  /* A new device: its read-only flag has no history (Linux keeps the last binding's after a clear). */
  int c = ctl_open();
  idx = ioctl(c, LOOP_CTL_ADD, -1);
  if (idx < 0) DIE("LOOP_CTL_ADD");
  snprintf(devpath, sizeof devpath, "/dev/loop%d", idx);
  int d = -1;
  for (int i = 0; i < 100 && d < 0; i++) {
    d = open(devpath, O_RDWR | O_CLOEXEC);
    if (d < 0) sleep_ms(10);
  }
  if (d < 0) DIE("open new loop device");
  int made = idx;
  unbound_cases(d);
  io_cases(d);
  close(d);
  E("CTL_REMOVE made", ioctl(c, LOOP_CTL_REMOVE, made));
  close(c);
  readonly_cases();
  configure_cases();
  control_cases();
  printf("done\n");
  return 0;
}
