'use strict';
// oci: the runc-compatible runtime commands against a bundle made from the
// host's busybox, without any client: spec, create, start, run, state, kill,
// delete, list, features, the global flags, the config.json mapping (user,
// env, cwd, hostname, rlimits, umask, capabilities, noNewPrivileges,
// read-only root, bind and tmpfs mounts), the state directory and its lock,
// and every error case (unknown or duplicate id, wrong state, bad spec, a
// failed create leaving nothing behind).

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test, after } = require('node:test');
const h = require('../lib/harness');
const { busyboxRootfs } = require('../lib/procinfo');

/** The tests that run both ways (the sandbox's Sentry confined, with a Gofer; or not): the environment of each. The others run as the environment says (confined unless TSVISOR_CONFINE=0). */
const MODES = [['confined', { TSVISOR_CONFINE: '1' }], ['not confined', { TSVISOR_CONFINE: '0' }]];

const APPLETS = ['sh', 'echo', 'cat', 'sleep', 'true', 'id', 'hostname', 'touch', 'grep', 'ls', 'mkdir', 'awk', 'wget'];

/** Bundles made by the tests: a test that fails half-way leaves containers, which are deleted at the end. */
const bundles = [];
/** Cgroup directories the tests looked at: removed at the end if a failed test left them (their processes killed first). */
const cgroups = new Set();
after(() => {
  for (const dir of bundles) {
    const ids = tsv(dir, ['list', '-q']).stdout.split('\n').filter(Boolean);
    for (const id of ids) tsv(dir, ['delete', '--force', id]);
  }
  // Deepest first, then the parents the tests named (tsvisor-test-PID) and tsvisor's default one, if empty.
  const parents = new Set([...cgroups].map((d) => path.dirname(d)));
  for (const d of [...cgroups, ...parents]) {
    try {
      for (const p of fs.readFileSync(`${d}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) process.kill(Number(p), 'SIGKILL');
      fs.rmdirSync(d);
    } catch {
      // gone already, or (tsvisor's default parent) another run's containers are in it
    }
  }
});

function makeBundle(dir, process) {
  bundles.push(dir);
  const rootfs = busyboxRootfs(dir, APPLETS);
  const r = tsv(dir, ['spec', '--bundle', dir]);
  assert.strictEqual(r.status, 0, h.describe('spec', r));
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  Object.assign(spec.process, process);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return spec;
}

function setSpec(dir, edit) {
  const file = path.join(dir, 'config.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(spec);
  fs.writeFileSync(file, JSON.stringify(spec));
}

/**
 * The command line of tsvisor as Docker's shim runs it: bin/tsvisor.js
 * executed (its shell line, which lets `create` become the sandbox process),
 * or with direct, Node started on it (create then starts a sandbox process).
 */
const tsvCmd = (direct) => (direct ? [process.execPath, [h.TSVISOR]] : [h.TSVISOR, []]);

/** tsvisor with --root under dir; stdout and stderr go to files (the sandbox process inherits them and outlives create). opts.env: more environment. */
function tsv(dir, args, opts = {}) {
  const out = path.join(dir, `out-${process.hrtime.bigint()}`);
  const fd1 = fs.openSync(out + '.1', 'w');
  const fd2 = fs.openSync(out + '.2', 'w');
  const globals = opts.globals ?? [];
  const [cmd, pre] = tsvCmd(opts.direct);
  const r = childProcess.spawnSync(cmd, [...pre, '--root', path.join(dir, 'root'), ...globals, ...args], {
    cwd: opts.cwd ?? dir, env: { ...h.sentryEnv(), ...opts.env }, stdio: ['ignore', fd1, fd2], timeout: 60_000, killSignal: 'SIGKILL',
  });
  fs.closeSync(fd1);
  fs.closeSync(fd2);
  return {
    status: r.status, signal: r.signal, timedOut: !!(r.error && r.error.code === 'ETIMEDOUT'),
    outFile: out + '.1', stdout: fs.readFileSync(out + '.1', 'utf8'), stderr: fs.readFileSync(out + '.2', 'utf8'),
  };
}

const tsvDefault = tsv;

/** tsv with stdin from a file (a FIFO the test writes to later: opened without blocking, read-write). */
function tsvIn(dir, args, input) {
  const fd = fs.openSync(input, fs.constants.O_RDWR);
  const out = path.join(dir, `out-${process.hrtime.bigint()}`);
  const fd1 = fs.openSync(out + '.1', 'w');
  const fd2 = fs.openSync(out + '.2', 'w');
  const [cmd, pre] = tsvCmd(false);
  const r = childProcess.spawnSync(cmd, [...pre, '--root', path.join(dir, 'root'), ...args], {
    cwd: dir, env: h.sentryEnv(), stdio: [fd, fd1, fd2], timeout: 60_000, killSignal: 'SIGKILL',
  });
  for (const f of [fd, fd1, fd2]) fs.closeSync(f);
  const res = { status: r.status, signal: r.signal, timedOut: false, outFile: out + '.1', stdout: fs.readFileSync(out + '.1', 'utf8'), stderr: fs.readFileSync(out + '.2', 'utf8') };
  return ok(res, args.join(' '));
}

function ok(r, what) {
  assert.ok(!r.timedOut, `${what} timed out`);
  assert.strictEqual(r.status, 0, `${what} failed\n${h.describe(what, r)}`);
  return r;
}

/** A failure: non-zero, one line on stderr matching re, no stack trace. */
function fails(r, what, re) {
  assert.ok(!r.timedOut, `${what} timed out`);
  assert.notStrictEqual(r.status, 0, `${what} must fail\n${h.describe(what, r)}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.strictEqual(lines.length, 1, `${what}: one line on stderr, got\n${r.stderr}`);
  assert.match(lines[0], re, `${what}: the message`);
}

function state(dir, id) {
  return JSON.parse(ok(tsv(dir, ['state', id]), `state ${id}`).stdout);
}

async function until(what, fn, ms = 30_000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^\S+ \(.*\) Z/.test(st);
  } catch {
    return false;
  }
}

/** The host cgroup directories of a container, by controller (from its record; the test's cleanup removes what is left). */
function cgroupDirs(dir, id) {
  const rec = JSON.parse(fs.readFileSync(path.join(dir, 'root', id, 'state.json'), 'utf8'));
  assert.ok(rec.cgroup, 'the record names the cgroup');
  for (const d of Object.values(rec.cgroup.dirs)) cgroups.add(d);
  return rec.cgroup.dirs;
}

/** Host processes that are sandbox processes of a container with this id (a failed create must leave none). */
function sandboxProcesses(id) {
  const out = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0');
      // sandbox-init, or a create that became the sandbox process (started by bin/tsvisor.js's shell line).
      if ((argv.includes('sandbox-init') || argv.includes('create')) && argv.includes(id) && argv.some((a) => a.endsWith('tsvisor.js'))) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test('help, version, unknown flags and commands', () => {
  const dir = h.tmpDir('oci-');
  const help = ok(tsv(dir, ['--help']), '--help');
  for (const cmd of ['do', 'create', 'start', 'run', 'state', 'kill', 'delete', 'list', 'spec', 'features']) assert.match(help.stdout, new RegExp(`\\n  ${cmd}\\b`), cmd);
  for (const flag of ['--root', '--log', '--log-format', '--debug', '--systemd-cgroup']) assert.ok(help.stdout.includes(flag), flag);
  assert.doesNotMatch(help.stdout, /sandbox-init/, 'the internal command is hidden');
  const ch = ok(tsv(dir, ['create', '--help']), 'create --help');
  for (const flag of ['--bundle', '--pid-file', '--console-socket', '--no-pivot', '--no-new-keyring']) assert.ok(ch.stdout.includes(flag), flag);
  assert.match(ok(tsv(dir, ['--version']), '--version').stdout, /^tsvisor version \d+\.\d+\.\d+\nspec: 1\.\d+\.\d+\n$/);
  fails(tsv(dir, ['--no-such-flag', 'list']), 'unknown global flag', /unknown option '--no-such-flag'/);
  fails(tsv(dir, ['state', '--no-such-flag', 'x']), 'unknown command flag', /unknown option/);
  fails(tsv(dir, ['frobnicate']), 'unknown command', /unknown command 'frobnicate'/);
  // Accepted for Docker and containerd, whatever they mean to runc.
  ok(tsv(dir, ['list'], { globals: ['--systemd-cgroup', '--debug', '--log-format', 'json'] }), 'accepted global flags');
  fails(tsv(dir, ['list'], { globals: ['--log-format', 'xml'] }), 'bad log format', /log-format/);
});

test('spec writes a default config.json once; features says what is supported', () => {
  const dir = h.tmpDir('oci-');
  ok(tsv(dir, ['spec']), 'spec');
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.deepStrictEqual(spec.process.args, ['sh']);
  assert.strictEqual(spec.root.path, 'rootfs');
  fails(tsv(dir, ['spec']), 'spec over an existing config.json', /exists/);
  const rl = h.tmpDir('oci-');
  ok(tsv(rl, ['spec', '--rootless']), 'spec --rootless');
  const rspec = JSON.parse(fs.readFileSync(path.join(rl, 'config.json'), 'utf8'));
  assert.ok(rspec.linux.namespaces.some((n) => n.type === 'user'), 'a rootless spec has a user namespace');
  const f = JSON.parse(ok(tsv(dir, ['features']), 'features').stdout);
  assert.match(f.ociVersionMax, /^1\./);
  assert.ok(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
  assert.strictEqual(f.linux.seccomp.enabled, true);
  assert.ok(f.linux.seccomp.operators.includes('SCMP_CMP_MASKED_EQ'));
  assert.deepStrictEqual(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  assert.strictEqual(f.linux.cgroup.v1, true, 'host cgroups v1 and v2: said so');
  assert.strictEqual(f.linux.cgroup.systemd, false, 'no systemd driver (paths are made directly)');
});

for (const [mode, env] of MODES) for (const direct of [false, true]) test(`create, state, list, start, exit, delete, ${mode} (${direct ? 'node bin/tsvisor.js: create starts a sandbox process' : 'bin/tsvisor.js executed: create becomes the sandbox process'})`, { timeout: 120_000 }, async () => {
  const dir = h.tmpDir('oci-');
  const tsv = (d, args, opts = {}) => tsvDefault(d, args, { ...opts, env });
  const state = (d, id) => JSON.parse(ok(tsv(d, ['state', id]), `state ${id}`).stdout);
  makeBundle(dir, { args: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
  const pidFile = path.join(dir, 'pid');
  const c = ok(tsv(dir, ['create', '--bundle', dir, '--pid-file', pidFile, '--no-pivot', '--no-new-keyring', 'c1'], { direct }), 'create');
  const s = state(dir, 'c1');
  const argv = fs.readFileSync(`/proc/${s.pid}/cmdline`, 'latin1').split('\0');
  assert.strictEqual(argv.includes('sandbox-init'), direct, `the sandbox process: ${argv.join(' ')}`);
  const stat = fs.readFileSync(`/proc/${s.pid}/stat`, 'latin1').slice(fs.readFileSync(`/proc/${s.pid}/stat`, 'latin1').lastIndexOf(')') + 2).split(' ');
  assert.strictEqual(Number(stat[3]), s.pid, 'the sandbox process leads a session of its own');
  assert.notStrictEqual(fs.readlinkSync(`/proc/${s.pid}/ns/net`), fs.readlinkSync('/proc/self/ns/net'), "the default spec's new network namespace");
  assert.strictEqual(s.status, 'created');
  assert.strictEqual(s.id, 'c1');
  assert.strictEqual(s.bundle, dir);
  assert.match(s.ociVersion, /^1\./);
  assert.deepStrictEqual(s.annotations, {});
  assert.strictEqual(s.pid, Number(fs.readFileSync(pidFile, 'utf8')), 'the pid file holds the state pid');
  assert.ok(alive(s.pid), 'the sandbox process runs');
  assert.strictEqual(fs.statSync(path.join(dir, 'root', 'c1')).mode & 0o777, 0o700, 'the state directory is private');
  assert.strictEqual(fs.statSync(path.join(dir, 'root', 'c1', 'control.sock')).mode & 0o777, 0o600, 'the control socket is private');
  assert.strictEqual(fs.readFileSync(c.outFile, 'utf8'), '', 'nothing runs before start');
  assert.strictEqual(ok(tsv(dir, ['list', '-q']), 'list -q').stdout, 'c1\n');
  const table = ok(tsv(dir, ['list']), 'list').stdout.split('\n');
  assert.match(table[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
  assert.match(table[1], new RegExp(`^c1\\s+${s.pid}\\s+created\\s+${dir}\\s`));
  const json = JSON.parse(ok(tsv(dir, ['list', '--format', 'json']), 'list json').stdout);
  assert.deepStrictEqual(json.map((x) => [x.id, x.status, x.pid]), [['c1', 'created', s.pid]]);
  fails(tsv(dir, ['create', '--bundle', dir, 'c1']), 'duplicate id', /exists: c1/);
  ok(tsv(dir, ['start', 'c1']), 'start');
  fails(tsv(dir, ['start', 'c1']), 'start twice', /cannot start/);
  await until('the container to stop', () => !alive(s.pid));
  assert.strictEqual(fs.readFileSync(c.outFile, 'utf8'), 'out\n', "the container's stdout is create's");
  assert.strictEqual(state(dir, 'c1').status, 'stopped');
  assert.strictEqual(state(dir, 'c1').pid, 0);
  fails(tsv(dir, ['start', 'c1']), 'start a stopped container', /stopped/);
  fails(tsv(dir, ['kill', 'c1', 'KILL']), 'kill a stopped container', /not running/);
  ok(tsv(dir, ['delete', 'c1']), 'delete');
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'c1')), 'delete removes the state directory');
  assert.strictEqual(ok(tsv(dir, ['list', '-q']), 'list').stdout, '');
  for (const cmd of [['state', 'c1'], ['start', 'c1'], ['kill', 'c1'], ['delete', 'c1']]) fails(tsv(dir, cmd), `${cmd[0]} of an unknown id`, /c1 does not exist/);
  ok(tsv(dir, ['delete', '--force', 'c1']), 'delete --force of an unknown id succeeds, as runc');
});

/** The preload that reports what a runtime command loaded (oci/loadwatch.js). */
const LOADWATCH = path.join(__dirname, 'oci', 'loadwatch.js');

/**
 * A runtime command started as Docker's shim starts it: bin/tsvisor.js
 * executed (its shell line, then Node), here with loadwatch preloaded, a
 * NODE_EXTRA_CA_CERTS in the environment, and every Node start counted in
 * starts. Returns the result and what loadwatch reported (for `create`,
 * whose process goes on as the sandbox process, a function that reads it
 * once that process has ended).
 */
function watchedIn(dir, args, starts, more = {}) {
  const out = path.join(dir, `out-${process.hrtime.bigint()}`);
  const fd2 = fs.openSync(out + '.2', 'w');
  const env = { ...h.sentryEnv(), ...more, NODE_OPTIONS: `--require ${LOADWATCH}`, NODE_EXTRA_CA_CERTS: path.join(dir, 'no-such-ca.pem'), LOADWATCH_STARTS: starts, TSVISOR_MODULE_TRACE: path.join(dir, 'modules') };
  const r = childProcess.spawnSync(h.TSVISOR, ['--root', path.join(dir, 'root'), ...args], { cwd: dir, env, stdio: ['ignore', 'ignore', fd2], timeout: 60_000, killSignal: 'SIGKILL' });
  fs.closeSync(fd2);
  const report = () => {
    const stderr = fs.readFileSync(out + '.2', 'utf8');
    // Every Node process writes one (a confined sandbox's runtime, Gofer and Sentry share the file): the runtime's own first, if it wrote one.
    const all = [...stderr.matchAll(/^loadwatch (.*)$/gm)].map((x) => JSON.parse(x[1]));
    assert.ok(all.length > 0, `${args.join(' ')}: no loadwatch line (status ${r.status}): ${stderr}`);
    const w = { ...(all.find((x) => !x.read.includes('gofer.bundle.js') && !x.read.includes('tsvisor.rest.js')) ?? all[0]), all };
    assert.ok(w.read.includes('tsvisor.bundle.js'), `${args.join(' ')} runs from the bundle (npm run build): read ${w.read}`);
    assert.strictEqual(w.caSeenByNode, false, `${args.join(' ')}: NODE_EXTRA_CA_CERTS is kept from Node`);
    assert.doesNotMatch(stderr, /extra certs/i);
    return { ...w, status: r.status, stderr, koffi: w.loaded.some((m) => /(^|\/)koffi(\/|$)/.test(m)) };
  };
  if (args[0] === 'create') return { status: r.status, report };
  const w = report();
  assert.ok(!w.read.includes('tsvisor.rest.js'), `${args.join(' ')} must not read the kernel's part of the bundle: read ${w.read}`);
  const mods = modulesOf(dir, w.pid);
  assert.ok(mods.includes('cli/main'), `${args.join(' ')}: traced (TSVISOR_MODULE_TRACE)`);
  assert.deepStrictEqual(mods.filter((m) => m.startsWith('[') || (m.startsWith('kernel/') && m !== 'kernel/netinfo')), [], `${args.join(' ')} evaluates no module of the kernel (kernel/netinfo: the network modes) and reads no other part of the bundle`);
  return w;
}

/** What process pid of watchedIn's commands in dir evaluated, in order: the bundle's modules, and [FILE] where it read another part of it (bin/tsvisor.js's TSVISOR_MODULE_TRACE). */
function modulesOf(dir, pid) {
  return fs.readFileSync(path.join(dir, 'modules'), 'utf8').split('\n').filter((l) => l.startsWith(`${pid} `)).map((l) => l.slice(l.indexOf(' ') + 1));
}

for (const [mode, more] of MODES) test(`Docker's shim per container, ${mode}: create becomes the sandbox process (one Node start), start and both deletes start no Node; a gone container loads no koffi; Node gets no NODE_EXTRA_CA_CERTS`, { timeout: 120_000 }, async () => {
  const confined = more.TSVISOR_CONFINE === '1';
  const watched = (d, args, starts) => watchedIn(d, args, starts, more);
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['true'] });
  const starts = path.join(dir, 'starts');
  const pidFile = path.join(dir, 'pid');
  // On this path only the Sentry loads the kernel: without a code cache for it, the Sentry writes one before it gives up the host.
  const restCache = path.join(h.ROOT, 'dist', 'tsvisor.rest.js.cache');
  if (confined) fs.rmSync(restCache, { force: true });
  const c = watched(dir, ['create', '--bundle', dir, '--pid-file', pidFile, 'w1'], starts);
  assert.strictEqual(c.status, 0);
  const s = state(dir, 'w1');
  const env = fs.readFileSync(`/proc/${s.pid}/environ`, 'latin1').split('\0');
  assert.ok(!env.some((kv) => kv.startsWith('NODE_EXTRA_CA_CERTS=')), 'the sandbox process\'s Node gets no NODE_EXTRA_CA_CERTS');
  assert.strictEqual(Number(fs.readFileSync(pidFile, 'utf8')), s.pid);
  const createStarts = fs.readFileSync(starts, 'utf8').trim().split('\n');
  // Confined, the sandbox process is the Sentry's runtime: it starts the Gofer and the Sentry (Node each), not Node for itself again.
  // The Gofer's Node is not seen here: its environment is its own settings only, no NODE_OPTIONS (gofer_start.test.js).
  assert.strictEqual(createStarts.length, confined ? 2 : 1, `create starts Node once${confined ? ', and the Sentry' : ''}: ${createStarts}`);
  assert.strictEqual(Number(createStarts[0].split(' ')[0]), s.pid, 'the Node process of create is the sandbox process');
  if (confined) {
    assert.ok(!createStarts.some((l) => / \/tmp ro:/.test(l)), `the Gofer acts on no NODE_OPTIONS: ${createStarts}`);
    assert.ok(createStarts.some((l) => / sandbox-init .* --confine w1$/.test(l)), `the Sentry: ${createStarts}`);
  }
  assert.strictEqual(watched(dir, ['state', 'w1'], starts).status, 0);
  // The shim's start: answered by the sandbox process through the state directory's FIFO, with no Node start (start_fifo.ts).
  const shimEnv = { ...h.sentryEnv(), ...more, NODE_OPTIONS: `--require ${LOADWATCH}`, LOADWATCH_STARTS: starts };
  const shim = (args) => {
    const before = fs.readFileSync(starts, 'utf8');
    const r = childProcess.spawnSync(h.TSVISOR, ['--root', path.join(dir, 'root'), ...args], { env: shimEnv, timeout: 60_000 });
    assert.strictEqual(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.strictEqual(fs.readFileSync(starts, 'utf8'), before, `${args.join(' ')} starts no Node`);
  };
  shim(['start', 'w1']);
  await until('the container to stop', () => !alive(s.pid));
  const w = c.report();
  if (confined) {
    assert.ok(w.all.some((x) => x.pid !== s.pid && x.read.includes('tsvisor.rest.js')), 'the Sentry loaded the kernel');
    // The Sentry's runtime (create's process) starts the Gofer and the Sentry: none of the kernel, the Gofer's client or the Sentry's side of confinement.
    const runtime = w.all.find((x) => x.pid === s.pid);
    assert.ok(runtime && !runtime.read.includes('tsvisor.rest.js'), `the runtime must not read the kernel's part of the bundle: read ${runtime && runtime.read}`);
    const mods = modulesOf(dir, s.pid);
    assert.ok(mods.includes('cli/sandbox_confined') && mods.includes('[tsvisor.supervise.js]'), `the runtime's modules: ${mods}`);
    assert.ok(fs.existsSync(restCache), 'the confined Sentry wrote the code cache of the kernel\'s part of the bundle');
    for (const m of ['[tsvisor.rest.js]', 'sandbox/container', 'sandbox/confine', 'gofer/client', 'gofer/connection', 'host/hostinfo', 'cli/confined_sentry', 'kernel/kernel']) {
      assert.ok(!mods.includes(m), `the runtime evaluated ${m}: ${mods}`);
    }
  } else {
    assert.strictEqual(w.pid, s.pid);
    assert.ok(w.read.includes('tsvisor.rest.js'), 'the sandbox process loaded the kernel');
  }
  const cg = Object.values(cgroupDirs(dir, 'w1'));
  assert.ok(cg.every((d) => fs.existsSync(d)), 'the stopped container keeps its cgroup until delete');
  // The shim deletes once it has reaped the process it waited for (here init reaps it, when it will: a zombie keeps its cgroup busy).
  await until('the cgroup to be empty', () => cg.every((d) => fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').trim() === ''));
  // The shim's delete of the stopped container, then its second delete --force, which finds nothing: both answered by the shell line alone.
  for (const args of [['delete', 'w1'], ['delete', '--force', 'w1']]) shim(args);
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'w1')), 'the state directory is removed');
  assert.deepStrictEqual(cg.filter((d) => fs.existsSync(d)), [], 'the cgroup is removed');
  // The runtime's commands (the Gofer and a confined Sentry are started without --root).
  const lines = fs.readFileSync(starts, 'utf8').trim().split('\n').filter((l) => l.split(' ')[1] === '--root');
  assert.deepStrictEqual(lines.map((l) => l.split(' ').slice(3, 4)[0]), ['create', 'state'], 'one Node start per command but start and the deletes');

  // A process left in the stopped container's cgroup: the shell line cannot remove it, Node's delete kills what is in it and does.
  const c2 = watched(dir, ['create', '--bundle', dir, 'w2'], starts);
  assert.strictEqual(c2.status, 0);
  const s2 = state(dir, 'w2');
  const cg2 = Object.values(cgroupDirs(dir, 'w2'));
  const stray = childProcess.spawn('sleep', ['1000'], { stdio: 'ignore', detached: true });
  fs.writeFileSync(path.join(cg2[0], 'cgroup.procs'), String(stray.pid));
  shim(['start', 'w2']);
  await until('the container to stop', () => !alive(s2.pid));
  const n = fs.readFileSync(starts, 'utf8').split('\n').length;
  assert.strictEqual(watched(dir, ['delete', 'w2'], starts).status, 0);
  assert.strictEqual(fs.readFileSync(starts, 'utf8').split('\n').length, n + 1, "Node's delete ran");
  await until('the stray process to be killed', () => !alive(stray.pid));
  assert.deepStrictEqual(cg2.filter((d) => fs.existsSync(d)), [], 'the cgroup is removed');
  for (const args of [['delete', '--force', '--', 'w1'], ['state', 'w1'], ['kill', 'w1', 'KILL']]) {
    const g = watched(dir, args, path.join(dir, 'starts2'));
    assert.strictEqual(g.koffi, false, `${args.join(' ')} of a gone container loads no koffi`);
    assert.strictEqual(g.status, args[0] === 'delete' ? 0 : 1, `${args.join(' ')}: ${g.stderr}`);
  }
});

for (const [mode, more] of MODES) test(`start through the state directory's FIFO (the shell line, no Node), ${mode}: state transitions, the errors as Node's start gives them, the fallbacks`, { timeout: 180_000 }, async () => {
  const dir = h.tmpDir('oci-');
  const tsv = (d, args, opts = {}) => tsvDefault(d, args, { ...opts, env: { ...more, ...opts.env } });
  const state = (d, id) => JSON.parse(ok(tsv(d, ['state', id]), `state ${id}`).stdout);
  makeBundle(dir, { args: ['sleep', '1000'] });
  const root = path.join(dir, 'root');
  const starts = path.join(dir, 'starts');
  fs.writeFileSync(starts, '');
  /** tsvisor executed as the shim does, its Node starts counted (loadwatch): the result and how many Node processes it started. */
  const counted = (args, globals = []) => {
    const before = fs.readFileSync(starts, 'utf8').split('\n').length;
    const r = tsv(dir, args, { globals, env: { NODE_OPTIONS: `--require ${LOADWATCH}`, LOADWATCH_STARTS: starts } });
    return { ...r, stderr: r.stderr.replace(/^loadwatch .*\n/gm, ''), nodes: fs.readFileSync(starts, 'utf8').split('\n').length - before };
  };
  const fifo = (id) => path.join(root, id, 'start-request');
  const isFifo = (f) => fs.existsSync(f) && fs.statSync(f).isFIFO();

  // Docker's flags (the shim's --log and --log-format, --debug, --systemd-cgroup): the start is the sandbox process's.
  ok(tsv(dir, ['create', 'f1']), 'create');
  assert.ok(isFifo(fifo('f1')), 'create leaves the FIFO');
  assert.strictEqual((fs.statSync(fifo('f1')).mode & 0o777), 0o600);
  assert.strictEqual(state(dir, 'f1').status, 'created');
  const log = path.join(dir, 'log.json');
  const s1 = counted(['start', 'f1'], ['--log', log, '--log-format', 'json', '--debug', '--systemd-cgroup']);
  ok(s1, 'start');
  assert.strictEqual(s1.nodes, 0, 'start through the FIFO starts no Node');
  assert.strictEqual(s1.stderr, '');
  assert.strictEqual(state(dir, 'f1').status, 'running', 'the record says running once start returned');
  assert.ok(!fs.existsSync(fifo('f1')) && !fs.existsSync(path.join(root, 'f1', 'start-done')), 'the FIFOs are gone with the one start');
  // Started twice: Node's start, with Node's words (runc's).
  const again = counted(['start', 'f1'], ['--log', log, '--log-format', 'json']);
  fails(again, 'start of a running container', /cannot start an already running container/);
  assert.strictEqual(again.nodes, 1);
  assert.match(fs.readFileSync(log, 'utf8'), /"level":"error","msg":"cannot start an already running container"/);
  // A missing container, an invalid id, flags the shell line does not know: Node's start.
  fails(tsv(dir, ['start', 'nosuch']), 'start of a missing container', /nosuch does not exist/);
  fails(tsv(dir, ['start', '../f1']), 'start of an invalid id', /does not exist|invalid/);
  fails(tsv(dir, ['start', '--bogus', 'f1']), 'an unknown flag', /unknown option '--bogus'/);
  fails(tsv(dir, ['start', '-f', 'f1']), 'delete\'s flag', /unknown option '-f'/);
  ok(tsv(dir, ['delete', '--force', 'f1']), 'delete --force');

  // Started by Node first (another caller): the FIFO is still there, and the sandbox process answers its start with the error
  // Node's gives, which the shell line hands to Node to report (in the log's format).
  ok(tsv(dir, ['create', 'f2']), 'create');
  ok(tsv(dir, ['start', 'f2'], { direct: true }), "Node's start");
  assert.strictEqual(state(dir, 'f2').status, 'running');
  assert.ok(isFifo(fifo('f2')));
  const log2 = path.join(dir, 'log2.json');
  const late = counted(['start', 'f2'], ['--log', log2, '--log-format', 'json']);
  fails(late, 'the FIFO start of a running container', /cannot start an already running container/);
  assert.strictEqual(late.nodes, 1, 'Node reports the error');
  assert.match(fs.readFileSync(log2, 'utf8'), /"level":"error","msg":"cannot start an already running container"/);
  assert.ok(!fs.existsSync(fifo('f2')), 'the one FIFO start was taken');
  ok(tsv(dir, ['delete', '--force', 'f2']), 'delete --force');

  // The sandbox process died before start: the shell does not wait for it, Node's start says what it would.
  ok(tsv(dir, ['create', 'f3']), 'create');
  const pid3 = state(dir, 'f3').pid;
  process.kill(pid3, 'SIGKILL');
  await until('the sandbox process to die', () => !alive(pid3));
  assert.ok(isFifo(fifo('f3')), 'its FIFOs are left');
  const dead = counted(['start', 'f3']);
  fails(dead, 'start after the sandbox process died', /cannot start a container that has stopped/);
  assert.strictEqual(dead.nodes, 1);
  // A result left by another requester (a killed shell's) is not taken for this one's.
  fs.writeFileSync(path.join(root, 'f3', 'start-result'), '1 ok\n');
  fails(tsv(dir, ['start', 'f3']), 'start with a stale result', /cannot start a container that has stopped/);
  ok(tsv(dir, ['delete', 'f3']), 'delete');

  // Start-time hooks: no FIFO, Node's start runs them; a failing poststart hook gives what Node's start gives called directly.
  setSpec(dir, (sp) => (sp.hooks = { poststart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo hook failed >&2; exit 4'] }] }));
  const results = [];
  for (const [id, direct] of [['f4', false], ['f5', true]]) {
    ok(tsv(dir, ['create', id]), 'create');
    assert.ok(!fs.existsSync(fifo(id)), 'no FIFO with a start-time hook');
    const r = direct ? tsv(dir, ['start', id], { direct: true }) : counted(['start', id]);
    if (!direct) assert.strictEqual(r.nodes, 1, "Node's start runs the hooks");
    results.push([r.status, r.stderr.replace(id, 'ID')]);
    assert.strictEqual(state(dir, id).status, 'running');
    ok(tsv(dir, ['delete', '--force', id]), 'delete --force');
  }
  assert.deepStrictEqual(results[0], results[1], 'the shell line\'s start and Node\'s give the same');
});

test("bin/tsvisor.js's shell line: it knows which global flags take a value; delete --force of a gone container needs no Node, anything else does", () => {
  const dir = h.tmpDir('oci-');
  const line = fs.readFileSync(h.TSVISOR, 'utf8').split('\n')[1];
  const m = /case \$1 in ([-\w|]+)\)/.exec(line);
  assert.ok(m, 'the flag list in the shell line');
  const help = childProcess.spawnSync(process.execPath, [h.TSVISOR, '--help'], { encoding: 'utf8' }).stdout;
  const valued = [...help.split('Commands:')[0].matchAll(/^\s+(?:-\w, )?(--[\w-]+) </gm)].map((x) => x[1]);
  assert.deepStrictEqual(m[1].split('|').sort(), valued.sort(), 'the global flags that take a value, as commander has them');
  // No node on PATH: what the shell answers alone succeeds, what needs Node fails.
  const env = { ...h.sentryEnv(), PATH: '/nonexistent' };
  const run = (args) => childProcess.spawnSync('/bin/sh', [h.TSVISOR, ...args], { env, encoding: 'utf8' });
  const root = path.join(dir, 'root');
  fs.mkdirSync(path.join(root, 'there'), { recursive: true });
  for (const args of [['--root', root, 'delete', '--force', 'gone'], [`--root=${root}`, '--log', 'create', 'delete', '-f', 'gone'], ['--root', root, '--network', 'none', 'delete', 'gone', '--force']]) {
    assert.strictEqual(run(args).status, 0, `${args.join(' ')}: answered by the shell`);
  }
  for (const args of [['--root', root, 'delete', '--force', 'there'], ['--root', root, 'delete', 'gone'], ['--root', root, 'delete', '--force', '../gone'], ['--root', root, 'state', 'gone'], ['--root', root, 'delete', '--force', 'a', 'b'], ['--root', root, 'start', 'there'], ['--root', root, '--help', 'delete', '--force', 'gone'], ['--root', root, '--version', 'delete', '--force', 'gone']]) {
    assert.strictEqual(run(args).status, 127, `${args.join(' ')}: needs Node`);
  }
  // create without Node: the shell says so (nothing was made).
  const c = run(['--root', root, 'create', 'x']);
  assert.strictEqual(c.status, 1);
  assert.match(c.stderr, /the runtime process ended before it started/);
});

test('run waits and exits with the container status; --detach returns', { timeout: 120_000 }, async () => {
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['sh', '-c', 'echo ran; exit 5'] });
  const r = tsv(dir, ['run', 'r1']);
  assert.strictEqual(r.status, 5, h.describe('run', r));
  assert.strictEqual(r.stdout, 'ran\n');
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'r1')), 'run deletes the container after it exits');
  // A process signalled to death: the exit status says which signal (128+N).
  setSpec(dir, (s) => (s.process.args = ['sh', '-c', 'sh -c "kill -KILL \\$\\$"; exit $?']));
  assert.strictEqual(tsv(dir, ['run', 'r2']).status, 137);
  setSpec(dir, (s) => (s.process.args = ['sleep', '1000']));
  ok(tsv(dir, ['run', '--detach', 'r3']), 'run --detach');
  const st = state(dir, 'r3');
  assert.strictEqual(st.status, 'running');
  fails(tsv(dir, ['delete', 'r3']), 'delete of a running container', /not stopped: running/);
  ok(tsv(dir, ['delete', '--force', 'r3']), 'delete --force');
  await until('the sandbox process to end', () => !alive(st.pid));
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'r3')));
});

