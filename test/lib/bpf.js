'use strict';
// A classic-BPF interpreter for seccomp filters, written from the BPF
// instruction set with the checks the host kernel makes (every load of
// scratch memory follows a store, jumps stay inside the program), so unit
// tests can run the filters the platform and the sandbox build.

const assert = require('node:assert/strict');

const X86_64 = 0xc000003e;

/** The filter's answer for one call: nr, args (numbers or bigints), arch, and the instruction pointer. */
function runFilter(prog, nr, args = [], arch = X86_64, ip = 0) {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  data.writeBigUInt64LE(BigInt.asUintN(64, BigInt(ip)), 8);
  args.forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i));
  const n = prog.length / 8;
  const mem = new Array(16).fill(undefined);
  let A = 0;
  let X = 0;
  for (let pc = 0; pc < n; pc++) {
    const code = prog.readUInt16LE(pc * 8);
    const jt = prog.readUInt8(pc * 8 + 2);
    const jf = prog.readUInt8(pc * 8 + 3);
    const k = prog.readUInt32LE(pc * 8 + 4);
    const jump = (c) => (pc += c ? jt : jf);
    switch (code) {
      case 0x20: assert.ok(k % 4 === 0 && k < 64); A = data.readUInt32LE(k); break; // ld [k]
      case 0x00: A = k; break; // ld #k
      case 0x60: assert.notEqual(mem[k], undefined, `M[${k}] read before written`); A = mem[k]; break;
      case 0x61: assert.notEqual(mem[k], undefined, `M[${k}] read before written`); X = mem[k]; break;
      case 0x02: mem[k] = A; break; // st
      case 0x07: X = A; break; // tax
      case 0x0c: A = (A + X) >>> 0; break; // add x
      case 0x05: pc += k; break; // ja
      case 0x15: jump(A === k); break; // jeq
      case 0x25: jump(A > k); break; // jgt
      case 0x35: jump(A >= k); break; // jge
      case 0x3d: jump(A >= X); break; // jge x
      case 0x45: jump((A & k) !== 0); break; // jset
      case 0x06: return k;
      default: throw new Error(`unknown BPF op ${code.toString(16)} at ${pc}`);
    }
    assert.ok(pc < n, 'jump out of the program');
  }
  throw new Error('fell off the end of the filter');
}

module.exports = { runFilter, X86_64 };
