'use strict';
// Loader unit tests: ELF validation against real host binaries and hand-made malformed
// images, #! parsing with Linux's quirks, and the byte layout of the initial stack.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const { parseElf } = require('../../dist/loader/elf.js');
const { TASK_SIZE } = require('../../dist/abi/mm.js');
const { parseShebang, shebangArgv, checkInterpDepth, MAX_INTERP_DEPTH } = require('../../dist/loader/shebang.js');
const stack = { ...require('../../dist/loader/stack.js'), ...require('../../dist/abi/auxv.js') };

const ENOEXEC = 8;
const EIO = 5;
const E2BIG = 7;
const EINVAL = 22;
const ELOOP = 40;

function throwsErrno(fn, errno) {
  assert.throws(fn, (e) => {
    assert.equal(typeof e.errno, 'number', `not an Errno: ${e && e.stack}`);
    assert.equal(e.errno, errno, `expected errno ${errno}, got ${e.message}`);
    return true;
  });
}

function bufReader(buf) {
  return (off, len) => buf.subarray(off, off + len);
}

function parseBuf(buf) {
  return parseElf(bufReader(buf), buf.length);
}

// ---- synthetic ELF images ------------------------------------------------------------

const PT_LOAD = 1;
const PT_INTERP = 3;
const PT_PHDR = 6;
const PT_GNU_STACK = 0x6474e551;

/** An ELF64 x86-64 header, program headers at 64, and `size` bytes in all. */
function makeElf({ type = 2, entry = 0x401000, phdrs, size = 0x3000, extra = [] }) {
  const buf = Buffer.alloc(Math.max(size, 64 + phdrs.length * 56));
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(buf); // ELFCLASS64, LSB, EV_CURRENT
  buf.writeUInt16LE(type, 16);
  buf.writeUInt16LE(62, 18); // EM_X86_64
  buf.writeUInt32LE(1, 20);
  buf.writeBigUInt64LE(BigInt(entry), 24);
  buf.writeBigUInt64LE(64n, 32); // e_phoff
  buf.writeUInt16LE(64, 52);
  buf.writeUInt16LE(56, 54);
  buf.writeUInt16LE(phdrs.length, 56);
  phdrs.forEach((p, i) => {
    const o = 64 + i * 56;
    buf.writeUInt32LE(p.type, o);
    buf.writeUInt32LE(p.flags ?? 5, o + 4);
    buf.writeBigUInt64LE(BigInt(p.offset ?? 0), o + 8);
    buf.writeBigUInt64LE(BigInt(p.vaddr ?? 0), o + 16);
    buf.writeBigUInt64LE(BigInt(p.vaddr ?? 0), o + 24);
    buf.writeBigUInt64LE(BigInt(p.filesz ?? 0), o + 32);
    buf.writeBigUInt64LE(BigInt(p.memsz ?? p.filesz ?? 0), o + 40);
    buf.writeBigUInt64LE(BigInt(p.align ?? 0x1000), o + 48);
  });
  for (const [off, bytes] of extra) Buffer.from(bytes).copy(buf, off);
  return buf;
}

const textSeg = { type: PT_LOAD, flags: 5, offset: 0, vaddr: 0x400000, filesz: 0x1000 };
const dataSeg = { type: PT_LOAD, flags: 6, offset: 0x1000, vaddr: 0x401000, filesz: 0x800, memsz: 0x2000 };

test('minimal synthetic static image parses', () => {
  const info = parseBuf(makeElf({ phdrs: [textSeg, dataSeg, { type: PT_GNU_STACK, flags: 6 }] }));
  assert.equal(info.type, 'exec');
  assert.equal(info.entry, 0x401000);
  assert.equal(info.interp, null);
  assert.equal(info.stackExec, false);
  assert.equal(info.phnum, 3);
  assert.deepEqual(info.segments, [
    { vaddr: 0x400000, memsz: 0x1000, filesz: 0x1000, offset: 0, prot: 5 },
    { vaddr: 0x401000, memsz: 0x2000, filesz: 0x800, offset: 0x1000, prot: 3 },
  ]);
  assert.equal(info.phdrVaddr, 0x400040); // computed from the PT_LOAD covering e_phoff
  assert.equal(info.minVaddr, 0x400000);
  assert.equal(info.maxVaddr, 0x403000);
});