test('kill: by name or number, to init or --all; errors', { timeout: 120_000 }, async () => {
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['sh', '-c', 'trap "echo got USR1" USR1; trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done'] });
  const c = ok(tsv(dir, ['create', 'k1']), 'create');
  ok(tsv(dir, ['start', 'k1']), 'start');
  await until('the shell to set its traps', () => fs.readFileSync(c.outFile, 'utf8').includes('ready'));
  fails(tsv(dir, ['kill', 'k1', 'NOSUCHSIG']), 'unknown signal', /unknown signal/);
  ok(tsv(dir, ['kill', 'k1', 'SIGUSR1']), 'kill SIGUSR1');
  await until('USR1 to arrive', () => fs.readFileSync(c.outFile, 'utf8').includes('got USR1'));
  assert.strictEqual(state(dir, 'k1').status, 'running', 'a handled signal leaves it running');
  const pid = state(dir, 'k1').pid;
  ok(tsv(dir, ['kill', 'k1', '15']), 'kill 15');
  await until('the container to stop', () => !alive(pid));
  assert.match(fs.readFileSync(c.outFile, 'utf8'), /got TERM/);
  assert.strictEqual(state(dir, 'k1').status, 'stopped');
  ok(tsv(dir, ['delete', 'k1']), 'delete');

  // --all reaches every process, not only init.
  setSpec(dir, (s) => (s.process.args = ['sh', '-c', 'sleep 1000 & sleep 1000 & wait']));
  ok(tsv(dir, ['run', '-d', 'k2']), 'run -d');
  const pid2 = state(dir, 'k2').pid;
  ok(tsv(dir, ['kill', '--all', 'k2', 'KILL']), 'kill --all');
  await until('every process to die', () => !alive(pid2));
  ok(tsv(dir, ['delete', 'k2']), 'delete');

  // A created container (nothing runs yet) is ended by a signal whose default action ends a process.
  ok(tsv(dir, ['create', 'k3']), 'create');
  const pid3 = state(dir, 'k3').pid;
  ok(tsv(dir, ['kill', 'k3', 'KILL']), 'kill a created container');
  await until('the created container to end', () => !alive(pid3));
  assert.strictEqual(state(dir, 'k3').status, 'stopped');
  ok(tsv(dir, ['delete', 'k3']), 'delete');
});

