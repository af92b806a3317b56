/* lsmattr: lsm_list_modules, lsm_get_self_attr, lsm_set_self_attr (Linux
 * 6.8) against native. The host has LSMs of its own (lockdown, yama, ...)
 * while the sandbox has capability and landlock only (both always there on
 * the host too), so the list is printed as "has capability, has landlock"
 * and a count of at least two; none of these LSMs keeps process attributes,
 * so getting and setting them is EOPNOTSUPP on both. Argument checks:
 * flags, NULL and bad pointers, sizes, LSM_FLAG_SINGLE, struct lsm_ctx
 * lengths. */
#define _GNU_SOURCE
#include "common.h"
#include <stdint.h>
#include <sys/syscall.h>

#define NR_LSM_GET_SELF_ATTR 459
#define NR_LSM_SET_SELF_ATTR 460
#define NR_LSM_LIST_MODULES 461
#define LSM_ID_CAPABILITY 100
#define LSM_ID_LANDLOCK 110
#define LSM_ATTR_CURRENT 100
#define LSM_ATTR_EXEC 101
#define LSM_FLAG_SINGLE 1

struct ctx {
  uint64_t id, flags, len, ctx_len;
  char data[64];
};

static void res(const char *what, long r) {
  if (r < 0) printf("%-44s -1 %s\n", what, ename(errno));
  else printf("%-44s %ld\n", what, r);
}

int main(void) {
  line_buffered();
  uint64_t ids[32];
  uint32_t size = sizeof ids;
  long n = syscall(NR_LSM_LIST_MODULES, ids, &size, 0);
  int cap = 0, ll = 0;
  for (long i = 0; i < n; i++) {
    if (ids[i] == LSM_ID_CAPABILITY) cap = 1;
    if (ids[i] == LSM_ID_LANDLOCK) ll = 1;
  }
  printf("%-44s count>=2 %d size-matches %d capability %d landlock %d\n", "lsm_list_modules", n >= 2, size == n * 8, cap, ll);
  uint32_t small = 8;
  errno = 0;
  long r = syscall(NR_LSM_LIST_MODULES, ids, &small, 0);
  printf("%-44s %ld %s size-is-total %d\n", "list with room for one", r, ename(errno), small == size);
  small = 0;
  res("list with size 0", syscall(NR_LSM_LIST_MODULES, NULL, &small, 0));
  printf("%-44s %d\n", "  size-is-total", small == size);
  res("list flags 1", syscall(NR_LSM_LIST_MODULES, ids, &size, 1));
  res("list NULL size", syscall(NR_LSM_LIST_MODULES, ids, NULL, 0));
  res("list bad size pointer", syscall(NR_LSM_LIST_MODULES, ids, (void *)8, 0));
  size = sizeof ids;
  res("list bad ids pointer", syscall(NR_LSM_LIST_MODULES, (void *)8, &size, 0));
  size = 0xffffffff;
  res("list huge size", syscall(NR_LSM_LIST_MODULES, ids, &size, 0) >= 2 ? 0 : -1);

  struct ctx c;
  memset(&c, 0, sizeof c);
  size = sizeof c;
  res("get CURRENT", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, &c, &size, 0));
  printf("%-44s %u\n", "  size", size);
  size = sizeof c;
  res("get EXEC", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_EXEC, &c, &size, 0));
  size = sizeof c;
  res("get unknown attr 999", syscall(NR_LSM_GET_SELF_ATTR, 999, &c, &size, 0));
  res("get attr UNDEF", syscall(NR_LSM_GET_SELF_ATTR, 0, &c, &size, 0));
  res("get NULL size", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, &c, NULL, 0));
  res("get bad size pointer", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, &c, (void *)8, 0));
  size = sizeof c;
  res("get NULL ctx", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, NULL, &size, 0));
  res("get bad ctx", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, (void *)8, &size, 0));
  res("get flags 2", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, &c, &size, 2));
  res("get SINGLE NULL ctx", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, NULL, &size, LSM_FLAG_SINGLE));
  res("get SINGLE bad ctx", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, (void *)8, &size, LSM_FLAG_SINGLE));
  c.id = 0;
  res("get SINGLE id UNDEF", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, &c, &size, LSM_FLAG_SINGLE));
  c.id = LSM_ID_LANDLOCK;
  size = sizeof c;
  res("get SINGLE landlock", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, &c, &size, LSM_FLAG_SINGLE));
  printf("%-44s %u\n", "  size", size);
  c.id = 4242;
  res("get SINGLE unknown id", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, &c, &size, LSM_FLAG_SINGLE));
  res("get SINGLE|2", syscall(NR_LSM_GET_SELF_ATTR, LSM_ATTR_CURRENT, &c, &size, 3));

  memset(&c, 0, sizeof c);
  c.id = LSM_ID_LANDLOCK;
  c.len = 32 + 8;
  c.ctx_len = 8;
  strcpy(c.data, "label");
  res("set landlock", syscall(NR_LSM_SET_SELF_ATTR, LSM_ATTR_CURRENT, &c, 40, 0));
  c.id = LSM_ID_CAPABILITY;
  res("set capability", syscall(NR_LSM_SET_SELF_ATTR, LSM_ATTR_CURRENT, &c, 40, 0));
  res("set flags 1", syscall(NR_LSM_SET_SELF_ATTR, LSM_ATTR_CURRENT, &c, 40, 1));
  res("set size 31", syscall(NR_LSM_SET_SELF_ATTR, LSM_ATTR_CURRENT, &c, 31, 0));
  res("set size 4097", syscall(NR_LSM_SET_SELF_ATTR, LSM_ATTR_CURRENT, &c, 4097, 0));
  res("set size huge", syscall(NR_LSM_SET_SELF_ATTR, LSM_ATTR_CURRENT, &c, 0xffffffffUL, 0));
  res("set bad ctx", syscall(NR_LSM_SET_SELF_ATTR, LSM_ATTR_CURRENT, (void *)8, 40, 0));
  res("set NULL ctx", syscall(NR_LSM_SET_SELF_ATTR, LSM_ATTR_CURRENT, NULL, 40, 0));
  c.len = 100;
  res("set len beyond size", syscall(NR_LSM_SET_SELF_ATTR, LSM_ATTR_CURRENT, &c, 40, 0));
  c.len = 36;
  res("set len below header+ctx_len", syscall(NR_LSM_SET_SELF_ATTR, LSM_ATTR_CURRENT, &c, 40, 0));
  c.len = 40;
  c.ctx_len = (uint64_t)-8;
  res("set ctx_len overflowing", syscall(NR_LSM_SET_SELF_ATTR, LSM_ATTR_CURRENT, &c, 40, 0));
  c.ctx_len = 8;
  res("set attr UNDEF", syscall(NR_LSM_SET_SELF_ATTR, 0, &c, 40, 0));
  res("set unknown attr", syscall(NR_LSM_SET_SELF_ATTR, 999, &c, 40, 0));
  printf("done\n");
  return 0;
}
