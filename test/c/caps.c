/* caps: capabilities are one model. Dropping CAP_DAC_OVERRIDE from the
 * effective set makes root obey file modes; keep-caps keeps the permitted
 * set across setuid; setfsuid moves the filesystem capabilities; the
 * bounding and ambient sets and securebits follow prctl; /proc/self/status
 * shows all of it. Run as root (natively too). */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static struct __user_cap_data_struct d[2];

static void get(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  if (syscall(SYS_capget, &h, d) < 0) printf("capget: %s\n", ename(errno));
}
static int set(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}
static void status(const char *when) {
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  printf("%s:", when);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "Cap", 3) == 0) {
      line[strcspn(line, "\n")] = 0;
      printf(" %s", line + 3);
    }
  if (f) fclose(f);
  printf("\n");
}
static void drop_eff(int cap) {
  get();
  d[cap / 32].effective &= ~(1u << (cap % 32));
  printf("drop %d from effective: %s\n", cap, ename(-set()));
}
static void try_open(const char *what, const char *path, int flags) {
  int fd = open(path, flags, 0644);
  printf("  %s: %s\n", what, fd < 0 ? ename(errno) : "OK");
  if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
  if (argc < 2 || geteuid() != 0) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (chdir(argv[1]) < 0) return 3;
  int fd = open("ro", O_CREAT | O_WRONLY, 0444);
  if (fd < 0) return 4;
  close(fd);
  if (mkdir("rodir", 0555) < 0) return 5;
  status("start");
  try_open("root writes a 0444 file", "ro", O_WRONLY);

  pid_t p = fork();
  if (p == 0) {
    drop_eff(CAP_DAC_OVERRIDE);
    status("without DAC_OVERRIDE");
    try_open("write 0444 file", "ro", O_WRONLY);
    try_open("read 0444 file", "ro", O_RDONLY);
    try_open("create in 0555 dir", "rodir/new", O_CREAT | O_WRONLY);
    chmod("ro", 0);
    try_open("read 0000 file (DAC_READ_SEARCH)", "ro", O_RDONLY);
    drop_eff(CAP_DAC_READ_SEARCH);
    try_open("read 0000 file", "ro", O_RDONLY);
    printf("  access(W_OK) as real root: %s\n", access("ro", W_OK) < 0 ? ename(errno) : "OK");
    drop_eff(CAP_FOWNER);
    printf("  chmod of a file of another owner: %s\n", chown("ro", 1000, 1000) == 0 && chmod("ro", 0644) < 0 ? ename(errno) : "OK");
    drop_eff(CAP_CHOWN);
    printf("  chown: %s\n", chown("rodir", 1000, -1) < 0 ? ename(errno) : "OK");
    get();
    d[0].effective = d[0].permitted;
    d[1].effective = d[1].permitted;
    printf("raise effective again: %s\n", ename(-set()));
    try_open("create in 0555 dir", "rodir/new", O_CREAT | O_WRONLY);
    get();
    d[0].permitted |= 1u << CAP_DAC_OVERRIDE;
    d[0].effective = 0;
    d[0].permitted &= ~(1u << CAP_DAC_OVERRIDE);
    printf("drop DAC_OVERRIDE from permitted: %s\n", ename(-set()));
    get();
    d[0].permitted |= 1u << CAP_DAC_OVERRIDE;
    printf("raise it back: %s\n", ename(-set()));
    _exit(0);
  }
  waitpid(p, NULL, 0);

  for (int keep = 0; keep <= 1; keep++) {
    p = fork();
    if (p == 0) {
      printf("keepcaps %d: set %s get %d\n", keep, prctl(PR_SET_KEEPCAPS, keep, 0, 0, 0) < 0 ? ename(errno) : "OK", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
      printf("  setresuid 65534: %s\n", setresuid(65534, 65534, 65534) < 0 ? ename(errno) : "OK");
      status("  after setuid");
      printf("  keepcaps now %d, securebits %d\n", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
      try_open("write 0444 file", "ro", O_WRONLY);
      printf("  setuid back to 0: %s\n", setuid(0) < 0 ? ename(errno) : "OK");
      get();
      d[0].effective = d[0].permitted;
      d[1].effective = d[1].permitted;
      printf("  raise effective from permitted: %s\n", ename(-set()));
      try_open("write 0444 file", "ro", O_WRONLY);
      _exit(0);
    }
    waitpid(p, NULL, 0);
  }

  p = fork();
  if (p == 0) {
    printf("setfsuid 1000 returns %d\n", setfsuid(1000));
    status("fsuid 1000");
    try_open("write 0444 file as fsuid 1000", "ro", O_WRONLY);
    printf("setfsuid 0 returns %d\n", setfsuid(0));
    status("fsuid 0");
    try_open("write 0444 file", "ro", O_WRONLY);
    printf("bounding NET_RAW %d\n", prctl(PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0));
    printf("drop it: %s\n", prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) < 0 ? ename(errno) : "OK");
    printf("bounding NET_RAW %d, bad cap %s\n", prctl(PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0), prctl(PR_CAPBSET_READ, 99, 0, 0, 0) < 0 ? ename(errno) : "OK");
    printf("ambient raise without inheritable: %s\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) < 0 ? ename(errno) : "OK");
    get();
    d[0].inheritable |= 1u << CAP_NET_BIND_SERVICE;
    printf("inheritable: %s\n", ename(-set()));
    printf("ambient raise: %s is set %d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) < 0 ? ename(errno) : "OK", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0));
    status("ambient");
    printf("securebits KEEP_CAPS|NOROOT: %s now %d\n", prctl(PR_SET_SECUREBITS, 0x11, 0, 0, 0) < 0 ? ename(errno) : "OK", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    printf("lock KEEP_CAPS: %s\n", prctl(PR_SET_SECUREBITS, 0x31, 0, 0, 0) < 0 ? ename(errno) : "OK");
    printf("clear locked bit: %s\n", prctl(PR_SET_SECUREBITS, 0x21, 0, 0, 0) < 0 ? ename(errno) : "OK");
    printf("PR_SET_KEEPCAPS when locked: %s\n", prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ? ename(errno) : "OK");
    printf("setresuid 65534 keeps ambient? ");
    if (setresuid(65534, 65534, 65534) < 0) printf("%s\n", ename(errno));
    else printf("%d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0));
    status("after");
    _exit(0);
  }
  waitpid(p, NULL, 0);
  printf("done\n");
  return 0;
}
