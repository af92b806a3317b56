// The stand-in of a pod's container (pod_commands.ts): the host process whose
// pid the container's state and pid file give, so that a shim waiting for
// that pid sees the container end. It is a static x86-64 ELF of a few
// hundred bytes generated here (as the ptrace stub is: no compiler at
// install or run time), not a Node process: an idle one costs a page table
// and a stack, not a V8 heap.
//
// What it does, with fds set up by its creator: 0-2 are the container's
// stdio (the sandbox opens them through /proc), 3 the read end of the
// status pipe (the sandbox writes the container's wait status, 4 bytes), 4
// the write end of the signal pipe (it writes the number of each signal it
// gets, 4 bytes each). It names itself, turns core dumps off, blocks the
// signals it passes on (and SIGPIPE) and reads them from a signalfd; with
// an argument it makes fd 0 its controlling terminal (TIOCSCTTY: ^C at the
// console socket's pty reaches it). Then it polls both: a signal goes down
// the signal pipe; a status ends it as the container ended (exit code, or
// the same signal raised on itself, every other signal still blocked); an
// end of the status pipe (the sandbox is gone) ends it as killed by
// SIGKILL.

import { SIGALRM, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGTSTP, SIGUSR1, SIGUSR2, SIGWINCH } from '../abi/signals';

/** The signals the stand-in passes to the container (a shim's kill of its pid, a terminal's ^C, ^\\, ^Z and window changes). */
export const STAND_IN_SIGNALS = [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGTSTP, SIGWINCH];
/** Its name (/proc/PID/comm). */
export const STAND_IN_NAME = 'tsvisor-pod';

const BASE = 0x400000;
const HDR = 64;
const PHDR = 56;
const CODE_OFF = HDR + PHDR;

const mask = (sigs: number[]): bigint => sigs.reduce((m, s) => m | (1n << BigInt(s - 1)), 0n);

/** A tiny assembler: bytes, labels, and rel8/rel32 fix-ups. */
class Code {
  readonly b: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Array<{ at: number; label: string; size: 1 | 4 }> = [];

  emit(...bytes: number[]): this {
    this.b.push(...bytes);
    return this;
  }

