// Processes as strace shows them: clone, execve, wait, futex, prctl, rlimits.

import { sigName } from './dec_signal';
import { bitNames, cstring, dec64, enumName, failed, hex, inArg, outArg, ptr, STRLEN, struct, type Call, type Decoder, type Table } from './format';

const CLONE_BITS = [
  [0x100, 'CLONE_VM'], [0x200, 'CLONE_FS'], [0x400, 'CLONE_FILES'], [0x800, 'CLONE_SIGHAND'], [0x1000, 'CLONE_PIDFD'],
  [0x2000, 'CLONE_PTRACE'], [0x4000, 'CLONE_VFORK'], [0x8000, 'CLONE_PARENT'], [0x10000, 'CLONE_THREAD'],
  [0x20000, 'CLONE_NEWNS'], [0x40000, 'CLONE_SYSVSEM'], [0x80000, 'CLONE_SETTLS'], [0x100000, 'CLONE_PARENT_SETTID'],
  [0x200000, 'CLONE_CHILD_CLEARTID'], [0x400000, 'CLONE_DETACHED'], [0x800000, 'CLONE_UNTRACED'],
  [0x1000000, 'CLONE_CHILD_SETTID'], [0x2000000, 'CLONE_NEWCGROUP'], [0x4000000, 'CLONE_NEWUTS'],
  [0x8000000, 'CLONE_NEWIPC'], [0x10000000, 'CLONE_NEWUSER'], [0x20000000, 'CLONE_NEWPID'], [0x40000000, 'CLONE_NEWNET'],
  [0x80000000, 'CLONE_IO'],
] as const;

function cloneFlags(v: number): string {
  const sig = v & 0xff;
  const parts = [bitNames(v & ~0xff, CLONE_BITS, '')].filter((s) => s);
  if (sig) parts.push(sigName(sig));
  return parts.length ? parts.join('|') : '0';
}

/** clone(flags, stack, parent_tid, child_tid, tls) in strace's named, reordered form. */
function clone(c: Call): string {
  const [flags, stack, ptid, ctid, tls] = c.args;
  const parts = [`child_stack=${ptr(stack)}`, `flags=${cloneFlags(flags)}`];
  if (flags & 0x101000) parts.push(`parent_tid=${ptr(ptid)}`);
  if (flags & 0x1200000) parts.push(`child_tidptr=${ptr(ctid)}`);
  if (flags & 0x80000) parts.push(`tls=${ptr(tls)}`);
  return parts.join(', ');
}

/** A NULL-terminated array of strings (argv), at most STRLEN shown. */
function strArray(c: Call, addr: number): string | null {
  const items: string[] = [];
  for (let k = 0; k <= STRLEN; k++) {
    const p = struct(c.t, addr + k * 8, 8);
    if (!p) return items.length ? `[${items.join(', ')}, ...]` : null;
    const s = Number(p.readBigUInt64LE(0));
    if (s === 0) return `[${items.join(', ')}]`;
    if (k === STRLEN) return `[${items.join(', ')}, ...]`;
    items.push(cstring(c.t, s, STRLEN));
  }
  return null;
}

function countArray(c: Call, addr: number): string | null {
  for (let k = 0; k < 65536; k++) {
    const p = struct(c.t, addr + k * 8, 8);
    if (!p) return null;
    if (p.readBigUInt64LE(0) === 0n) return `${hex(addr)} /* ${k} var${k === 1 ? '' : 's'} */`;
  }
  return null;
}

export function waitStatus(s: number): string {
  const sig = s & 0x7f;
  if (sig === 0) return `{WIFEXITED(s) && WEXITSTATUS(s) == ${(s >> 8) & 0xff}}`;
  if (sig === 0x7f && s === 0xffff) return '{WIFCONTINUED(s)}';
  if (sig === 0x7f) {
    const stop = `{WIFSTOPPED(s) && WSTOPSIG(s) == ${(s >> 8) & 0x80 ? `${sigName((s >> 8) & 0x7f)}|0x80` : sigName((s >> 8) & 0xff)}}`;
    const ev = (s >> 16) & 0xff;
    return ev ? `${stop}|${PTRACE_EVENTS[ev] ?? ev} << 16` : stop;
  }
  return `{WIFSIGNALED(s) && WTERMSIG(s) == ${sigName(sig)}${s & 0x80 ? ' && WCOREDUMP(s)' : ''}}`;
}

