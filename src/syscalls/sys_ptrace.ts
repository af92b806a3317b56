// ptrace(2) for sandboxed programs (strace, gdb): the requests, on the state
// machine of kernel/ptrace.ts and the register rules of kernel/ptrace_regs.ts.
// Every address the tracer gives is checked by the memory manager (tracer's
// and tracee's): the tracee's memory ends at its application top, so the
// platform's stub is out of reach (EIO, as for an unmapped address on Linux).

import { E, Errno } from '../abi/errno';
import { vTask } from '../kernel/pid_ns';
import * as P from '../abi/ptrace';
import * as S from '../abi/signals';
import { Reg } from '../platform/platform';
import type { Task } from '../kernel/task';
import type { Tracee } from '../kernel/ptrace';
import { getFpRegs, getUserRegs, peekUser, pokeUser, setFpRegs, setUserRegs, tracerRead, tracerWrite } from '../kernel/ptrace_regs';
import { i32, type SyscallDef } from '../kernel/syscall';

function validSignal(data: number): number {
  if (data < 0 || data > S.NSIG) throw new Errno(E.EIO);
  return data;
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b;
}

/** struct ptrace_syscall_info for the current stop; returns its full size. */
function syscallInfo(t: Task, target: Task, tr: Tracee, size: number, addr: number): number {
  const b = Buffer.alloc(88);
  const regs = target.ctx.regs;
  const sysgood = tr.siginfo !== null && tr.siginfo.signo === S.SIGTRAP && tr.siginfo.code === (S.SIGTRAP | 0x80);
  let op = P.SYSCALL_INFO_NONE;
  if (sysgood && tr.stop === 'syscall-enter') op = P.SYSCALL_INFO_ENTRY;
  else if (sysgood && tr.stop === 'syscall-exit') op = P.SYSCALL_INFO_EXIT;
  b.writeUInt8(op, 0);
  b.writeUInt32LE(P.AUDIT_ARCH_X86_64, 4);
  b.writeBigUInt64LE(regs.getU64(Reg.RIP), 8);
  b.writeBigUInt64LE(regs.getU64(Reg.RSP), 16);
  let len = 24;
  if (op === P.SYSCALL_INFO_ENTRY) {
    b.writeBigUInt64LE(regs.getU64(Reg.ORIG_RAX), 24);
    const argRegs = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9];
    argRegs.forEach((r, i) => b.writeBigUInt64LE(regs.getU64(r), 32 + i * 8));
    len = 80;
  } else if (op === P.SYSCALL_INFO_EXIT) {
    const rval = regs.get(Reg.RAX);
    b.writeBigInt64LE(BigInt(rval), 24);
    b.writeUInt8(rval < 0 && rval >= -4095 ? 1 : 0, 32);
    len = 33;
  }
  if (size > 0) t.mm.copyOut(addr, b.subarray(0, Math.min(size, len)));
  return len;
}

/** GETREGSET/SETREGSET: iov points at {base, len}; len is cut to what the set holds and written back. */
function regset(t: Task, target: Task, set: boolean, type: number, iovAddr: number): number {
  const iov = t.mm.copyIn(iovAddr, 16);
  const base = Number(iov.readBigUInt64LE(0));
  const len = Number(iov.readBigUInt64LE(8));
  let size: number;
  if (type === P.NT_PRSTATUS) size = P.USER_REGS_SIZE;
  else if (type === P.NT_PRFPREG) size = P.USER_FPREGS_SIZE;
  else throw new Errno(E.EINVAL);
  const n = Math.min(len, size);
  if (!set) {
    const data = type === P.NT_PRSTATUS ? getUserRegs(target) : getFpRegs(target);
    t.mm.copyOut(base, data.subarray(0, n));
  } else {
    const cur = type === P.NT_PRSTATUS ? Buffer.from(getUserRegs(target)) : getFpRegs(target);
    t.mm.copyIn(base, n).copy(cur, 0);
    if (type === P.NT_PRSTATUS) setUserRegs(target, cur);
    else setFpRegs(target, cur);
  }
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt(n));
  t.mm.copyOut(iovAddr + 8, out);
  return 0;
}

