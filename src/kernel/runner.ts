// How a task serves one stop of its context: dispatch a system call through the
// table (sync handlers finish at once: the hot path has no promise), resolve a
// fault, then deliver signals and switch back to the application.

import { Reg, type Stop } from '../platform/platform';
import { E, Errno, errnoName } from './errno';
import type { Kernel } from './kernel';
import * as S from './signal_defs';
import type { Task } from './task';
import { wakeCounter } from './waitqueue';
import { outOfMemory } from './oom';

/** A handler result meaning "registers already hold the outcome" (execve, rt_sigreturn, exit). */
export const KEEP_REGS = Number.MIN_SAFE_INTEGER;
const ARG_REGS = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9];
const TASK_SIZE = 0x7ffffffff000;
/** The vsyscall page's entry points (0xffffffffff600000 + 0, 0x400, 0x800, as signed numbers) and their calls. */
const VSYSCALLS = new Map<number, number>([[-0xa00000, 96 /* gettimeofday */], [-0xa00000 + 0x400, 201 /* time */], [-0xa00000 + 0x800, 309 /* getcpu */]]);
/** Sizes of the pointer arguments Linux checks before a vsyscall runs. */
const VSYSCALL_ARGS: Record<number, number[]> = { 96: [16, 8], 201: [8], 309: [4, 4] };

export class TaskRunner {
  /** 'interrupted' stops served (a count for the debug log and tests; rare, not on the hot path). */
  interrupts = 0;

  constructor(private readonly k: Kernel) {}

  onStop(t: Task, stop: Stop): void {
    if (t.state === 'dead') return;
    try {
      this.dispatchStop(t, stop);
    } catch (e) {
      this.kernelBug(t, e);
    }
  }

  /**
   * An exception that is not an Errno is a bug of the Sentry. It costs the
   * process that hit it (killed as by SIGKILL), not the whole sandbox, and is
   * logged with its stack.
   */
  kernelBug(t: Task, e: unknown): void {
    const msg = `BUG serving pid ${t.tid}: ${(e as Error)?.stack ?? String(e)}`;
    this.k.log(msg);
    this.k.warn(`internal error: process ${t.tid} killed (${(e as Error)?.message ?? String(e)})`);
    if (!t.tg.exiting) this.k.exitGroup(t.tg, S.SIGKILL);
  }

  private dispatchStop(t: Task, stop: Stop): void {
    switch (stop.kind) {
      case 'syscall':
        this.syscall(t);
        return;
      case 'syscall32':
        this.syscall32(t);
        return;
      case 'interrupted':
        // Asked for by Context.interrupt() (a signal, a stop, a kill is pending), or spurious.
        this.interrupts++;
        this.returnToUser(t, false);
        return;
      case 'fault':
        this.fault(t, stop.signo, stop.code, stop.addr);
        return;
      case 'gone':
        this.k.log(`task ${t.tid}: host process vanished (status ${stop.status})`);
        this.k.exitGroup(t.tg, S.SIGKILL);
        return;
    }
  }

  private syscall(t: Task): void {
    t.lastFaultAddr = -1;
    const regs = t.ctx.regs;
    const nr = regs.get(Reg.ORIG_RAX);
    const args = ARG_REGS.map((r) => regs.get(r));
    const def = nr >= 0 && nr < this.k.table.length ? this.k.table[nr] : undefined;
    let r: number | Promise<number>;
    if (!def) {
      this.k.logOnce(`nosys${nr}`, `unimplemented syscall ${this.k.syscallNames[nr] ?? '?'} (${nr}): ENOSYS`);
      r = -E.ENOSYS;
    } else {
      try {
        r = def.fn(t, args);
      } catch (e) {
        r = toRet(e, t, def.name);
      }
    }
    if (typeof r === 'number') {
      this.finish(t, nr, args, r);
      return;
    }
    wakeCounter.pending++;
    const done = (v: number) => {
      try {
        this.finish(t, nr, args, v);
      } catch (e) {
        this.kernelBug(t, e);
      }
    };
    r.then(done, (e) => done(toRet(e, t, def?.name ?? String(nr))));
  }

