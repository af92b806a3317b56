// --strace: every system call of the sandbox, decoded the way `strace -f`
// prints it. The runner calls enter() before a handler runs, blocked() when it
// returned a promise, and exit() with the result; the signal manager calls
// signal() for each signal it delivers, and exited() runs as a task goes.
// Argument kinds come from the syscall table's `args`; the decoders live in
// one file per family.

import { Reg } from '../../platform/platform';
import { errnoName } from '../../abi/errno';
import type { Kernel } from '../kernel';
import { taskExitHooks } from '../lifecycle';
import type { SigInfo } from '../../abi/signals';
import type { Task } from '../task';
import { fsDecoders, octal } from './dec_fs';
import { fcntlResult, ioDecoders, pollResult } from './dec_io';
import { netDecoders } from './dec_net';
import { processDecoders } from './dec_process';
import { sigName, siginfo, signalDecoders } from './dec_signal';
import { timeMmDecoders } from './dec_time_mm';
import { errnoMessage, restartText } from './errtext';
import { dec64, hex, hex64, ptr, udec64, type Call, type Decoder, type Table } from './format';

const ARG_REGS = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9];

/** The column strace aligns " = result" to. */
const RESULT_COLUMN = 39;

const basicDecoders: Table = {
  /** A C int (the register's low 32 bits, signed). */
  int: { fmt: (c, i) => String(c.args[i] | 0) },
  /** A signed 64-bit value (offsets, lengths), exact. */
  long: { fmt: dec64 },
  uint: { fmt: udec64 },
  size: { fmt: udec64 },
  hex: { fmt: (c, i) => (c.args[i] === 0 ? '0' : hex64(c, i)) },
  ptr: { fmt: (c, i) => ptr(c.args[i]) },
  /** A pointer the kernel writes through, not decoded: shown at exit so a blocked call's line ends before it. */
  ptr_out: { out: true, fmt: (c, i) => ptr(c.args[i]) },
};

const DECODERS: Table = {
  ...basicDecoders, ...fsDecoders, ...ioDecoders, ...netDecoders, ...processDecoders, ...signalDecoders, ...timeMmDecoders,
};

/** Results strace does not show in decimal. */
const RESULTS: Record<string, (c: Call) => string | null> = {
  mmap: (c) => hex(c.ret),
  mremap: (c) => hex(c.ret),
  brk: (c) => hex(c.ret),
  shmat: (c) => hex(c.ret),
  umask: (c) => octal(c.ret),
  fcntl: fcntlResult,
  poll: pollResult,
  ppoll: pollResult,
};

interface Pending {
  call: Call;
  kinds: readonly string[];
  /** Index of the first argument decoded at exit. */
  split: number;
  entryParts: string[];
  unfinished: boolean;
}

/** Whether the kinds used in the syscall table all have decoders (unit-tested). */
export function knownKind(kind: string): boolean {
  return kind in DECODERS;
}

export class Strace {
  private readonly pending = new Map<Task, Pending>();
  /** Calls whose handler returned a promise: shown as unfinished unless they finish first. */
  private readonly deferred = new Set<Task>();
  private flushQueued = false;

  constructor(private readonly k: Kernel, private readonly sink: (line: string) => void) {}

  /** A system call starts: decode what goes in (execve's argv is gone once it succeeds). */
  enter(t: Task, nr: number, args: readonly number[]): void {
    const def = this.k.table[nr];
    const name = def?.name ?? this.k.syscallNames[nr] ?? `syscall_${nr}`;
    const kinds = def?.args ?? [];
    const regs = t.ctx.regs;
    const call: Call = { t, nr, name, args: args.slice(), raw: ARG_REGS.map((r) => regs.getU64(r)), ret: Number.NaN };
    const entryParts: string[] = [];
    let split = 0;
    for (; split < kinds.length; split++) {
      const d = decoderOf(kinds[split]);
      if (d.out) break;
      const s = run(d, call, split);
      if (s !== null) entryParts.push(s);
    }
    this.pending.set(t, { call, kinds, split, entryParts, unfinished: false });
  }

