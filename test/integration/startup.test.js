'use strict';
// startup: what `tsvisor do` and a light runtime command load before the
// program runs, counted (modules of the bundle by TSVISOR_MODULE_TRACE, the
// bundle's files read, Node's built-in modules by process.moduleLoadList),
// never timed (docs/PERFORMANCE.md has the times; bench/startup.js measures
// them). Issue 7: a sandbox's start-up within 2x of `node -e 0`.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

/** Preloaded into the command: at exit, the built-in modules Node loaded (one line on stderr). */
const BUILTINS_AT_EXIT = `process.on('exit', () => require('node:fs').writeSync(2, 'builtins ' + JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13))) + '\\n'));`;

/** Run bin/tsvisor.js as a user does (its shell line, then Node); what it evaluated, read and loaded. */
function traced(args, env = {}) {
  const dir = h.tmpDir('startup-');
  const trace = path.join(dir, 'modules');
  const pre = path.join(dir, 'builtins.js');
  fs.writeFileSync(pre, BUILTINS_AT_EXIT);
  const r = childProcess.spawnSync(h.TSVISOR, args, {
    cwd: h.ROOT, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL',
    env: { ...h.sentryEnv(), ...env, TSVISOR_MODULE_TRACE: trace, NODE_OPTIONS: `--require ${pre}` },
  });
  const m = /^builtins (.*)$/m.exec(r.stderr);
  assert.ok(m, `${args.join(' ')}: no builtins line (status ${r.status}): ${r.stderr}`);
  // The first process's lines: the one bin/tsvisor.js started.
  const lines = fs.readFileSync(trace, 'utf8').trim().split('\n').map((l) => l.split(' '));
  const modules = lines.filter(([pid]) => pid === lines[0][0]).map(([, id]) => id);
  assert.ok(modules.includes('cli/main'), `${args.join(' ')}: runs from the bundle (npm run build)`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, modules, builtins: JSON.parse(m[1]) };
}

/** The runtime commands' modules (cli/main requires them when a runtime command's action runs). */
const RUNTIME_MODULES = ['cli/oci_commands', 'cli/control', 'cli/exec_secret', 'cli/sandbox_proc', 'cli/observe', 'cli/install', 'cli/statedir', 'cli/runtime_log'];
/** Built-in modules a sandbox in this process never uses: the runtime commands' (and commander's sub-command spawning). */
const UNUSED_BUILTINS = ['child_process', 'net', 'tty', 'crypto'];

test('startup: `do /bin/true` evaluates none of the runtime commands\' modules, no strace decoders, reads no third bundle file, and loads no node:child_process, net, tty or crypto', () => {
  const r = traced(['do', '--', '/bin/true']);
  assert.strictEqual(r.status, 0, r.stderr);
  for (const id of RUNTIME_MODULES) assert.ok(!r.modules.includes(id), `do evaluated ${id}`);
  assert.ok(r.modules.includes('cli/do') && r.modules.includes('kernel/kernel'), 'the kernel is evaluated');
  assert.deepStrictEqual(r.modules.filter((id) => id.startsWith('kernel/strace/')), [], 'the strace decoders are for --strace only');
  assert.deepStrictEqual(r.modules.filter((id) => id.startsWith('[')), ['[tsvisor.rest.js]'], 'the rest of the bundle is read once, and the supervise part not at all (the rest holds its modules)');
  for (const b of UNUSED_BUILTINS) assert.ok(!r.builtins.includes(b), `do loaded node:${b}: ${r.builtins}`);
  // node:v8 (and the stream modules it loads) only when the heap budget's bound is needed (abi/accounting.ts).
  assert.ok(!r.builtins.includes('v8') && !r.builtins.includes('stream'), `do loaded node:v8 or node:stream: ${r.builtins}`);
  // The network stack and its NAT are made by the first inet socket (net/factory.ts): /bin/true opens none.
  assert.deepStrictEqual(r.modules.filter((id) => id.startsWith('net/')), [], 'the network stack loads with the first inet socket');
});

test('startup: the first inet socket loads the stack and attaches the NAT; /proc/net/dev and the routes are the same before it', () => {
  const py = [
    'import socket',
    "before = [open(f).read() for f in ('/proc/net/dev', '/proc/net/route', '/proc/net/if_inet6', '/proc/net/tcp')]",
    "print('BEFORE', before == [open(f).read() for f in ('/proc/net/dev', '/proc/net/route', '/proc/net/if_inet6', '/proc/net/tcp')])",
    "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.connect(('192.0.2.1', 9)); print('SRC', u.getsockname()[0])",
    "after = [open(f).read() for f in ('/proc/net/dev', '/proc/net/route', '/proc/net/if_inet6', '/proc/net/tcp')]",
    "print('SAME', before == after)",
  ].join('\n');
  const r = traced(['do', '--', 'python3', '-c', py]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /^BEFORE True$/m);
  // The route to a remote address goes through the NAT's eth0, from its address: the NAT was attached.
  assert.match(r.stdout, /^SRC 10\.0\.2\.15$/m);
  assert.match(r.stdout, /^SAME True$/m, 'the interface table, routes and socket list read the same before the stack was made and after');
  assert.ok(r.modules.includes('net/factory') && r.modules.includes('net/nat/nat'), 'the stack and the NAT are evaluated at the first socket');
  assert.ok(r.modules.indexOf('net/factory') > r.modules.indexOf('syscalls/sys_socket'), 'after the syscall table');
});

