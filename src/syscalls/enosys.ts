// Why each system call without a handler answers ENOSYS (docs/COMPATIBILITY.md
// shows it; a unit test fails for an ENOSYS entry without a reason).

const NOT_ON_X86_64 = 'not implemented by Linux on x86-64 either (ENOSYS natively)';

export const ENOSYS_REASONS: Readonly<Record<string, string>> = {
  afs_syscall: NOT_ON_X86_64, create_module: NOT_ON_X86_64, epoll_ctl_old: NOT_ON_X86_64, epoll_wait_old: NOT_ON_X86_64,
  get_kernel_syms: NOT_ON_X86_64, get_thread_area: NOT_ON_X86_64, getpmsg: NOT_ON_X86_64, nfsservctl: NOT_ON_X86_64,
  putpmsg: NOT_ON_X86_64, query_module: NOT_ON_X86_64, security: NOT_ON_X86_64, set_thread_area: NOT_ON_X86_64,
  tuxcall: NOT_ON_X86_64, vserver: NOT_ON_X86_64, lookup_dcookie: 'removed from Linux 6.7 (ENOSYS there too)',
  _sysctl: 'removed from Linux 5.5 (ENOSYS there too)',
  uselib: 'a.out libraries: Linux without CONFIG_USELIB (Debian) answers ENOSYS',
  sysfs: 'the obsolete sysfs(2): Linux without CONFIG_SYSFS_SYSCALL answers ENOSYS',
  ustat: 'obsolete; glibc no longer exposes it',
  modify_ldt: '16-bit segments: Linux without CONFIG_MODIFY_LDT_SYSCALL answers ENOSYS',
  remap_file_pages: 'deprecated; no known user',
  memfd_secret: 'disabled by default in Linux (ENOSYS there too)',
  rseq: 'not offered: a registration must get its cpu_id fields rewritten at every return to the application and its critical sections aborted when the task was interrupted, a write into application memory at every stop; glibc registers rseq at start-up and carries on without it on ENOSYS (sched_getcpu then asks getcpu)',
  fanotify_init: 'fanotify: needs CAP_SYS_ADMIN on Linux; not offered',
  fanotify_mark: 'fanotify: not offered',
  io_uring_setup: 'io_uring: runtimes fall back to epoll and threads on ENOSYS (as under gVisor)',
  io_uring_enter: 'io_uring: see io_uring_setup', io_uring_register: 'io_uring: see io_uring_setup',
  process_madvise: 'advice to another process: not offered',
  migrate_pages: 'one NUMA node: nothing to migrate', move_pages: 'one NUMA node: nothing to move',
  perf_event_open: 'no performance counters in the sandbox (Linux without CONFIG_PERF_EVENTS answers ENOSYS)',
  bpf: 'no eBPF in the sandbox',
  pkey_mprotect: 'memory protection keys: not offered to applications', pkey_alloc: 'memory protection keys: not offered',
  pkey_free: 'memory protection keys: not offered',
  name_to_handle_at: 'file handles: not offered', open_by_handle_at: 'file handles: not offered',
  quotactl: 'no disk quotas in the sandbox', quotactl_fd: 'no disk quotas in the sandbox',
  kexec_load: 'cannot replace the sandbox kernel', kexec_file_load: 'cannot replace the sandbox kernel',
  init_module: 'no kernel modules in the sandbox', finit_module: 'no kernel modules in the sandbox',
  delete_module: 'no kernel modules in the sandbox',
  swapon: 'no swap in the sandbox', swapoff: 'no swap in the sandbox',
  reboot: 'rebooting the sandbox kernel is not offered',
  acct: 'process accounting: not offered', vhangup: 'virtual hangup of the terminal: not offered',
  iopl: 'no port I/O in the sandbox', ioperm: 'no port I/O in the sandbox',
  map_shadow_stack: 'shadow stacks: Linux without CONFIG_X86_USER_SHADOW_STACK answers ENOSYS',
};
