// procmapq: the PROCMAP_QUERY ioctl on /proc/PID/maps (Linux 6.11;
// struct procmap_query of linux/fs.h): the argument checks, the covering
// and next-VMA queries with the permission and file-backed filters, what it
// tells of an anonymous, a file-backed and a named mapping, the name buffer
// and the build ID. Addresses vary, so it prints how they relate to the
// mappings it made. Run in DIR.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <link.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

struct pq {
  uint64_t size, query_flags, query_addr;
  uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
  uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
  uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY _IOWR('f', 17, struct pq)
#define Q_READ 0x01
#define Q_WRITE 0x02
#define Q_EXEC 0x04
#define Q_SHARED 0x08
#define Q_NEXT 0x10
#define Q_FILE 0x20

static int maps;
static char name[4096];
static unsigned char bid[64];

static long query(struct pq *q, uint64_t addr, uint64_t flags, uint32_t name_size) {
  memset(q, 0, sizeof *q);
  q->size = sizeof *q;
  q->query_addr = addr;
  q->query_flags = flags;
  if (name_size) {
    q->vma_name_size = name_size;
    q->vma_name_addr = (uintptr_t)name;
  }
  memset(name, 0, sizeof name);
  return ioctl(maps, PROCMAP_QUERY, q);
}

static void show(const char *what, long r) {
  if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: ok\n", what);
}

static void flags(const char *what, const struct pq *q) {
  printf("%s: flags %s%s%s%s, page size %llu\n", what, q->vma_flags & Q_READ ? "r" : "-", q->vma_flags & Q_WRITE ? "w" : "-",
         q->vma_flags & Q_EXEC ? "x" : "-", q->vma_flags & Q_SHARED ? "s" : "p", (unsigned long long)q->vma_page_size);
}

/* The main program's NT_GNU_BUILD_ID, from its PT_NOTE segments in memory (the first object dl_iterate_phdr reports). */
struct idsearch {
  const unsigned char *id;
  size_t len;
};

static int find_id(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct idsearch *r = data;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
      const unsigned char *name = p + sizeof *n, *desc = name + ((n->n_namesz + 3) & ~3u);
      if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
        r->id = desc;
        r->len = n->n_descsz;
        return 1;
      }
      p = desc + ((n->n_descsz + 3) & ~3u);
    }
  }
  return 1; /* the main program only */
}

