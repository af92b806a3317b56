// seccomp for applications (man 2 seccomp): classic BPF filters a task
// attaches to itself, run on struct seccomp_data {nr, arch, ip, args[6]}
// before each of its system calls. Filters are data (the checked program),
// chained newest first, inherited by fork and kept across exec; the most
// restrictive action of all of them wins.

import { E, Errno } from '../abi/errno';

export const SECCOMP_RET_KILL_PROCESS = 0x80000000, SECCOMP_RET_KILL_THREAD = 0, SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000, SECCOMP_RET_USER_NOTIF = 0x7fc00000, SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000, SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ACTION_FULL = 0xffff0000, SECCOMP_RET_DATA = 0x0000ffff;
export const AUDIT_ARCH_X86_64 = 0xc000003e;

/** Linux's limits: instructions per filter, and per task counting 4 for each filter. */
const BPF_MAXINSNS = 4096;
const MAX_INSNS_PER_PATH = 32768;
/** sizeof(struct seccomp_data). */
const DATA_SIZE = 64;

// Classic BPF encoding (linux/filter.h, linux/bpf_common.h).
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, IMM = 0x00, ABS = 0x20, MEM = 0x60, LEN = 0x80;
const K = 0x00, X = 0x08, A_SRC = 0x10;
const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
const TAX = 0x00, TXA = 0x80;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export interface SeccompFilter {
  readonly insns: readonly Insn[];
  /** SECCOMP_FILTER_FLAG_LOG: log the actions other than ALLOW. */
  readonly log: boolean;
  readonly prev: SeccompFilter | null;
}

/** What a filter sees of a system call. */
export interface SeccompData {
  nr: number;
  ip: bigint;
  args: readonly bigint[];
}

/** The opcodes seccomp accepts (Linux's seccomp_check_filter on top of the classic checks). */
function allowed(code: number): boolean {
  switch (code) {
    case LD | W | ABS: case LD | W | LEN: case LDX | W | LEN:
    case LD | IMM: case LDX | IMM: case LD | MEM: case LDX | MEM | W: case ST: case STX:
    case RET | K: case RET | A_SRC:
    case MISC | TAX: case MISC | TXA:
    case JMP | JA: case JMP | JEQ | K: case JMP | JEQ | X: case JMP | JGE | K: case JMP | JGE | X:
    case JMP | JGT | K: case JMP | JGT | X: case JMP | JSET | K: case JMP | JSET | X:
    case ALU | NEG:
      return true;
  }
  if ((code & 0x07) === ALU) {
    const op = code & 0xf0;
    return [ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, MOD, XOR].includes(op) && (code & ~0xf8) === ALU;
  }
  return false;
}

/** Decode and check a program (struct sock_filter[len]); EINVAL as Linux for anything it refuses. */
export function checkProgram(raw: Buffer): Insn[] {
  const n = raw.length / 8;
  if (n === 0 || n > BPF_MAXINSNS) throw new Errno(E.EINVAL);
  const insns: Insn[] = [];
  for (let i = 0; i < n; i++) {
    const code = raw.readUInt16LE(i * 8), jt = raw[i * 8 + 2], jf = raw[i * 8 + 3], k = raw.readUInt32LE(i * 8 + 4);
    if (!allowed(code)) throw new Errno(E.EINVAL);
    if (code === (LD | W | ABS) && (k >= DATA_SIZE || k % 4)) throw new Errno(E.EINVAL);
    if ((code === (LD | MEM) || code === (LDX | MEM | W) || code === ST || code === STX) && k >= 16) throw new Errno(E.EINVAL);
    if ((code === (ALU | DIV | K) || code === (ALU | MOD | K)) && k === 0) throw new Errno(E.EINVAL);
    if ((code & 0x07) === JMP) {
      // Forward jumps that stay inside the program.
      if (code === (JMP | JA) ? i + 1 + k >= n : i + 1 + Math.max(jt, jf) >= n) throw new Errno(E.EINVAL);
    }
    insns.push({ code, jt, jf, k });
  }
  if ((insns[n - 1].code & 0x07) !== RET) throw new Errno(E.EINVAL);
  return insns;
}

