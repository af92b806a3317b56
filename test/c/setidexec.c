/* setidexec: what execve does to credentials. Set-user-ID and set-group-ID
 * bits (the latter only with group execute), file capabilities from the
 * security.capability attribute (v2, v3 with its root id, malformed ones,
 * effective bit, a bounding set too small), the ambient set, no_new_privs,
 * and securebits (NOROOT, NO_SETUID_FIXUP, KEEP_CAPS and their locks).
 * Run as root with a scratch directory as argv[1]. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>


static void caps(const char *label) {
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  printf("%s", label);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "Cap", 3) == 0 && strncmp(line, "CapBnd", 6) != 0) {
      line[strcspn(line, "\n")] = 0;
      char *v = line + 7;
      while (*v == ' ' || *v == '\t') v++;
      while (*v == '0' && v[1]) v++;
      printf(" %.3s=%s", line + 3, v);
    }
  if (f) fclose(f);
  printf("\n");
}

static void report(void) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  printf("  uid %d/%d/%d gid %d/%d/%d secure %lu dumpable %d keepcaps %d bits %#x\n", r, e, s, gr, ge, gs, getauxval(AT_SECURE),
         prctl(PR_GET_DUMPABLE), prctl(PR_GET_KEEPCAPS), prctl(PR_GET_SECUREBITS));
  caps("  caps");
}

static void put(const char *name, uid_t uid, gid_t gid, int mode) {
  char buf[65536];
  int in = open("/proc/self/exe", O_RDONLY), out = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0755);
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, n) != n) exit(4);
  close(in);
  close(out);
  if (chown(name, uid, gid) < 0 || chmod(name, mode) < 0) exit(5);
}

/* A v2 or v3 security.capability value. */
static void fcaps(const char *name, int version, unsigned long long perm, unsigned long long inh, int eff, unsigned rootid, int size) {
  struct vfs_ns_cap_data d = {0};
  d.magic_etc = (version == 3 ? VFS_CAP_REVISION_3 : VFS_CAP_REVISION_2) | (eff ? VFS_CAP_FLAGS_EFFECTIVE : 0);
  d.data[0].permitted = perm;
  d.data[1].permitted = perm >> 32;
  d.data[0].inheritable = inh;
  d.data[1].inheritable = inh >> 32;
  d.rootid = rootid;
  if (size == 0) size = version == 3 ? XATTR_CAPS_SZ_3 : XATTR_CAPS_SZ_2;
  if (setxattr(name, "security.capability", &d, size, 0) < 0) printf("setxattr %s: %s\n", name, ename(errno));
}

static void capset_inh(unsigned long long inh) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  syscall(SYS_capget, &h, d);
  d[0].inheritable = inh;
  d[1].inheritable = inh >> 32;
  if (syscall(SYS_capset, &h, d) < 0) printf("  capset: %s\n", ename(errno));
}

#define BECOME_USER 1
#define NNP 2
#define AMBIENT 4
#define NOROOT 8
#define KEEPCAPS 16
#define NOFIXUP 32
#define DROP_BSET 64

