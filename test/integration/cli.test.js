'use strict';
// cli: the `tsvisor do` command line: errors (unknown flag, missing or
// nonexistent command, bad --rootfs), exit status propagation (exit codes
// and 128+N for a signal), --cwd, --env, --rootfs and --strace.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

// tsvisor runs `node bin/tsvisor.js ARGS` as given, without the harness's
// --env flags, for the tests of the command line itself.
function tsvisor(args, opts = {}) {
  const started = Date.now();
  const r = childProcess.spawnSync(process.execPath, [h.TSVISOR, ...args], {
    cwd: h.ROOT,
    env: opts.env || h.sentryEnv(),
    timeout: opts.timeout || 60_000,
    killSignal: 'SIGKILL',
  });
  return {
    status: r.status,
    signal: r.signal,
    stdout: (r.stdout || '').toString(),
    stderr: (r.stderr || '').toString(),
    timedOut: !!(r.error && r.error.code === 'ETIMEDOUT'),
    ms: Date.now() - started,
  };
}

function assertFailsWithMessage(r, what) {
  const ctx = h.describe(what, r);
  assert.ok(!r.timedOut, `${what} timed out\n${ctx}`);
  assert.strictEqual(r.signal, null, `${what}: tsvisor died of a signal\n${ctx}`);
  assert.notStrictEqual(r.status, 0, `${what} must exit non-zero\n${ctx}`);
  assert.ok(r.stderr.trim().length > 0, `${what} must explain itself on stderr\n${ctx}`);
  assert.doesNotMatch(r.stderr, /^\s+at .*\(.*:\d+:\d+\)$/m, `${what} must not print a stack trace\n${ctx}`);
}

test('the platform: systrap unless asked otherwise, ptrace when asked, an unknown name refused', { timeout: 120_000 }, (t) => {
  const dir = h.tmpDir();
  const env = h.sentryEnv();
  delete env.TSVISOR_PLATFORM;
  // Which platform ran shows in its counters: only systrap's stubs are woken through their shared areas.
  const ran = (args, e) => {
    const stats = path.join(dir, `stats-${Math.random().toString(36).slice(2)}.json`);
    const r = tsvisor(['do', ...args, '--stats', stats, '--', '/bin/true'], { env: e });
    assert.strictEqual(r.status, 0, r.stderr);
    return 'stubWakes' in JSON.parse(fs.readFileSync(stats, 'utf8')) ? 'systrap' : 'ptrace';
  };
  const { systrapSupported } = require(path.join(h.ROOT, 'dist', 'platform', 'systrap', 'platform.js'));
  if (systrapSupported() !== null) return t.skip('systrap cannot run on this host');
  assert.strictEqual(ran([], env), 'systrap');
  assert.strictEqual(ran(['--platform', 'ptrace'], env), 'ptrace');
  assert.strictEqual(ran([], { ...env, TSVISOR_PLATFORM: 'ptrace' }), 'ptrace');
  assert.strictEqual(ran(['--platform', 'systrap'], { ...env, TSVISOR_PLATFORM: 'ptrace' }), 'systrap');
  const bad = tsvisor(['do', '--', '/bin/true'], { env: { ...env, TSVISOR_PLATFORM: 'kvm' } });
  assert.strictEqual(bad.status, 125);
  assert.match(bad.stderr, /TSVISOR_PLATFORM=kvm: the platform is ptrace or systrap/);
});

test('unknown flag is an error', () => {
  assertFailsWithMessage(tsvisor(['do', '--no-such-flag', '--', '/bin/true']), 'unknown flag');
});

test('missing command is an error', () => {
  assertFailsWithMessage(tsvisor(['do']), 'do without a command');
  assertFailsWithMessage(tsvisor(['do', '--']), 'do -- without a command');
});

test('unknown subcommand is an error', () => {
  assertFailsWithMessage(tsvisor(['no-such-subcommand']), 'unknown subcommand');
});

test('nonexistent command: one line on stderr, non-zero exit', () => {
  const r = tsvisor(['do', '--', '/nonexistent/command']);
  assertFailsWithMessage(r, 'nonexistent command');
  assert.strictEqual(r.stderr.trimEnd().split('\n').length, 1, `exactly one line on stderr:\n${r.stderr}`);
  assert.match(r.stderr, /nonexistent/, 'the message names the command');
  assert.strictEqual(r.stdout, '');
});

