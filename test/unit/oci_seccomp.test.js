'use strict';
// oci/seccomp.ts: a profile compiled to classic BPF and run by the Sentry's
// seccomp (kernel/seccomp.ts) gives the action libseccomp's semantics give:
// each 64-bit comparison against a reference computed here with BigInt, the
// first matching rule of a syscall wins, unknown names are skipped, and bad
// profiles are refused.

const assert = require('node:assert');
const { test } = require('node:test');
const { compileSeccomp } = require('../../dist/oci/seccomp');
const { attach, checkProgram, evaluate } = require('../../dist/kernel/seccomp');

const ALLOW = 0x7fff0000;
const errno = (n) => (0x00050000 | n) >>> 0;

function filterOf(profile) {
  const c = compileSeccomp(profile);
  return { f: attach(null, checkProgram(c.program), false), unknown: c.unknownNames };
}

const run = (f, nr, args = []) => evaluate(f, { nr, ip: 0n, args: [0, 1, 2, 3, 4, 5].map((i) => args[i] ?? 0n) }).ret >>> 0;

const U64 = (1n << 64n) - 1n;
const VALUES = [0n, 1n, 2n, 0xffffffffn, 0x100000000n, 0x100000001n, 0x1ffffffffn, 0x7fffffffffffffffn, U64, 0xdeadbeef12345678n];
const REF = {
  SCMP_CMP_EQ: (a, v) => a === v, SCMP_CMP_NE: (a, v) => a !== v, SCMP_CMP_LT: (a, v) => a < v, SCMP_CMP_LE: (a, v) => a <= v,
  SCMP_CMP_GT: (a, v) => a > v, SCMP_CMP_GE: (a, v) => a >= v,
};

test('each comparison on 64-bit arguments matches its definition', () => {
  for (const [op, ref] of Object.entries(REF)) {
    for (const v of VALUES) {
      // JSON numbers: values past 2^53 are not exact, so only those below take part as the rule's value.
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) continue;
      const { f } = filterOf({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['write'], action: 'SCMP_ACT_ERRNO', errnoRet: 7, args: [{ index: 2, value: Number(v), op }] }] });
      for (const a of VALUES) assert.strictEqual(run(f, 1, [0n, 0n, a]), ref(a, v) ? errno(7) : ALLOW, `${a} ${op} ${v}`);
    }
  }
  const { f } = filterOf({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0o4000, valueTwo: 0o4000, op: 'SCMP_CMP_MASKED_EQ' }] }] });
  assert.strictEqual(run(f, 90, [0n, 0o4755n]), errno(1), 'setuid bit: EPERM by default');
  assert.strictEqual(run(f, 90, [0n, 0o755n]), ALLOW);
});

test('rules, default action, architecture, unknown names, errors', () => {
  const { f, unknown } = filterOf({
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38,
    syscalls: [
      { names: ['read', 'no_such_call', 'socketcall'], action: 'SCMP_ACT_ALLOW' },
      { names: ['openat'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 0, value: 5, op: 'SCMP_CMP_EQ' }, { index: 2, value: 1, op: 'SCMP_CMP_EQ' }] },
      { names: ['openat'], action: 'SCMP_ACT_ALLOW' },
    ],
  });
  assert.deepStrictEqual(unknown.sort(), ['no_such_call', 'socketcall']);
  assert.strictEqual(run(f, 0), ALLOW);
  assert.strictEqual(run(f, 1), errno(38), 'default action with defaultErrnoRet');
  assert.strictEqual(run(f, 257, [5n, 0n, 1n]), 0x80000000, 'all conditions of the first rule hold');
  assert.strictEqual(run(f, 257, [5n, 0n, 2n]), ALLOW, 'one fails: the next rule');
  // Every number from 0 to 460 gets the default but the two with rules (the search over numbers finds them all).
  for (let nr = 0; nr < 460; nr++) if (nr !== 0 && nr !== 257) assert.strictEqual(run(f, nr), errno(38), `nr ${nr}`);
  const big = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: Array.from({ length: 300 }, (_, i) => require('../../dist/syscalls/names').SYSCALL_NAMES[i]).filter(Boolean), action: 'SCMP_ACT_ERRNO' }] };
  const g = filterOf(big).f;
  for (let nr = 0; nr < 300; nr++) assert.strictEqual(run(g, nr), errno(1), `many rules: nr ${nr}`);
  assert.strictEqual(run(g, 300), ALLOW);
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_NOTIFY' }), /not supported/);
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_AARCH64'] }), /x86-64/);
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }), /index/);
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x' }), /notification/);
});