static void run(const char *what, const char *prog, int how) {
  printf("%s\n", what);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    if (how & DROP_BSET) prctl(PR_CAPBSET_DROP, CAP_NET_RAW);
    if (how & NOROOT) prctl(PR_SET_SECUREBITS, SECBIT_NOROOT);
    if (how & NOFIXUP) prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP);
    if (how & (KEEPCAPS | AMBIENT)) prctl(PR_SET_KEEPCAPS, 1);
    if (how & BECOME_USER) {
      setgroups(0, NULL);
      if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0) printf("  setresuid: %s\n", ename(errno));
      if (how & (KEEPCAPS | NOFIXUP)) caps("  after setuid");
    }
    if (how & AMBIENT) {
      capset_inh(1ull << CAP_NET_RAW | 1ull << CAP_CHOWN);
      printf("  raise net_raw: %d, raise sys_admin: %s\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0),
             prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0) < 0 ? ename(errno) : "OK");
    }
    if (how & NNP) prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    char *argv[] = {(char *)prog, "report", NULL};
    execve(prog, argv, (char *[]){NULL});
    printf("  exec: %s\n", ename(errno));
    fflush(stdout);
    _exit(1);
  }
  int st;
  waitpid(p, &st, 0);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "report") == 0) {
    report();
    return 0;
  }
  if (argc < 2 || geteuid() != 0) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (chdir(argv[1]) < 0 || chmod(".", 0755) < 0) return 3;
  put("plain", 0, 0, 0755);
  put("suid", 0, 0, 04755);
  put("suid1000", 1000, 0, 04755);
  put("sgid", 0, 1234, 02755);
  put("sgid-nogx", 0, 1234, 02745);
  put("both", 2000, 2001, 06755);
  put("fcap", 0, 0, 0755);
  fcaps("fcap", 2, 1ull << CAP_NET_RAW | 1ull << CAP_CHOWN, 0, 1, 0, 0);
  put("fcap-noeff", 0, 0, 0755);
  fcaps("fcap-noeff", 2, 1ull << CAP_NET_RAW, 0, 0, 0, 0);
  put("fcap-inh", 0, 0, 0755);
  fcaps("fcap-inh", 2, 0, 1ull << CAP_NET_RAW | 1ull << CAP_KILL, 1, 0, 0);
  put("fcap3", 0, 0, 0755);
  fcaps("fcap3", 3, 1ull << CAP_NET_RAW, 0, 1, 0, 0);
  put("fcap3-other", 0, 0, 0755);
  fcaps("fcap3-other", 3, 1ull << CAP_NET_RAW, 0, 1, 1000, 0);
  put("fcap-bad", 0, 0, 0755);
  fcaps("fcap-bad", 2, 1ull << CAP_NET_RAW, 0, 1, 0, 17);
  put("fcap-suid", 0, 0, 04755);
  fcaps("fcap-suid", 2, 1ull << CAP_NET_RAW, 0, 1, 0, 0);
  put("fcap-high", 0, 0, 0755);
  fcaps("fcap-high", 2, 1ull << 40 | 1ull << CAP_CHOWN, 0, 1, 0, 0);

  run("root, plain", "./plain", 0);
  run("user, plain", "./plain", BECOME_USER);
  run("user, set-user-ID root", "./suid", BECOME_USER);
  run("root, set-user-ID 1000", "./suid1000", 0);
  run("user, set-group-ID 1234", "./sgid", BECOME_USER);
  run("user, set-group-ID without group x", "./sgid-nogx", BECOME_USER);
  run("user, both bits", "./both", BECOME_USER);
  run("user, no_new_privs, set-user-ID root", "./suid", BECOME_USER | NNP);
  run("user, file caps", "./fcap", BECOME_USER);
  run("user, file caps without effective", "./fcap-noeff", BECOME_USER);
  run("user, inheritable file caps", "./fcap-inh", BECOME_USER | AMBIENT);
  run("user, file caps v3 root 0", "./fcap3", BECOME_USER);
  run("user, file caps v3 root 1000", "./fcap3-other", BECOME_USER);
  run("user, malformed file caps", "./fcap-bad", BECOME_USER);
  run("user, file caps and set-user-ID root", "./fcap-suid", BECOME_USER);
  run("root, file caps and set-user-ID root", "./fcap-suid", 0);
  run("user, file caps beyond the bounding set", "./fcap", BECOME_USER | DROP_BSET);
  run("user, unknown file cap bit", "./fcap-high", BECOME_USER);
  run("user, no_new_privs, file caps", "./fcap", BECOME_USER | NNP);
  run("root, file caps", "./fcap", 0);
  run("user, ambient", "./plain", BECOME_USER | AMBIENT);
  run("user, ambient, set-user-ID", "./suid", BECOME_USER | AMBIENT);
  run("user, ambient, file caps", "./fcap-noeff", BECOME_USER | AMBIENT);
  run("root, NOROOT", "./plain", NOROOT);
  run("root, NOROOT, set-user-ID root", "./suid", NOROOT);
  run("root, keep-caps then setuid", "./plain", BECOME_USER | KEEPCAPS);
  run("root, NO_SETUID_FIXUP then setuid", "./plain", BECOME_USER | NOFIXUP);

  printf("locks\n");
  pid_t p = fork();
  if (p == 0) {
    printf("  lock keep-caps: %d\n", prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS_LOCKED));
    printf("  set keep-caps: %s\n", prctl(PR_SET_KEEPCAPS, 1) < 0 ? ename(errno) : "OK");
    printf("  unlock: %s\n", prctl(PR_SET_SECUREBITS, 0) < 0 ? ename(errno) : "OK");
    printf("  noroot+lock: %d\n", prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS_LOCKED | SECBIT_NOROOT | SECBIT_NOROOT_LOCKED));
    printf("  clear noroot: %s\n", prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS_LOCKED | SECBIT_NOROOT_LOCKED) < 0 ? ename(errno) : "OK");
    printf("  bad bit: %s\n", prctl(PR_SET_SECUREBITS, 1 << 20) < 0 ? ename(errno) : "OK");
    char *av[] = {"plain", "report", NULL};
    execve("./plain", av, (char *[]){NULL});
    _exit(1);
  }
  waitpid(p, NULL, 0);
  printf("done\n");
  return 0;
}
