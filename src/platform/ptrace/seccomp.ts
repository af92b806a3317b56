// The seccomp filter every stub runs under. Application system calls never
// reach it: PTRACE_SYSEMU stops and skips them before seccomp runs. What does
// reach it is what the Sentry injects (and anything that would escape ptrace
// by a bug): only the calls the platform needs are allowed, the rest kills the
// stub. Defense in depth, as gVisor's ptrace stubs do.

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const SECCOMP_RET_KILL_PROCESS = 0x80000000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_TRAP = 0x00030000;

/** Host calls the platform injects: memory mapping, forking stubs, the waker's epoll_wait, exiting. */
export const STUB_ALLOWED_SYSCALLS = [
  9, // mmap
  10, // mprotect
  11, // munmap
  56, // clone (the master forks new stubs)
  232, // epoll_wait (the waker)
  60, // exit
  231, // exit_group
];

/** struct sock_filter array for the allow-list above. */
export function stubFilter(): Buffer {
  const ins: Array<[number, number, number, number]> = [];
  ins.push([BPF_LD_W_ABS, 0, 0, 4]); // seccomp_data.arch
  ins.push([BPF_JEQ_K, 1, 0, AUDIT_ARCH_X86_64]);
  ins.push([BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS]);
  // A call from a kernel address is the host emulating a call into the
  // vsyscall page (it asks seccomp first): SIGSYS, which the platform turns
  // into the execute fault the Sentry emulates (platform/ptrace/stops.ts).
  ins.push([BPF_LD_W_ABS, 0, 0, 12]); // seccomp_data.instruction_pointer, high half
  ins.push([BPF_JEQ_K, 0, 1, 0xffffffff]);
  ins.push([BPF_RET_K, 0, 0, SECCOMP_RET_TRAP]);
  ins.push([BPF_LD_W_ABS, 0, 0, 0]); // seccomp_data.nr
  const n = STUB_ALLOWED_SYSCALLS.length;
  STUB_ALLOWED_SYSCALLS.forEach((nr, i) => {
    // On a match jump over the remaining compares and the kill, to ALLOW.
    ins.push([BPF_JEQ_K, n - i, 0, nr]);
  });
  ins.push([BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS]);
  ins.push([BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW]);
  const b = Buffer.alloc(ins.length * 8);
  ins.forEach(([code, jt, jf, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b.writeUInt8(jt, i * 8 + 2);
    b.writeUInt8(jf, i * 8 + 3);
    b.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return b;
}
