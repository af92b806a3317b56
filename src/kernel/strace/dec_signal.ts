// Signals as strace shows them: numbers, sets, sigaction, the mask restored
// by rt_sigreturn, and the siginfo of a delivered signal.

import { Reg } from '../../platform/platform';
import * as S from '../../abi/signals';
import { bitNames, hex, inArg, outArg, ptr, struct, type Table } from './format';

export function sigName(n: number): string {
  if (n === S.SIGRTMIN) return 'SIGRTMIN';
  if (n > S.SIGRTMIN && n <= S.NSIG) return `SIGRT_${n - S.SIGRTMIN}`;
  return S.SIGNAL_NAMES[n] ?? String(n);
}

/** `[USR1 TERM]`, or `~[...]` with the complement when most signals are in the set. */
export function sigset(mask: bigint): string {
  let count = 0;
  for (let m = mask; m; m &= m - 1n) count++;
  const inverted = count > S.NSIG / 2;
  const shown = inverted ? ~mask & ((1n << BigInt(S.NSIG)) - 1n) : mask;
  const names: string[] = [];
  for (let sig = 1; sig <= S.NSIG; sig++) if (shown & S.sigBit(sig)) names.push(sigName(sig).slice(3));
  return `${inverted ? '~' : ''}[${names.join(' ')}]`;
}

const SA_BITS: ReadonlyArray<readonly [number, string]> = [
  [S.SA_NOCLDSTOP, 'SA_NOCLDSTOP'], [S.SA_NOCLDWAIT, 'SA_NOCLDWAIT'], [S.SA_SIGINFO, 'SA_SIGINFO'],
  [S.SA_RESTORER, 'SA_RESTORER'], [S.SA_ONSTACK, 'SA_ONSTACK'], [S.SA_RESTART, 'SA_RESTART'],
  [S.SA_NODEFER, 'SA_NODEFER'], [S.SA_RESETHAND, 'SA_RESETHAND'],
];

function handlerName(h: number): string {
  return h === S.SIG_DFL ? 'SIG_DFL' : h === S.SIG_IGN ? 'SIG_IGN' : hex(h);
}

/** struct kernel_sigaction: handler, flags, restorer, mask (8 bytes each on x86-64). */
function sigaction(b: Buffer): string {
  const handler = Number(b.readBigUInt64LE(0));
  const flags = Number(b.readBigUInt64LE(8) & 0xffffffffn);
  const restorer = Number(b.readBigUInt64LE(16));
  const mask = b.readBigUInt64LE(24);
  let s = `{sa_handler=${handlerName(handler)}, sa_mask=${sigset(mask)}, sa_flags=${bitNames(flags, SA_BITS, '0')}`;
  if (flags & S.SA_RESTORER) s += `, sa_restorer=${ptr(restorer)}`;
  return s + '}';
}

const HOW: Record<number, string> = { 0: 'SIG_BLOCK', 1: 'SIG_UNBLOCK', 2: 'SIG_SETMASK' };

function readSet(b: Buffer | null): string | null {
  if (!b) return null;
  return sigset(b.length >= 8 ? b.readBigUInt64LE(0) : BigInt(b.length >= 4 ? b.readUInt32LE(0) : 0));
}

/** A sigset whose size in bytes is the argument after the next one (rt_sigprocmask) or given. */
function setSize(args: number[], i: number): number {
  const n = args[i];
  return n > 0 && n <= 8 ? n : 8;
}

const SS_FLAGS: ReadonlyArray<readonly [number, string]> = [[1, 'SS_ONSTACK'], [2, 'SS_DISABLE'], [0x80000000, 'SS_AUTODISARM']];

function stackT(b: Buffer): string {
  return `{ss_sp=${ptr(Number(b.readBigUInt64LE(0)))}, ss_flags=${bitNames(b.readInt32LE(8), SS_FLAGS, '0')}, ss_size=${b.readBigUInt64LE(16)}}`;
}

export const signalDecoders: Table = {
  signal: { fmt: (c, i) => {
    const v = c.args[i] | 0;
    return v > 0 && v <= S.NSIG ? sigName(v) : String(v);
  } },
  sigmask_how: { fmt: (c, i) => HOW[c.args[i] | 0] ?? `${hex(c.args[i] >>> 0)} /* SIG_??? */` },
  /** A signal set in, its size in bytes in args[3] (rt_sigprocmask, rt_sigaction-style calls). */
  sigset: inArg((c, v) => readSet(struct(c.t, v, setSize(c.args, 3)))),
  sigset_out: outArg((c, v) => readSet(struct(c.t, v, setSize(c.args, 3)))),
  /** A signal set whose size is the next argument (rt_sigsuspend, rt_sigpending). */
  sigset_n: inArg((c, v, i) => readSet(struct(c.t, v, setSize(c.args, i + 1)))),
  sigset_n_out: outArg((c, v, i) => readSet(struct(c.t, v, setSize(c.args, i + 1)))),
  sigaction: inArg((c, v) => {
    const b = struct(c.t, v, 32);
    return b && sigaction(b);
  }),
  sigaction_out: outArg((c, v) => {
    const b = struct(c.t, v, 32);
    return b && sigaction(b);
  }),
  stack: inArg((c, v) => {
    const b = struct(c.t, v, 24);
    return b && stackT(b);
  }),
  stack_out: outArg((c, v) => {
    const b = struct(c.t, v, 24);
    return b && stackT(b);
  }),
  /** rt_sigreturn has no arguments; strace shows the mask the frame on the stack restores. */
  sigreturn_mask: { fmt: (c) => {
    const b = struct(c.t, c.t.ctx.regs.get(Reg.RSP) + 296, 8);
    return b ? `{mask=${sigset(b.readBigUInt64LE(0))}}` : null;
  } },
};