const WAIT_BITS = [
  [1, 'WNOHANG'], [2, 'WUNTRACED'], [4, 'WEXITED'], [8, 'WCONTINUED'], [0x1000000, 'WNOWAIT'],
  [0x20000000, '__WNOTHREAD'], [0x40000000, '__WALL'], [0x80000000, '__WCLONE'],
] as const;
const WAITID_BITS = [[1, 'WNOHANG'], [2, 'WSTOPPED'], ...WAIT_BITS.slice(2)] as const;
const IDTYPES: Record<number, string> = { 0: 'P_ALL', 1: 'P_PID', 2: 'P_PGID', 3: 'P_PIDFD' };

/** siginfo_t the kernel wrote (waitid): SIGCHLD fields. */
function childInfo(b: Buffer): string {
  const signo = b.readInt32LE(0);
  if (signo === 0) return '{}';
  const codes = ['', 'CLD_EXITED', 'CLD_KILLED', 'CLD_DUMPED', 'CLD_TRAPPED', 'CLD_STOPPED', 'CLD_CONTINUED'];
  const code = b.readInt32LE(8);
  const st = b.readInt32LE(24);
  return `{si_signo=${sigName(signo)}, si_code=${codes[code] ?? code}, si_pid=${b.readInt32LE(16)}, si_uid=${b.readUInt32LE(20)}, ` +
    `si_status=${code === 1 ? st : sigName(st)}, si_utime=${b.readBigInt64LE(32)}, si_stime=${b.readBigInt64LE(40)}}`;
}

const FUTEX_OPS = ['FUTEX_WAIT', 'FUTEX_WAKE', 'FUTEX_FD', 'FUTEX_REQUEUE', 'FUTEX_CMP_REQUEUE', 'FUTEX_WAKE_OP',
  'FUTEX_LOCK_PI', 'FUTEX_UNLOCK_PI', 'FUTEX_TRYLOCK_PI', 'FUTEX_WAIT_BITSET', 'FUTEX_WAKE_BITSET',
  'FUTEX_WAIT_REQUEUE_PI', 'FUTEX_CMP_REQUEUE_PI', 'FUTEX_LOCK_PI2'];

function futexOp(v: number): string {
  const name = FUTEX_OPS[v & 127];
  if (!name) return hex(v >>> 0);
  let s = name + (v & 128 ? '_PRIVATE' : '');
  if (v & 256) s += '|FUTEX_CLOCK_REALTIME';
  return s;
}

function timespecAt(c: Call, v: number): string {
  const b = struct(c.t, v, 16);
  return b ? `{tv_sec=${b.readBigInt64LE(0)}, tv_nsec=${b.readBigInt64LE(8)}}` : hex(v);
}

/**
 * Which futex arguments strace shows for each operation (after uaddr and op):
 * v = val, t = timeout, n = val2 as a number, a = uaddr2, 3 = val3, b = val3 as a bitset.
 */
const FUTEX_SHOWN = ['vt', 'v', 'v', 'vna', 'vna3', 'vna3', 't', '', '', 'vtb', 'vb', 'vta', 'vna3', 't'];

function futexArg(c: Call, i: number): string | null {
  const shown = FUTEX_SHOWN[c.args[1] & 127] ?? 'vta3';
  const v = c.args[i];
  const letter = i === 2 ? 'v' : i === 3 ? (shown.includes('t') ? 't' : 'n') : i === 4 ? 'a' : shown.includes('b') ? 'b' : '3';
  if (!shown.includes(letter)) return null;
  switch (letter) {
    case 'v': case 'n': return String(v | 0);
    case 't': return v === 0 ? 'NULL' : timespecAt(c, v);
    case 'a': return ptr(v);
    case 'b': return (v >>> 0) === 0xffffffff ? 'FUTEX_BITSET_MATCH_ANY' : hex(v >>> 0);
    default: return String(v | 0);
  }
}

