// The vm.* sysctls the memory managers of one sandbox obey. Linux's are
// machine-wide; here each sandbox (its Kernel) has its own, shared by all
// of its address spaces and set through /proc/sys/vm.

/** vm.max_map_count's default (Linux's DEFAULT_MAX_MAP_COUNT). */
const MAX_MAP_COUNT = 65530;

export class VmSysctl {
  /**
   * vm.max_map_count: the VMAs an address space may hold (mm.ts applies
   * Linux's rules). The host's own limit on the stub's mappings caps it,
   * whatever is written here (MemoryManager.maxMapCount).
   */
  maxMapCount = MAX_MAP_COUNT;
  /** vm.unprivileged_userfaultfd: 1 lets anyone make a userfaultfd for kernel faults too (syscalls/sys_userfaultfd.ts); 0, Linux's default, only CAP_SYS_PTRACE. */
  unprivilegedUserfaultfd = 0;
}