function ptrace(t: Task, a: number[]): number {
  // data is read again from its register where all 64 bits matter (POKE*).
  const req = a[0];
  const pid = i32(a[1]);
  const addr = a[2];
  const data = a[3];
  const k = t.kernel;
  if (req === P.PTRACE_TRACEME) {
    k.ptrace.traceme(t);
    return 0;
  }
  const target = vTask(t, pid);
  if (!target) throw new Errno(E.ESRCH);
  if (req === P.PTRACE_ATTACH || req === P.PTRACE_SEIZE) {
    const seize = req === P.PTRACE_SEIZE;
    if (seize && addr !== 0) throw new Errno(E.EIO);
    if (seize && (data < 0 || data & ~P.PTRACE_O_MASK)) throw new Errno(E.EIO);
    k.ptrace.attach(t, target, seize, seize ? data : 0);
    return 0;
  }
  const tr = target.ptrace;
  if (!tr || tr.tracer !== t) throw new Errno(E.ESRCH);
  if (req === P.PTRACE_KILL) {
    k.signals.sendToTask(target, S.SIGKILL, { signo: S.SIGKILL, code: S.SI_USER, pid: t.pid, uid: t.creds.uid });
    return 0;
  }
  if (req === P.PTRACE_INTERRUPT) {
    if (!tr.seized) throw new Errno(E.EIO);
    k.ptrace.interrupt(target);
    return 0;
  }
  if (!tr.inStop) throw new Errno(E.ESRCH);
  switch (req) {
    case P.PTRACE_PEEKTEXT:
    case P.PTRACE_PEEKDATA:
      t.mm.copyOut(data, tracerRead(target.mm, addr, 8));
      return 0;
    case P.PTRACE_POKETEXT:
    case P.PTRACE_POKEDATA:
      tracerWrite(target.mm, addr, u64(t.ctx.regs.getU64(Reg.R10)));
      return 0;
    case P.PTRACE_PEEKUSER:
      t.mm.copyOut(data, u64(peekUser(target, addr, tr.debugRegs)));
      return 0;
    case P.PTRACE_POKEUSER:
      pokeUser(target, addr, t.ctx.regs.getU64(Reg.R10), tr.debugRegs);
      return 0;
    case P.PTRACE_GETREGS:
      t.mm.copyOut(data, getUserRegs(target));
      return 0;
    case P.PTRACE_SETREGS:
      setUserRegs(target, t.mm.copyIn(data, P.USER_REGS_SIZE));
      return 0;
    case P.PTRACE_GETFPREGS:
      t.mm.copyOut(data, getFpRegs(target));
      return 0;
    case P.PTRACE_SETFPREGS:
      setFpRegs(target, t.mm.copyIn(data, P.USER_FPREGS_SIZE));
      return 0;
    case P.PTRACE_GETREGSET:
    case P.PTRACE_SETREGSET:
      return regset(t, target, req === P.PTRACE_SETREGSET, addr, data);
    case P.PTRACE_SETOPTIONS:
      if (data < 0 || data & ~P.PTRACE_O_MASK) throw new Errno(E.EINVAL);
      tr.options = data;
      return 0;
    case P.PTRACE_GETEVENTMSG:
      t.mm.copyOut(data, u64(BigInt(tr.eventMsg)));
      return 0;
    case P.PTRACE_GETSIGINFO:
      if (!tr.siginfo) throw new Errno(E.EINVAL);
      t.mm.copyOut(data, S.encodeSigInfo(tr.siginfo));
      return 0;
    case P.PTRACE_SETSIGINFO: {
      if (!tr.siginfo) throw new Errno(E.EINVAL);
      const raw = t.mm.copyIn(data, 128);
      tr.siginfo = { signo: raw.readInt32LE(0), code: raw.readInt32LE(8), raw };
      return 0;
    }
    case P.PTRACE_GETSIGMASK:
      if (addr !== 8) throw new Errno(E.EINVAL);
      t.mm.copyOut(data, u64(target.sigmask));
      return 0;
    case P.PTRACE_SETSIGMASK:
      if (addr !== 8) throw new Errno(E.EINVAL);
      target.sigmask = t.mm.copyIn(data, 8).readBigUInt64LE(0) & ~S.UNBLOCKABLE;
      return 0;
    case P.PTRACE_GET_SYSCALL_INFO:
      return syscallInfo(t, target, tr, addr, data);
    case P.PTRACE_CONT:
      k.ptrace.resume(target, 'cont', validSignal(data));
      return 0;
    case P.PTRACE_SYSCALL:
      k.ptrace.resume(target, 'syscall', validSignal(data));
      return 0;
    case P.PTRACE_SINGLESTEP:
      k.ptrace.resume(target, 'step', validSignal(data));
      return 0;
    case P.PTRACE_SYSEMU:
      k.ptrace.resume(target, 'sysemu', validSignal(data));
      return 0;
    case P.PTRACE_SYSEMU_SINGLESTEP:
      k.ptrace.resume(target, 'sysemu-step', validSignal(data));
      return 0;
    case P.PTRACE_DETACH:
      k.ptrace.detach(target, validSignal(data));
      return 0;
    case P.PTRACE_LISTEN:
      if (!tr.seized || !tr.siginfo || tr.siginfo.code >> 8 !== P.PTRACE_EVENT_STOP) throw new Errno(E.EIO);
      k.ptrace.listen(target);
      return 0;
    default:
      // PEEKSIGINFO, ARCH_PRCTL, GETFPXREGS, SECCOMP_GET_FILTER, GET_THREAD_AREA, ...
      throw new Errno(E.EIO);
  }
}

export const defs: SyscallDef[] = [
  {
    nr: 101, name: 'ptrace', fn: ptrace, args: ['ptrace_req', 'int', 'hex', 'hex'],
    partial: 'EIO for PTRACE_PEEKSIGINFO, ARCH_PRCTL, GETFPXREGS, SECCOMP_GET_FILTER, GET_THREAD_AREA; no hardware breakpoints (enabling one in dr7 is EIO); GETREGSET has NT_PRSTATUS and NT_PRFPREG only (NT_X86_XSTATE: EINVAL); a vfork parent reports PTRACE_EVENT_VFORK when its child lets go, with VFORK_DONE',
  },
];