test('PT_GNU_STACK (absent means executable) and PT_PHDR (wins over the computed address)', () => {
  assert.equal(parseBuf(makeElf({ phdrs: [textSeg] })).stackExec, true);
  assert.equal(parseBuf(makeElf({ phdrs: [textSeg, { type: PT_GNU_STACK, flags: 7 }] })).stackExec, true);
  assert.equal(parseBuf(makeElf({ phdrs: [{ type: PT_PHDR, vaddr: 0x400123 }, textSeg] })).phdrVaddr, 0x400123);
});

test('page-aligned span rounds unaligned segments outwards', () => {
  const info = parseBuf(makeElf({ type: 3, entry: 0x10, phdrs: [
    { type: PT_LOAD, offset: 0x10, vaddr: 0x10, filesz: 0x100 },
    { type: PT_LOAD, offset: 0x1234, vaddr: 0x3234, filesz: 0x10, memsz: 0x10 },
  ] }));
  assert.equal(info.type, 'dyn');
  assert.equal(info.minVaddr, 0);
  assert.equal(info.maxVaddr, 0x4000);
});

test('PT_INTERP path is returned without its NUL', () => {
  const p = '/lib64/ld-linux-x86-64.so.2\0';
  const info = parseBuf(makeElf({ type: 3, phdrs: [
    { type: PT_INTERP, offset: 0x800, filesz: p.length },
    { type: PT_LOAD, offset: 0, vaddr: 0, filesz: 0x1000 },
  ], extra: [[0x800, Buffer.from(p, 'latin1')]] }));
  assert.equal(info.interp, '/lib64/ld-linux-x86-64.so.2');
});

// ---- malformed images ----------------------------------------------------------------

test('bad identification fields are ENOEXEC', () => {
  const good = makeElf({ phdrs: [textSeg] });
  for (const [off, val] of [[0, 0x7e], [3, 0x47], [4, 1], [5, 2], [6, 0]]) {
    const b = Buffer.from(good);
    b[off] = val;
    throwsErrno(() => parseBuf(b), ENOEXEC);
  }
  const setU16 = (off, v) => { const b = Buffer.from(good); b.writeUInt16LE(v, off); return b; };
  throwsErrno(() => parseBuf(setU16(16, 1)), ENOEXEC); // ET_REL
  throwsErrno(() => parseBuf(setU16(16, 4)), ENOEXEC); // ET_CORE
  throwsErrno(() => parseBuf(setU16(18, 3)), ENOEXEC); // EM_386
  throwsErrno(() => parseBuf(setU16(54, 32)), ENOEXEC); // e_phentsize
  const v = Buffer.from(good);
  v.writeUInt32LE(2, 20);
  throwsErrno(() => parseBuf(v), ENOEXEC); // e_version
});

test('truncated files are ENOEXEC', () => {
  const good = makeElf({ phdrs: [textSeg, dataSeg] });
  for (const len of [0, 3, 4, 40, 63, 64, 100, 64 + 2 * 56 - 1]) {
    throwsErrno(() => parseBuf(good.subarray(0, len)), ENOEXEC);
  }
  // A reader that delivers less than the advertised size must not be trusted either.
  throwsErrno(() => parseElf((o, l) => good.subarray(o, Math.min(o + l, 100)), good.length), ENOEXEC);
});

test('program header count limits', () => {
  throwsErrno(() => parseBuf(makeElf({ phdrs: [] })), ENOEXEC);
  // 65536 / 56 = 1170 headers fit the kernel's table limit, 1171 do not.
  const fill = (n) => [textSeg, ...Array.from({ length: n - 1 }, () => ({ type: 0 }))];
  assert.equal(parseBuf(makeElf({ phdrs: fill(1170), size: 0x20000 })).phnum, 1170);
  throwsErrno(() => parseBuf(makeElf({ phdrs: fill(1171), size: 0x20000 })), ENOEXEC);
  const huge = makeElf({ phdrs: [textSeg] });
  huge.writeUInt16LE(0xffff, 56);
  throwsErrno(() => parseBuf(huge), ENOEXEC);
  const farOff = makeElf({ phdrs: [textSeg] });
  farOff.writeBigUInt64LE(0xffffffffffffffc0n, 32); // e_phoff wraps if added carelessly
  throwsErrno(() => parseBuf(farOff), ENOEXEC);
});

