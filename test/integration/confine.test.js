'use strict';
// confine: `tsvisor do --confine` runs the Sentry as a confined child
// (docs/SECURITY.md). Read from the host's side: its /proc/PID/status (no
// capability on any thread, no_new_privs, a seccomp filter), its namespaces,
// its descriptors; the "compromised Sentry" drill (each escape refused, or
// the Sentry killed by its filter and the runtime saying so); and that it
// dies with its runtime.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const { children, comm, fileFds, statusField: field } = require('../lib/procinfo');

const CONFINE = ['--confine'];

function isGofer(pid) {
  try {
    return /gofer\/main\.js/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
  } catch {
    return false;
  }
}

/** The confined Sentry below a runtime: the node process that unshare forked (the Gofer's unshare, with --gofer, forks the Gofer). */
function sentryOf(runtime) {
  for (const u of children(runtime)) {
    if (comm(u) !== 'unshare') continue;
    for (const s of children(u)) if ((comm(s) === 'node' || comm(s).startsWith('tsvisor')) && !isGofer(s)) return s;
  }
  return 0;
}

/** Start a long-running confined sandbox in its own process group; resolves once the program inside runs. */
async function startConfined(t, flags = [], script = 'echo ready; exec sleep 60') {
  const child = childProcess.spawn(process.execPath, h.sandboxArgs(['/bin/sh', '-c', script], { flags: [...CONFINE, ...flags] }), {
    cwd: h.ROOT, env: h.sentryEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  t.after(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  });
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  let out = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`the sandbox ended (${code}) before it ran: ${err}`)));
  });
  let sentry = 0;
  for (let i = 0; i < 100 && !sentry; i++) {
    sentry = sentryOf(child.pid);
    if (!sentry) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(sentry, 'the confined Sentry process is found below its runtime');
  return { child, sentry, out };
}

test('the confined Sentry: no capabilities on any thread, no_new_privs, a seccomp filter, its own namespaces', async (t) => {
  const { sentry } = await startConfined(t);
  const status = fs.readFileSync(`/proc/${sentry}/status`, 'latin1');
  assert.strictEqual(field(status, 'NoNewPrivs'), '1');
  assert.strictEqual(field(status, 'Seccomp'), '2');
  const tasks = fs.readdirSync(`/proc/${sentry}/task`);
  assert.ok(tasks.length > 1, 'Node has threads');
  for (const tid of tasks) {
    const s = fs.readFileSync(`/proc/${sentry}/task/${tid}/status`, 'latin1');
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.strictEqual(BigInt(`0x${field(s, set)}`), 0n, `thread ${tid} ${set}`);
    assert.strictEqual(field(s, 'Seccomp'), '2', `thread ${tid} is under the filter`);
  }
  for (const ns of ['user', 'mnt', 'pid', 'ipc', 'uts']) {
    assert.notStrictEqual(fs.readlinkSync(`/proc/${sentry}/ns/${ns}`), fs.readlinkSync(`/proc/self/ns/${ns}`), `${ns} namespace`);
  }
  // The sandbox's own stack: the Sentry stays in the host's network namespace (the NAT's host sockets are made there).
  assert.strictEqual(fs.readlinkSync(`/proc/${sentry}/ns/net`), fs.readlinkSync('/proc/self/ns/net'));
  // Its root: an empty read-only directory (seen through its own /proc/PID/root).
  const root = fs.readdirSync(`/proc/${sentry}/root`);
  assert.deepStrictEqual(root, ['proc']);
  assert.throws(() => fs.statSync(`/proc/${sentry}/root/etc`), { code: 'ENOENT' });
  assert.strictEqual(fs.readlinkSync(`/proc/${sentry}/cwd`), '/');
});

test('the confined Sentry holds only sockets, pipes, anonymous inodes, the memory file and read-only descriptors of the tree it serves', async (t) => {
  const { sentry } = await startConfined(t);
  const unexpected = [];
  let served = 0;
  for (const [fd, target, flags] of fileFds(sentry)) {
    // The host tree it serves from the root's descriptor, until the Gofer does
    // (docs/SECURITY.md, "Not covered"): read-only or O_PATH, never writable.
    if ((flags & 3) === 0) {
      served++;
      continue;
    }
    unexpected.push(`${fd} -> ${target} (flags ${flags.toString(8)})`);
  }
  assert.deepStrictEqual(unexpected, []);
  assert.ok(served > 0, 'the host tree is reached through descriptors it holds');
});