test('a sandbox process that dies leaves a stopped container that delete cleans up', { timeout: 60_000 }, async () => {
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['sleep', '1000'] });
  ok(tsv(dir, ['run', '-d', 'd1']), 'run -d');
  const pid = state(dir, 'd1').pid;
  process.kill(pid, 'SIGKILL');
  await until('the sandbox process to die', () => !alive(pid));
  assert.strictEqual(state(dir, 'd1').status, 'stopped');
  ok(tsv(dir, ['delete', 'd1']), 'delete');
  assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'root')), []);
});

test('a failed create leaves nothing behind', { timeout: 120_000 }, () => {
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['/bin/no-such-program'] });
  fails(tsv(dir, ['create', 'f1']), 'a missing program', /no such file/);
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'f1')), 'no state directory');
  assert.deepStrictEqual(sandboxProcesses('f1'), [], 'no sandbox process');
  const bad = [
    [(s) => (s.process.user.uid = 'root'), /process\.user\.uid: wants an integer/],
    [(s) => delete s.process, /process: missing/],
    [(s) => (s.process.cwd = 'relative'), /process\.cwd: wants an absolute path/],
    [(s) => (s.process.terminal = true), /cannot allocate tty/],
    [(s) => (s.process.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]), /unknown limit/],
    [(s) => (s.process.capabilities.bounding = ['CAP_BOGUS']), /unknown capability/],
    [(s) => (s.root.path = 'missing'), /root\.path: .* is not a directory/],
    [(s) => s.mounts.push({ destination: '/x', type: 'bind', source: '/no/such/dir', options: ['bind'] }), /source \/no\/such\/dir does not exist/],
    [(s) => (s.ociVersion = '0.9'), /ociVersion/],
  ];
  const good = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
  for (const [edit, re] of bad) {
    fs.writeFileSync(path.join(dir, 'config.json'), good);
    setSpec(dir, edit);
    fails(tsv(dir, ['create', 'f2']), `bad spec ${re}`, re);
    assert.ok(!fs.existsSync(path.join(dir, 'root', 'f2')), `no state directory after ${re}`);
  }
  fs.writeFileSync(path.join(dir, 'config.json'), '{not json');
  fails(tsv(dir, ['create', 'f3']), 'invalid JSON', /not valid JSON/);
  fails(tsv(dir, ['create', '--bundle', path.join(dir, 'nowhere'), 'f4']), 'no bundle', /cannot read/);
  fails(tsv(dir, ['create', '../evil']), 'an id with a slash', /invalid container id/);
  assert.deepStrictEqual(sandboxProcesses('f2'), []);
});