test('PT_LOAD with filesz > memsz is EINVAL', () => {
  throwsErrno(() => parseBuf(makeElf({ phdrs: [{ ...textSeg, filesz: 0x1001, memsz: 0x1000 }] })), EINVAL);
});

test('overlapping or descending PT_LOADs are ENOEXEC', () => {
  throwsErrno(() => parseBuf(makeElf({ phdrs: [textSeg, { ...dataSeg, offset: 0x800, vaddr: 0x400800 }] })), ENOEXEC);
  throwsErrno(() => parseBuf(makeElf({ phdrs: [dataSeg, textSeg] })), ENOEXEC);
  // Sharing a page without sharing bytes is legal (and common).
  const ok = parseBuf(makeElf({ phdrs: [
    { ...textSeg, filesz: 0x800 },
    { type: PT_LOAD, offset: 0x800, vaddr: 0x400800, filesz: 0x100 },
  ] }));
  assert.equal(ok.segments.length, 2);
});

test('offset not congruent to vaddr modulo the page is EINVAL', () => {
  throwsErrno(() => parseBuf(makeElf({ phdrs: [{ ...textSeg, offset: 0x10 }] })), EINVAL);
  // ...unless there is nothing to map from the file.
  const bss = parseBuf(makeElf({ phdrs: [textSeg, { type: PT_LOAD, offset: 0x123, vaddr: 0x402000, filesz: 0, memsz: 0x1000 }] }));
  assert.equal(bss.segments[1].filesz, 0);
});

test('addresses beyond the user address space are EINVAL', () => {
  throwsErrno(() => parseBuf(makeElf({ phdrs: [{ ...textSeg, vaddr: 2 ** 47 }] })), EINVAL);
  throwsErrno(() => parseBuf(makeElf({ phdrs: [{ ...textSeg, vaddr: TASK_SIZE - 0x1000, memsz: 0x2000 }] })), EINVAL);
  throwsErrno(() => parseBuf(makeElf({ phdrs: [{ ...textSeg, vaddr: 0xffffffffffff0000n }] })), EINVAL);
  throwsErrno(() => parseBuf(makeElf({ phdrs: [{ ...textSeg, memsz: 0xfffffffffffff000n }] })), EINVAL);
  throwsErrno(() => parseBuf(makeElf({ entry: 2 ** 47, phdrs: [textSeg] })), EINVAL);
  // Values a JS number cannot hold exactly are refused.
  throwsErrno(() => parseBuf(makeElf({ phdrs: [{ ...textSeg, offset: 2n ** 60n }] })), ENOEXEC);
});

test('no PT_LOAD at all is ENOEXEC', () => {
  throwsErrno(() => parseBuf(makeElf({ phdrs: [{ type: PT_GNU_STACK, flags: 6 }] })), ENOEXEC);
});

test('PT_INTERP bounds', () => {
  const withInterp = (interp, filesz = interp.length, offset = 0x800) =>
    makeElf({ type: 3, phdrs: [
      { type: PT_INTERP, offset, filesz },
      { type: PT_LOAD, offset: 0, vaddr: 0, filesz: 0x1000 },
    ], extra: [[0x800, Buffer.from(interp, 'latin1')]] });
  throwsErrno(() => parseBuf(withInterp('/lib/ld.so')), ENOEXEC); // no NUL
  throwsErrno(() => parseBuf(withInterp('\0')), ENOEXEC); // size 1
  throwsErrno(() => parseBuf(withInterp('/x\0', 4097)), ENOEXEC); // > PATH_MAX
  throwsErrno(() => parseBuf(withInterp('/x\0', 4, 0x2ffe)), EIO); // short read
  assert.equal(parseBuf(withInterp('/a\0b\0')).interp, '/a'); // C string semantics
  assert.equal(parseBuf(withInterp('/x\0', 4096)).interp, '/x');
});