  /**
   * int $0x80 and sysenter use the i386 numbers and registers. There is no
   * 32-bit ABI here: ENOSYS, never the 64-bit call with the same number.
   */
  private syscall32(t: Task): void {
    t.lastFaultAddr = -1;
    const nr = t.ctx.regs.get(Reg.ORIG_RAX);
    this.k.logOnce('syscall32', `32-bit system call ${nr} (int $0x80 or sysenter): ENOSYS, there is no 32-bit ABI`);
    t.ctx.regs.set(Reg.RAX, -E.ENOSYS);
    if (this.k.strace) this.k.strace(`[pid ${t.tid}] 32-bit syscall_${nr}(...) = -1 ENOSYS`);
    this.returnToUser(t, true);
  }

  private finish(t: Task, nr: number, args: number[], ret: number): void {
    if (t.state === 'dead') {
      // exit, exit_group, or killed while blocked: strace shows "= ?".
      if (this.k.strace) this.k.strace(formatStrace(this.k, t, nr, args, Number.NaN));
      return;
    }
    if (ret !== KEEP_REGS) t.ctx.regs.set(Reg.RAX, ret);
    if (this.k.strace) this.k.strace(formatStrace(this.k, t, nr, args, ret === KEEP_REGS ? t.ctx.regs.get(Reg.RAX) : ret));
    this.returnToUser(t, true);
  }

  private fault(t: Task, signo: number, code: number, addr: number): void {
    const rip = t.ctx.regs.get(Reg.RIP);
    // A fault may need two rounds (map the page, then copy it on write); the
    // same fault a third time is the application's own.
    t.faultRepeats = t.lastFaultAddr === addr && t.lastFaultRip === rip ? t.faultRepeats + 1 : 0;
    const repeated = t.faultRepeats >= 2;
    t.lastFaultAddr = addr;
    t.lastFaultRip = rip;
    if (signo === S.SIGSEGV && addr === rip && VSYSCALLS.has(addr)) {
      this.vsyscall(t, VSYSCALLS.get(addr)!);
      return;
    }
    if ((signo === S.SIGSEGV || signo === S.SIGBUS) && !repeated) {
      const r = t.mm.handleFault(addr);
      if (r === 'oom') {
        if (outOfMemory(this.k, t)) {
          t.faultRepeats = 0;
          this.returnToUser(t, false);
        }
        return;
      }
      if (r === 'ok') {
        this.returnToUser(t, false);
        return;
      }
      if (r === 'bus') {
        signo = S.SIGBUS;
        code = S.BUS_ADRERR;
      } else {
        code = t.mm.findVma(addr) ? S.SEGV_ACCERR : S.SEGV_MAPERR;
      }
    }
    if (this.k.strace) this.k.strace(`[pid ${t.tid}] --- ${S.signalName(signo)} {si_code=${code}, si_addr=0x${addr.toString(16)}} (rip 0x${t.ctx.regs.get(Reg.RIP).toString(16)}) ---`);
    this.forceSignal(t, signo, { signo, code, addr });
    this.returnToUser(t, false);
  }

  /**
   * A call into the vsyscall page (old static binaries): Linux runs the
   * system call of that entry and emulates the `ret`. A bad stack or result
   * pointer is a SIGSEGV with no return, as there.
   */
  private vsyscall(t: Task, nr: number): void {
    const regs = t.ctx.regs;
    const sp = regs.get(Reg.RSP);
    const args = ARG_REGS.map((r) => regs.get(r));
    let caller: number;
    try {
      caller = Number(t.mm.readBigU64(sp));
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      this.segv(t, sp);
      return;
    }
    const sizes = VSYSCALL_ARGS[nr];
    for (let i = 0; i < sizes.length; i++) {
      if (args[i] !== 0 && (args[i] < 0 || args[i] + sizes[i] > TASK_SIZE)) {
        this.segv(t, args[i]);
        return;
      }
    }
    const def = this.k.table[nr];
    let r = -E.ENOSYS;
    if (def) {
      try {
        const v = def.fn(t, args);
        if (typeof v !== 'number') throw new Error(`vsyscall ${def.name} did not finish at once`);
        r = v;
      } catch (e) {
        r = toRet(e, t, def.name);
      }
    }
    if (this.k.strace) this.k.strace(`[pid ${t.tid}] vsyscall ${formatStrace(this.k, t, nr, args, r).replace(/^\[pid \d+\] /, '')}`);
    if (r === -E.EFAULT) {
      this.segv(t, args[0]);
      return;
    }
    regs.set(Reg.RAX, r);
    regs.set(Reg.RIP, caller);
    regs.set(Reg.RSP, sp + 8);
    this.returnToUser(t, false);
  }

