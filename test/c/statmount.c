/* statmount: statmount and listmount (Linux 6.8) and statx's
 * STATX_MNT_ID_UNIQUE against native. The mount tables differ (the host's
 * against the sandbox's), so what is printed are facts each kernel states
 * about its own table: /proc's mount seen by statmount (type, root, mount
 * point, source, magic, its ids against statx and /proc/self/mountinfo,
 * its parent's), the root's, listmount(LSMT_ROOT) against mountinfo's line
 * count, pagination and LISTMOUNT_REVERSE, and the argument checks: struct
 * mnt_id_req sizes and fields, unknown ids, flags, small and bad buffers. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#define NR_STATMOUNT 457
#define NR_LISTMOUNT 458
#define LSMT_ROOT 0xffffffffffffffffULL
#define UNIQUE_OFFSET (1ULL << 31)

struct req {
  uint32_t size, spare;
  uint64_t mnt_id, param, mnt_ns_id;
};

struct sm {
  uint32_t size, mnt_opts;
  uint64_t mask;
  uint32_t sb_dev_major, sb_dev_minor;
  uint64_t sb_magic;
  uint32_t sb_flags, fs_type;
  uint64_t mnt_id, mnt_parent_id;
  uint32_t mnt_id_old, mnt_parent_id_old;
  uint64_t mnt_attr, mnt_propagation, mnt_peer_group, mnt_master, propagate_from;
  uint32_t mnt_root, mnt_point;
  uint64_t mnt_ns_id;
  uint32_t fs_subtype, sb_source, opt_num, opt_array, opt_sec_num, opt_sec_array;
  uint64_t supported_mask;
  uint32_t uidmap_num, uidmap, gidmap_num, gidmap;
  uint64_t spare2[43];
  char str[];
};

static unsigned char buf[16384];
static struct sm *const s = (struct sm *)buf;

static void res(const char *what, long r) {
  if (r < 0 && errno == EOVERFLOW) printf("%-44s -1 EOVERFLOW\n", what);
  else if (r < 0) printf("%-44s -1 %s\n", what, ename(errno));
  else printf("%-44s %ld\n", what, r);
}

static long stm(uint64_t id, uint64_t mask, void *out, size_t size, unsigned flags) {
  struct req r = {sizeof r, 0, id, mask, 0};
  return syscall(NR_STATMOUNT, &r, out, size, flags);
}

static long lsm(uint64_t id, uint64_t last, uint64_t *ids, size_t n, unsigned flags) {
  struct req r = {sizeof r, 0, id, last, 0};
  return syscall(NR_LISTMOUNT, &r, ids, n, flags);
}

static uint64_t unique_id(const char *path) {
  struct statx x;
  if (statx(AT_FDCWD, path, 0, 0x4000, &x) != 0) DIE("statx");
  printf("%-44s unique %d mask-has-unique %d mask-has-old %d\n", path, x.stx_mnt_id > UNIQUE_OFFSET, !!(x.stx_mask & 0x4000), !!(x.stx_mask & 0x1000));
  return x.stx_mnt_id;
}

/* mountinfo's id and parent id of the last line whose mount point is mp; the number of lines. */
static int mountinfo(const char *mp, unsigned *id, unsigned *parent) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (!f) DIE("mountinfo");
  char line[4096], point[4096];
  int n = 0;
  unsigned a, b;
  while (fgets(line, sizeof line, f)) {
    n++;
    if (sscanf(line, "%u %u %*s %*s %4095s", &a, &b, point) == 3 && strcmp(point, mp) == 0) {
      *id = a;
      *parent = b;
    }
  }
  fclose(f);
  return n;
}