test('random corruption never escapes as anything but an Errno', () => {
  const base = fs.readFileSync('/bin/ls').subarray(0, 0x2000);
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(base);
    const n = 1 + Math.floor(rnd() * 8);
    for (let j = 0; j < n; j++) b[Math.floor(rnd() * 0x400)] = Math.floor(rnd() * 256);
    const size = rnd() < 0.2 ? Math.floor(rnd() * b.length) : b.length;
    try {
      parseBuf(b.subarray(0, size));
    } catch (e) {
      assert.equal(typeof e.errno, 'number', `non-Errno thrown: ${e && e.stack}`);
    }
  }
});

// ---- real binaries -------------------------------------------------------------------

/** Program headers as readelf reports them, for cross-checking. */
function readelfLoads(file) {
  const out = execFileSync('readelf', ['-lW', file], { encoding: 'utf8' });
  return out.split('\n').filter((l) => /^\s+LOAD\s/.test(l)).map((l) => {
    const f = l.trim().split(/\s+/);
    return { offset: Number(f[1]), vaddr: Number(f[2]), filesz: Number(f[4]), memsz: Number(f[5]) };
  });
}

const haveTool = (name) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

test('/bin/ls: PIE with an interpreter', { skip: !fs.existsSync('/bin/ls') }, () => {
  const fd = fs.openSync('/bin/ls', 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const read = (off, len) => {
      const b = Buffer.alloc(len);
      return b.subarray(0, fs.readSync(fd, b, 0, len, off));
    };
    const info = parseElf(read, size);
    assert.equal(info.type, 'dyn');
    assert.match(info.interp, /^\/lib.*\/ld-linux-x86-64\.so\.2$/);
    assert.equal(info.phentsize, 56);
    assert.ok(info.segments.some((s) => s.prot & 4), 'an executable segment');
    assert.equal(info.stackExec, false);
    assert.notEqual(info.phdrVaddr, null);
    if (haveTool('readelf')) {
      assert.deepEqual(info.segments.map(({ prot, ...rest }) => rest), readelfLoads('/bin/ls'));
    }
    for (let i = 1; i < info.segments.length; i++) {
      const prev = info.segments[i - 1];
      assert.ok(info.segments[i].vaddr >= prev.vaddr + prev.memsz);
    }
    assert.equal(info.minVaddr % 4096, 0);
    assert.equal(info.maxVaddr % 4096, 0);
  } finally {
    fs.closeSync(fd);
  }
});

test('static binary built with gcc -static', { skip: !haveTool('gcc') && 'gcc not available' }, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-loader-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'hello.c'), 'int main(void) { return 42; }\n');
  const exe = path.join(dir, 'hello');
  try {
    execFileSync('gcc', ['-static', '-no-pie', '-o', exe, path.join(dir, 'hello.c')], { stdio: 'pipe' });
  } catch (e) {
    t.skip(`gcc -static failed: ${e.stderr}`);
    return;
  }
  const buf = fs.readFileSync(exe);
  const info = parseBuf(buf);
  assert.equal(info.type, 'exec');
  assert.equal(info.interp, null);
  assert.equal(info.entry, Number(buf.readBigUInt64LE(24)));
  assert.ok(info.entry >= info.minVaddr && info.entry < info.maxVaddr);
  // No PT_PHDR in a static binary: the address comes from the segment holding e_phoff.
  const first = info.segments[0];
  assert.equal(info.phdrVaddr, first.vaddr - first.offset + info.phoff);
  if (haveTool('readelf')) {
    assert.deepEqual(info.segments.map(({ prot, ...rest }) => rest), readelfLoads(exe));
  }
});

// ---- #! scripts ----------------------------------------------------------------------

const sb = (s) => parseShebang(Buffer.from(s, 'latin1'));

test('shebang: not a script', () => {
  assert.equal(sb(''), null);
  assert.equal(sb('#'), null);
  assert.equal(sb('\x7fELF'), null);
  assert.equal(sb(' #!/bin/sh\n'), null);
});