const RLIMITS = ['RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC',
  'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE',
  'RLIMIT_RTPRIO', 'RLIMIT_RTTIME'];

function rlimValue(v: bigint): string {
  if (v === 0xffffffffffffffffn) return 'RLIM64_INFINITY';
  return v > 0n && v % 1024n === 0n ? `${v / 1024n}*1024` : String(v);
}

function rlimit(c: Call, v: number): string | null {
  const b = struct(c.t, v, 16);
  return b && `{rlim_cur=${rlimValue(b.readBigUInt64LE(0))}, rlim_max=${rlimValue(b.readBigUInt64LE(8))}}`;
}

type PrctlArg = 'u' | 'sig' | 'int_out' | 'name_in' | 'name_out' | 'dump' | 'ptr';
const PRCTL: Record<number, [string, PrctlArg[]]> = {
  1: ['PR_SET_PDEATHSIG', ['sig']], 2: ['PR_GET_PDEATHSIG', ['int_out']], 3: ['PR_GET_DUMPABLE', []],
  4: ['PR_SET_DUMPABLE', ['dump']], 7: ['PR_GET_KEEPCAPS', []], 8: ['PR_SET_KEEPCAPS', ['u']],
  15: ['PR_SET_NAME', ['name_in']], 16: ['PR_GET_NAME', ['name_out']], 21: ['PR_GET_SECCOMP', []],
  22: ['PR_SET_SECCOMP', ['u', 'ptr']], 23: ['PR_CAPBSET_READ', ['u']], 24: ['PR_CAPBSET_DROP', ['u']],
  29: ['PR_SET_TIMERSLACK', ['u']], 30: ['PR_GET_TIMERSLACK', []], 36: ['PR_SET_CHILD_SUBREAPER', ['u']],
  37: ['PR_GET_CHILD_SUBREAPER', ['int_out']], 38: ['PR_SET_NO_NEW_PRIVS', ['u', 'u', 'u', 'u']],
  39: ['PR_GET_NO_NEW_PRIVS', ['u', 'u', 'u', 'u']], 40: ['PR_GET_TID_ADDRESS', ['ptr']],
  41: ['PR_SET_THP_DISABLE', ['u', 'u', 'u', 'u']], 42: ['PR_GET_THP_DISABLE', ['u', 'u', 'u', 'u']],
  47: ['PR_CAP_AMBIENT', ['u', 'u', 'u', 'u']],
};
const DUMPABLE = ['SUID_DUMP_DISABLE', 'SUID_DUMP_USER', 'SUID_DUMP_ROOT'];

/** prctl's arguments 1..4, shaped by the option; the out ones are read when it returns. */
const prctlArg: Decoder = {
  out: true,
  fmt: (c, i) => {
    const known = PRCTL[c.args[0] | 0];
    const v = c.args[i];
    if (!known) return hex(v);
    const kind = known[1][i - 1];
    switch (kind) {
      case undefined: return null;
      case 'u': return dec64(c, i);
      case 'sig': return (v | 0) === 0 ? '0' : sigName(v | 0);
      case 'dump': return DUMPABLE[v] ?? String(v);
      case 'name_in': return cstring(c.t, v, 16);
      case 'name_out': return failed(c) ? hex(v) : cstring(c.t, v, 16);
      case 'int_out': {
        const b = failed(c) ? null : struct(c.t, v, 4);
        return b ? `[${b.readInt32LE(0)}]` : hex(v);
      }
      default: return ptr(v);
    }
  },
};