test('rootfs that is not a directory is an error', () => {
  const file = path.join(h.tmpDir(), 'not-a-dir');
  fs.writeFileSync(file, 'plain file\n');
  assertFailsWithMessage(tsvisor(['do', '--rootfs', file, '--', '/bin/true']), 'rootfs is a file');
  assertFailsWithMessage(tsvisor(['do', '--rootfs', path.join(file, 'missing'), '--', '/bin/true']),
    'rootfs does not exist');
});

test('exit status propagates', { timeout: 120_000 }, () => {
  // A child killed by a signal: the shell reports 128+N and so does tsvisor.
  // (sh itself is pid 1: Linux shields it from kill(2) without a handler,
  // see the next test.)
  for (const [script, want] of [['exit 0', 0], ['exit 7', 7], ['exit 255', 255], ['sh -c "kill -TERM \\$\\$"', 143],
    ['sh -c "kill -KILL \\$\\$"', 137]]) {
    const r = h.runSandbox(['/bin/sh', '-c', script]);
    assert.ok(!r.timedOut, h.describe(script, r));
    assert.strictEqual(r.signal, null, `tsvisor itself must exit, not die of a signal\n${h.describe(script, r)}`);
    assert.strictEqual(r.status, want, `sh -c '${script}'\n${h.describe(script, r)}`);
  }
});

test('exit status of a static program and of a killed static program', { timeout: 120_000 }, (t) => {
  const busybox = '/bin/busybox';
  if (!h.needTools(t, [busybox])) return;
  let r = h.runSandbox([busybox, 'sh', '-c', 'exit 3']);
  assert.strictEqual(r.status, 3, h.describe('busybox sh -c exit 3', r));
  r = h.runSandbox([busybox, 'sh', '-c', 'busybox sh -c "kill -SEGV \\$\\$"; exit $?']);
  assert.strictEqual(r.status, 128 + 11, h.describe('busybox sh -c kill -SEGV $$', r));
});

test('pid 1 ignores kill(2) without a handler, like init in a Linux PID namespace', { timeout: 60_000 }, () => {
  const script = 'kill -TERM $$; kill -KILL $$; kill -SEGV $$; trap "echo trapped" USR1; kill -USR1 $$; echo alive';
  const r = h.runSandbox(['/bin/sh', '-c', script]);
  assert.strictEqual(r.status, 0, h.describe(script, r));
  assert.strictEqual(r.stdout, 'trapped\nalive\n');
});

test('a fault kills pid 1 and tsvisor exits 128+SIGSEGV', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['python3'])) return;
  const r = h.runSandbox(['/usr/bin/python3', '-c', 'import ctypes; ctypes.string_at(0)']);
  assert.strictEqual(r.signal, null, h.describe('segfault', r));
  assert.strictEqual(r.status, 128 + 11, h.describe('segfault', r));
});

test('stdin, stdout and stderr are passed through', { timeout: 60_000 }, () => {
  const r = h.runSandbox(['/bin/sh', '-c', 'read line; echo "out: $line"; echo "err: $line" >&2'], {
    input: 'from stdin\n',
  });
  assert.strictEqual(r.status, 0, h.describe('stdio', r));
  assert.strictEqual(r.stdout, 'out: from stdin\n');
  assert.match(r.stderr, /^err: from stdin$/m);
});

test('--cwd and --env', { timeout: 60_000 }, () => {
  const dir = h.tmpDir();
  const r = h.runSandbox(['/bin/sh', '-c', 'pwd; echo "FOO=$FOO BAR=$BAR"'], {
    cwd: dir,
    env: { FOO: 'foo value', BAR: 'a=b' },
  });
  assert.strictEqual(r.status, 0, h.describe('--cwd/--env', r));
  assert.strictEqual(r.stdout, `${dir}\nFOO=foo value BAR=a=b\n`);
});

test('NODE_EXTRA_CA_CERTS: kept from tsvisor\'s Node, passed on to the sandboxed program as given', { timeout: 60_000 }, () => {
  const ca = path.join(h.tmpDir('ca-'), 'no-such-ca.pem');
  // Executed as a user runs it: the shell line of bin/tsvisor.js, then Node (which warns when it cannot load the file).
  const r = childProcess.spawnSync(h.TSVISOR, ['do', '--', '/bin/sh', '-c', 'echo "$NODE_EXTRA_CA_CERTS"; env | grep -c ^TSVISOR_'], {
    env: { ...h.sentryEnv(), NODE_EXTRA_CA_CERTS: ca }, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL',
  });
  assert.strictEqual(r.status, 1, h.describe('do', r));
  assert.strictEqual(r.stdout, `${ca}\n0\n`);
  assert.doesNotMatch(r.stderr, /extra certs/i, 'Node did not try to load the certificates');
});