test('shebang: interpreter and one argument', () => {
  assert.deepEqual(sb('#!/bin/sh\necho hi\n'), { interp: '/bin/sh', arg: null });
  assert.deepEqual(sb('#! \t/usr/bin/env   python3 -u \t \nx'), { interp: '/usr/bin/env', arg: 'python3 -u' });
  assert.deepEqual(sb('#!/bin/sh\t-x\t\n'), { interp: '/bin/sh', arg: '-x' });
  assert.deepEqual(sb('#!/bin/sh \n'), { interp: '/bin/sh', arg: null });
  assert.deepEqual(sb('#!/bin/sh'), { interp: '/bin/sh', arg: null });
  assert.deepEqual(sb('#!/bin/sh -e'), { interp: '/bin/sh', arg: '-e' });
  assert.deepEqual(sb('#!/bin/sh\0 -x\n'), { interp: '/bin/sh', arg: null });
  assert.deepEqual(sb('#!/bin/sh -x\0y\n'), { interp: '/bin/sh', arg: '-x' });
  assert.deepEqual(sb('#!/bin/\xe9\n'), { interp: '/bin/\xe9', arg: null });
});

test('shebang: without a newline trailing blanks are kept, as in Linux', () => {
  assert.deepEqual(sb('#!/bin/sh -x '), { interp: '/bin/sh', arg: '-x ' });
});

test('shebang: missing interpreter is ENOEXEC', () => {
  throwsErrno(() => sb('#!\n'), ENOEXEC);
  throwsErrno(() => sb('#!   \t\n'), ENOEXEC);
  throwsErrno(() => sb('#!' + ' '.repeat(400)), ENOEXEC);
  // With no newline the NUL padding ends the path: Linux then looks up "" and fails with
  // ENOENT, so the parser must hand back the empty path rather than ENOEXEC.
  assert.deepEqual(sb('#!'), { interp: '', arg: null });
  assert.deepEqual(sb('#!  '), { interp: '', arg: null });
});

test('shebang: 256-byte line limit', () => {
  // A truncated argument is passed on truncated (255 usable bytes)...
  const long = sb('#!/bin/sh ' + 'a'.repeat(400) + '\n');
  assert.deepEqual(long, { interp: '/bin/sh', arg: 'a'.repeat(255 - 10) });
  // ...but a truncated interpreter path is refused.
  throwsErrno(() => sb('#!/' + 'x'.repeat(400) + '\n'), ENOEXEC);
  throwsErrno(() => sb('#!  /' + 'x'.repeat(400)), ENOEXEC);
  // A path whose terminating blank is the very last buffered byte still counts as whole.
  const edge = sb('#!/' + 'x'.repeat(252) + ' yyyyyyyyyy');
  assert.equal(edge.interp, '/' + 'x'.repeat(252));
  assert.equal(edge.arg, null);
  // A newline within the buffer means nothing is truncated, whatever follows.
  assert.deepEqual(sb('#!/bin/sh\n' + 'z'.repeat(1000)), { interp: '/bin/sh', arg: null });
});

test('shebang: argv rewrite and nesting limit', () => {
  assert.deepEqual(shebangArgv({ interp: '/bin/sh', arg: '-e' }, './s', ['s', 'a', 'b']), ['/bin/sh', '-e', './s', 'a', 'b']);
  assert.deepEqual(shebangArgv({ interp: '/bin/sh', arg: null }, '/t/s', []), ['/bin/sh', '/t/s']);
  assert.equal(MAX_INTERP_DEPTH, 4);
  checkInterpDepth(MAX_INTERP_DEPTH);
  throwsErrno(() => checkInterpDepth(MAX_INTERP_DEPTH + 1), ELOOP);
});

// ---- initial stack -------------------------------------------------------------------