/** Total instructions of a chain as Linux counts them (4 more per filter). */
export function chainLength(f: SeccompFilter | null): number {
  let n = 0;
  for (; f; f = f.prev) n += f.insns.length + 4;
  return n;
}

export function attach(prev: SeccompFilter | null, insns: Insn[], log: boolean): SeccompFilter {
  if (chainLength(prev) + insns.length + 4 > MAX_INSNS_PER_PATH) throw new Errno(E.ENOMEM);
  return { insns, log, prev };
}

function dataWord(d: SeccompData, off: number): number {
  if (off === 0) return d.nr >>> 0;
  if (off === 4) return AUDIT_ARCH_X86_64;
  const q = off < 16 ? d.ip : d.args[(off - 16) >> 3];
  return Number((off % 8 === 0 ? q : q >> 32n) & 0xffffffffn);
}

/** Run one program (checked by checkProgram, so every path ends in RET). */
function run(insns: readonly Insn[], d: SeccompData): number {
  let a = 0, x = 0;
  const mem = new Uint32Array(16);
  for (let pc = 0; ; pc++) {
    const { code, jt, jf, k } = insns[pc];
    switch (code & 0x07) {
      case LD:
        a = code === (LD | W | ABS) ? dataWord(d, k) : code === (LD | W | LEN) ? DATA_SIZE : code === (LD | MEM) ? mem[k] : k >>> 0;
        break;
      case LDX:
        x = code === (LDX | W | LEN) ? DATA_SIZE : code === (LDX | MEM | W) ? mem[k] : k >>> 0;
        break;
      case ST:
        mem[k] = a;
        break;
      case STX:
        mem[k] = x;
        break;
      case ALU: {
        const v = code & X ? x : k >>> 0;
        switch (code & 0xf0) {
          case ADD: a = (a + v) >>> 0; break;
          case SUB: a = (a - v) >>> 0; break;
          case MUL: a = Math.imul(a, v) >>> 0; break;
          case DIV: a = v === 0 ? 0 : Math.floor(a / v) >>> 0; break;
          case MOD: a = v === 0 ? 0 : a % v >>> 0; break;
          case OR: a = (a | v) >>> 0; break;
          case AND: a = (a & v) >>> 0; break;
          case XOR: a = (a ^ v) >>> 0; break;
          case LSH: a = v >= 32 ? 0 : (a << v) >>> 0; break;
          case RSH: a = v >= 32 ? 0 : a >>> v; break;
          case NEG: a = -a >>> 0; break;
        }
        // A division by a zero X ends the program with 0 (KILL_THREAD), as Linux.
        if ((code & 0xf0) === DIV || (code & 0xf0) === MOD) if (code & X && x === 0) return 0;
        break;
      }
      case JMP: {
        if (code === (JMP | JA)) {
          pc += k;
          break;
        }
        const v = code & X ? x : k >>> 0;
        const op = code & 0xf0;
        const taken = op === JEQ ? a === v : op === JGT ? a > v : op === JGE ? a >= v : (a & v) !== 0;
        pc += taken ? jt : jf;
        break;
      }
      case RET:
        return (code === (RET | A_SRC) ? a : k) >>> 0;
      case MISC:
        if (code === (MISC | TAX)) x = a;
        else a = x;
        break;
    }
  }
}

/** The action of every filter in the chain; the most restrictive wins (the lowest signed action). */
export function evaluate(f: SeccompFilter, d: SeccompData): { ret: number; log: boolean } {
  let ret = SECCOMP_RET_ALLOW;
  let log = false;
  for (; f; f = f.prev!) {
    const r = run(f.insns, d);
    if ((r & SECCOMP_RET_ACTION_FULL) << 0 < (ret & SECCOMP_RET_ACTION_FULL) << 0) {
      ret = r;
      log = f.log;
    }
    if (!f.prev) break;
  }
  return { ret, log };
}

export function actionOf(ret: number): number {
  return (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
}

export function dataOf(ret: number): number {
  return ret & SECCOMP_RET_DATA;
}