test('--rootfs runs a program from a minimal root file system', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['gcc', '/bin/busybox'])) return;
  const root = h.tmpDir('tsvisor-rootfs-');
  fs.mkdirSync(path.join(root, 'bin'));
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  fs.copyFileSync(h.buildPrograms().hello.static, path.join(root, 'hello'));
  fs.chmodSync(path.join(root, 'hello'), 0o755);
  fs.writeFileSync(path.join(root, 'marker'), 'inside the rootfs\n');
  let r = h.runSandbox(['/hello', 'x'], { rootfs: root, cwd: '/' });
  assert.strictEqual(r.status, 0, h.describe('hello in rootfs', r));
  assert.strictEqual(r.stdout, 'hello, world\nargc=2\nargv[1]=x\nwritten with write(2)\n');
  r = h.runSandbox(['/bin/busybox', 'sh', '-c', 'cat /marker; ls /; test -e /etc/passwd && echo host-visible || echo host-hidden'],
    { rootfs: root, cwd: '/' });
  assert.strictEqual(r.status, 0, h.describe('busybox in rootfs', r));
  assert.strictEqual(r.stdout.split('\n')[0], 'inside the rootfs');
  assert.match(r.stdout, /^hello$/m);
  assert.match(r.stdout, /^host-hidden$/m);
});

test('--user USER[:GROUP]: names from the root file system, numbers without an entry, supplementary groups, no capabilities', { timeout: 90_000 }, (t) => {
  if (!h.needTools(t, ['/bin/busybox'])) return;
  const root = h.tmpDir('tsvisor-user-');
  fs.chmodSync(root, 0o755); // the users below must reach /bin
  fs.mkdirSync(path.join(root, 'bin'));
  fs.mkdirSync(path.join(root, 'etc'));
  fs.mkdirSync(path.join(root, 'tmp'), { mode: 0o1777 });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0::/:/bin/sh\napp:x:1234:2345::/:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\napp:x:2345:\nextra:x:3456:app,other\nmail:x:8:\n');
  const script = 'echo $(/bin/busybox id -u) $(/bin/busybox id -g) $(/bin/busybox id -G); /bin/busybox grep CapEff /proc/self/status;'
    + ' /bin/busybox touch /tmp/f; /bin/busybox stat -c %u:%g /tmp/f';
  const run = (user) => h.runSandbox(['/bin/busybox', 'sh', '-c', script], { rootfs: root, cwd: '/', flags: ['--user', user] });
  const cases = [
    ['app', '1234 2345 2345 3456', 'CapEff:\t0000000000000000', '1234:2345'],
    ['1234:77', '1234 77 77 3456', 'CapEff:\t0000000000000000', '1234:77'],
    ['4242', '4242 0 0', 'CapEff:\t0000000000000000', '4242:0'],
    ['app:mail', '1234 8 8 3456', 'CapEff:\t0000000000000000', '1234:8'],
  ];
  for (const [user, ids, caps, owner] of cases) {
    const r = run(user);
    assert.strictEqual(r.status, 0, h.describe(`--user ${user}`, r));
    assert.deepStrictEqual(r.stdout.trimEnd().split('\n'), [ids, caps, owner], `--user ${user}`);
  }
  const r = run('root:extra');
  assert.strictEqual(r.status, 0, h.describe('--user root:extra', r));
  assert.match(r.stdout, /^0 3456 3456\nCapEff:\t0*[1-9a-f][0-9a-f]*\n0:3456\n$/, 'root keeps its capabilities');
  for (const [user, msg] of [['nosuch', /no user "nosuch"/], ['app:nogroup', /no group "nogroup"/], ['1:2:3', /USER\[:GROUP\]/], ['99999999999', /out of range/]]) {
    const e = run(user);
    assert.notStrictEqual(e.status, 0, `--user ${user} fails`);
    assert.match(e.stderr, msg, `--user ${user}`);
    assert.strictEqual(e.stdout, '', `--user ${user} runs nothing`);
  }
});