test('with --network none the Sentry is in a network namespace of its own', async (t) => {
  const { sentry } = await startConfined(t, ['--network', 'none']);
  assert.notStrictEqual(fs.readlinkSync(`/proc/${sentry}/ns/net`), fs.readlinkSync('/proc/self/ns/net'));
});

test('the confined Sentry dies when its runtime is SIGKILLed, and its stubs with it', async (t) => {
  const { child, sentry } = await startConfined(t);
  const stubs = children(sentry);
  assert.ok(stubs.length > 0, 'the Sentry has stub processes');
  process.kill(child.pid, 'SIGKILL');
  const alive = (pid) => {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      return !/^\d+ \(.*\) [ZX] /.test(st);
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 200 && (alive(sentry) || stubs.some(alive)); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!alive(sentry), 'the Sentry is gone');
  assert.deepStrictEqual(stubs.filter(alive), [], 'no stub survives');
});

function drill(step, env = {}, flags = []) {
  return childProcess.spawnSync(process.execPath, h.sandboxArgs(['/bin/echo', 'the sandbox ran'], { flags: [...CONFINE, ...flags, '--confine-drill', step] }), {
    cwd: h.ROOT, env: { ...h.sentryEnv(), TSVISOR_CONFINE_DRILL: '1', ...env }, encoding: 'utf8', timeout: 120000, killSignal: 'SIGKILL',
  });
}

test('drill: the confined Sentry cannot open /etc/shadow (its root is empty)', () => {
  const r = drill('open');
  assert.match(r.stderr, /confine drill: open \/etc\/shadow: refused \(errno 2\)/);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /the sandbox ran/);
});

test('drill: the confined Sentry cannot connect to a host Unix socket', async (t) => {
  const dir = h.tmpDir('tsvisor-confine-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sock = path.join(dir, 'host.sock');
  let connections = 0;
  const server = net.createServer((c) => {
    connections++;
    c.destroy();
  });
  await new Promise((r) => server.listen(sock, r));
  t.after(() => server.close());
  const r = await new Promise((resolve) => {
    const c = childProcess.spawn(process.execPath, h.sandboxArgs(['/bin/true'], { flags: [...CONFINE, '--confine-drill', 'connect'] }), {
      cwd: h.ROOT, env: { ...h.sentryEnv(), TSVISOR_CONFINE_DRILL: '1', TSVISOR_CONFINE_DRILL_SOCKET: sock }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (status) => resolve({ status, stderr: err }));
  });
  assert.match(r.stderr, new RegExp(`connect ${sock.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: refused \\(errno 2\\)`));
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(connections, 0);
});

for (const [step, what] of [['exec', 'execve a host program'], ['ptrace', 'ptrace a host process']]) {
  test(`drill: the confined Sentry cannot ${what}: its filter kills it and the runtime says so`, () => {
    const r = drill(step, { TSVISOR_CONFINE_DRILL_PID: String(process.pid) });
    assert.match(r.stderr, new RegExp(`confine drill: ${step === 'exec' ? 'execve' : 'ptrace'}.*: trying`));
    assert.doesNotMatch(r.stderr, /SUCCEEDED/);
    assert.match(r.stderr, /the Sentry was killed by its seccomp filter/);
    assert.strictEqual(r.status, 128 + 31);
    assert.doesNotMatch(r.stdout, /the sandbox ran/);
  });
}

test('the drill is refused without both its variable and its flag', () => {
  const r = childProcess.spawnSync(process.execPath, h.sandboxArgs(['/bin/true'], { flags: [...CONFINE, '--confine-drill', 'open'] }), {
    cwd: h.ROOT, env: h.sentryEnv(), encoding: 'utf8', timeout: 60000,
  });
  assert.notStrictEqual(r.status, 0);
  assert.match(r.stderr, /--confine-drill is a test switch/);
});

test('exit statuses pass through the confined Sentry', () => {
  const r = h.runSandbox(['/bin/sh', '-c', 'echo out; echo err >&2; exit 7'], { flags: CONFINE });
  assert.strictEqual(r.status, 7, r.stderr);
  assert.strictEqual(r.stdout, 'out\n');
  assert.match(r.stderr, /^err$/m);
});

for (const gofer of [[], ['--gofer']]) test(`rootless: an unprivileged user runs a confined sandbox${gofer.length ? ' with the Gofer (in a user namespace of its own)' : ''}`, (t) => {
  if (!h.which('setpriv')) return t.skip('no setpriv');
  // The repository must be readable by nobody for this; skip where it is not.
  try {
    childProcess.execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', 'test', '-r', path.join(h.ROOT, 'bin', 'tsvisor.js')]);
  } catch {
    return t.skip('the repository is not readable by nobody');
  }
  const r = childProcess.spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath,
    ...h.sandboxArgs(['/bin/sh', '-c', 'echo rootless $(cat /etc/hostname)'], { flags: [...CONFINE, ...gofer] })], {
    cwd: '/', env: { ...h.sentryEnv(), HOME: '/' }, encoding: 'utf8', timeout: 120000, killSignal: 'SIGKILL',
  });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout, 'rootless tsvisor\n');
});