/** Decode a built stack the way a libc start routine would. */
function decodeStack(top, res) {
  const { sp, bytes, bottom } = res;
  assert.equal(bytes.length, top - bottom);
  const u64 = (addr) => {
    assert.ok(addr >= bottom && addr + 8 <= top, `address 0x${addr.toString(16)} outside the stack`);
    return Number(bytes.readBigUInt64LE(addr - bottom));
  };
  const cstr = (addr) => {
    assert.ok(addr >= bottom && addr < top, `string pointer 0x${addr.toString(16)} outside the stack`);
    const o = addr - bottom;
    const end = bytes.indexOf(0, o);
    assert.ok(end >= 0);
    return bytes.toString('latin1', o, end);
  };
  let a = sp;
  const argc = u64(a); a += 8;
  const argvPtrs = [];
  for (let i = 0; i < argc; i++, a += 8) argvPtrs.push(u64(a));
  assert.equal(u64(a), 0, 'argv NULL'); a += 8;
  const envPtrs = [];
  for (let v; (v = u64(a)) !== 0; a += 8) envPtrs.push(v);
  a += 8;
  const auxv = [];
  for (;;) {
    const k = u64(a); const v = u64(a + 8); a += 16;
    auxv.push([k, v]);
    if (k === 0) break;
  }
  return { argc, argvPtrs, envPtrs, argv: argvPtrs.map(cstr), envp: envPtrs.map(cstr), auxv, auxEnd: a, cstr, u64 };
}

const TOP = 0x7ffffffff000;
const RANDOM = Buffer.from([...Array(16).keys()].map((i) => 0xa0 + i));

function build(over = {}) {
  return stack.buildInitialStack({
    stackTop: TOP, argv: ['ls', '-l'], envp: ['A=1', 'PATH=/bin'], execfn: '/bin/ls',
    platform: 'x86_64', random16: RANDOM,
    auxv: [[stack.AT_PAGESZ, 4096], [stack.AT_SECURE, 0], [stack.AT_HWCAP2, 2], [stack.AT_ENTRY, 0x401000]],
    ...over,
  });
}

test('stack: argc, argv, envp and auxv decode', () => {
  const res = build();
  assert.equal(res.sp % 16, 0);
  assert.equal(res.bottom, res.sp);
  const d = decodeStack(TOP, res);
  assert.equal(d.argc, 2);
  assert.deepEqual(d.argv, ['ls', '-l']);
  assert.deepEqual(d.envp, ['A=1', 'PATH=/bin']);
  assert.deepEqual(d.auxv.map(([k]) => k), [
    stack.AT_PAGESZ, stack.AT_SECURE, stack.AT_RANDOM, stack.AT_HWCAP2, stack.AT_ENTRY,
    stack.AT_EXECFN, stack.AT_PLATFORM, stack.AT_NULL,
  ]);
  const aux = new Map(d.auxv);
  assert.equal(aux.get(stack.AT_PAGESZ), 4096);
  assert.equal(aux.get(stack.AT_ENTRY), 0x401000);
  assert.equal(d.cstr(aux.get(stack.AT_EXECFN)), '/bin/ls');
  assert.equal(d.cstr(aux.get(stack.AT_PLATFORM)), 'x86_64');
  const r = aux.get(stack.AT_RANDOM) - res.bottom;
  assert.deepEqual(res.bytes.subarray(r, r + 16), RANDOM);
  // Top-down order: end marker, execfn, envp strings, argv strings (argv[0] lowest).
  assert.deepEqual(res.bytes.subarray(res.bytes.length - 8), Buffer.alloc(8));
  assert.equal(aux.get(stack.AT_EXECFN) + '/bin/ls'.length + 1, TOP - 8);
  assert.equal(d.envPtrs[1] + 'PATH=/bin'.length + 1, aux.get(stack.AT_EXECFN));
  assert.equal(d.envPtrs[0] + 4, d.envPtrs[1]);
  assert.equal(d.argvPtrs[1] + 3, d.envPtrs[0]);
  assert.equal(d.argvPtrs[0] + 3, d.argvPtrs[1]);
  // Platform and random bytes lie between the auxv and the strings.
  assert.ok(aux.get(stack.AT_PLATFORM) + 7 <= d.argvPtrs[0]);
  assert.equal(aux.get(stack.AT_RANDOM) + 16, aux.get(stack.AT_PLATFORM));
  assert.ok(d.auxEnd <= aux.get(stack.AT_RANDOM));
  assert.ok(aux.get(stack.AT_RANDOM) - d.auxEnd < 16, 'no more padding than alignment needs');
});