test('--init: tini is pid 1, passes signals to the command and reaps orphans', { timeout: 90_000 }, async (t) => {
  if (!h.needTools(t, ['/usr/bin/tini-static', 'python3'])) return;
  let r = h.runSandbox(['/bin/sh', '-c', 'echo $$; cat /proc/1/comm; (sleep 0.2 &); sleep 1; cat /proc/[0-9]*/stat | grep -c " Z " ; exit 7'],
    { flags: ['--init'] });
  assert.strictEqual(r.status, 7, h.describe('--init', r));
  assert.strictEqual(r.stdout, '2\ndocker-init\n0\n', 'the command is pid 2 under docker-init, and no zombie is left');
  // A handler in the command sees the Ctrl-C (pid 1 is tini, which forwards it); without one, 128+SIGINT.
  const handled = 'import signal, sys, time\nsignal.signal(signal.SIGINT, lambda *a: (print("handled", flush=True), sys.exit(5)))\nprint("ready", flush=True)\ntime.sleep(100)';
  // Each command says when it runs: a SIGINT before the sandbox has its handlers would end tsvisor itself.
  for (const [argv, want] of [[['python3', '-c', handled], 5], [['/bin/sh', '-c', 'echo ready; exec sleep 100'], 130]]) {
    const child = childProcess.spawn(process.execPath, [h.TSVISOR, 'do', '--init', '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: h.sentryEnv() });
    try {
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const done = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 60_000;
      while (!out.includes('ready') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      // The shell's exec of sleep follows its echo.
      if (want === 130) await new Promise((res) => setTimeout(res, 500));
      child.kill('SIGINT');
      assert.strictEqual(await done, want, `${argv[0]} under --init after SIGINT:\n${out}`);
      if (want === 5) assert.strictEqual(out, 'ready\nhandled\n');
    } finally {
      child.kill('SIGKILL');
    }
  }
  r = h.runSandbox(['true'], { flags: ['--init', '--init-path', '/nonexistent'] });
  assert.notStrictEqual(r.status, 0);
  assert.match(r.stderr, /--init-path \/nonexistent is not a file/);
});

test('--strace lists system calls by name with results', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().rawsyscall.static;
  const r = h.runSandbox([bin], { strace: true, env: { SANDBOX: '1' } });
  assert.strictEqual(r.status, 0, h.describe('--strace', r));
  assert.match(r.stdout, /^raw write to stdout$/m, 'the program still runs normally');
  const trace = r.stderr + r.stdout;
  assert.match(trace, /\b(getpid|write)\(/, `syscall names in the trace:\n${trace.slice(0, 2000)}`);
  assert.match(trace, /\bwrite\(1,/, 'write to fd 1 is decoded');
  assert.match(trace, /\)\s+= /, 'results follow " = "');
  assert.match(trace, /\bexit_group\(/, 'the last call is traced');
});

test('a signal sent to tsvisor reaches pid 1 when it has a handler', { timeout: 60_000 }, async () => {
  const script = 'trap "echo got TERM; exit 5" TERM; echo ready; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; echo timeout';
  const child = childProcess.spawn(process.execPath, h.sandboxArgs(['/bin/sh', '-c', script], { cwd: '/' }), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('ready\n') && !child.sentTerm) {
      child.sentTerm = true;
      child.kill('SIGTERM');
    }
  });
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  assert.strictEqual(signal, null, `tsvisor died of ${signal}`);
  assert.strictEqual(code, 5, out);
  assert.match(out, /^got TERM$/m);
});

test('a reader that stops reading stdout stalls only the writer, not the sandbox', { timeout: 60_000 }, async () => {
  // The writer fills the pipe; another process must still run and report on
  // stderr before anyone reads stdout (a blocked Sentry would deadlock here).
  const script = '(head -c 4000000 /dev/zero) & sleep 0.2; echo other-done >&2; wait';
  const child = childProcess.spawn(process.execPath, h.sandboxArgs(['/bin/sh', '-c', script], { cwd: '/' }), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pause();
  await new Promise((resolve) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      if (err.includes('other-done')) resolve();
    });
  });
  let n = 0;
  child.stdout.on('data', (d) => (n += d.length));
  child.stdout.resume();
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  assert.strictEqual(code, 0);
  assert.strictEqual(n, 4000000);
});
