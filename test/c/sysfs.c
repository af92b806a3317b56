/* sysfs: the shape of /sys that programs rely on (CPU counts, topology,
 * transparent huge pages) and the errors sysfs gives root for writes and
 * name operations. Values that depend on the machine are only checked for
 * format and for agreement with each other (sysconf, the affinity mask). */
#define _GNU_SOURCE
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#define CPU "/sys/devices/system/cpu"

static int read_line(const char *path, char *buf, size_t n) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t r = read(fd, buf, n - 1);
  close(fd);
  if (r < 0) return -1;
  buf[r] = 0;
  return (int)r;
}

/* Count the CPUs of a cpulist ("0-3,6"); -1 if malformed. */
static int list_count(const char *s) {
  int n = 0;
  while (*s && *s != '\n') {
    char *e;
    long a = strtol(s, &e, 10), b = a;
    if (e == s) return -1;
    if (*e == '-') {
      s = e + 1;
      b = strtol(s, &e, 10);
      if (e == s || b < a) return -1;
    }
    n += (int)(b - a + 1);
    s = e;
    if (*s == ',') s++;
    else if (*s && *s != '\n') return -1;
  }
  return n;
}

static void kind(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    printf("%s: %s\n", path, ename(errno));
    return;
  }
  printf("%s: %s %o\n", path, S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other", st.st_mode & 07777);
}

int main(void) {
  line_buffered();
  struct statfs sf;
  if (statfs("/sys", &sf) < 0) DIE("statfs");
  printf("sysfs magic: %s\n", sf.f_type == 0x62656572 ? "yes" : "no");
  char line[512];
  FILE *m = fopen("/proc/mounts", "r");
  int listed = 0;
  while (m && fgets(line, sizeof line, m))
    if (strncmp(line, "sysfs /sys sysfs ", 17) == 0) listed = 1;
  if (m) fclose(m);
  printf("in /proc/mounts: %s\n", listed ? "yes" : "no");

  long onln = sysconf(_SC_NPROCESSORS_ONLN), conf = sysconf(_SC_NPROCESSORS_CONF);
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) < 0) DIE("sched_getaffinity");
  int aff = CPU_COUNT(&set);
  char buf[4096];
  const char *lists[] = {"online", "possible", "present"};
  for (int i = 0; i < 3; i++) {
    char p[128];
    snprintf(p, sizeof p, CPU "/%s", lists[i]);
    int r = read_line(p, buf, sizeof buf);
    int n = r > 0 ? list_count(buf) : -1;
    printf("%s: newline %s, count == nprocs_onln %s\n", lists[i], r > 0 && buf[r - 1] == '\n' ? "yes" : "no",
           n == onln ? "yes" : "no");
  }
  printf("onln == conf == affinity: %s\n", onln == conf && conf == aff ? "yes" : "no");
  int r = read_line(CPU "/offline", buf, sizeof buf);
  printf("offline: %d bytes\n", r);
  r = read_line(CPU "/kernel_max", buf, sizeof buf);
  char *e;
  long km = strtol(buf, &e, 10);
  printf("kernel_max: number %s, >= cpus %s\n", r > 1 && *e == '\n' ? "yes" : "no", km + 1 >= onln ? "yes" : "no");

  int cpudirs = 0, sibl_ok = 1;
  DIR *d = opendir(CPU);
  if (!d) DIE("opendir");
  struct dirent *de;
  while ((de = readdir(d))) {
    int id;
    char tail;
    if (sscanf(de->d_name, "cpu%d%c", &id, &tail) != 1) continue;
    cpudirs++;
    char p[256];
    snprintf(p, sizeof p, CPU "/cpu%d/topology/thread_siblings_list", id);
    if (read_line(p, buf, sizeof buf) <= 0 || list_count(buf) < 1) sibl_ok = 0;
    snprintf(p, sizeof p, CPU "/cpu%d/topology/core_siblings_list", id);
    if (read_line(p, buf, sizeof buf) <= 0 || list_count(buf) < 1 || list_count(buf) > onln) sibl_ok = 0;
    snprintf(p, sizeof p, CPU "/cpu%d/topology/core_id", id);
    if (read_line(p, buf, sizeof buf) <= 0 || strtol(buf, &e, 10) < 0 || *e != '\n') sibl_ok = 0;
    snprintf(p, sizeof p, CPU "/cpu%d/topology/physical_package_id", id);
    if (read_line(p, buf, sizeof buf) <= 0 || strtol(buf, &e, 10) < 0 || *e != '\n') sibl_ok = 0;
  }
  closedir(d);
  printf("cpuN directories == nprocs_conf: %s, topology readable: %s\n", cpudirs == conf ? "yes" : "no", sibl_ok ? "yes" : "no");

  const char *thp[] = {"/sys/kernel/mm/transparent_hugepage/enabled", "/sys/kernel/mm/transparent_hugepage/defrag"};
  for (int i = 0; i < 2; i++) {
    r = read_line(thp[i], buf, sizeof buf);
    char *o = strchr(buf, '['), *c = strchr(buf, ']');
    int words = 0;
    for (char *q = strtok(buf, " \n"); q; q = strtok(NULL, " \n")) words++;
    printf("%s: one choice in brackets %s, has madvise/never %s\n", thp[i] + 35, o && c && c > o ? "yes" : "no", words >= 3 ? "yes" : "no");
  }

  kind("/sys");
  kind("/sys/devices/system/cpu");
  kind("/sys/devices/system/cpu/cpu0/topology");
  kind("/sys/devices/system/cpu/possible");
  kind("/sys/fs/cgroup");
  kind("/sys/class");
  kind("/sys/kernel/mm/transparent_hugepage");
  kind("/sys/nonexistent");

  SHOW("open possible O_WRONLY", open(CPU "/possible", O_WRONLY));
  SHOW("open present O_RDWR", open(CPU "/present", O_RDWR));
  SHOW("creat in cpu/", open(CPU "/newfile", O_WRONLY | O_CREAT, 0644));
  SHOW("creat in /sys", open("/sys/newfile", O_WRONLY | O_CREAT | O_EXCL, 0644));
  SHOW("mkdir", mkdir(CPU "/newdir", 0755));
  SHOW("mknod fifo", mknod("/sys/kernel/fifo", S_IFIFO | 0600, 0));
  SHOW("symlink", symlink("x", CPU "/link"));
  SHOW("link", link(CPU "/possible", CPU "/possible2"));
  SHOW("unlink", unlink(CPU "/possible"));
  SHOW("rmdir", rmdir(CPU "/cpu0/topology"));
  SHOW("rename", rename(CPU "/possible", CPU "/possible2"));
  SHOW("rename dir", rename("/sys/class", "/sys/class2"));
  SHOW("open dir O_WRONLY", open("/sys/class", O_WRONLY));
  SHOW("unlink missing", unlink("/sys/class/nothing"));
  int fd = open(CPU "/online", O_RDONLY);
  SHOW("write to O_RDONLY fd", write(fd, "0\n", 2));
  close(fd);
  printf("done\n");
  return 0;
}