  imm32(v: number): this {
    return this.emit(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  /** mov eax, nr; syscall */
  sys(nr: number): this {
    return this.emit(0xb8).imm32(nr).emit(0x0f, 0x05);
  }

  label(name: string): this {
    this.labels.set(name, this.b.length);
    return this;
  }

  /** A rel8 (or rel32) operand to label, after the opcode bytes just emitted. */
  rel(label: string, size: 1 | 4 = 1): this {
    this.fixups.push({ at: this.b.length, label, size });
    return this.emit(...new Array<number>(size).fill(0));
  }

  /** lea REG, [rip + label]: the 3 opcode bytes given. */
  lea(op: number[], label: string): this {
    return this.emit(...op).rel(label, 4);
  }

  link(): Buffer {
    for (const { at, label, size } of this.fixups) {
      const to = this.labels.get(label);
      if (to === undefined) throw new Error(`stand-in: no label ${label}`);
      const d = to - (at + size);
      if (size === 1) {
        if (d < -128 || d > 127) throw new Error(`stand-in: ${label} out of rel8 reach`);
        this.b[at] = d & 0xff;
      } else {
        for (let i = 0; i < 4; i++) this.b[at + i] = (d >> (8 * i)) & 0xff;
      }
    }
    return Buffer.from(this.b);
  }
}

function code(): Buffer {
  const c = new Code();
  const RSI = [0x48, 0x8d, 0x35];
  c.emit(0x4c, 0x8b, 0x2c, 0x24); // mov r13, [rsp]: argc
  c.emit(0x48, 0x81, 0xec).imm32(512); // sub rsp, 512: scratch
  // prctl(PR_SET_NAME, name)
  c.emit(0xbf).imm32(15).lea(RSI, 'name').sys(157);
  // prlimit64(0, RLIMIT_CORE, {0, 0}, NULL): a raised signal dumps no core
  c.emit(0x31, 0xc0, 0x48, 0x89, 0x84, 0x24).imm32(256).emit(0x48, 0x89, 0x84, 0x24).imm32(264);
  c.emit(0x31, 0xff, 0xbe).imm32(4).emit(0x48, 0x8d, 0x94, 0x24).imm32(256).emit(0x45, 0x31, 0xd2).sys(302);
  // rt_sigprocmask(SIG_BLOCK, &block, NULL, 8)
  c.emit(0x31, 0xff).lea(RSI, 'block').emit(0x31, 0xd2, 0x41, 0xba).imm32(8).sys(14);
  // r12 = signalfd4(-1, &forward, 8, 0)
  c.emit(0xbf).imm32(-1).lea(RSI, 'forward').emit(0xba).imm32(8).emit(0x45, 0x31, 0xd2).sys(289);
  c.emit(0x49, 0x89, 0xc4);
  // With an argument: ioctl(0, TIOCSCTTY, 0)
  c.emit(0x49, 0x83, 0xfd, 0x01, 0x76).rel('loop'); // cmp r13, 1; jbe loop
  c.emit(0x31, 0xff, 0xbe).imm32(0x540e).emit(0x31, 0xd2).sys(16);
  c.label('loop');
  // poll([{3, POLLIN}, {r12, POLLIN}], 2, -1)
  c.emit(0xc7, 0x04, 0x24).imm32(3).emit(0xc7, 0x44, 0x24, 0x04).imm32(1);
  c.emit(0x44, 0x89, 0x64, 0x24, 0x08).emit(0xc7, 0x44, 0x24, 0x0c).imm32(1);
  c.emit(0x48, 0x89, 0xe7, 0xbe).imm32(2).emit(0xba).imm32(-1).sys(7);
  c.emit(0x48, 0x85, 0xc0, 0x78).rel('gone'); // test rax, rax; js gone
  // A signal: read its signalfd_siginfo, write ssi_signo down the signal pipe.
  c.emit(0x0f, 0xb7, 0x44, 0x24, 0x0e, 0x85, 0xc0, 0x74).rel('status'); // movzx eax, word [rsp+14]; test; jz status
  c.emit(0x44, 0x89, 0xe7, 0x48, 0x8d, 0x74, 0x24, 0x10, 0xba).imm32(128).sys(0);
  c.emit(0x48, 0x3d).imm32(128).emit(0x75).rel('status'); // cmp rax, 128; jne status
  c.emit(0xbf).imm32(4).emit(0x48, 0x8d, 0x74, 0x24, 0x10, 0xba).imm32(4).sys(1);
  c.label('status');
  c.emit(0x0f, 0xb7, 0x44, 0x24, 0x06, 0x85, 0xc0, 0x0f, 0x84).rel('loop', 4); // movzx eax, word [rsp+6]; test; jz loop
  // The status pipe: 4 bytes of wait status, or its end.
  c.emit(0xbf).imm32(3).emit(0x48, 0x8d, 0x74, 0x24, 0x10, 0xba).imm32(4).sys(0);
  c.emit(0x48, 0x83, 0xf8, 0x04, 0x74).rel('got'); // cmp rax, 4; je got
  c.label('gone');
  c.emit(0xc7, 0x44, 0x24, 0x10).imm32(9); // status = killed by SIGKILL
  c.label('got');
  c.emit(0x8b, 0x5c, 0x24, 0x10); // mov ebx, [rsp+16]
  c.emit(0x89, 0xd8, 0x83, 0xe0, 0x7f, 0x74).rel('exited'); // mov eax, ebx; and eax, 0x7f; jz exited
  c.emit(0x89, 0xc3); // mov ebx, eax: the signal
  // Every signal blocked but that one, then kill(getpid(), sig).
  c.emit(0x48, 0xc7, 0xc0).imm32(-1); // mov rax, -1
  c.emit(0x8d, 0x4b, 0xff, 0x48, 0x0f, 0xb3, 0xc8); // lea ecx, [rbx-1]; btr rax, rcx
  c.emit(0x48, 0x89, 0x44, 0x24, 0x20); // mov [rsp+32], rax
  c.emit(0xbf).imm32(2).emit(0x48, 0x8d, 0x74, 0x24, 0x20, 0x31, 0xd2, 0x41, 0xba).imm32(8).sys(14);
  c.sys(39).emit(0x89, 0xc7, 0x89, 0xde).sys(62);
  // Still here (a signal whose default is not to end a process): the shell's 128+N.
  c.emit(0x8d, 0xbb).imm32(128).emit(0xeb).rel('exit');
  c.label('exited');
  c.emit(0x89, 0xdf, 0xc1, 0xef, 0x08, 0x81, 0xe7).imm32(0xff); // edi = (status >> 8) & 0xff
  c.label('exit');
  c.sys(231);
  c.emit(0xf4); // hlt: never reached
  while (c.b.length % 8) c.emit(0xcc);
  const u64 = (v: bigint) => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
  c.label('forward').emit(...u64(mask(STAND_IN_SIGNALS)));
  c.label('block').emit(...u64(mask([...STAND_IN_SIGNALS, SIGPIPE])));
  c.label('name').emit(...Buffer.from(STAND_IN_NAME + '\0', 'latin1'));
  return c.link();
}

/** The stand-in's executable image. */
export function standInElf(): Buffer {
  const body = code();
  const img = Buffer.alloc(CODE_OFF + body.length);
  img.write('\x7fELF', 0, 'latin1');
  img[4] = 2; img[5] = 1; img[6] = 1; // 64-bit, little endian, version 1
  img.writeUInt16LE(2, 16); // ET_EXEC
  img.writeUInt16LE(62, 18); // EM_X86_64
  img.writeUInt32LE(1, 20);
  img.writeBigUInt64LE(BigInt(BASE + CODE_OFF), 24); // entry
  img.writeBigUInt64LE(BigInt(HDR), 32); // phoff
  img.writeUInt16LE(HDR, 52); img.writeUInt16LE(PHDR, 54); img.writeUInt16LE(1, 56);
  // One PT_LOAD, R-X: headers, code and its constants.
  img.writeUInt32LE(1, HDR); img.writeUInt32LE(5, HDR + 4);
  img.writeBigUInt64LE(0n, HDR + 8);
  img.writeBigUInt64LE(BigInt(BASE), HDR + 16); img.writeBigUInt64LE(BigInt(BASE), HDR + 24);
  img.writeBigUInt64LE(BigInt(img.length), HDR + 32); img.writeBigUInt64LE(BigInt(img.length), HDR + 40);
  img.writeBigUInt64LE(0x1000n, HDR + 48);
  body.copy(img, CODE_OFF);
  return img;
}