  private segv(t: Task, addr: number): void {
    this.forceSignal(t, S.SIGSEGV, { signo: S.SIGSEGV, code: S.SEGV_MAPERR, addr });
    this.returnToUser(t, false);
  }

  /** A synchronous fault signal cannot be blocked or ignored: Linux resets such a handler to default. */
  forceSignal(t: Task, sig: number, info: S.SigInfo): void {
    const bit = S.sigBit(sig);
    const act = t.tg.actions[sig];
    if (t.sigmask & bit || act.handler === S.SIG_IGN) {
      t.tg.actions[sig] = S.defaultSigAction();
      t.sigmask &= ~bit;
    }
    t.pending.set(sig, info);
  }

  /** Deliver signals and resume the application, or park the task while its group is stopped. */
  returnToUser(t: Task, inSyscall: boolean): void {
    const what = this.k.signals.deliver(t, inSyscall);
    if (what === 'dead' || t.state === 'dead') return;
    if (what === 'stop' || t.tg.stopped) {
      this.parkStopped(t);
      return;
    }
    try {
      t.ctx.resume();
    } catch (e) {
      this.k.log(`task ${t.tid}: cannot resume: ${(e as Error).message}`);
      this.k.exitGroup(t.tg, S.SIGKILL);
    }
  }

  private parkStopped(t: Task): void {
    t.state = 'stopped';
    const waiter = {
      mask: 0xffffffff,
      wake: () => {
        t.tg.contQueue.remove(waiter);
        wakeCounter.pending++;
        if (t.state === 'dead') return;
        t.state = 'running';
        queueMicrotask(() => this.returnToUser(t, false));
      },
    };
    t.tg.contQueue.add(waiter);
    // SIGKILL while stopped: exitGroup marks the task dead and notifies contQueue.
  }
}

function toRet(e: unknown, t: Task, name: string): number {
  if (e instanceof Errno) return -e.errno;
  t.kernel.log(`BUG in ${name}: ${(e as Error)?.stack ?? String(e)}`);
  return -E.EIO;
}

function formatStrace(k: Kernel, t: Task, nr: number, args: number[], ret: number): string {
  const def = k.table[nr];
  const name = def?.name ?? k.syscallNames[nr] ?? `syscall_${nr}`;
  const fmts = def?.args ?? [];
  const parts: string[] = [];
  for (let i = 0; i < fmts.length; i++) parts.push(formatArg(t, fmts[i], args[i], args[i + 1], ret));
  const res = Number.isNaN(ret) ? '?' : ret < 0 && ret > -4096 ? `-1 ${errnoName(-ret)}` : ret >= 0 && ret < 4096 ? String(ret) : '0x' + ret.toString(16);
  return `[pid ${t.tid}] ${name}(${parts.join(', ')}) = ${res}`;
}

