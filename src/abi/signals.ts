// Signal numbers, default actions and sigaction flags (asm/signal.h, man 7 signal).
// Signal sets are bigint bitmasks: bit (sig-1) stands for sig.

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8,
  SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15, SIGSTKFLT = 16,
  SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGURG = 23, SIGXCPU = 24,
  SIGXFSZ = 25, SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28, SIGIO = 29, SIGPWR = 30, SIGSYS = 31;
export const SIGRTMIN = 32;
export const NSIG = 64;

export const SIG_DFL = 0;
export const SIG_IGN = 1;

export const SA_NOCLDSTOP = 0x1;
export const SA_NOCLDWAIT = 0x2;
export const SA_SIGINFO = 0x4;
export const SA_RESTORER = 0x04000000;
export const SA_ONSTACK = 0x08000000;
export const SA_RESTART = 0x10000000;
export const SA_NODEFER = 0x40000000;
export const SA_RESETHAND = 0x80000000;

export const SI_USER = 0;
export const SI_KERNEL = 0x80;
/** si_code of a POSIX timer's signal. */
export const SI_TIMER = -2;
/** struct sigevent's sigev_notify. */
export const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2, SIGEV_THREAD_ID = 4;
export const SI_TKILL = -6;
export const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_TRAPPED = 4, CLD_STOPPED = 5, CLD_CONTINUED = 6;
export const SEGV_MAPERR = 1, SEGV_ACCERR = 2;
export const BUS_ADRERR = 2;

export type DefaultAction = 'term' | 'core' | 'ign' | 'stop' | 'cont';

export function defaultAction(sig: number): DefaultAction {
  switch (sig) {
    case SIGCHLD: case SIGURG: case SIGWINCH: return 'ign';
    case SIGCONT: return 'cont';
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU: return 'stop';
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
    case SIGXCPU: case SIGXFSZ: case SIGSYS: return 'core';
    default: return 'term';
  }
}

export function sigBit(sig: number): bigint {
  return 1n << BigInt(sig - 1);
}

/** Signals that can never be blocked, caught or ignored. */
export const UNBLOCKABLE = sigBit(SIGKILL) | sigBit(SIGSTOP);

export const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  16: 'SIGSTKFLT', 17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU',
  23: 'SIGURG', 24: 'SIGXCPU', 25: 'SIGXFSZ', 26: 'SIGVTALRM', 27: 'SIGPROF', 28: 'SIGWINCH', 29: 'SIGIO',
  30: 'SIGPWR', 31: 'SIGSYS',
};

export function signalName(sig: number): string {
  return SIGNAL_NAMES[sig] ?? (sig >= SIGRTMIN && sig <= NSIG ? `SIGRT_${sig - SIGRTMIN}` : String(sig));
}

export interface SigAction {
  handler: number;
  flags: number;
  restorer: number;
  mask: bigint;
}

export function defaultSigAction(): SigAction {
  return { handler: SIG_DFL, flags: 0, restorer: 0, mask: 0n };
}

/** What the receiver learns about a signal (the fields of siginfo_t we fill). */
export interface SigInfo {
  signo: number;
  code: number;
  errno?: number;
  pid?: number;
  uid?: number;
  status?: number;
  addr?: number;
  utime?: number;
  stime?: number;
  /** The whole siginfo as the sender gave it (rt_sigqueueinfo): passed through unchanged. */
  raw?: Buffer;
}

/** Encode siginfo_t (128 bytes) for the application. */
export function encodeSigInfo(si: SigInfo): Buffer {
  if (si.raw) {
    const r = Buffer.from(si.raw);
    r.writeInt32LE(si.signo, 0);
    return r;
  }
  const b = Buffer.alloc(128);
  b.writeInt32LE(si.signo, 0);
  b.writeInt32LE(si.errno ?? 0, 4);
  b.writeInt32LE(si.code, 8);
  if (si.addr !== undefined) {
    // A fault at a kernel address near 2^64 arrives rounded to 2^64 in a number.
    b.writeBigUInt64LE(si.addr >= 2 ** 64 ? 0xffffffffffffffffn : BigInt.asUintN(64, BigInt(si.addr)), 16);
  } else {
    b.writeInt32LE(si.pid ?? 0, 16);
    b.writeUInt32LE(si.uid ?? 0, 20);
    if (si.signo === SIGCHLD) {
      b.writeInt32LE(si.status ?? 0, 24);
      b.writeBigInt64LE(BigInt(si.utime ?? 0), 32);
      b.writeBigInt64LE(BigInt(si.stime ?? 0), 40);
    }
  }
  return b;
}

/**
 * Pending signals of a task or process. A standard signal is pending at most
 * once (a second one coalesces); real-time signals queue every instance in
 * order, each with its own siginfo (sigqueue values).
 */
export class SigQueue {
  private readonly q = new Map<number, SigInfo[]>();
  /** Queued instances in all (a real-time signal may be queued many times). */
  entries = 0;

  has(sig: number): boolean {
    return this.q.has(sig);
  }

  set(sig: number, info: SigInfo): this {
    const l = this.q.get(sig);
    if (!l) this.q.set(sig, [info]);
    else if (sig >= SIGRTMIN) l.push(info);
    else return this;
    this.entries++;
    return this;
  }

  get(sig: number): SigInfo | undefined {
    return this.q.get(sig)?.[0];
  }

  /** Remove and return the oldest instance of sig. */
  take(sig: number): SigInfo | undefined {
    const l = this.q.get(sig);
    if (!l) return undefined;
    const info = l.shift();
    this.entries--;
    if (l.length === 0) this.q.delete(sig);
    return info;
  }

  delete(sig: number): boolean {
    this.entries -= this.q.get(sig)?.length ?? 0;
    return this.q.delete(sig);
  }

  clear(): void {
    this.q.clear();
    this.entries = 0;
  }

  keys(): IterableIterator<number> {
    return this.q.keys();
  }

  get size(): number {
    return this.q.size;
  }

  *[Symbol.iterator](): IterableIterator<[number, SigInfo]> {
    for (const [sig, l] of this.q) yield [sig, l[0]];
  }
}