static const unsigned char *own_build_id(size_t *len) {
  struct idsearch r = {0, 0};
  dl_iterate_phdr(find_id, &r);
  *len = r.len;
  return r.id;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/tmp";
  setvbuf(stdout, NULL, _IOLBF, 0);
  maps = open("/proc/self/maps", O_RDONLY);
  long pg = sysconf(_SC_PAGESIZE);
  struct pq q;

  // Three pages: read-write, read-only, read-write; then the middle one
  // unmapped leaves a hole between two mappings.
  char *a = mmap(NULL, 4 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(a + 3 * pg, pg);
  mprotect(a, pg, PROT_READ | PROT_WRITE);
  mprotect(a + pg, pg, PROT_READ);
  mprotect(a + 2 * pg, pg, PROT_READ | PROT_WRITE | PROT_EXEC);
  show("covering", query(&q, (uintptr_t)a + 10, 0, sizeof name));
  printf("start %d end %d name size %u offset %llu inode %llu dev %u:%u\n", q.vma_start == (uintptr_t)a, q.vma_end == (uintptr_t)a + pg,
         q.vma_name_size, (unsigned long long)q.vma_offset, (unsigned long long)q.inode, q.dev_major, q.dev_minor);
  flags("anonymous", &q);
  show("writable from the read-only page", query(&q, (uintptr_t)a + pg, Q_WRITE, 0));
  show("writable or next from the read-only page", query(&q, (uintptr_t)a + pg, Q_WRITE | Q_NEXT, 0));
  printf("found the third page: %d\n", q.vma_start == (uintptr_t)a + 2 * pg);
  flags("third", &q);
  show("executable and readable", query(&q, (uintptr_t)a + 2 * pg, Q_EXEC | Q_READ, 0));
  show("shared", query(&q, (uintptr_t)a + 2 * pg, Q_SHARED, 0));
  munmap(a + pg, pg);
  show("in a hole", query(&q, (uintptr_t)a + pg, 0, 0));
  show("next after a hole", query(&q, (uintptr_t)a + pg, Q_NEXT, 0));
  printf("next is the third page: %d\n", q.vma_start == (uintptr_t)a + 2 * pg);
  show("past every mapping", query(&q, ~0ULL - 4095, Q_NEXT, 0));

  // A shared mapping of a file at an offset.
  char path[512];
  snprintf(path, sizeof path, "%s/mapped", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (ftruncate(fd, 4 * pg) < 0) perror("ftruncate");
  char *m = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 2 * pg);
  struct stat st;
  fstat(fd, &st);
  show("file mapping", query(&q, (uintptr_t)m, 0, sizeof name));
  flags("file", &q);
  printf("offset %llu pages, inode %d, dev %d, name %d (size strlen+1 %d)\n", (unsigned long long)(q.vma_offset / pg), q.inode == st.st_ino,
         q.dev_major == major(st.st_dev) && q.dev_minor == minor(st.st_dev), strcmp(name, path) == 0, q.vma_name_size == strlen(path) + 1);
  show("name buffer too small", query(&q, (uintptr_t)m, 0, 8));
  show("file-backed from the anonymous page", query(&q, (uintptr_t)a, Q_FILE, 0));
  show("file-backed or next from the anonymous page", query(&q, (uintptr_t)a, Q_FILE | Q_NEXT, 0));
  printf("next file-backed has an inode: %d\n", q.inode != 0);
  unlink(path);
  query(&q, (uintptr_t)m, 0, sizeof name);
  printf("after unlink: %s\n", strstr(name, " (deleted)") ? "(deleted)" : name);

  int on_stack = 0;
  show("stack", query(&q, (uintptr_t)&on_stack, 0, sizeof name));
  printf("stack name: %s (size %u)\n", name, q.vma_name_size);
  char *h = malloc(16);
  char *brk0 = sbrk(0);
  if (h && (char *)h < brk0) {
    query(&q, (uintptr_t)h, 0, sizeof name);
    printf("heap name: %s\n", name);
  }
  free(h);

  // The program's own text: file-backed, executable, with the build ID the linker wrote.
  show("text", query(&q, (uintptr_t)main, 0, sizeof name));
  flags("text", &q);
  char self[512];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  self[n > 0 ? n : 0] = 0;
  printf("text name is the program: %d\n", strcmp(name, self) == 0);
  memset(&q, 0, sizeof q);
  q.size = sizeof q;
  q.query_addr = (uintptr_t)main;
  q.build_id_size = sizeof bid;
  q.build_id_addr = (uintptr_t)bid;
  show("build id", ioctl(maps, PROCMAP_QUERY, &q));
  // The ID differs between the static and the dynamic build: compare it with the program's own note instead of printing it.
  size_t own_len = 0;
  const unsigned char *own = own_build_id(&own_len);
  printf("build id size %u, the program's own: %d\n", q.build_id_size, own && own_len == q.build_id_size && memcmp(own, bid, own_len) == 0);
  q.build_id_size = 4;
  show("build id buffer too small", ioctl(maps, PROCMAP_QUERY, &q));
  memset(&q, 0, sizeof q);
  q.size = sizeof q;
  q.query_addr = (uintptr_t)a;
  q.build_id_size = sizeof bid;
  q.build_id_addr = (uintptr_t)bid;
  show("build id of anonymous memory", ioctl(maps, PROCMAP_QUERY, &q));
  printf("build id size %u\n", q.build_id_size);

  // Argument checks.
  struct {
    struct pq q;
    uint64_t tail;
  } big;
  memset(&big, 0, sizeof big);
  big.q.query_addr = (uintptr_t)a;
  big.q.size = 16;
  show("size 16", ioctl(maps, PROCMAP_QUERY, &big));
  big.q.size = 24;
  show("size 24", ioctl(maps, PROCMAP_QUERY, &big));
  printf("size 24 left the rest alone: %d\n", big.q.vma_start == 0);
  big.q.size = 4097;
  show("size 4097", ioctl(maps, PROCMAP_QUERY, &big));
  big.q.size = sizeof big;
  show("zero tail", ioctl(maps, PROCMAP_QUERY, &big));
  big.tail = 1;
  show("non-zero tail", ioctl(maps, PROCMAP_QUERY, &big));
  show("unknown flag", query(&q, (uintptr_t)a, 0x40, 0));
  memset(&q, 0, sizeof q);
  q.size = sizeof q;
  q.query_addr = (uintptr_t)a;
  q.vma_name_size = 16;
  show("name size without an address", ioctl(maps, PROCMAP_QUERY, &q));
  q.vma_name_size = 0;
  q.vma_name_addr = (uintptr_t)name;
  show("name address without a size", ioctl(maps, PROCMAP_QUERY, &q));
  q.vma_name_addr = 0;
  q.build_id_addr = (uintptr_t)bid;
  show("build id address without a size", ioctl(maps, PROCMAP_QUERY, &q));
  q.build_id_addr = 0;
  q.vma_name_size = sizeof name;
  q.vma_name_addr = 8;
  q.query_addr = (uintptr_t)main;
  show("bad name address", ioctl(maps, PROCMAP_QUERY, &q));
  show("NULL argument", ioctl(maps, PROCMAP_QUERY, NULL));
  int status = open("/proc/self/status", O_RDONLY);
  show("on /proc/self/status", query(&q, (uintptr_t)a, 0, 0) < 0 ? -1 : ioctl(status, PROCMAP_QUERY, &q));

  // Another process's maps: its mappings, not the caller's.
  int pp[2];
  if (pipe(pp) < 0) return 1;
  pid_t c = fork();
  if (c == 0) {
    char *x = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (write(pp[1], &x, sizeof x) != sizeof x) _exit(1);
    pause();
    _exit(0);
  }
  char *x;
  if (read(pp[0], &x, sizeof x) != sizeof x) return 1;
  char cpath[64];
  snprintf(cpath, sizeof cpath, "/proc/%d/maps", c);
  int other = open(cpath, O_RDONLY);
  memset(&q, 0, sizeof q);
  q.size = sizeof q;
  q.query_addr = (uintptr_t)x;
  show("the child's mapping", ioctl(other, PROCMAP_QUERY, &q));
  printf("child's start: %d\n", q.vma_start == (uintptr_t)x);
  kill(c, SIGKILL);
  waitpid(c, NULL, 0);
  show("after the child is reaped", ioctl(other, PROCMAP_QUERY, &q));
  printf("done\n");
  return 0;
}