test('a create killed during start-up (while its sandbox is built) leaves nothing: the shell line that started it cleans up', { timeout: 120_000 }, () => {
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['true'] });
  // A prestart hook runs while the confined Sentry starts (its Gofer and Sentry in the container's cgroup), before create is done: it kills create's process.
  const kill = { path: '/bin/sh', args: ['sh', '-c', 'p=$(sed -n "s/.*\\"pid\\":\\([0-9]*\\).*/\\1/p"); kill -9 "$p"'] };
  const cgPath = `/tsvisor-test-${process.pid}/k1`;
  setSpec(dir, (s) => {
    s.hooks = { prestart: [kill] };
    s.linux.cgroupsPath = cgPath;
  });
  const memDir = path.join('/sys/fs/cgroup/memory', cgPath);
  cgroups.add(memDir);
  fails(tsv(dir, ['create', 'k1']), 'a create killed', /cannot create container k1: the runtime process \d+ ended during start-up/);
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'k1')), 'no state directory');
  assert.ok(!fs.existsSync(memDir), 'no cgroup (what was in it killed)');
  assert.deepStrictEqual(sandboxProcesses('k1'), [], 'no sandbox process');
});

test("linux.namespaces: a network namespace path is joined (the sandbox process's, its host sockets', its createContainer hook's)", { timeout: 120_000 }, async (t) => {
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['wget', '-q', '-O', '-', 'http://127.0.0.1:8123/f'] });
  // A network namespace held by a process; its loopback up, and a web server on its 127.0.0.1 (which the host's loopback lacks).
  const holder = childProcess.spawn('unshare', ['--net', 'sleep', '1000'], { stdio: 'ignore', detached: true });
  t.after(() => process.kill(-holder.pid, 'SIGKILL'));
  const ns = `/proc/${holder.pid}/ns/net`;
  await until('the namespace', () => fs.existsSync(ns) && fs.readlinkSync(ns) !== fs.readlinkSync('/proc/self/ns/net'));
  assert.strictEqual(childProcess.spawnSync('nsenter', [`--net=${ns}`, 'ip', 'link', 'set', 'lo', 'up']).status, 0);
  const www = path.join(dir, 'www');
  fs.mkdirSync(www);
  fs.writeFileSync(path.join(www, 'f'), 'from the namespace\n');
  const server = childProcess.spawn('nsenter', [`--net=${ns}`, 'busybox', 'httpd', '-f', '-p', '127.0.0.1:8123', '-h', www], { stdio: 'ignore', detached: true });
  t.after(() => process.kill(-server.pid, 'SIGKILL'));
  const log = path.join(dir, 'hook.log');
  setSpec(dir, (s) => {
    s.linux.namespaces = s.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: ns } : n));
    s.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `readlink /proc/self/ns/net > ${log}`] }] };
  });
  for (const direct of [false, true]) {
    const c = ok(tsv(dir, ['--network', 'host', 'create', 'n1'], { direct }), 'create');
    const pid = state(dir, 'n1').pid;
    assert.strictEqual(fs.readlinkSync(`/proc/${pid}/ns/net`), fs.readlinkSync(ns), 'the sandbox process is in the namespace');
    assert.strictEqual(fs.readFileSync(log, 'utf8').trim(), fs.readlinkSync(ns), 'so is the createContainer hook');
    ok(tsv(dir, ['start', 'n1']), 'start');
    await until('the container to stop', () => !alive(pid));
    assert.strictEqual(fs.readFileSync(c.outFile, 'utf8'), 'from the namespace\n', `the container reached the namespace's 127.0.0.1 (direct ${direct})`);
    assert.strictEqual(fs.readFileSync(path.join(dir, 'root', 'n1', 'exit-status'), 'utf8'), '0');
    ok(tsv(dir, ['delete', 'n1']), 'delete');
  }
});