const PTRACE_EVENTS: Record<number, string> = {
  1: 'PTRACE_EVENT_FORK', 2: 'PTRACE_EVENT_VFORK', 3: 'PTRACE_EVENT_CLONE', 4: 'PTRACE_EVENT_EXEC',
  5: 'PTRACE_EVENT_VFORK_DONE', 6: 'PTRACE_EVENT_EXIT', 7: 'PTRACE_EVENT_SECCOMP', 128: 'PTRACE_EVENT_STOP',
};
const PTRACE_REQS: Record<number, string> = {
  0: 'PTRACE_TRACEME', 1: 'PTRACE_PEEKTEXT', 2: 'PTRACE_PEEKDATA', 3: 'PTRACE_PEEKUSER', 4: 'PTRACE_POKETEXT',
  5: 'PTRACE_POKEDATA', 6: 'PTRACE_POKEUSER', 7: 'PTRACE_CONT', 8: 'PTRACE_KILL', 9: 'PTRACE_SINGLESTEP',
  12: 'PTRACE_GETREGS', 13: 'PTRACE_SETREGS', 14: 'PTRACE_GETFPREGS', 15: 'PTRACE_SETFPREGS', 16: 'PTRACE_ATTACH',
  17: 'PTRACE_DETACH', 24: 'PTRACE_SYSCALL', 31: 'PTRACE_SYSEMU', 32: 'PTRACE_SYSEMU_SINGLESTEP',
  0x4200: 'PTRACE_SETOPTIONS', 0x4201: 'PTRACE_GETEVENTMSG', 0x4202: 'PTRACE_GETSIGINFO', 0x4203: 'PTRACE_SETSIGINFO',
  0x4204: 'PTRACE_GETREGSET', 0x4205: 'PTRACE_SETREGSET', 0x4206: 'PTRACE_SEIZE', 0x4207: 'PTRACE_INTERRUPT',
  0x4208: 'PTRACE_LISTEN', 0x4209: 'PTRACE_PEEKSIGINFO', 0x420a: 'PTRACE_GETSIGMASK', 0x420b: 'PTRACE_SETSIGMASK',
  0x420e: 'PTRACE_GET_SYSCALL_INFO',
};
const ARCH_PRCTL: Record<number, string> = {
  0x1001: 'ARCH_SET_GS', 0x1002: 'ARCH_SET_FS', 0x1003: 'ARCH_GET_FS', 0x1004: 'ARCH_GET_GS',
  0x1011: 'ARCH_GET_CPUID', 0x1012: 'ARCH_SET_CPUID',
};

export const processDecoders: Table = {
  clone: { fmt: (c) => clone(c) },
  none: { fmt: () => null },
  clone_flags: { fmt: (c, i) => cloneFlags(c.args[i]) },
  argv: inArg((c, v) => strArray(c, v)),
  envp: inArg((c, v) => countArray(c, v)),
  wstatus_out: outArg((c, v) => {
    if (c.ret <= 0) return hex(v);
    const b = struct(c.t, v, 4);
    return b && `[${waitStatus(b.readInt32LE(0))}]`;
  }),
  wait_opts: { fmt: (c, i) => bitNames(c.args[i], WAIT_BITS, '0') },
  waitid_opts: { fmt: (c, i) => bitNames(c.args[i], WAITID_BITS, '0') },
  idtype: { fmt: (c, i) => enumName(c.args[i] >>> 0, IDTYPES, 'P_???') },
  siginfo_out: outArg((c, v) => {
    const b = struct(c.t, v, 48);
    return b && childInfo(b);
  }),
  futex_op: { fmt: (c, i) => futexOp(c.args[i]) },
  futex_arg: { fmt: futexArg },
  rlimit_res: { fmt: (c, i) => RLIMITS[c.args[i]] ?? `${hex(c.args[i] >>> 0)} /* RLIMIT_??? */` },
  rlimit: inArg(rlimit),
  rlimit_out: outArg(rlimit),
  prctl_op: { fmt: (c, i) => PRCTL[c.args[i] | 0]?.[0] ?? `${hex(c.args[i] >>> 0)} /* PR_??? */` },
  prctl_arg: prctlArg,
  ptrace_req: { fmt: (c, i) => enumName(c.args[i], PTRACE_REQS, 'PTRACE_???') },
  arch_prctl_op: { fmt: (c, i) => enumName(c.args[i] >>> 0, ARCH_PRCTL, 'ARCH_???') },
  grnd_flags: { fmt: (c, i) => bitNames(c.args[i], [[1, 'GRND_NONBLOCK'], [2, 'GRND_RANDOM'], [4, 'GRND_INSECURE']], '0') },
  prio_which: { fmt: (c, i) => enumName(c.args[i] >>> 0, { 0: 'PRIO_PROCESS', 1: 'PRIO_PGRP', 2: 'PRIO_USER' }, 'PRIO_???') },
};
