// linux.seccomp of config.json (a libseccomp-style profile, as Docker's
// default one) compiled to a classic BPF program, which the Sentry attaches
// to the container's first process as seccomp(2) would (kernel/seccomp.ts
// runs it before each of the application's system calls).
//
// The program: the architecture is checked (anything but x86-64 gets the
// default action); a binary search over the syscall numbers that have rules
// leads to one block per number, which tries that number's rules in the
// profile's order (a rule matches when all its argument conditions hold) and
// returns the first match's action, else the default. Conditional jumps of
// classic BPF reach at most 255 instructions ahead, so every branch is a
// conditional jump over one instruction to a JA (32-bit offset) - bigger but
// with no limit on the program's shape.

import { SYSCALL_NAMES } from '../syscalls/names';
import { SpecError } from './spec';

const AUDIT_ARCH_X86_64 = 0xc000003e;
const EPERM = 1;
// Classic BPF opcodes (linux/bpf_common.h).
const LD_W_ABS = 0x20, ALU_AND_K = 0x54, JA = 0x05, JEQ_K = 0x15, JGT_K = 0x25, JGE_K = 0x35, RET_K = 0x06;

const ACTIONS: Record<string, number> = {
  SCMP_ACT_KILL: 0, SCMP_ACT_KILL_THREAD: 0, SCMP_ACT_KILL_PROCESS: 0x80000000, SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000, SCMP_ACT_TRACE: 0x7ff00000, SCMP_ACT_LOG: 0x7ffc0000, SCMP_ACT_ALLOW: 0x7fff0000,
};
const OPS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);

interface Cond {
  index: number;
  value: bigint;
  valueTwo: bigint;
  op: string;
}

interface Rule {
  ret: number;
  conds: Cond[];
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function u64(v: unknown, at: string): bigint {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new SpecError(`${at}: wants an unsigned integer`);
  return BigInt(v);
}

function action(name: unknown, errnoRet: unknown, defaultErrno: number, at: string): number {
  if (typeof name !== 'string' || !(name in ACTIONS)) {
    throw new SpecError(`${at}: action ${JSON.stringify(name)} is not supported (${Object.keys(ACTIONS).join(', ')})`);
  }
  const base = ACTIONS[name];
  if (name !== 'SCMP_ACT_ERRNO' && name !== 'SCMP_ACT_TRACE') return base;
  const data = errnoRet === undefined ? (name === 'SCMP_ACT_ERRNO' ? defaultErrno : 0) : Number(errnoRet);
  if (!Number.isInteger(data) || data < 0 || data > 0xffff) throw new SpecError(`${at}.errnoRet: wants an integer from 0 to 65535`);
  return (base | data) >>> 0;
}

/** What a profile compiles to: the program (struct sock_filter[]), and the names it could not place. */
export interface CompiledSeccomp {
  program: Buffer;
  unknownNames: string[];
}

/** Compile linux.seccomp; throws SpecError for what cannot be honoured (an unknown action, a listener). */
export function compileSeccomp(v: unknown): CompiledSeccomp {
  if (!isObj(v)) throw new SpecError('linux.seccomp: wants an object');
  if (v.listenerPath !== undefined) throw new SpecError('linux.seccomp.listenerPath: seccomp notification (SCMP_ACT_NOTIFY) is not supported');
  const archs = v.architectures;
  if (archs !== undefined && (!Array.isArray(archs) || (archs.length > 0 && !archs.includes('SCMP_ARCH_X86_64')))) {
    throw new SpecError('linux.seccomp.architectures: x86-64 (SCMP_ARCH_X86_64) is the only architecture the sandbox runs');
  }
  const defaultErrno = v.defaultErrnoRet === undefined ? EPERM : Number(v.defaultErrnoRet);
  const dflt = action(v.defaultAction, v.defaultErrnoRet, EPERM, 'linux.seccomp.defaultAction');
  const numbers = new Map<string, number>();
  for (const [nr, name] of Object.entries(SYSCALL_NAMES)) numbers.set(name, Number(nr));
  const rules = new Map<number, Rule[]>();
  const unknownNames = new Set<string>();
  const list = v.syscalls ?? [];
  if (!Array.isArray(list)) throw new SpecError('linux.seccomp.syscalls: wants an array');
  list.forEach((s, i) => {
    const at = `linux.seccomp.syscalls[${i}]`;
    if (!isObj(s) || !Array.isArray(s.names)) throw new SpecError(`${at}: wants {"names": [...], "action": ...}`);
    const ret = action(s.action, s.errnoRet, defaultErrno, `${at}.action`);
    const conds: Cond[] = ((s.args ?? []) as unknown[]).map((a, j) => {
      const aat = `${at}.args[${j}]`;
      if (!isObj(a) || typeof a.op !== 'string' || !OPS.has(a.op)) throw new SpecError(`${aat}: wants {index, value, op} with op one of ${[...OPS].join(', ')}`);
      const index = Number(a.index);
      if (!Number.isInteger(index) || index < 0 || index > 5) throw new SpecError(`${aat}.index: wants 0 to 5`);
      return { index, value: u64(a.value, `${aat}.value`), valueTwo: a.valueTwo === undefined ? 0n : u64(a.valueTwo, `${aat}.valueTwo`), op: a.op };
    });
    for (const name of s.names) {
      const nr = typeof name === 'string' ? numbers.get(name) : undefined;
      // A name x86-64 does not have (another architecture's, a newer kernel's): libseccomp skips it too.
      if (nr === undefined) {
        unknownNames.add(String(name));
        continue;
      }
      const r = rules.get(nr) ?? [];
      r.push({ ret, conds });
      rules.set(nr, r);
    }
  });
  return { program: new Assembler().program(dflt, rules), unknownNames: [...unknownNames] };
}

interface Insn {
  code: number;
  k: number;
  jt: number;
  jf: number;
  /** For JA: the label it goes to, resolved at the end. */
  to?: number;
}

class Assembler {
  private readonly insns: Insn[] = [];
  private readonly labels: number[] = [];