test('stack: sp is 16-byte aligned for every argc/envc parity', () => {
  for (let argc = 0; argc < 6; argc++) {
    for (let envc = 0; envc < 4; envc++) {
      for (const auxn of [0, 1, 2]) {
        const argv = Array.from({ length: argc }, (_, i) => 'a'.repeat(i + 1));
        const envp = Array.from({ length: envc }, (_, i) => `E${i}=${'x'.repeat(i * 3)}`);
        const auxv = [[stack.AT_PAGESZ, 4096], [stack.AT_UID, 0]].slice(0, auxn);
        const res = build({ argv, envp, auxv });
        assert.equal(res.sp % 16, 0, `argc=${argc} envc=${envc} auxn=${auxn}`);
        const d = decodeStack(TOP, res);
        assert.deepEqual(d.argv, argv);
        assert.deepEqual(d.envp, envp);
        assert.equal(d.auxv.length, auxn + 4);
      }
    }
  }
});

test('stack: byte strings and Buffers are copied byte for byte', () => {
  const res = build({ argv: ['\xff\x80', Buffer.from([0xc3, 0xa9])], envp: [] });
  const d = decodeStack(TOP, res);
  assert.deepEqual(d.argv, ['\xff\x80', '\xc3\xa9']);
  throwsErrno(() => build({ argv: ['\u0100'] }), EINVAL);
  throwsErrno(() => build({ argv: ['a\0b'] }), EINVAL);
  throwsErrno(() => build({ auxv: [[stack.AT_RANDOM, 1]] }), EINVAL);
  throwsErrno(() => build({ auxv: [[stack.AT_NULL, 0]] }), EINVAL);
  throwsErrno(() => build({ random16: Buffer.alloc(8) }), EINVAL);
});

test('stack: E2BIG limits', () => {
  // MAX_ARG_STRLEN counts the NUL.
  build({ argv: ['a'.repeat(stack.MAX_ARG_STRLEN - 1)] });
  throwsErrno(() => build({ argv: ['a'.repeat(stack.MAX_ARG_STRLEN)] }), E2BIG);
  throwsErrno(() => build({ envp: ['E=' + 'a'.repeat(stack.MAX_ARG_STRLEN)] }), E2BIG);
  // The total budget covers execfn, argv, envp (with NULs) and the argv/envp pointers.
  const argv = ['ls', '-l'];
  const envp = ['A=1'];
  const exact = ('/bin/ls'.length + 1) + 3 + 3 + 4 + (argv.length + envp.length) * 8;
  build({ argv, envp, maxArgBytes: exact });
  throwsErrno(() => build({ argv, envp, maxArgBytes: exact - 1 }), E2BIG);
  // An empty argv is still charged one pointer.
  const emptyExact = ('/bin/ls'.length + 1) + 8;
  build({ argv: [], envp: [], maxArgBytes: emptyExact });
  throwsErrno(() => build({ argv: [], envp: [], maxArgBytes: emptyExact - 1 }), E2BIG);
  // The default is a quarter of an 8 MiB stack.
  assert.equal(stack.DEFAULT_MAX_ARG_BYTES, 2 * 1024 * 1024);
  const many = Array.from({ length: 1100 }, () => 'x'.repeat(2000));
  throwsErrno(() => build({ argv: many }), E2BIG);
  build({ argv: many, maxArgBytes: 4 * 1024 * 1024 });
});

test('stack: argument budget from RLIMIT_STACK', () => {
  assert.equal(stack.argLimitForStackRlimit(8 * 1024 * 1024), 2 * 1024 * 1024);
  assert.equal(stack.argLimitForStackRlimit(64 * 1024), 128 * 1024);
  assert.equal(stack.argLimitForStackRlimit(Infinity), 6 * 1024 * 1024);
  assert.equal(stack.argLimitForStackRlimit(100 * 1024 * 1024), 6 * 1024 * 1024);
});