test('config.json: user, env, cwd, hostname, rlimits, umask, capabilities, noNewPrivileges', { timeout: 60_000 }, () => {
  const dir = h.tmpDir('oci-');
  const script = 'id; echo "E=$E"; pwd; hostname; ulimit -n; umask; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status';
  makeBundle(dir, {
    args: ['sh', '-c', script], env: ['PATH=/bin', 'E=value'], cwd: '/data',
    user: { uid: 1000, gid: 1001, additionalGids: [2000, 2001], umask: 0o027 },
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 123, hard: 456 }],
    capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL', 'CAP_CHOWN'], permitted: ['CAP_KILL', 'CAP_CHOWN'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] },
    noNewPrivileges: true,
  });
  setSpec(dir, (s) => (s.hostname = 'box1'));
  const r = ok(tsv(dir, ['run', 'u1']), 'run');
  const lines = r.stdout.trimEnd().split('\n');
  assert.strictEqual(lines[0], 'uid=1000 gid=1001 groups=2000,2001');
  assert.deepStrictEqual(lines.slice(1, 6), ['E=value', '/data', 'box1', '123', '0027']);
  // CAP_KILL is bit 5, CAP_CHOWN bit 0. The process is exec'd as uid 1000, so as on Linux (and under
  // runc) only the ambient set survives into its effective set.
  assert.deepStrictEqual(lines.slice(6), ['CapEff:\t0000000000000020', 'CapBnd:\t0000000000000021', 'NoNewPrivs:\t1']);
});

test('config.json: read-only root, bind mounts, tmpfs; unsupported fields are logged', { timeout: 60_000 }, () => {
  const dir = h.tmpDir('oci-');
  const host = h.tmpDir('oci-host-');
  fs.writeFileSync(path.join(host, 'f'), 'from the host\n');
  const script = 'cat /ro/f; touch /ro/x 2>/dev/null && echo ro-writable; echo new > /rw/g && cat /rw/g; '
    + 'touch /newfile 2>/dev/null && echo root-writable; echo t > /scratch/t && cat /scratch/t; ls /deep/er; cat /proc/sys/kernel/msgmax /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/fs/mqueue/msg_max';
  makeBundle(dir, { args: ['sh', '-c', script] });
  setSpec(dir, (s) => {
    s.root.readonly = true;
    s.mounts.push(
      { destination: '/ro', type: 'bind', source: host, options: ['rbind', 'ro'] },
      { destination: '/rw', type: 'bind', source: host, options: ['rbind', 'rw'] },
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=1777'] },
      { destination: '/deep/er', type: 'bind', source: host, options: ['bind', 'ro'] },
    );
    s.linux.sysctl = { 'kernel.shm_rmid_forced': '1', 'kernel/msgmax': '4096', 'net.ipv4.ip_unprivileged_port_start': '0', 'fs.mqueue.msg_max': '20' };
  });
  const log = path.join(dir, 'log');
  const r = ok(tsv(dir, ['run', 'm1'], { globals: ['--log', log, '--log-format', 'json'] }), 'run');
  // The read-write bind wrote to the host, where the read-only bind of the same directory sees it.
  assert.strictEqual(r.stdout, 'from the host\nnew\nt\nf\ng\n4096\n0\n20\n', 'linux.sysctl kernel.msgmax, net.ipv4.ip_unprivileged_port_start (as Docker sets it) and fs.mqueue.msg_max set in the sandbox');
  assert.deepStrictEqual(fs.readdirSync(host).sort(), ['f', 'g'], 'writes through a read-write bind mount reach the host');
  assert.strictEqual(fs.readFileSync(path.join(host, 'g'), 'utf8'), 'new\n');
  const entries = fs.readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  const warnings = entries.filter((e) => e.level === 'warning').map((e) => e.msg);
  assert.ok(warnings.some((w) => /linux\.sysctl: kernel\.shm_rmid_forced is not supported by the sandbox/.test(w)), `a namespaced sysctl the Sentry does not serve is reported:\n${warnings.join('\n')}`);
  for (const e of entries) assert.ok(e.time && e.msg, 'every entry has a time and a message');
  // As runc: a sysctl of no namespace of the container's own is an error; so is a value the kernel refuses.
  setSpec(dir, (s) => (s.linux.sysctl = { 'vm.swappiness': '10' }));
  fails(tsv(dir, ['create', 'm2']), 'a host sysctl', /sysctl "vm.swappiness" is not in a separate kernel namespace/);
  setSpec(dir, (s) => (s.linux.sysctl = { 'kernel.msgmax': 'lots' }));
  fails(tsv(dir, ['create', 'm3']), 'a bad sysctl value', /linux\.sysctl: cannot set kernel\.msgmax to "lots"/);
  assert.deepStrictEqual(sandboxProcesses('m3'), []);
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'm3')), 'no state left');
});

test('config.json: the mqueue mount of the default spec shows the container\'s POSIX queues', { timeout: 60_000 }, () => {
  const dir = h.tmpDir('oci-');
  // A queue made by open(O_CREAT) in the file system, its status line, its removal by unlink; mkdir is refused.
  const script = 'grep mqueue /proc/mounts; : > /dev/mqueue/q1; ls -l /dev/mqueue | awk \'NR>1 {print $1, $3, $NF}\'; cat /dev/mqueue/q1; '
    + 'mkdir /dev/mqueue/d 2>/dev/null || echo mkdir refused; rm /dev/mqueue/q1; ls /dev/mqueue | wc -l';
  const spec = makeBundle(dir, { args: ['sh', '-c', script], env: ['PATH=/bin'] });
  assert.ok(spec.mounts.some((m) => m.type === 'mqueue' && m.destination === '/dev/mqueue'), 'tsvisor spec mounts mqueue on /dev/mqueue, as runc spec does');
  setSpec(dir, (s) => (s.process.user = { uid: 0, gid: 0, umask: 0o022 }));
  const log = path.join(dir, 'log');
  const r = ok(tsv(dir, ['run', 'q1'], { globals: ['--log', log] }), 'run');
  assert.strictEqual(r.stdout, [
    'mqueue /dev/mqueue mqueue rw,nosuid,nodev,noexec,relatime 0 0',
    '-rw-r--r-- 0 q1',
    'QSIZE:0          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     ',
    'mkdir refused',
    '0',
    '',
  ].join('\n'));
  // The log is made at the first entry: no file, no warning.
  assert.doesNotMatch(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '', /mqueue/, 'nothing about mqueue is reported');
});

