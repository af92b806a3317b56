'use strict';
// The --strace decoders: every argument kind the syscall table uses has a
// decoder, and the formatting helpers write what strace writes.
const test = require('node:test');
const assert = require('node:assert/strict');
const { buildTable } = require('../../dist/syscalls/table.js');
const { knownKind } = require('../../dist/kernel/strace/strace.js');
const { sigset } = require('../../dist/kernel/strace/dec_signal.js');
const { waitStatus } = require('../../dist/kernel/strace/dec_process.js');
const { fileMode, openFlags, makedev, octal } = require('../../dist/kernel/strace/dec_fs.js');
const { quote } = require('../../dist/kernel/strace/format.js');
const { restartText, errnoMessage } = require('../../dist/kernel/strace/errtext.js');

test('every args kind in the syscall table has a decoder', () => {
  const { table } = buildTable();
  const unknown = [];
  for (const def of table) {
    if (!def) continue;
    for (const kind of def.args ?? []) if (!knownKind(kind)) unknown.push(`${def.name}: ${kind}`);
  }
  assert.deepEqual(unknown, []);
});

test('strace formats', () => {
  assert.equal(sigset(0n), '[]');
  assert.equal(sigset((1n << 9n) | (1n << 14n)), '[USR1 TERM]');
  assert.equal(sigset(~((1n << 31n) | (1n << 32n)) & 0xffffffffffffffffn), '~[RTMIN RT_1]');
  assert.equal(waitStatus(3 << 8), '{WIFEXITED(s) && WEXITSTATUS(s) == 3}');
  assert.equal(waitStatus(9), '{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}');
  assert.equal(waitStatus(0x8b), '{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}');
  assert.equal(waitStatus(0x137f), '{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}');
  assert.equal(fileMode(0o41777), 'S_IFDIR|S_ISVTX|0777');
  assert.equal(fileMode(0o100644), 'S_IFREG|0644');
  assert.equal(openFlags(0o2001101), 'O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC');
  assert.equal(openFlags(0o100000), 'O_RDONLY|O_LARGEFILE');
  assert.equal(makedev(0x103n), 'makedev(0x1, 0x3)');
  assert.equal(octal(0), '000');
  assert.equal(octal(0o22), '022');
  assert.equal(quote(Buffer.from('hello\0\x01\n"\\')), '"hello\\0\\1\\n\\"\\\\"');
  assert.equal(quote(Buffer.from('\x001')), '"\\0001"');
  assert.equal(restartText(512), '? ERESTARTSYS (To be restarted if SA_RESTART is set)');
  assert.equal(restartText(513), '? ERESTARTNOINTR (To be restarted)');
  assert.equal(restartText(514), '? ERESTARTNOHAND (To be restarted if no handler)');
  assert.equal(restartText(516), '? ERESTART_RESTARTBLOCK (Interrupted by signal)');
  assert.equal(errnoMessage(2), 'No such file or directory');
});

test('socket addresses as strace shows them', () => {
  const { sockaddr } = require('../../dist/kernel/strace/dec_net.js');
  const un = Buffer.alloc(110);
  un.writeUInt16LE(1, 0);
  un.write('/tmp/x.sock', 2);
  assert.equal(sockaddr(un), '{sa_family=AF_UNIX, sun_path="/tmp/x.sock"}');
  const in4 = Buffer.from([2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(sockaddr(in4), '{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}');
  const in6 = Buffer.alloc(28);
  in6.writeUInt16LE(10, 0);
  in6.writeUInt16BE(80, 2);
  in6[23] = 1;
  assert.equal(sockaddr(in6), '{sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}');
});