function formatArg(t: Task, fmt: string, v: number, next: number, ret: number): string {
  try {
    switch (fmt) {
      case 'fd': case 'int': return String(v | 0);
      case 'signal': return (v | 0) > 0 && (v | 0) <= S.NSIG ? S.signalName(v | 0) : String(v | 0);
      case 'clockid': return CLOCKS[v | 0] ?? String(v | 0);
      case 'openflags': return openFlags(v | 0);
      case 'prot': return bitNames(v | 0, PROT_BITS, 'PROT_NONE');
      case 'mapflags': return bitNames(v | 0, MAP_BITS, '0');
      case 'atfd': return (v | 0) === -100 ? 'AT_FDCWD' : String(v | 0);
      case 'uint': case 'size': return String(v);
      case 'oct': return v === 0 ? '0' : '0' + (v >>> 0).toString(8);
      case 'str': return v === 0 ? 'NULL' : quote(Buffer.from(t.mm.readCString(v, 4096), 'latin1'));
      case 'inbuf': {
        if (v === 0) return 'NULL';
        const n = Math.min(Math.max(next, 0), 32);
        return quote(t.mm.copyIn(v, n)) + (next > 32 ? '...' : '');
      }
      case 'buf': {
        if (v === 0 || ret <= 0) return hex(v);
        const n = Math.min(ret, 32);
        return quote(t.mm.copyIn(v, n)) + (ret > 32 ? '...' : '');
      }
      default: return hex(v);
    }
  } catch {
    return hex(v);
  }
}

const CLOCKS: Record<number, string> = {
  0: 'CLOCK_REALTIME', 1: 'CLOCK_MONOTONIC', 2: 'CLOCK_PROCESS_CPUTIME_ID', 3: 'CLOCK_THREAD_CPUTIME_ID',
  4: 'CLOCK_MONOTONIC_RAW', 5: 'CLOCK_REALTIME_COARSE', 6: 'CLOCK_MONOTONIC_COARSE', 7: 'CLOCK_BOOTTIME',
};
const OPEN_BITS: Array<[number, string]> = [
  [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'], [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'], [0o10000, 'O_DSYNC'], [0o40000, 'O_DIRECT'], [0o200000, 'O_DIRECTORY'],
  [0o400000, 'O_NOFOLLOW'], [0o1000000, 'O_NOATIME'], [0o2000000, 'O_CLOEXEC'], [0o4010000, 'O_SYNC'],
  [0o10000000, 'O_PATH'], [0o20200000, 'O_TMPFILE'],
];
const PROT_BITS: Array<[number, string]> = [[1, 'PROT_READ'], [2, 'PROT_WRITE'], [4, 'PROT_EXEC']];
const MAP_BITS: Array<[number, string]> = [
  [0x01, 'MAP_SHARED'], [0x02, 'MAP_PRIVATE'], [0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x100, 'MAP_GROWSDOWN'],
  [0x800, 'MAP_DENYWRITE'], [0x4000, 'MAP_NORESERVE'], [0x8000, 'MAP_POPULATE'], [0x20000, 'MAP_STACK'],
  [0x100000, 'MAP_FIXED_NOREPLACE'],
];

/** Flags as strace prints them: known bits by name, the rest in hex. */
function bitNames(v: number, bits: Array<[number, string]>, zero: string): string {
  const parts: string[] = [];
  let rest = v;
  for (const [bit, name] of bits) {
    if ((rest & bit) === bit) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest) parts.push('0x' + (rest >>> 0).toString(16));
  return parts.length ? parts.join('|') : zero;
}

function openFlags(v: number): string {
  const mode = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][v & 3];
  const rest = bitNames(v & ~3, OPEN_BITS, '');
  return rest ? `${mode}|${rest}` : mode;
}

function hex(v: number): string {
  return '0x' + (v < 0 ? BigInt.asUintN(64, BigInt(v)).toString(16) : v.toString(16));
}

/** strace's quoting: C escapes, octal for other non-printable bytes. */
function quote(b: Buffer): string {
  let out = '"';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    const esc: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r', 12: '\\f', 11: '\\v', 34: '\\"', 92: '\\\\' };
    if (esc[c]) out += esc[c];
    else if (c >= 32 && c < 127) out += String.fromCharCode(c);
    else {
      const next = b[i + 1];
      const digitFollows = next !== undefined && next >= 48 && next <= 55;
      out += '\\' + (digitFollows ? c.toString(8).padStart(3, '0') : c.toString(8));
    }
  }
  return out + '"';
}
