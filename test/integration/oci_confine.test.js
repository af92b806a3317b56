'use strict';
// oci_confine: `tsvisor --confine create/run` (the default for containers): the
// container's sandbox process stays outside and runs the Sentry confined,
// its host files served by a Gofer, as `do --confine --gofer` does
// (cli/sandbox_confined.ts, docs/SECURITY.md). Read from the host's side:
// the Sentry's status, namespaces, root and descriptors; exec's stdio, its
// status and the container's, exec --tty's terminal through a console socket,
// a read-write bind written through the Gofer;
// and the one check the runtime makes for the Sentry (whose stdio it opens).

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test, after } = require('node:test');
const h = require('../lib/harness');
const { busyboxRootfs, children, cmdline, fileFds, statusField: field } = require('../lib/procinfo');

const APPLETS = ['sh', 'echo', 'cat', 'sleep', 'true', 'ls', 'id', '[', 'httpd'];
const bundles = [];
after(() => {
  for (const dir of bundles) {
    for (const id of tsv(dir, ['list', '-q']).stdout.split('\n').filter(Boolean)) tsv(dir, ['delete', '--force', id]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function makeBundle(args, edit = () => {}) {
  const dir = h.tmpDir('tsvisor-oci-confine-');
  bundles.push(dir);
  const rootfs = busyboxRootfs(dir, APPLETS);
  fs.writeFileSync(path.join(rootfs, 'marker'), 'the bundle\'s root\n');
  assert.strictEqual(tsv(dir, ['spec', '--bundle', dir]).status, 0);
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = args;
  edit(spec);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

/** tsvisor --root DIR/root --confine ARGS; stdout and stderr through files (the sandbox process inherits them); stdin from the file opts.input (a socket, node's own pipes, cannot be reopened through /proc). */
function tsv(dir, args, opts = {}) {
  const out = path.join(dir, `out-${process.hrtime.bigint()}`);
  const fd1 = fs.openSync(out + '.1', 'w');
  const fd2 = fs.openSync(out + '.2', 'w');
  let fd0 = 'ignore';
  if (opts.input !== undefined) {
    fs.writeFileSync(out + '.0', opts.input);
    fd0 = fs.openSync(out + '.0', 'r');
  }
  // Executed as Docker's shim does (its shell line): a confined create becomes the Sentry's runtime (the sandbox process).
  const r = childProcess.spawnSync(h.TSVISOR, ['--root', path.join(dir, 'root'), '--confine', ...args], {
    cwd: dir, env: h.sentryEnv(), stdio: [fd0, fd1, fd2], timeout: 60_000, killSignal: 'SIGKILL',
  });
  for (const fd of [fd0, fd1, fd2]) if (typeof fd === 'number') fs.closeSync(fd);
  return { status: r.status, signal: r.signal, stdout: fs.readFileSync(out + '.1', 'utf8'), stderr: fs.readFileSync(out + '.2', 'utf8') };
}

function ok(r, what) {
  assert.strictEqual(r.status, 0, `${what}: status ${r.status} ${r.signal ?? ''}\n${r.stderr}`);
  return r;
}

/** The Sentry and the Gofer below a sandbox process: the children of its two unshares. */
function below(sandboxPid) {
  let sentry = 0;
  let gofer = 0;
  for (const u of children(sandboxPid)) {
    for (const p of children(u)) {
      const argv = cmdline(p);
      if (argv.some((a) => /gofer\/main\.js$/.test(a))) gofer = p;
      else if (argv.includes('sandbox-init')) sentry = p;
    }
  }
  return { sentry, gofer };
}

test('--confine run: the container runs in a confined Sentry, its files from the Gofer; output and exit status pass through', () => {
  const dir = makeBundle(['sh', '-c', 'cat /marker; ls /data; echo err >&2; exit 3']);
  const r = tsv(dir, ['run', '--bundle', dir, 'r1']);
  assert.strictEqual(r.status, 3, r.stderr);
  assert.strictEqual(r.stdout, 'the bundle\'s root\n');
  assert.strictEqual(r.stderr, 'err\n');
});

test('--confine create/start: the Sentry below the sandbox process has no capability, a seccomp filter, its own namespaces, an empty root, no writable host file', async () => {
  const dir = makeBundle(['sleep', '60']);
  ok(tsv(dir, ['create', '--bundle', dir, 'c1']), 'create');
  ok(tsv(dir, ['start', 'c1']), 'start');
  const pid = JSON.parse(ok(tsv(dir, ['state', 'c1']), 'state').stdout).pid;
  let found = { sentry: 0, gofer: 0 };
  for (let i = 0; i < 100 && !(found.sentry && found.gofer); i++) {
    found = below(pid);
    if (!found.sentry || !found.gofer) await new Promise((r) => setTimeout(r, 50));
  }
  const { sentry, gofer } = found;
  assert.ok(sentry && gofer, 'the Sentry and the Gofer run below the sandbox process');
  for (const tid of fs.readdirSync(`/proc/${sentry}/task`)) {
    const s = fs.readFileSync(`/proc/${sentry}/task/${tid}/status`, 'latin1');
    for (const set of ['CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.strictEqual(BigInt(`0x${field(s, set)}`), 0n, `thread ${tid} ${set}`);
    assert.strictEqual(field(s, 'Seccomp'), '2', `thread ${tid} is under the filter`);
    assert.strictEqual(field(s, 'NoNewPrivs'), '1');
  }
  for (const ns of ['user', 'mnt', 'pid', 'ipc', 'uts']) assert.notStrictEqual(fs.readlinkSync(`/proc/${sentry}/ns/${ns}`), fs.readlinkSync(`/proc/${pid}/ns/${ns}`), ns);
  assert.deepStrictEqual(fs.readdirSync(`/proc/${sentry}/root`), ['proc']);
  // Beyond its stdio: no O_PATH descriptor (no tree to walk) and nothing open for writing but sockets, pipes and the memory file.
  const bad = [];
  for (const [fd, target, flags] of fileFds(sentry)) {
    if (Number(fd) > 2 && ((flags & 0o10000000) !== 0 || (flags & 3) !== 0)) bad.push(`${fd} -> ${target} (${flags.toString(8)})`);
  }
  assert.deepStrictEqual(bad, []);
  assert.deepStrictEqual(fs.readdirSync(`/proc/${gofer}/root`).sort(), ['0', 'proc']);
  // The container dies with its sandbox process's signal; the Sentry and Gofer with it.
  ok(tsv(dir, ['kill', 'c1', 'KILL']), 'kill');
  for (let i = 0; i < 200 && JSON.parse(tsv(dir, ['state', 'c1']).stdout).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
  assert.strictEqual(JSON.parse(tsv(dir, ['state', 'c1']).stdout).status, 'stopped');
  assert.strictEqual(fs.readFileSync(path.join(dir, 'root', 'c1', 'exit-status'), 'utf8'), '9');
  for (let i = 0; i < 100 && (fs.existsSync(`/proc/${sentry}`) || fs.existsSync(`/proc/${gofer}`)); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!fs.existsSync(`/proc/${sentry}`) && !fs.existsSync(`/proc/${gofer}`), 'the Sentry and the Gofer are gone');
  ok(tsv(dir, ['delete', 'c1']), 'delete');
});

test('--confine: a bundle and a state root below a directory only capabilities can search (containerd\'s /run/containerd, mode 0600): the runtime hands the Sentry the plan and the state directory', () => {
  const dir = makeBundle(['sh', '-c', 'cat /marker; exit 4']);
  // The bundle moved below a mode 0600 directory; the state root too.
  const locked = path.join(dir, 'locked');
  fs.mkdirSync(locked, { mode: 0o700 });
  const bundle = path.join(locked, 'bundle');
  fs.mkdirSync(bundle);
  for (const f of ['config.json', 'rootfs']) fs.renameSync(path.join(dir, f), path.join(bundle, f));
  fs.chmodSync(locked, 0o600);
  const root = path.join(locked, 'root');
  try {
    const r = childProcess.spawnSync(h.TSVISOR, ['--root', root, '--confine', 'run', '--bundle', bundle, 'l1'], { cwd: dir, env: h.sentryEnv(), encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    assert.strictEqual(r.status, 4, `run: ${r.status} ${r.signal ?? ''}\n${r.stderr}`);
    assert.strictEqual(r.stdout, 'the bundle\'s root\n');
    // Executed as the shim does: create is the Sentry's runtime, the control socket reached through it.
    const c = childProcess.spawnSync(h.TSVISOR, ['--root', root, '--confine', 'create', '--bundle', bundle, 'l2'], { cwd: dir, env: h.sentryEnv(), stdio: 'ignore', timeout: 60_000, killSignal: 'SIGKILL' });
    assert.strictEqual(c.status, 0, 'create');
    const st = childProcess.spawnSync(h.TSVISOR, ['--root', root, 'delete', '--force', 'l2'], { cwd: dir, env: h.sentryEnv(), encoding: 'utf8', timeout: 60_000 });
    assert.strictEqual(st.status, 0, st.stderr);
  } finally {
    fs.chmodSync(locked, 0o700);
  }
});

test('--confine --network host in a network namespace of the container\'s: its net.* sysctls are the namespace\'s, so the Sentry, without capabilities, binds port 80 (Docker\'s ip_unprivileged_port_start=0)', async () => {
  const holder = childProcess.spawn('unshare', ['--net', 'sleep', '1000'], { stdio: 'ignore' });
  try {
    const own = fs.readlinkSync('/proc/self/ns/net');
    for (let i = 0; i < 100 && (!fs.existsSync(`/proc/${holder.pid}/ns/net`) || fs.readlinkSync(`/proc/${holder.pid}/ns/net`) === own || !/sleep/.test(fs.readFileSync(`/proc/${holder.pid}/cmdline`, 'latin1'))); i++) await new Promise((r) => setTimeout(r, 20));
    const ns = `/proc/${holder.pid}/ns/net`;
    const dir = makeBundle(['sh', '-c', 'echo hi > /tmp/index.html; exec httpd -f -p 80 -h /tmp'], (spec) => {
      spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'network').concat([{ type: 'network', path: ns }]);
      spec.linux.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '0' };
    });
    ok(tsv(dir, ['--network', 'host', 'run', '--detach', '--bundle', dir, 'n1']), 'run --detach');
    const inNs = (file) => childProcess.execFileSync('nsenter', [`--net=${ns}`, 'cat', file], { encoding: 'utf8' });
    assert.strictEqual(inNs('/proc/sys/net/ipv4/ip_unprivileged_port_start').trim(), '0', "the namespace's sysctl");
    // Port 80 (0050) listening in the namespace: the httpd's host socket, made by the confined Sentry.
    let listening = false;
    for (let i = 0; i < 200 && !listening; i++) {
      listening = /^\s*\d+: [0-9A-F]+:0050 0+:0000 0A /m.test(inNs('/proc/net/tcp') + inNs('/proc/net/tcp6'));
      if (!listening) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(listening, 'port 80 listens in the container\'s namespace');
    ok(tsv(dir, ['delete', '--force', 'n1']), 'delete');
  } finally {
    holder.kill('SIGKILL');
  }
});

test('--confine exec: stdio and status through the runtime; a read-write bind is written on the host through the Gofer', () => {
  const host = h.tmpDir('tsvisor-oci-confine-bind-');
  const dir = makeBundle(['sleep', '60'], (s) => s.mounts.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'rw'] }));
  try {
    ok(tsv(dir, ['create', '--bundle', dir, 'e1']), 'create');
    ok(tsv(dir, ['start', 'e1']), 'start');
    const r = tsv(dir, ['exec', 'e1', 'sh', '-c', 'echo out; echo err >&2; cat > /data/f; echo more >> /data/f; cat /data/f; exit 5'], { input: 'from stdin\n' });
    assert.strictEqual(r.status, 5, r.stderr);
    assert.strictEqual(r.stdout, 'out\nfrom stdin\nmore\n');
    assert.strictEqual(r.stderr, 'err\n');
    assert.strictEqual(fs.readFileSync(path.join(host, 'f'), 'utf8'), 'from stdin\nmore\n');
    ok(tsv(dir, ['delete', '--force', 'e1']), 'delete');
  } finally {
    fs.rmSync(host, { recursive: true, force: true });
  }
});

test('--confine exec --tty: the exec gets a terminal, its master through the console socket', { timeout: 120_000 }, async () => {
  const dir = makeBundle(['sleep', '60']);
  ok(tsv(dir, ['create', '--bundle', dir, 't1']), 'create');
  ok(tsv(dir, ['start', 't1']), 'start');
  const sock = path.join(dir, 'exec-console.sock');
  const py = childProcess.spawn('python3', [path.join(__dirname, 'oci', 'console.py'), sock, 'hello\n'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  let out = '';
  py.stdout.setEncoding('utf8');
  py.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => py.on('exit', r));
  try {
    for (let i = 0; i < 200 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    const r = tsv(dir, ['exec', '--tty', '--console-socket', sock, 't1', 'sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo "is a tty"; read x; echo "got $x"; exit 3']);
    assert.strictEqual(r.status, 3, r.stderr);
    await exited;
    assert.match(out, /^name: \/dev\/ptmx$/m);
    assert.match(out, /is a tty/);
    assert.match(out, /got hello/);
  } finally {
    if (py.exitCode === null) try { process.kill(-py.pid, 'SIGKILL'); } catch {}
    ok(tsv(dir, ['delete', '--force', 't1']), 'delete');
  }
});

test('hostile: the runtime opens the stdio only of the exec client that holds the request\'s secret, whatever pid the Sentry names', async (t) => {
  const { isExecClient } = require('../../dist/cli/sandbox_confined.js');
  const spawned = [];
  t.after(() => spawned.forEach((c) => c.kill('SIGKILL')));
  /** A node process that holds a fresh exec secret (as `tsvisor exec` does) and prints it; extra: its command line. */
  const client = (extra) => new Promise((resolve, reject) => {
    const code = `process.stdout.write(require(${JSON.stringify(path.resolve(__dirname, '../../dist/cli/exec_secret.js'))}).holdExecSecret() + '\\n'); setTimeout(() => {}, 30000)`;
    const c = childProcess.spawn(process.execPath, ['-e', code, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    spawned.push(c);
    let out = '';
    c.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ pid: c.pid, secret: out.trim() });
    });
    c.on('exit', () => reject(new Error('the client ended')));
  });
  const mine = await client([h.TSVISOR, 'exec', 'box1', 'sh']);
  // The exec of a same-named container under another --root: its secret went to another Sentry.
  const foreign = await client([h.TSVISOR, '--root', '/other', 'exec', 'box1', 'sh']);
  // What the command line check let through: a node process whose arguments name an exec of box1, holding no secret.
  const lookalike = childProcess.spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', h.TSVISOR, 'exec', 'box1', 'sh'], { stdio: 'ignore' });
  spawned.push(lookalike);
  await new Promise((r) => setTimeout(r, 200));
  assert.match(mine.secret, /^[0-9a-f]{32}$/);
  assert.notStrictEqual(mine.secret, foreign.secret);
  assert.strictEqual(isExecClient(mine.pid, mine.secret), true, 'the client of the request');
  assert.strictEqual(isExecClient(foreign.pid, mine.secret), false, 'a same-named container\'s exec under another root, named with the secret the Sentry knows');
  assert.strictEqual(isExecClient(mine.pid, foreign.secret), false, 'a secret the client does not hold');
  assert.strictEqual(isExecClient(lookalike.pid, mine.secret), false, 'a look-alike command line without the secret');
  for (const bad of ['', mine.secret.slice(1), mine.secret.toUpperCase(), `${mine.secret} `, '../../etc/passwd', `${mine.secret.slice(0, 31)}/`]) {
    assert.strictEqual(isExecClient(mine.pid, bad), false, `malformed secret ${JSON.stringify(bad)}`);
  }
  assert.strictEqual(isExecClient(process.pid, mine.secret), false, 'the test itself');
  assert.strictEqual(isExecClient(1, mine.secret), false, 'init');
  assert.strictEqual(isExecClient(2 ** 22 + 1, mine.secret), false, 'no such process');
});