  private label(): number {
    this.labels.push(-1);
    return this.labels.length - 1;
  }

  private place(l: number): void {
    this.labels[l] = this.insns.length;
  }

  private emit(code: number, k: number): void {
    this.insns.push({ code, k: k >>> 0, jt: 0, jf: 0 });
  }

  private jump(l: number): void {
    this.insns.push({ code: JA, k: 0, jt: 0, jf: 0, to: l });
  }

  /** if (A op k) goto yes else goto no. */
  private branch(code: number, k: number, yes: number, no: number): void {
    this.insns.push({ code, k: k >>> 0, jt: 0, jf: 1 });
    this.jump(yes);
    this.jump(no);
  }

  private load(off: number): void {
    this.emit(LD_W_ABS, off);
  }

  /** One 64-bit argument condition: falls through when it holds, else goes to fail. */
  private cond(c: Cond, fail: number): void {
    const off = 16 + 8 * c.index;
    const hi = (v: bigint) => Number(v >> 32n);
    const lo = (v: bigint) => Number(v & 0xffffffffn);
    const ok = this.label();
    const lowWord = this.label();
    switch (c.op) {
      case 'SCMP_CMP_MASKED_EQ': {
        // value is the mask, valueTwo the datum.
        const next = this.label();
        this.load(off + 4);
        this.emit(ALU_AND_K, hi(c.value));
        this.branch(JEQ_K, hi(c.valueTwo), next, fail);
        this.place(next);
        this.load(off);
        this.emit(ALU_AND_K, lo(c.value));
        this.branch(JEQ_K, lo(c.valueTwo), ok, fail);
        break;
      }
      case 'SCMP_CMP_EQ':
        this.load(off + 4);
        this.branch(JEQ_K, hi(c.value), lowWord, fail);
        this.place(lowWord);
        this.load(off);
        this.branch(JEQ_K, lo(c.value), ok, fail);
        break;
      case 'SCMP_CMP_NE':
        this.load(off + 4);
        this.branch(JEQ_K, hi(c.value), lowWord, ok);
        this.place(lowWord);
        this.load(off);
        this.branch(JEQ_K, lo(c.value), fail, ok);
        break;
      default: {
        // Unsigned order: the high words decide unless equal, then the low words.
        const greater = c.op === 'SCMP_CMP_GT' || c.op === 'SCMP_CMP_GE';
        const hiDiffers = this.label();
        this.load(off + 4);
        this.branch(JEQ_K, hi(c.value), lowWord, hiDiffers);
        this.place(hiDiffers);
        this.branch(JGT_K, hi(c.value), greater ? ok : fail, greater ? fail : ok);
        this.place(lowWord);
        this.load(off);
        if (c.op === 'SCMP_CMP_GT') this.branch(JGT_K, lo(c.value), ok, fail);
        else if (c.op === 'SCMP_CMP_GE') this.branch(JGE_K, lo(c.value), ok, fail);
        else if (c.op === 'SCMP_CMP_LT') this.branch(JGE_K, lo(c.value), fail, ok);
        else this.branch(JGT_K, lo(c.value), fail, ok);
      }
    }
    this.place(ok);
  }

  /** Binary search over sorted syscall numbers, to each one's block. */
  private dispatch(nrs: number[], blocks: Map<number, number>, dflt: number): void {
    if (nrs.length === 1) {
      this.branch(JEQ_K, nrs[0], blocks.get(nrs[0]) as number, dflt);
      return;
    }
    const mid = nrs.length >> 1;
    const right = this.label();
    const left = this.label();
    this.branch(JGE_K, nrs[mid], right, left);
    this.place(left);
    this.dispatch(nrs.slice(0, mid), blocks, dflt);
    this.place(right);
    this.dispatch(nrs.slice(mid), blocks, dflt);
  }

  program(dfltRet: number, rules: Map<number, Rule[]>): Buffer {
    const dflt = this.label();
    this.load(4);
    const archOk = this.label();
    this.branch(JEQ_K, AUDIT_ARCH_X86_64, archOk, dflt);
    this.place(archOk);
    const nrs = [...rules.keys()].sort((a, b) => a - b);
    const blocks = new Map(nrs.map((nr) => [nr, this.label()]));
    if (nrs.length) {
      this.load(0);
      this.dispatch(nrs, blocks, dflt);
    }
    for (const nr of nrs) {
      this.place(blocks.get(nr) as number);
      for (const r of rules.get(nr) ?? []) {
        const next = this.label();
        for (const c of r.conds) this.cond(c, next);
        this.emit(RET_K, r.ret);
        this.place(next);
      }
      this.jump(dflt);
    }
    this.place(dflt);
    this.emit(RET_K, dfltRet);
    if (this.insns.length > 4096) throw new SpecError(`linux.seccomp: the profile compiles to ${this.insns.length} instructions, past seccomp's 4096`);
    const out = Buffer.alloc(this.insns.length * 8);
    this.insns.forEach((insn, i) => {
      let k = insn.k;
      if (insn.to !== undefined) k = this.labels[insn.to] - (i + 1);
      out.writeUInt16LE(insn.code, i * 8);
      out[i * 8 + 2] = insn.jt;
      out[i * 8 + 3] = insn.jf;
      out.writeUInt32LE(k >>> 0, i * 8 + 4);
    });
    return out;
  }
}