test('linux.namespaces paths: a pod\'s container is not put in another sandbox\'s pid namespace (an error), nor its ipc and uts ones (said in the log)', { timeout: 120_000 }, async () => {
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['sleep', '1000'] });
  // The pod's first container (Kubernetes' pause container): the others name its namespaces by /proc/PID/ns paths.
  ok(tsv(dir, ['run', '-d', 'pause']), 'run -d pause');
  const pid = state(dir, 'pause').pid;
  const withPaths = (paths) => setSpec(dir, (s) => {
    s.process.args = ['echo', 'app ran'];
    s.linux.namespaces = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'].map((type) => (paths[type] ? { type, path: paths[type] } : { type }));
  });
  withPaths({ ipc: `/proc/${pid}/ns/ipc`, uts: `/proc/${pid}/ns/uts` });
  const log = path.join(dir, 'log');
  const r = ok(tsv(dir, ['run', 'app'], { globals: ['--log', log] }), 'run app');
  assert.strictEqual(r.stdout, 'app ran\n');
  const text = fs.readFileSync(log, 'utf8');
  assert.match(text, /container pause's ipc namespace \(\/proc\/\d+\/ns\/ipc\) is not joined: pause runs in a sandbox of its own.*System V and POSIX IPC objects are not shared/);
  assert.match(text, /container pause's uts namespace \(\/proc\/\d+\/ns\/uts\) is not joined.*hostname and domain name are not shared/);
  // Sharing a pid namespace cannot be done: create fails, naming the container, and leaves nothing.
  withPaths({ pid: `/proc/${pid}/ns/pid` });
  fails(tsv(dir, ['create', 'app2']), 'a pid namespace path', /linux\.namespaces: cannot join container pause's pid namespace \(\/proc\/\d+\/ns\/pid\): pause runs in a sandbox of its own/);
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'app2')), 'no state directory');
  assert.deepStrictEqual(sandboxProcesses('app2'), []);
  withPaths({ mount: `/proc/${process.pid}/ns/mnt` });
  fails(tsv(dir, ['create', 'app3']), 'a host mount namespace', /cannot join the mount namespace \/proc\/\d+\/ns\/mnt: the sandbox's mount namespace belongs to its own kernel/);
  withPaths({ ipc: `/proc/${pid}/ns/uts` });
  fails(tsv(dir, ['create', 'app4']), 'a path of another type', /\/proc\/\d+\/ns\/uts is not a ipc namespace \(uts:\[\d+\]\)/);
  withPaths({ uts: path.join(dir, 'no-such-ns') });
  fails(tsv(dir, ['create', 'app5']), 'a missing path', /uts namespace .*no-such-ns: ENOENT/);
  // run deleted app when it ended; the failed creates left nothing.
  assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'root')), ['pause']);
  ok(tsv(dir, ['delete', '--force', 'pause']), 'delete pause');
});

test('errors go to --log in the text format too', () => {
  const dir = h.tmpDir('oci-');
  const log = path.join(dir, 'log');
  fails(tsv(dir, ['state', 'ghost'], { globals: ['--log', log] }), 'state of an unknown id', /ghost does not exist/);
  assert.match(fs.readFileSync(log, 'utf8'), /^time="[^"]+" level=error msg="container ghost does not exist"\n$/);
});

test('commands on one container are serialised by its lock', { timeout: 60_000 }, async (t) => {
  if (!h.which('flock')) return t.skip('flock(1) is not installed');
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['sleep', '1000'] });
  ok(tsv(dir, ['run', '-d', 'l1']), 'run -d');
  const lockFile = path.join(dir, 'root', 'l1', 'lock');
  const marker = path.join(dir, 'holding');
  const holder = childProcess.spawn('flock', ['-x', lockFile, '-c', `touch ${marker}; sleep 2`], { stdio: 'ignore' });
  await until('the lock to be held', () => fs.existsSync(marker));
  const cmd = childProcess.spawn(process.execPath, [h.TSVISOR, '--root', path.join(dir, 'root'), 'delete', '--force', 'l1'], { env: h.sentryEnv(), stdio: 'ignore' });
  const cmdDone = new Promise((r) => cmd.on('exit', (code) => r(code)));
  const holderDone = new Promise((r) => holder.on('exit', () => r('holder')));
  // Whichever ends first: the holder must, since delete waits for the lock.
  assert.strictEqual(await Promise.race([holderDone, cmdDone.then(() => 'delete')]), 'holder');
  assert.strictEqual(await cmdDone, 0);
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'l1')));
});

test('pause holds every process, resume lets them go on; wrong states are errors', { timeout: 120_000 }, async () => {
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.02; done'] });
  fails(tsv(dir, ['pause', 'p1']), 'pause of an unknown id', /p1 does not exist/);
  const c = ok(tsv(dir, ['create', 'p1']), 'create');
  fails(tsv(dir, ['pause', 'p1']), 'pause of a created container', /not running/);
  ok(tsv(dir, ['start', 'p1']), 'start');
  const lines = () => fs.readFileSync(c.outFile, 'utf8').split('\n').length;
  await until('the loop to run', () => lines() > 3);
  fails(tsv(dir, ['resume', 'p1']), 'resume of a running container', /not paused/);
  ok(tsv(dir, ['pause', 'p1']), 'pause');
  assert.strictEqual(state(dir, 'p1').status, 'paused');
  fails(tsv(dir, ['pause', 'p1']), 'pause twice', /container not running/);
  // Paused means no task reaches the application: the output stays as it was
  // (pause returns only once every task is at rest, so nothing is in flight).
  const held = lines();
  await new Promise((r) => setTimeout(r, 500));
  assert.strictEqual(lines(), held, 'nothing runs while paused');
  ok(tsv(dir, ['resume', 'p1']), 'resume');
  assert.strictEqual(state(dir, 'p1').status, 'running');
  await until('the loop to go on', () => lines() > held + 3);
  ok(tsv(dir, ['delete', '--force', 'p1']), 'delete --force');
});

test('exec runs more processes in a running container; control requests reach an idle sandbox', { timeout: 180_000 }, async () => {
  const dir = h.tmpDir('oci-');
  // Idle: init waits for a sleeping child, so the Sentry is blocked with no stop to serve.
  makeBundle(dir, { args: ['sh', '-c', 'trap "echo got USR1" USR1; sleep 1000 & wait; wait'], env: ['PATH=/bin', 'FROM=spec'] });
  fails(tsv(dir, ['exec', 'x1', 'true']), 'exec in an unknown container', /x1 does not exist/);
  const c = ok(tsv(dir, ['create', 'x1']), 'create');
  fails(tsv(dir, ['exec', 'x1', 'true']), 'exec before start', /not yet started/);
  ok(tsv(dir, ['start', 'x1']), 'start');
  ok(tsv(dir, ['kill', 'x1', 'USR1']), 'kill an idle container');
  await until('USR1 to arrive', () => fs.readFileSync(c.outFile, 'utf8').includes('got USR1'));

  const r = tsv(dir, ['exec', 'x1', 'sh', '-c', 'echo "pid $$ FROM=$FROM"; id; pwd; exit 4']);
  assert.strictEqual(r.status, 4, h.describe('exec', r));
  assert.match(r.stdout, /^pid (\d+) FROM=spec\nuid=0 gid=0\n\/\n$/, 'the spec env, user and cwd by default; its own pid in the container');
  assert.notStrictEqual(r.stdout.match(/^pid (\d+)/)[1], '1');
  const u = ok(tsv(dir, ['exec', '--user', '1000:1001', '--env', 'FROM=flag', '--cwd', '/bin', 'x1', 'sh', '-c', 'id; echo $FROM; pwd']), 'exec with flags');
  // The spec gives no additional groups; busybox's id lists the supplementary groups only when there are some.
  assert.match(u.stdout, /^uid=1000 gid=1001\nflag\n\/bin\n$/);
  // The exec'd process sees the container's processes and files: same kernel, same mounts.
  const ps = ok(tsv(dir, ['exec', 'x1', 'sh', '-c', 'ls /proc | grep -c "^[0-9]"; echo made > /tmp/shared']), 'exec ps');
  assert.ok(Number(ps.stdout.trim()) >= 3, `init, its sleep and the exec'd shell: ${ps.stdout}`);
  assert.strictEqual(ok(tsv(dir, ['exec', 'x1', 'cat', '/tmp/shared']), 'exec sees the last one\'s file').stdout, 'made\n');
  const proc = path.join(dir, 'process.json');
  fs.writeFileSync(proc, JSON.stringify({ args: ['sh', '-c', 'echo from process.json; exit 2'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }));
  assert.strictEqual(tsv(dir, ['exec', '--process', proc, 'x1']).status, 2);
  fails(tsv(dir, ['exec', 'x1', '/bin/no-such-program']), 'exec of a missing program', /no such file/);
  fails(tsv(dir, ['exec', '--tty', 'x1', 'sh']), 'exec --tty without a console socket', /cannot allocate tty/);
  const pidFile = path.join(dir, 'exec.pid');
  const d = ok(tsv(dir, ['exec', '--detach', '--pid-file', pidFile, 'x1', 'sh', '-c', 'sleep 0.2; echo detached']), 'exec --detach');
  const epid = Number(fs.readFileSync(pidFile, 'utf8'));
  assert.ok(epid > 0);
  await until('the detached exec to finish', () => !alive(epid));
  assert.strictEqual(fs.readFileSync(d.outFile, 'utf8'), 'detached\n');

  ok(tsv(dir, ['pause', 'x1']), 'pause an idle container');
  fails(tsv(dir, ['exec', 'x1', 'true']), 'exec in a paused container', /paused/);
  ok(tsv(dir, ['resume', 'x1']), 'resume');
  assert.strictEqual(state(dir, 'x1').status, 'running');
  ok(tsv(dir, ['delete', '--force', 'x1']), 'delete --force');
});

test('exec: the host fds of its stdio are the sandbox\'s and closed when it ends (none left per exec)', { timeout: 240_000 }, async () => {
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['sleep', '1000'] });
  ok(tsv(dir, ['run', '-d', 'fd1']), 'run -d');
  const pid = state(dir, 'fd1').pid;
  // The fds that can be an exec's stdio: the runtime's output files (the test's), /dev/null, pipes. (The host
  // tree's own descriptors of the image's files are another matter: see the report of issue 10's helper.)
  const fds = () => fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    let to;
    try {
      to = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return false;
    }
    return (to.startsWith(dir) && !to.startsWith(path.join(dir, 'rootfs'))) || to === '/dev/null' || to.startsWith('pipe:');
  }).length;
  // One exec first: whatever the sandbox opens once (the control socket's connections, caches) is open by then.
  ok(tsv(dir, ['exec', 'fd1', 'true']), 'exec');
  const before = fds();
  for (let i = 0; i < 50; i++) {
    // Every tenth a failing one (no such program): its fds are closed too.
    if (i % 10 === 9) fails(tsv(dir, ['exec', 'fd1', '/bin/none']), 'exec of a missing program', /no such file/);
    else assert.strictEqual(ok(tsv(dir, ['exec', 'fd1', 'echo', String(i)]), `exec ${i}`).stdout, `${i}\n`);
  }
  const after = fds();
  // 50 execs leaving theirs behind would be 150.
  assert.ok(after - before < 3, `the sandbox process had ${before} stdio-like fds, ${after} after 50 execs`);
  ok(tsv(dir, ['delete', '--force', 'fd1']), 'delete --force');
});