int main(void) {
  line_buffered();
  uint64_t proc = unique_id("/proc");
  uint64_t root = unique_id("/");
  struct statx x;
  if (statx(AT_FDCWD, "/proc", 0, 0x1000, &x) != 0) DIE("statx");
  printf("%-44s mask-has-old %d old-below-offset %d\n", "statx STATX_MNT_ID", !!(x.stx_mask & 0x1000), x.stx_mnt_id < UNIQUE_OFFSET);
  unsigned old_id = 0, old_parent = 0;
  int lines = mountinfo("/proc", &old_id, &old_parent);

  memset(buf, 0xee, sizeof buf);
  res("statmount /proc everything", stm(proc, 0xffff, buf, sizeof buf, 0));
  printf("  mask %#llx size-is-header+strings %d\n", (unsigned long long)s->mask, s->size > sizeof *s && s->size < sizeof buf);
  printf("  fs_type %s mnt_root %s mnt_point %s sb_source %s\n", s->str + s->fs_type, s->str + s->mnt_root, s->str + s->mnt_point, s->str + s->sb_source);
  struct stat st;
  stat("/proc", &st);
  printf("  magic %#llx sb_flags %u dev-matches %d\n", (unsigned long long)s->sb_magic, s->sb_flags, s->sb_dev_major == major(st.st_dev) && s->sb_dev_minor == minor(st.st_dev));
  printf("  id-matches-statx %d old-id-matches-mountinfo %d old-parent-matches %d\n", s->mnt_id == proc, s->mnt_id_old == old_id, s->mnt_parent_id_old == old_parent);
  printf("  propagation %#llx peer %llu master %llu from %llu ns-id-set %d supported %#llx\n", (unsigned long long)s->mnt_propagation, (unsigned long long)s->mnt_peer_group, (unsigned long long)s->mnt_master, (unsigned long long)s->propagate_from, s->mnt_ns_id != 0 && s->mnt_ns_id != 0xeeeeeeeeeeeeeeeeULL, (unsigned long long)s->supported_mask);
  printf("  opts num %u sec num %u uidmap %u gidmap %u str[0] %d\n", s->opt_num, s->opt_sec_num, s->uidmap_num, s->gidmap_num, s->str[0]);
  uint64_t parent = s->mnt_parent_id, ns = s->mnt_ns_id;
  memset(buf, 0xee, sizeof buf);
  res("statmount /proc's parent MNT_BASIC", stm(parent, 2, buf, sizeof buf, 0));
  printf("  mask %#llx old-id-is-proc's-old-parent %d size %u\n", (unsigned long long)s->mask, s->mnt_id_old == old_parent, s->size);
  memset(buf, 0xee, sizeof buf);
  res("statmount / MNT_BASIC|MNT_POINT|MNT_NS_ID", stm(root, 0x52, buf, sizeof buf, 0));
  printf("  mask %#llx mnt_point %s same-ns %d\n", (unsigned long long)s->mask, s->str + s->mnt_point, s->mnt_ns_id == ns);
  memset(buf, 0xee, sizeof buf);
  res("statmount mask 0", stm(proc, 0, buf, sizeof buf, 0));
  printf("  mask %#llx size %u mnt_id %llu\n", (unsigned long long)s->mask, s->size, (unsigned long long)s->mnt_id);
  res("statmount unknown mask bits", stm(proc, 1ULL << 40, buf, sizeof buf, 0));
  printf("  mask %#llx\n", (unsigned long long)s->mask);
  res("statmount SUPPORTED_MASK", stm(proc, 0x1000, buf, sizeof buf, 0));
  printf("  mask %#llx supported %#llx\n", (unsigned long long)s->mask, (unsigned long long)s->supported_mask);

  /* Argument checks. */
  res("flags 1", stm(proc, 2, buf, sizeof buf, 1));
  res("id 0", stm(0, 2, buf, sizeof buf, 0));
  res("old-style id", stm(old_id, 2, buf, sizeof buf, 0));
  res("id 2^31", stm(UNIQUE_OFFSET, 2, buf, sizeof buf, 0));
  res("id 2^31+1000000", stm(UNIQUE_OFFSET + 1000000, 2, buf, sizeof buf, 0));
  res("id LSMT_ROOT", stm(LSMT_ROOT, 2, buf, sizeof buf, 0));
  res("buffer 0", stm(proc, 2, buf, 0, 0));
  res("buffer 16", stm(proc, 2, buf, 16, 0));
  res("buffer 511", stm(proc, 2, buf, 511, 0));
  res("buffer 512 basic", stm(proc, 2, buf, 512, 0));
  res("buffer 512 with strings", stm(proc, 0x20, buf, 512, 0));
  res("buffer 514 with strings", stm(proc, 0x20, buf, 514, 0));
  res("buffer NULL", stm(proc, 2, NULL, 512, 0));
  res("buffer bad", stm(proc, 2, (void *)8, 512, 0));
  res("buffer huge", stm(proc, 2, buf, (size_t)-1, 0));
  struct req r = {24, 0, proc, 2, 0};
  res("req size 24", syscall(NR_STATMOUNT, &r, buf, sizeof buf, 0));
  r.size = 16;
  res("req size 16", syscall(NR_STATMOUNT, &r, buf, sizeof buf, 0));
  r.size = 0;
  res("req size 0", syscall(NR_STATMOUNT, &r, buf, sizeof buf, 0));
  static unsigned char big[8192];
  memcpy(big, &r, sizeof r);
  ((struct req *)big)->size = 4096;
  res("req size 4096 zero tail", syscall(NR_STATMOUNT, big, buf, sizeof buf, 0));
  ((struct req *)big)->size = 4097;
  res("req size 4097", syscall(NR_STATMOUNT, big, buf, sizeof buf, 0));
  ((struct req *)big)->size = 64;
  big[60] = 1;
  res("req size 64 non-zero tail", syscall(NR_STATMOUNT, big, buf, sizeof buf, 0));
  r.size = 32;
  r.spare = 1;
  res("req spare 1", syscall(NR_STATMOUNT, &r, buf, sizeof buf, 0));
  r.spare = 0;
  r.mnt_ns_id = 123456789;
  res("req unknown mnt_ns_id", syscall(NR_STATMOUNT, &r, buf, sizeof buf, 0));
  r.mnt_ns_id = ns;
  res("req own mnt_ns_id", syscall(NR_STATMOUNT, &r, buf, sizeof buf, 0));
  r.mnt_ns_id = 0;
  r.spare = (uint32_t)-1;
  res("req mnt_ns_fd -1", syscall(NR_STATMOUNT, &r, buf, sizeof buf, 0));
  int nsfd = open("/proc/self/ns/mnt", O_RDONLY);
  r.spare = nsfd;
  res("req mnt_ns_fd of own namespace", syscall(NR_STATMOUNT, &r, buf, sizeof buf, 0));
  r.mnt_ns_id = ns;
  res("req mnt_ns_fd and mnt_ns_id", syscall(NR_STATMOUNT, &r, buf, sizeof buf, 0));
  r.mnt_ns_id = 0;
  int netfd = open("/proc/self/ns/net", O_RDONLY);
  r.spare = netfd;
  res("req mnt_ns_fd of a net namespace", syscall(NR_STATMOUNT, &r, buf, sizeof buf, 0));
  r.spare = 0;
  res("req NULL", syscall(NR_STATMOUNT, NULL, buf, sizeof buf, 0));
  res("req bad", syscall(NR_STATMOUNT, (void *)8, buf, sizeof buf, 0));

  /* listmount. */
  static uint64_t ids[4096];
  long n = lsm(LSMT_ROOT, 0, ids, 4096, 0);
  int asc = 1, has_proc = 0, has_root = 0;
  for (long i = 0; i < n; i++) {
    if (i && ids[i] <= ids[i - 1]) asc = 0;
    if (ids[i] == proc) has_proc = 1;
    if (ids[i] == root) has_root = 1;
  }
  /* The namespace's root mount is "/" in the sandbox; natively "/" may be a mount above it (a container's): listed then. */
  printf("%-44s count-is-lines-1+has-root %d ascending %d has-proc %d\n", "listmount LSMT_ROOT", n == lines - 1 + has_root, asc, has_proc);
  long n2 = lsm(LSMT_ROOT, 0, ids, 4096, 1);
  int desc = 1;
  for (long i = 1; i < n2; i++) if (ids[i] >= ids[i - 1]) desc = 0;
  printf("%-44s same-count %d descending %d\n", "listmount LISTMOUNT_REVERSE", n2 == n, desc);
  long p1 = lsm(LSMT_ROOT, 0, ids, 2, 0);
  uint64_t second = ids[1];
  long p2 = lsm(LSMT_ROOT, second, ids, 4096, 0);
  printf("%-44s first %ld rest-is-count-2 %d starts-after %d\n", "listmount pages of 2", p1, p2 == n - 2, p2 > 0 ? ids[0] > second : 1);
  long nr = lsm(root, 0, ids, 4096, 0);
  printf("%-44s count-is-mountinfo-lines-1 %d\n", "listmount below /", nr == lines - 1);
  res("listmount nr 0", lsm(LSMT_ROOT, 0, ids, 0, 0));
  res("listmount flags 2", lsm(LSMT_ROOT, 0, ids, 16, 2));
  res("listmount unknown id", lsm(UNIQUE_OFFSET + 1000000, 0, ids, 16, 0));
  res("listmount id 0", lsm(0, 0, ids, 16, 0));
  res("listmount bad ids", lsm(LSMT_ROOT, 0, (void *)8, 16, 0));
  res("listmount NULL ids", lsm(LSMT_ROOT, 0, NULL, 16, 0));
  res("listmount huge nr", lsm(LSMT_ROOT, 0, ids, 1UL << 40, 0));
  res("listmount nr 1000001", lsm(LSMT_ROOT, 0, ids, 1000001, 0));
  res("listmount req NULL", syscall(NR_LISTMOUNT, NULL, ids, 16, 0));
  res("listmount param 5 (no such id)", lsm(LSMT_ROOT, 5, ids, 16, 0));
  res("listmount param 2^31", lsm(LSMT_ROOT, UNIQUE_OFFSET, ids, 16, 0));

  /* After chroot into /dev the root mount is out of sight: root may still ask, nobody may not. */
  pid_t c = xfork();
  if (c == 0) {
    if (chroot("/dev") != 0) DIE("chroot");
    memset(buf, 0xee, sizeof buf);
    res("chrooted root: statmount /", stm(root, 0x12, buf, sizeof buf, 0));
    printf("  mask %#llx\n", (unsigned long long)s->mask);
    res("chrooted root: listmount /", lsm(root, 0, ids, 4096, 0) > 0 ? 0 : -1);
    if (setuid(65534) != 0) DIE("setuid");
    res("chrooted nobody: statmount /", stm(root, 0x12, buf, sizeof buf, 0));
    res("chrooted nobody: listmount /", lsm(root, 0, ids, 4096, 0));
    res("chrooted nobody: statmount /proc", stm(proc, 0x12, buf, sizeof buf, 0));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(c, &status, 0);
  struct req q = {16, 0, LSMT_ROOT, 0, 0};
  res("listmount req size 16", syscall(NR_LISTMOUNT, &q, ids, 16, 0));
  printf("done\n");
  return 0;
}