const SI_CODES: Record<number, string> = {
  0: 'SI_USER', 0x80: 'SI_KERNEL', [-1]: 'SI_QUEUE', [-2]: 'SI_TIMER', [-3]: 'SI_MESGQ', [-4]: 'SI_ASYNCIO',
  [-5]: 'SI_SIGIO', [-6]: 'SI_TKILL',
};
const CLD_CODES = ['', 'CLD_EXITED', 'CLD_KILLED', 'CLD_DUMPED', 'CLD_TRAPPED', 'CLD_STOPPED', 'CLD_CONTINUED'];
const FAULT_CODES: Record<number, string[]> = {
  [S.SIGSEGV]: ['', 'SEGV_MAPERR', 'SEGV_ACCERR', 'SEGV_BNDERR', 'SEGV_PKUERR'],
  [S.SIGBUS]: ['', 'BUS_ADRALN', 'BUS_ADRERR', 'BUS_OBJERR', 'BUS_MCEERR_AR', 'BUS_MCEERR_AO'],
  [S.SIGILL]: ['', 'ILL_ILLOPC', 'ILL_ILLOPN', 'ILL_ILLADR', 'ILL_ILLTRP', 'ILL_PRVOPC', 'ILL_PRVREG', 'ILL_COPROC', 'ILL_BADSTK'],
  [S.SIGFPE]: ['', 'FPE_INTDIV', 'FPE_INTOVF', 'FPE_FLTDIV', 'FPE_FLTOVF', 'FPE_FLTUND', 'FPE_FLTRES', 'FPE_FLTINV', 'FPE_FLTSUB'],
  [S.SIGTRAP]: ['', 'TRAP_BRKPT', 'TRAP_TRACE', 'TRAP_BRANCH', 'TRAP_HWBKPT'],
};

/** The braces of a `--- SIGxxx {...} ---` line. */
export function siginfo(si: S.SigInfo): string {
  const raw = si.raw;
  const pid = si.pid ?? (raw && raw.length >= 24 ? raw.readInt32LE(16) : 0);
  const uid = si.uid ?? (raw && raw.length >= 24 ? raw.readUInt32LE(20) : 0);
  const parts = [`si_signo=${sigName(si.signo)}`];
  if (si.errno) parts.push(`si_errno=${si.errno}`);
  const code = si.code;
  const generic = SI_CODES[code];
  if (generic && code !== 0x80) {
    parts.push(`si_code=${generic}`);
    if (code === -2 && raw && raw.length >= 32) {
      parts.push(`si_timerid=${raw.readInt32LE(16)}`, `si_overrun=${raw.readInt32LE(20)}`);
      const val = raw.readBigUInt64LE(24);
      parts.push(`si_value={int=${Number(val & 0xffffffffn) | 0}, ptr=${ptr(Number(val))}}`);
    } else {
      parts.push(`si_pid=${pid}`, `si_uid=${uid}`);
      if (code === -1 && raw && raw.length >= 32) {
        const val = raw.readBigUInt64LE(24);
        parts.push(`si_int=${Number(val & 0xffffffffn) | 0}`, `si_ptr=${ptr(Number(val))}`);
      }
    }
  } else if (si.signo === S.SIGCHLD && code > 0 && code < CLD_CODES.length) {
    parts.push(`si_code=${CLD_CODES[code]}`, `si_pid=${pid}`, `si_uid=${uid}`);
    const st = si.status ?? 0;
    parts.push(`si_status=${code === 1 ? st : sigName(st)}`, `si_utime=${si.utime ?? 0}`, `si_stime=${si.stime ?? 0}`);
  } else if (FAULT_CODES[si.signo]) {
    parts.push(`si_code=${code === 0x80 ? 'SI_KERNEL' : FAULT_CODES[si.signo][code] ?? String(code)}`);
    parts.push(`si_addr=${ptr(si.addr ?? 0)}`);
  } else {
    parts.push(`si_code=${generic ?? String(code)}`);
  }
  return `{${parts.join(', ')}}`;
}