test('a terminal: the pty master goes to the console socket, the container sees a terminal of consoleSize; a foreground run passes ^C and ^Z on', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['python3'])) return;
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { terminal: true, consoleSize: { height: 25, width: 90 }, args: ['sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo "is a tty"; stty size; read x; echo "got $x"; exit 4'] });
  fails(tsv(dir, ['create', 't0']), 'a terminal without a console socket', /cannot allocate tty/);
  setSpec(dir, (s) => (s.process.terminal = false));
  fails(tsv(dir, ['create', '--console-socket', path.join(dir, 'none'), 't0']), 'a console socket without a terminal', /cannot use console socket/);
  setSpec(dir, (s) => (s.process.terminal = true));
  const sock = path.join(dir, 'console.sock');
  const py = childProcess.spawn('python3', [path.join(__dirname, 'oci', 'console.py'), sock, 'hello\n'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  py.stdout.setEncoding('utf8');
  py.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => py.on('exit', r));
  await until('the console socket', () => fs.existsSync(sock));
  ok(tsv(dir, ['create', '--console-socket', sock, 't1']), 'create with a console socket');
  const pid = state(dir, 't1').pid;
  ok(tsv(dir, ['start', 't1']), 'start');
  await exited;
  assert.match(out, /^name: \/dev\/ptmx$/m);
  assert.match(out, /is a tty/);
  assert.match(out, /25 90/);
  assert.match(out, /got hello/);
  await until('the container to stop', () => !alive(pid));
  const w = tsv(dir, ['wait', 't1']);
  assert.strictEqual(w.status, 4, h.describe('wait', w));
  assert.strictEqual(w.stdout, '4\n');
  ok(tsv(dir, ['delete', 't1']), 'delete');

  // A foreground run without a console socket: the caller's terminal is the container's (an interactive shell, ^C, exit).
  setSpec(dir, (s) => (s.process.args = ['sh']));
  const r = childProcess.spawnSync('python3', [path.join(__dirname, 'docker', 'tty_driver.py'), process.execPath, h.TSVISOR, '--root', path.join(dir, 'root'), 'run', 't2'], {
    cwd: dir, encoding: 'utf8', timeout: 90_000, killSignal: 'SIGKILL', env: h.sentryEnv(),
  });
  const head = (r.stdout ?? '').split('--- transcript')[0];
  for (const step of ['prompt', 'tty', 'size', 'interrupt', 'suspend']) assert.match(head, new RegExp(`^${step}: ok$`, 'm'), `step ${step}\n${r.stdout}\n${r.stderr}`);
  assert.match(head, /^exit: 5$/m);
  fails(tsv(dir, ['run', '--console-socket', sock, 't3']), 'a console socket with a foreground run', /cannot use console socket/);
});

test('hooks run in order with the state on stdin; a failing create hook fails create and leaves nothing', { timeout: 120_000 }, async () => {
  const dir = h.tmpDir('oci-');
  const log = path.join(dir, 'hooks.log');
  // Each hook notes its kind, the network namespace it runs in, that of the state's pid (Docker's prestart hook moves an interface into it), its cgroups, and the state it got.
  const hook = (kind) => ({
    path: '/bin/sh',
    args: ['sh', '-c', `s=$(cat); p=$(echo "$s" | sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p'); a0=$(tr "\\0" "\\n" < /proc/$$/cmdline | head -n 1); printf "%s %s %s %s %s %s\\n" "${kind}" "$a0" "$(readlink /proc/self/ns/net)" "$(readlink /proc/$p/ns/net)" "$(tr "\\n" "," < /proc/self/cgroup)" "$s" >> ${log}`],
    env: ['X=1', 'PATH=/usr/bin:/bin'], timeout: 10,
  });
  const kinds = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];
  makeBundle(dir, { args: ['sh', '-c', 'sleep 0.3; exit 2'] });
  setSpec(dir, (s) => (s.hooks = Object.fromEntries(kinds.map((k) => [k, [hook(k)]]))));
  ok(tsv(dir, ['create', 'h1']), 'create');
  const pid = state(dir, 'h1').pid;
  const containerNet = fs.readlinkSync(`/proc/${pid}/ns/net`);
  const runtimeNet = fs.readlinkSync('/proc/self/ns/net');
  assert.notStrictEqual(containerNet, runtimeNet, 'the spec asks for a network namespace of its own');
  const containerCgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').replace(/\n/g, ',');
  ok(tsv(dir, ['start', 'h1']), 'start');
  await until('the container to stop', () => !alive(pid));
  ok(tsv(dir, ['delete', 'h1']), 'delete');
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.deepStrictEqual(lines.map((l) => l.split(' ')[0]), kinds);
  // createContainer and startContainer in the container's namespaces, the others in the runtime's.
  // Each hook's argv[0] is the spec's (args[0]), also when it is started through nsenter.
  assert.deepStrictEqual(lines.map((l) => l.split(' ')[1]), Array(6).fill('sh'));
  assert.deepStrictEqual(lines.map((l) => l.split(' ')[2]), [runtimeNet, runtimeNet, containerNet, containerNet, runtimeNet, runtimeNet]);
  // While the container lives, its pid's namespace is the container's, whichever namespace the hook runs in.
  assert.deepStrictEqual(lines.slice(0, 5).map((l) => l.split(' ')[3]), Array(5).fill(containerNet));
  // The runtime's own create-time hooks run in its caller's cgroups, as runc's (not charged to the container's limits),
  // though the create that runs them became the sandbox process in the container's cgroup.
  const mine = fs.readFileSync('/proc/self/cgroup', 'utf8').replace(/\n/g, ',');
  assert.notStrictEqual(containerCgroup, mine, 'the sandbox process is in the container\'s cgroup');
  assert.deepStrictEqual(lines.slice(0, 2).map((l) => l.split(' ')[4]), [mine, mine]);
  const states = lines.map((l) => JSON.parse(l.split(' ').slice(5).join(' ')));
  for (const s of states) {
    assert.strictEqual(s.id, 'h1');
    assert.strictEqual(s.bundle, dir);
  }
  assert.deepStrictEqual(states.map((s) => s.status), ['creating', 'creating', 'creating', 'created', 'running', 'stopped']);
  assert.strictEqual(states[0].pid, pid);

  // A failing createRuntime hook: create fails with its reason, and nothing is left.
  setSpec(dir, (s) => (s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no way >&2; exit 3'] }] }));
  fails(tsv(dir, ['create', 'h2']), 'a failing hook', /createRuntime hook 0 \(\/bin\/sh\) failed: exit status 3: no way/);
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'h2')));
  assert.deepStrictEqual(sandboxProcesses('h2'), []);
  // A hook past its timeout is killed, and fails create.
  setSpec(dir, (s) => (s.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '100'], timeout: 1 }] }));
  fails(tsv(dir, ['create', 'h3']), 'a hook timing out', /prestart hook 0 \(\/bin\/sleep\) failed: timed out after 1 s/);
  assert.deepStrictEqual(sandboxProcesses('h3'), []);
  setSpec(dir, (s) => (s.hooks = { bogus: [] }));
  fails(tsv(dir, ['create', 'h4']), 'an unknown kind of hook', /hooks\.bogus: not a kind of hook/);
});