const O_PATH = 0o10000000;

/** The Sentry's host descriptors that are neither sockets, pipes, anonymous inodes nor the memory file: [fd, target, flags]. */
/** The Gofer the runtime started: the child of its unshare (pid 1 of the Gofer's own PID namespace). */
function goferOf(runtime) {
  for (const u of children(runtime)) for (const g of children(u)) if (isGofer(g)) return g;
  return 0;
}

test('--confine --gofer: the runtime starts the Gofer; the confined Sentry reads the root and a read-only bind through it, and walks no host tree itself', async (t) => {
  const dir = h.tmpDir('tsvisor-confine-gofer-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'f'), 'from the bind\n');
  const script = 'cat /mnt/f; head -c 8 /etc/os-release; echo; ls /usr/share | grep -c .; exec 3</etc/passwd; echo ready; exec sleep 60';
  const { child, sentry, out } = await startConfined(t, ['--gofer', '-v', `${dir}:/mnt:ro`], script);
  const native = fs.readFileSync('/etc/os-release', 'latin1').slice(0, 8);
  const lines = out.split('\n');
  assert.strictEqual(lines[0], 'from the bind');
  assert.strictEqual(lines[1], native);
  assert.strictEqual(Number(lines[2]), fs.readdirSync('/usr/share').length);
  // The Sentry holds no O_PATH descriptor (no tree to walk) and nothing writable: only what the Gofer donated, read-only.
  const fds = fileFds(sentry);
  assert.deepStrictEqual(fds.filter(([, , fl]) => (fl & O_PATH) !== 0 || (fl & 3) !== 0), []);
  assert.ok(fds.some(([, target]) => target.endsWith('/etc/passwd')), 'the file open in the sandbox is a donated read descriptor');
  // The Gofer: a child of the runtime (not of the Sentry, outside its PID namespace), in mount and network namespaces of its own.
  const gofer = goferOf(child.pid);
  assert.ok(gofer, 'the Gofer runs below the runtime');
  assert.ok(!children(sentry).includes(gofer));
  for (const ns of ['mnt', 'net']) {
    const g = fs.readlinkSync(`/proc/${gofer}/ns/${ns}`);
    assert.notStrictEqual(g, fs.readlinkSync(`/proc/self/ns/${ns}`), `the Gofer's ${ns} namespace is not the host's`);
    assert.notStrictEqual(g, fs.readlinkSync(`/proc/${sentry}/ns/${ns}`), `the Gofer's ${ns} namespace is not the Sentry's`);
  }
  assert.strictEqual(field(fs.readFileSync(`/proc/${gofer}/status`, 'latin1'), 'Seccomp'), '2');
  assert.deepStrictEqual(fs.readdirSync(`/proc/${gofer}/root`).sort(), ['0', '1', 'proc']);
});

test('--confine --gofer: the drill steps still fail', async (t) => {
  for (const step of ['open', 'exec']) {
    const r = drill(step, {}, ['--gofer']);
    assert.doesNotMatch(r.stderr, /SUCCEEDED/);
    if (step === 'open') {
      assert.match(r.stderr, /confine drill: open \/etc\/shadow: refused \(errno 2\)/);
      assert.strictEqual(r.status, 0, r.stderr);
      assert.match(r.stdout, /the sandbox ran/, 'the program ran with its files from the Gofer');
    } else {
      assert.match(r.stderr, /the Sentry was killed by its seccomp filter/);
      assert.strictEqual(r.status, 128 + 31);
    }
  }
});

// A Sentry that changes no host file itself (--gofer, or no read-write bind)
// has a filter without the calls that change files by name and with openat
// for reading only: reopening or chmod-ing a descriptor the Gofer donated for
// reading (a file of a read-write bind, which a root-owned Sentry could
// otherwise write) kills it, and the host file stays as it was.
test('drill, --confine --gofer with a read-write bind: creating, reopening for writing or chmod-ing a host file kills the Sentry', (t) => {
  const dir = h.tmpDir('tsvisor-confine-rw-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const prog = path.join(dir, 'echo');
  fs.copyFileSync('/bin/echo', prog);
  fs.chmodSync(prog, 0o755);
  const before = fs.readFileSync(prog);
  for (const step of ['create', 'mkdir', 'reopen', 'chmod']) {
    const r = childProcess.spawnSync(process.execPath, h.sandboxArgs(['/mnt/echo', 'the sandbox ran'], { flags: [...CONFINE, '--gofer', '-v', `${dir}:/mnt`, '--confine-drill', step] }), {
      cwd: h.ROOT, env: { ...h.sentryEnv(), TSVISOR_CONFINE_DRILL: '1', TSVISOR_CONFINE_DRILL_FILE: 'echo' }, encoding: 'utf8', timeout: 120000, killSignal: 'SIGKILL',
    });
    // The program's own file is the descriptor tried: the Gofer's path of it, in the bind's tree.
    if (step === 'reopen' || step === 'chmod') assert.match(r.stderr, /confine drill: (reopen|chmod 04777) \/1\/echo.*: trying/, step);
    else assert.match(r.stderr, /confine drill: (create|mkdir) \/tsvisor-drill: trying/, step);
    assert.doesNotMatch(r.stderr, /SUCCEEDED|refused/, step);
    assert.match(r.stderr, /the Sentry was killed by its seccomp filter/, step);
    assert.strictEqual(r.status, 128 + 31, step);
    assert.doesNotMatch(r.stdout, /the sandbox ran/);
  }
  assert.strictEqual(fs.statSync(prog).mode & 0o7777, 0o755);
  assert.ok(fs.readFileSync(prog).equals(before));
  assert.deepStrictEqual(fs.readdirSync(dir), ['echo']);
});

test('drill, --confine without a read-write bind: the Sentry reads its host tree itself, and cannot reopen it for writing', () => {
  for (const step of ['reopen', 'mkdir']) {
    const r = drill(step);
    assert.match(r.stderr, /: trying/, step);
    assert.doesNotMatch(r.stderr, /SUCCEEDED|refused/, step);
    assert.match(r.stderr, /the Sentry was killed by its seccomp filter/, step);
    assert.strictEqual(r.status, 128 + 31, step);
  }
});

test('drill, --confine with a read-write bind and no Gofer: the Sentry writes the bind itself, its filter allows the call and the empty root refuses it', (t) => {
  const dir = h.tmpDir('tsvisor-confine-rw-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const r = drill('mkdir', {}, ['-v', `${dir}:/mnt`]);
  assert.match(r.stderr, /confine drill: mkdir \/tsvisor-drill: refused \(errno 30\)/);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /the sandbox ran/);
});

test('--stats of a Sentry that may not open files for writing: written on the descriptor opened before confinement', (t) => {
  const dir = h.tmpDir('tsvisor-confine-stats-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const stats = path.join(dir, 'stats.json');
  fs.writeFileSync(stats, 'x'.repeat(100000));
  const r = h.runSandbox(['/bin/true'], { flags: [...CONFINE, '--gofer', '--stats', stats] });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(typeof JSON.parse(fs.readFileSync(stats, 'utf8')), 'object');
});

test('a confined Sentry started without a code cache does not write one (its filter would kill it): the runtime does', () => {
  for (const f of fs.readdirSync(path.join(h.ROOT, 'dist'))) if (f.endsWith('.cache')) fs.rmSync(path.join(h.ROOT, 'dist', f), { force: true });
  const r = h.runSandbox(['/bin/sh', '-c', 'exit 4'], { flags: [...CONFINE, '--gofer'] });
  assert.strictEqual(r.status, 4, r.stderr);
  assert.doesNotMatch(r.stderr, /seccomp/);
  assert.ok(fs.existsSync(path.join(h.ROOT, 'dist', 'tsvisor.rest.js.cache')), 'the runtime wrote the cache');
});