  /**
   * The handler returned a promise. If the call has not finished once the
   * promise jobs ran, or another line comes first, it is shown as unfinished,
   * so that a hang shows where it hangs.
   */
  blocked(t: Task): void {
    if (!this.pending.has(t)) return;
    this.deferred.add(t);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flush(null);
    });
  }

  private flush(except: Task | null): void {
    for (const t of this.deferred) {
      if (t === except) continue;
      this.deferred.delete(t);
      const p = this.pending.get(t);
      if (!p || p.unfinished) continue;
      p.unfinished = true;
      const more = p.split < p.kinds.length && p.entryParts.length > 0 ? ', ' : '';
      this.emit(t, `${p.call.name}(${p.entryParts.join(', ')}${more} <unfinished ...>`, null);
    }
  }

  /** The call returns ret (NaN: the task died in it, strace's "= ?"). */
  exit(t: Task, ret: number): void {
    const p = this.pending.get(t);
    if (!p) return;
    this.pending.delete(t);
    this.deferred.delete(t);
    const c = p.call;
    c.ret = ret;
    const dead = Number.isNaN(ret);
    if (dead && p.unfinished) {
      this.emit(t, `<... ${c.name} resumed> <unfinished ...>)`, '?');
      return;
    }
    const exitParts: string[] = [];
    for (let i = p.split; i < p.kinds.length; i++) {
      const s = dead ? hex64(c, i) : run(decoderOf(p.kinds[i]), c, i);
      if (s !== null) exitParts.push(s);
    }
    const body = p.unfinished
      ? `<... ${c.name} resumed>${exitParts.join(', ')})`
      : `${c.name}(${[...p.entryParts, ...exitParts].join(', ')})`;
    this.emit(t, body, dead ? '?' : result(c));
  }

  /** A signal is being delivered to t. */
  signal(t: Task, sig: number, info: SigInfo): void {
    this.emit(t, `--- ${sigName(sig)} ${siginfo({ ...info, signo: info.signo || sig })} ---`, null);
  }

  /** t is leaving: finish a call it died in, then strace's exit line. */
  exited(t: Task): void {
    if (this.pending.has(t)) this.exit(t, Number.NaN);
    const st = t.tg.exitStatus ?? 0;
    const sig = st & 0x7f;
    this.emit(t, sig ? `+++ killed by ${sigName(sig)}${st & 0x80 ? ' (core dumped)' : ''} +++` : `+++ exited with ${(st >> 8) & 0xff} +++`, null);
  }

  /** A line of the Sentry's own about t (a 32-bit entry, an emulated vsyscall). */
  note(t: Task, body: string, res: string | null): void {
    this.emit(t, body, res);
  }

  private emit(t: Task, body: string, res: string | null): void {
    if (this.deferred.size) this.flush(t);
    // strace -f names the process once more than one is traced.
    let line = this.k.tasks.size > 1 ? `[pid ${t.tid}] ${body}` : body;
    if (res !== null) line = `${line.padEnd(RESULT_COLUMN)} = ${res}`;
    this.sink(line);
  }
}

function decoderOf(kind: string): Decoder {
  return DECODERS[kind] ?? basicDecoders.hex;
}

/** A decoder must never take the Sentry down: a surprise shows the raw value. */
function run(d: Decoder, c: Call, i: number): string | null {
  try {
    return d.fmt(c, i);
  } catch {
    return hex64(c, i);
  }
}

function result(c: Call): string {
  const r = c.ret;
  if (r < 0 && r > -4096) return restartText(-r) ?? `-1 ${errnoName(-r)} (${errnoMessage(-r)})`;
  const special = RESULTS[c.name];
  return (special && special(c)) ?? String(r);
}

// The exit line of every task; a no-op unless the task's kernel traces.
taskExitHooks.push((t) => t.kernel.strace?.exited(t));