test('linux.resources: the host cgroup gets cpu, cpuset and memory; an allocation past the limit is an OOM kill the host records; no cgroup outlives delete or a failed create', { timeout: 180_000 }, async () => {
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['sh', '-c', 'echo ready; read x; exec awk \'BEGIN { s = "x"; while (length(s) < 100000000) s = s s; print length(s) }\''] });
  const cgPath = `tsvisor-test-${process.pid}/r1`;
  setSpec(dir, (s) => {
    s.linux.cgroupsPath = cgPath;
    s.linux.resources = { memory: { limit: 64 * 1024 * 1024, swap: 64 * 1024 * 1024 }, cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' }, pids: { limit: 100 } };
  });
  const fifo = path.join(dir, 'in');
  childProcess.execFileSync('mkfifo', [fifo]);
  const c = tsvIn(dir, ['create', 'r1'], fifo);
  const cg = cgroupDirs(dir, 'r1');
  // Relative to the runtime's own cgroup, as runc reads a relative cgroupsPath.
  const own = (c2) => fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.split(':')[1].split(',').includes(c2)).split(':')[2];
  assert.strictEqual(cg.memory, path.join('/sys/fs/cgroup/memory', own('memory'), cgPath));
  const read = (ctl, f) => fs.readFileSync(path.join(cg[ctl], f), 'utf8').trim();
  assert.strictEqual(read('memory', 'memory.limit_in_bytes'), String((64 + 256) * 1024 * 1024));
  assert.strictEqual(read('cpu', 'cpu.shares'), '512');
  assert.strictEqual(read('cpu', 'cpu.cfs_quota_us'), '50000');
  assert.strictEqual(read('cpu', 'cpu.cfs_period_us'), '100000');
  assert.strictEqual(read('cpuset', 'cpuset.cpus'), '0');
  assert.strictEqual(read('pids', 'pids.max'), String(2 * 100 + 64));
  const pid = state(dir, 'r1').pid;
  for (const ctl of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids']) assert.ok(read(ctl, 'cgroup.procs').split('\n').map(Number).includes(pid), `the sandbox process is in the ${ctl} cgroup`);
  // The allocation, at full speed: the CPU limits off.
  fs.writeFileSync(path.join(cg.cpu, 'cpu.cfs_quota_us'), '-1');
  ok(tsv(dir, ['start', 'r1']), 'start');
  await until('the shell to start', () => fs.readFileSync(c.outFile, 'utf8').includes('ready'));
  fs.writeFileSync(fifo, 'go\n');
  // The Sentry's OOM kill, then the host's (which takes some seconds, see cgroups.ts).
  await until('the container to stop', () => !alive(pid), 90_000);
  assert.strictEqual(tsv(dir, ['wait', 'r1']).status, 137, 'the application was killed by the OOM killer');
  // The host recorded an OOM kill in the container's cgroup (what containerd's shim watches).
  assert.match(read('memory', 'memory.oom_control'), /^oom_kill [1-9]/m);
  ok(tsv(dir, ['delete', 'r1']), 'delete');
  for (const d of Object.values(cg)) assert.ok(!fs.existsSync(d), `delete removed ${d}`);

  // A create that fails after the cgroup was made (a failing hook) leaves none.
  setSpec(dir, (s) => (s.hooks = { createRuntime: [{ path: '/bin/false' }] }));
  fails(tsv(dir, ['create', 'r2']), 'a failing hook', /createRuntime hook 0/);
  for (const d of Object.values(cg)) assert.ok(!fs.existsSync(path.join(path.dirname(d), 'r2')), 'no cgroup left by a failed create');
  // A limit the host refuses is a failed create too (cpuset.cpus of a CPU the host lacks).
  setSpec(dir, (s) => {
    delete s.hooks;
    s.linux.cgroupsPath = `tsvisor-test-${process.pid}/r3`;
    s.linux.resources.cpu.cpus = '999';
  });
  fails(tsv(dir, ['create', 'r3']), 'a cpuset the host lacks', /cannot create container r3: cannot write 999 to .*cpuset.cpus/);
  for (const d of Object.values(cg)) assert.ok(!fs.existsSync(path.join(path.dirname(d), 'r3')), 'no cgroup left by a refused limit');
  for (const d of Object.values(cg)) fs.rmdirSync(path.dirname(d));

  // A mount of type cgroup: the container's own cgroup, read-only.
  setSpec(dir, (s) => {
    s.linux.resources = { memory: { limit: 32 * 1024 * 1024 } };
    delete s.linux.cgroupsPath;
    s.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] });
    s.process.args = ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ls /sys/fs/cgroup; echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes || echo read-only'];
  });
  const v = ok(tsv(dir, ['run', 'r4']), 'run with a cgroup mount');
  assert.strictEqual(v.stdout, `${(32 + 256) * 1024 * 1024}\ncpu\ncpuacct\ncpuset\nmemory\npids\nread-only\n`);
});

test('ps, events, wait; linux.resources memory and pids limits', { timeout: 120_000 }, async () => {
  const dir = h.tmpDir('oci-');
  makeBundle(dir, { args: ['sh', '-c', 'sleep 1000 & echo ready; wait'] });
  setSpec(dir, (s) => (s.linux.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 12 }, cpu: { shares: 0 } }));
  const c = ok(tsv(dir, ['create', 'p1']), 'create');
  fails(tsv(dir, ['events', '--interval', 'soon', 'p1']), 'a bad interval', /--interval wants a duration/);
  ok(tsv(dir, ['start', 'p1']), 'start');
  await until('the shell to start', () => fs.readFileSync(c.outFile, 'utf8').includes('ready'));
  const pid = state(dir, 'p1').pid;
  // The sandbox's own processes: the shell (pid 1) and its sleep.
  const table = ok(tsv(dir, ['ps', 'p1']), 'ps').stdout.trim().split('\n');
  assert.match(table[0], /^UID\s+PID\s+PPID\s+STAT\s+TIME\s+CMD$/);
  assert.ok(table.some((l) => /^0\s+1\s+0\s+\S+\s+\S+\s+sh$/.test(l)), table.join('\n'));
  assert.ok(table.some((l) => /^0\s+\d+\s+1\s+\S+\s+\S+\s+sleep$/.test(l)), table.join('\n'));
  // The host pids standing for it: the sandbox process first, then the processes below it where the application runs (the stubs; not a confined sandbox's Sentry and Gofer).
  const host = JSON.parse(ok(tsv(dir, ['ps', '--format', 'json', 'p1']), 'ps json').stdout);
  assert.strictEqual(host[0], pid);
  const ppid = (p) => {
    const st = fs.readFileSync(`/proc/${p}/stat`, 'latin1');
    return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
  };
  const below = (p) => {
    for (let q = ppid(p); q > 1; q = ppid(q)) if (q === pid) return true;
    return false;
  };
  for (const p of host.slice(1)) {
    assert.ok(below(p), `${p} is below the sandbox process`);
    assert.match(fs.readFileSync(`/proc/${p}/cmdline`, 'latin1'), /^$|stub/, `${p} is a stub`);
  }
  assert.ok(host.length >= 3, `the stubs of sh and sleep: ${host}`);
  const ev = JSON.parse(ok(tsv(dir, ['events', '--stats', 'p1']), 'events --stats').stdout);
  assert.strictEqual(ev.type, 'stats');
  assert.strictEqual(ev.id, 'p1');
  // The figures are the host cgroup's: the application's limit plus the Sentry's allowance (256 MiB), the Sentry's threads and the stubs' in pids.
  const cg = cgroupDirs(dir, 'p1');
  assert.strictEqual(ev.data.memory.usage.limit, (64 + 256) * 1024 * 1024);
  assert.strictEqual(ev.data.memory.usage.limit, Number(fs.readFileSync(`${cg.memory}/memory.limit_in_bytes`, 'utf8')));
  assert.ok(ev.data.memory.usage.usage > 0 && ev.data.memory.usage.usage < ev.data.memory.usage.limit);
  assert.strictEqual(ev.data.pids.limit, 2 * 12 + 64);
  assert.ok(ev.data.pids.current > 2, 'host tasks: the Sentry\'s threads, the stubs');
  assert.ok(ev.data.cpu.usage.total > 0, 'cpuacct.usage of the cgroup');
  // The sandbox's own accounting of the application.
  assert.strictEqual(ev.data.sandbox.memory.limit, 64 * 1024 * 1024, 'linux.resources.memory.limit is the sandbox limit');
  assert.strictEqual(ev.data.sandbox.pids.limit, 12);
  assert.strictEqual(ev.data.sandbox.pids.current, 2);
  // Every host process of the sandbox is in the cgroup.
  const procs = fs.readFileSync(`${cg.memory}/cgroup.procs`, 'utf8').trim().split('\n').map(Number);
  for (const p of host) assert.ok(procs.includes(p), `host process ${p} is in the container's memory cgroup`);
  // The pids limit: forks past 12 tasks fail.
  const x = tsv(dir, ['exec', 'p1', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 100 & done']);
  assert.notStrictEqual(x.status, 0);
  assert.match(x.stderr, /can't fork: Resource temporarily unavailable/);
  // events streams until the container stops; wait gives its status.
  const evs = childProcess.spawn(process.execPath, [h.TSVISOR, '--root', path.join(dir, 'root'), 'events', '--interval', '200ms', 'p1'], { env: h.sentryEnv() });
  let lines = '';
  evs.stdout.on('data', (d) => (lines += d));
  const evsExit = new Promise((r) => evs.on('exit', r));
  await until('two events', () => lines.split('\n').filter(Boolean).length >= 2);
  const waiter = childProcess.spawn(process.execPath, [h.TSVISOR, '--root', path.join(dir, 'root'), 'wait', 'p1'], { env: h.sentryEnv() });
  let waited = '';
  waiter.stdout.on('data', (d) => (waited += d));
  const waitExit = new Promise((r) => waiter.on('exit', (code) => r(code)));
  ok(tsv(dir, ['kill', '--all', 'p1', 'KILL']), 'kill');
  assert.strictEqual(await waitExit, 137);
  assert.strictEqual(waited, '137\n');
  assert.strictEqual(await evsExit, 0, 'events ends with the container');
  fails(tsv(dir, ['ps', 'p1']), 'ps of a stopped container', /not running/);
  ok(tsv(dir, ['delete', 'p1']), 'delete');
  for (const d of Object.values(cg)) assert.ok(!fs.existsSync(d), `delete removed the cgroup ${d}`);
});