test('startup: `do --strace` loads the decoders it needs', () => {
  const r = traced(['do', '--strace', '--', '/bin/true']);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stderr, /^exit_group\(0\) += \?$/m);
  assert.ok(r.modules.includes('kernel/strace/strace'));
});

test('startup: a runtime command (state of a missing container) evaluates its modules when its action runs, and no kernel', () => {
  const root = h.tmpDir('startup-root-');
  const r = traced(['--root', root, 'state', 'missing']);
  assert.notStrictEqual(r.status, 0);
  assert.match(r.stderr, /container missing does not exist/);
  assert.ok(r.modules.includes('cli/oci_commands') && r.modules.includes('cli/statedir'), `state evaluates the runtime: ${r.modules}`);
  assert.ok(r.modules.indexOf('cli/oci_commands') > r.modules.indexOf('@pkg/commander/index'), 'after the command line is parsed');
  assert.deepStrictEqual(r.modules.filter((id) => id.startsWith('[') || (id.startsWith('kernel/') && id !== 'kernel/netinfo')), [], 'no kernel, no other bundle file');
  // Its error goes to a pipe (as to Docker's shim) without building process.stderr's stream (cli/stdio.ts).
  for (const b of [...UNUSED_BUILTINS, 'stream']) assert.ok(!r.builtins.includes(b), `state loaded node:${b}: ${r.builtins}`);
});

test('startup: a command\'s output through a pipe is whole (cli/stdio.ts writes fd 1 directly)', () => {
  const r = childProcess.spawnSync(h.TSVISOR, ['compat'], { encoding: 'utf8', env: h.sentryEnv(), timeout: 60_000 });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.ok(r.stdout.length > 16384, `${r.stdout.length} bytes`);
  assert.match(r.stdout, /^\| 0 \| read \| implemented \|/m, 'the syscall table');
  assert.match(r.stdout, /\| seccomp SCMP_ACT_NOTIFY \| refused \(create fails\) \|\n$/, 'the OCI part, to its last line');
});

test('startup: the bundle uses a built-in module\'s exports as they are, not a copy per importing module (tools/bundle.js)', () => {
  for (const f of ['tsvisor.bundle.js', 'tsvisor.rest.js', 'gofer.bundle.js']) {
    const src = fs.readFileSync(path.join(h.ROOT, 'dist', f), 'latin1');
    assert.doesNotMatch(src, /__importStar\(require\("node:/, f);
    assert.match(src, /require\("node:fs"\)/, f);
  }
});

test('startup: the command line declares the command it runs; help and a mistyped command still see them all', () => {
  const root = h.tmpDir('startup-root-');
  const run = (args) => childProcess.spawnSync(h.TSVISOR, args, { encoding: 'utf8', env: h.sentryEnv(), timeout: 60_000 });
  const typo = run(['--root', root, 'stat', 'x']);
  assert.notStrictEqual(typo.status, 0);
  assert.match(typo.stderr, /unknown command 'stat'\n\(Did you mean one of start, state\?\)/);
  const help = run(['--help']);
  assert.strictEqual(help.status, 0);
  for (const c of ['do', 'create', 'start', 'state', 'kill', 'delete', 'list|ls', 'features']) assert.match(help.stdout, new RegExp(`^  ${c.replace('|', '\\|')} `, 'm'), c);
  assert.match(run(['help', 'state']).stdout, /^Usage: tsvisor state \[options\] <id>/);
  // Global options with values, before the command, in both spellings.
  for (const args of [['--root', root, '--log-format', 'json', 'state', 'x'], [`--root=${root}`, '--debug', 'state', 'x']]) {
    const r = run(args);
    assert.strictEqual(r.status, 1);
    assert.match(r.stderr, /container x does not exist/, args.join(' '));
  }
  assert.strictEqual(run(['--root', root, 'ls', '-q']).stdout, '');
});

test('startup: `do --confine` evaluates no kernel module in the runtime above the confined Sentry (it starts the Sentry and waits)', () => {
  const r = traced(['do', '--confine', '--', '/bin/true']);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.ok(r.modules.includes('cli/do'), 'the runtime runs cli/do');
  const kernel = ['sandbox/sandbox', 'kernel/kernel', 'mm/mm', 'vfs/vfs', 'syscalls/table', 'loader/load', 'platform/ptrace/platform', 'platform/memfile'];
  assert.deepStrictEqual(r.modules.filter((id) => kernel.includes(id)), [], 'the runtime evaluates none of the kernel');
});
