'use strict';
// oci_pod: a Kubernetes pod in one sandbox, driven as containerd's CRI drives
// the runtime (issue 10): a sandbox (pause) container, then application
// containers whose annotations (io.kubernetes.cri.container-type and
// sandbox-id, or CRI-O's) name it join its Sentry instead of starting one
// (cli/pod_commands.ts, sandbox/pod.ts). Each has its own root, state, stand-in
// pid, exit status and kill --all; they share the pod's loopback network and
// a bound directory; a container naming a missing, foreign or malformed
// sandbox fails and leaves nothing.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { test, after } = require('node:test');
const h = require('../lib/harness');
const { CRI_TYPE, CRI_SANDBOX, cleanup, podDir, bundle, tsv, ok, state, alive, startSandbox, join, descendants, gofersOf } = require('../lib/oci_pod');
const { statusField } = require('../lib/procinfo');

after(cleanup);

test('a pod: two containers join the sandbox; the same loopback, separate roots, own state, pid, exit status and kill --all; deleting the sandbox ends the pod', async () => {
  const dir = podDir();
  startSandbox(dir, 'pod1');
  const sbState = state(dir, 'pod1');
  // a: a server on the pod's 127.0.0.1 writing what it gets to the shared directory, then sleeping.
  join(dir, 'a', 'pod1', ['sh', '-c', 'echo $$ > /shared/a.pid; nc -l -p 8080 > /shared/got; echo a >> /shared/got; exec sleep 1000']);
  // b (CRI-O's annotations): a client of it, retrying until a listens; exits 7 once sent.
  bundle(dir, 'b', ['sh', '-c', 'i=0; while [ $i -lt 200 ]; do echo hello-pod | nc 127.0.0.1 8080 && exit 7; i=$((i+1)); sleep 0.1; done; exit 1'],
    { 'io.kubernetes.cri-o.ContainerType': 'container', 'io.kubernetes.cri-o.SandboxID': 'pod1' });
  ok(tsv(dir, ['create', '--bundle', path.join(dir, 'b'), 'b']), 'create b');
  const bCreated = state(dir, 'b');
  assert.strictEqual(bCreated.status, 'created');
  ok(tsv(dir, ['start', 'b']), 'start b');
  const waited = tsv(dir, ['wait', 'b']);
  assert.strictEqual(waited.status, 7, `b's own exit status: ${waited.stderr}`);
  assert.strictEqual(state(dir, 'b').status, 'stopped');
  // The server in a got the client's line over the pod's loopback, and wrote it to the directory both bind.
  for (let i = 0; i < 100 && !fs.readFileSync(path.join(dir, 'shared', 'got'), 'utf8').includes('a\n'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.strictEqual(fs.readFileSync(path.join(dir, 'shared', 'got'), 'utf8'), 'hello-pod\na\n');

  // Own state: a's pid is its stand-in's (the pid file's), not the sandbox's; running while the sandbox runs.
  const aState = state(dir, 'a');
  assert.strictEqual(aState.status, 'running');
  assert.strictEqual(aState.pid, Number(fs.readFileSync(path.join(dir, 'a.pid'), 'utf8')));
  assert.notStrictEqual(aState.pid, sbState.pid);
  assert.strictEqual(state(dir, 'pod1').status, 'running');

  // Separate file systems: each its own root; a file one writes in its root is not in the other's; the shared bind is shared.
  join(dir, 'c', 'pod1', ['sleep', '1000']);
  const inA = ok(tsv(dir, ['exec', 'a', 'sh', '-c', 'cat /marker; echo x > /tmp/only-a; ls /tmp/only-a; cat /shared/a.pid']), 'exec a');
  const inC = ok(tsv(dir, ['exec', 'c', 'sh', '-c', 'cat /marker; ls /tmp/only-a 2>&1; cat /shared/a.pid']), 'exec c');
  const inSb = ok(tsv(dir, ['exec', 'pod1', 'cat', '/marker']), 'exec pod1');
  const aPid = fs.readFileSync(path.join(dir, 'shared', 'a.pid'), 'utf8');
  assert.strictEqual(inA.stdout, `a\n/tmp/only-a\n${aPid}`);
  assert.match(inC.stdout, /^c\nls: \/tmp\/only-a: No such file or directory\n/);
  assert.ok(inC.stdout.endsWith(aPid));
  assert.strictEqual(inSb.stdout, 'pod1\n');
  // The pod shares one PID namespace (not pid 1: the sandbox's init is).
  assert.notStrictEqual(aPid.trim(), '1');

  // ps: each container's own processes.
  const psA = ok(tsv(dir, ['ps', 'a']), 'ps a').stdout;
  const psSb = ok(tsv(dir, ['ps', 'pod1']), 'ps pod1').stdout;
  assert.match(psA, /\ssleep\n/);
  assert.doesNotMatch(psA, /^\S+\s+1\s/m, 'the sandbox\'s init is not a\'s');
  assert.match(psSb, /^\S+\s+1\s+0\s/m);
  assert.strictEqual(psSb.trim().split('\n').length, 2, `only the sandbox's init:\n${psSb}`);
  const ev = JSON.parse(ok(tsv(dir, ['events', '--stats', 'a']), 'events a').stdout);
  assert.strictEqual(ev.data.sandbox.pids.current, 1);

  // kill --all of the sandbox's container leaves the pod's containers (USR1 ends sleep; the sandbox's init, pid 1, has no handler and is spared).
  ok(tsv(dir, ['kill', '--all', 'pod1', 'USR1']), 'kill --all pod1');
  await new Promise((r) => setTimeout(r, 300));
  assert.strictEqual(state(dir, 'c').status, 'running');
  assert.strictEqual(state(dir, 'a').status, 'running');
  // kill --all of a ends a alone, with its own status.
  ok(tsv(dir, ['kill', '--all', 'a', 'KILL']), 'kill --all a');
  assert.strictEqual(tsv(dir, ['wait', 'a']).status, 137);
  assert.strictEqual(state(dir, 'c').status, 'running');
  assert.strictEqual(state(dir, 'pod1').status, 'running');
  assert.notStrictEqual(tsv(dir, ['exec', 'a', 'true']).status, 0, 'no exec into a stopped container');
  ok(tsv(dir, ['delete', 'a']), 'delete a');
  ok(tsv(dir, ['delete', 'b']), 'delete b');
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'a')));

  // Deleting the sandbox's container ends the pod: c stops (killed), its stand-in gone.
  const cPid = state(dir, 'c').pid;
  ok(tsv(dir, ['delete', '--force', 'pod1']), 'delete pod1');
  for (let i = 0; i < 100 && alive(cPid); i++) await new Promise((r) => setTimeout(r, 50));
  assert.strictEqual(alive(cPid), false);
  assert.strictEqual(state(dir, 'c').status, 'stopped');
  assert.strictEqual(tsv(dir, ['wait', 'c']).status, 137);
  ok(tsv(dir, ['delete', 'c']), 'delete c');
  assert.deepStrictEqual(tsv(dir, ['list', '-q']).stdout, '');
});

test('a container of a pod: kill of its init, exec with its own identity, a created one killed before start, a program that is not there, its hostname as its spec says, its stand-in killed', () => {
  const dir = podDir();
  startSandbox(dir, 'pod2');
  const sbPid = state(dir, 'pod2').pid;
  bundle(dir, 'u', ['sh', '-c', 'hostname; exec sleep 1000'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'pod2' }, (spec) => {
    spec.hostname = 'own-host';
    spec.process.user = { uid: 1000, gid: 1000 };
    spec.process.env.push('WHO=u');
    spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'uts' && n.type !== 'ipc');
    spec.linux.namespaces.push({ type: 'uts' }, { type: 'ipc', path: `/proc/${sbPid}/ns/ipc` });
  });
  ok(tsv(dir, ['create', '--bundle', path.join(dir, 'u'), 'u']), 'create u');
  ok(tsv(dir, ['start', 'u']), 'start u');
  const who = ok(tsv(dir, ['exec', 'u', 'sh', '-c', 'hostname; echo $WHO']), 'exec u').stdout;
  assert.match(who, /^own-host\n/);
  assert.match(who, /u\n$/);
  assert.strictEqual(ok(tsv(dir, ['exec', 'pod2', 'hostname']), 'exec pod2').stdout.trim() === 'own-host', false, 'its UTS namespace is its own');
  // kill (not --all) reaches its init, which is not a namespace's init: the default action ends it.
  ok(tsv(dir, ['kill', 'u', 'TERM']), 'kill u');
  assert.strictEqual(tsv(dir, ['wait', 'u']).status, 143);
  // Created, never started: kill ends it.
  bundle(dir, 'v', ['sleep', '1000'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'pod2' });
  ok(tsv(dir, ['create', '--bundle', path.join(dir, 'v'), 'v']), 'create v');
  ok(tsv(dir, ['kill', 'v', 'KILL']), 'kill v');
  assert.strictEqual(tsv(dir, ['wait', 'v']).status, 137);
  // A program that is not there: runc's words, nothing left.
  bundle(dir, 'w', ['/no/such'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'pod2' });
  const w = tsv(dir, ['create', '--bundle', path.join(dir, 'w'), 'w']);
  assert.strictEqual(w.status, 1);
  assert.match(w.stderr, /exec: "\/no\/such": no such file or directory/);
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'w')));
  // Its stand-in killed (SIGKILL, as a shim's kill of the pid would): the container ends with it. All of the pod's processes are seen from the sandbox's (one PID namespace).
  join(dir, 'z', 'pod2', ['sleep', '1001']);
  const seen = () => ok(tsv(dir, ['exec', 'pod2', 'ps']), 'ps in pod2').stdout;
  assert.match(seen(), /sleep 1001/);
  process.kill(state(dir, 'z').pid, 'SIGKILL');
  for (let i = 0; i < 50 && /sleep 1001/.test(seen()); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  assert.doesNotMatch(seen(), /sleep 1001/);
  assert.strictEqual(state(dir, 'z').status, 'stopped');
  for (const id of ['u', 'v', 'z']) ok(tsv(dir, ['delete', id]), `delete ${id}`);
  ok(tsv(dir, ['delete', '--force', 'pod2']), 'delete pod2');
});

test('bound: a sandbox holds at most its number of containers; a deleted one frees its place', () => {
  const dir = podDir();
  // The default is 64 (MAX_POD_CONTAINERS); the sandbox's annotation lowers it, so that the test need not make 65 stand-ins.
  startSandbox(dir, 'pod5', 'root', { 'dev.tsvisor.pod-containers': '2' });
  join(dir, 'k1', 'pod5', ['sleep', '1000']);
  join(dir, 'k2', 'pod5', ['sleep', '1000']);
  bundle(dir, 'k3', ['sleep', '1000'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'pod5' });
  const r = tsv(dir, ['create', '--bundle', path.join(dir, 'k3'), 'k3']);
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /this sandbox holds at most 2 containers besides its own/);
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'k3')));
  // A stopped container keeps its place until it is deleted.
  ok(tsv(dir, ['kill', 'k1', 'KILL']), 'kill k1');
  assert.strictEqual(tsv(dir, ['wait', 'k1']).status, 137);
  assert.strictEqual(tsv(dir, ['create', '--bundle', path.join(dir, 'k3'), 'k3']).status, 1);
  ok(tsv(dir, ['delete', 'k1']), 'delete k1');
  ok(tsv(dir, ['create', '--bundle', path.join(dir, 'k3'), 'k3']), 'create k3 in the freed place');
  ok(tsv(dir, ['delete', '--force', 'k3']), 'delete k3');
  ok(tsv(dir, ['delete', '--force', 'k2']), 'delete k2');
  ok(tsv(dir, ['delete', '--force', 'pod5']), 'delete pod5');
});

test('hostile: a container naming a missing, foreign, non-sandbox or malformed sandbox fails with one line and leaves nothing', () => {
  const dir = podDir();
  startSandbox(dir, 'pod3');
  // A sandbox of the same name as another under another --root: not this root's.
  startSandbox(dir, 'pod9', 'root2');
  join(dir, 'm', 'pod3', ['sleep', '1000']);
  const before = fs.readdirSync(path.join(dir, 'root')).sort();
  const cases = [
    ['nope', /its sandbox nope is not a running container under/],
    ['pod9', /its sandbox pod9 is not a running container under/],
    ['m', /m is a container of the pod of pod3, not a sandbox/],
    ['x1', /its annotations name itself/],
    ['../root2/pod9', /not a container id/],
    ['pod3/../pod3', /not a container id/],
    ['/run/tsvisor/pod3', /not a container id/],
    ['', /not a container id/],
    ['.', /not a container id/],
  ];
  for (const [i, [sb, want]] of cases.entries()) {
    const b = bundle(dir, `x-${i}`, ['sleep', '1000'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: sb });
    const r = tsv(dir, ['create', '--bundle', b, 'x1']);
    assert.strictEqual(r.status, 1, `sandbox-id ${JSON.stringify(sb)}: ${r.stderr}`);
    assert.match(r.stderr, want, `sandbox-id ${JSON.stringify(sb)}`);
    assert.strictEqual(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'root')).sort(), before, `sandbox-id ${JSON.stringify(sb)} left something`);
  }
  // The pod is unharmed.
  assert.strictEqual(state(dir, 'pod3').status, 'running');
  assert.strictEqual(state(dir, 'm').status, 'running');
  assert.strictEqual(state(dir, 'pod9', 'root2').status, 'running');
});

test('hostile: the control channel gives an exec the stdio only of a client that holds the request\'s secret', async () => {
  const dir = podDir();
  // Not confined: this Sentry opens an exec client's stdio itself (a confined one's runtime does, oci_confine.test.js).
  startSandbox(dir, 'pod4', 'root', {}, ['--no-confine']);
  const ask = (req) => new Promise((resolve, reject) => {
    const sock = net.createConnection(path.join(dir, 'root', 'pod4', 'control.sock'));
    let buf = '';
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (d) => (buf += d));
    sock.on('end', () => resolve(JSON.parse(buf)));
    sock.on('error', reject);
  });
  const base = { op: 'exec', argv: ['true'], env: [], cwd: '/', uid: 0, gid: 0, groups: [] };
  // This process (the test) names itself, or init, with a secret it does not hold: refused.
  for (const client of [process.pid, 1]) {
    const r = await ask({ ...base, client, secret: '0123456789abcdef0123456789abcdef' });
    assert.strictEqual(r.ok, false);
    assert.match(r.error, /does not hold/);
  }
  // No secret, or a malformed one: a malformed request.
  for (const secret of [undefined, '../x', 'A'.repeat(32)]) assert.deepStrictEqual(await ask({ ...base, client: process.pid, secret }), { ok: false, error: 'malformed request' });
  // A create naming a path as the container: malformed too.
  assert.deepStrictEqual(await ask({ op: 'create', container: '../x', bundle: '/', shareUts: false, shareIpc: false, client: 1, secret: '0'.repeat(32) }), { ok: false, error: 'malformed request' });
  assert.deepStrictEqual(await ask({ op: 'kill', signal: 9, all: true, container: '../pod4' }), { ok: false, error: 'malformed request' });
  assert.strictEqual(state(dir, 'pod4').status, 'running');
});

test('hostile: a create on the control channel whose plan or descriptors are wrong fails, and the Sentry keeps none of what came with it', async () => {
  const dir = podDir();
  startSandbox(dir, 'pod5');
  // Confined (the default): the Sentry is below the state's pid; what the whole tree holds.
  const top = state(dir, 'pod5').pid;
  const held = () => [top, ...descendants(top)].reduce((n, p) => n + fs.readdirSync(`/proc/${p}/fd`).length, 0);
  const { requestWithFds } = require(path.join(h.ROOT, 'dist', 'host', 'fdpass.js'));
  const b = bundle(dir, 'x', ['true'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'pod5' });
  const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  const rootfs = path.resolve(b, spec.root.path);
  const source = { spec, bundle: b, kinds: { [rootfs]: 'dir', [path.join(dir, 'shared')]: 'dir' }, real: {} };
  const base = { op: 'create', container: 'x', source, shareUts: false, shareIpc: false, terminal: false, cgroup: null, gofer: false };
  const ask = (req, fds) => {
    const cwd = process.cwd();
    process.chdir(path.join(dir, 'root', 'pod5'));
    try {
      return JSON.parse(requestWithFds(req, fds));
    } finally {
      process.chdir(cwd);
    }
  };
  const devNull = () => fs.openSync('/dev/null', 'r+');
  const before = held();
  const fds = [devNull(), devNull(), devNull(), devNull(), devNull(), devNull()];
  try {
    // Descriptors that are not the stand-in's pipes.
    const r1 = ask(base, fds.slice(0, 5));
    assert.strictEqual(r1.ok, false);
    assert.match(r1.error, /pipes/);
    // Fewer than announced (a Gofer announced, five sent), more than announced.
    assert.match(ask({ ...base, gofer: true }, fds.slice(0, 5)).error, /sent 5 descriptors, not 6/);
    assert.match(ask(base, fds).error, /sent 6 descriptors, not 5/);
    // A plan naming host paths it does not say it looked at: the same checks as config.json's.
    assert.match(ask({ ...base, source: { ...source, kinds: { [rootfs]: 'dir' } } }, fds.slice(0, 5)).error, /config\.json: mounts\[\d+\] \(\/shared\): source .* does not exist/);
    assert.match(ask({ ...base, source: { ...source, kinds: { 'relative/path': 'dir' } } }, fds.slice(0, 5)).error, /plan is malformed/);
    assert.match(ask({ ...base, source: { ...source, spec: { ...spec, ociVersion: '0.1' } } }, fds.slice(0, 5)).error, /config\.json: ociVersion/);
    assert.match(ask({ ...base, source: { ...source, bundle: 'relative' } }, fds.slice(0, 5)).error, /plan is malformed/);
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  // A client that hangs up when asked for the descriptors: the Sentry goes on.
  const hungUp = await new Promise((resolve, reject) => {
    const sock = net.createConnection(path.join(dir, 'root', 'pod5', 'control.sock'));
    let got = '';
    sock.on('connect', () => sock.write(JSON.stringify(base) + '\n'));
    sock.on('data', (d) => {
      got += d;
      if (got === 'fds\n') sock.destroy();
    });
    sock.on('close', () => resolve(got));
    sock.on('error', reject);
  });
  assert.strictEqual(hungUp, 'fds\n');
  // Every descriptor that came with them was closed (the Sentry's count is what it was; a few of Node's own may come and go).
  assert.ok(held() <= before + 2, `the Sentry holds ${held()} descriptors, ${before} before`);
  // A client that announces descriptors and never sends them holds nothing up: another request is answered meanwhile.
  const silent = net.createConnection(path.join(dir, 'root', 'pod5', 'control.sock'));
  let silentGot = '';
  const silentDone = new Promise((resolve, reject) => {
    silent.on('data', (d) => (silentGot += d));
    silent.on('close', resolve);
    silent.on('error', reject);
  });
  await new Promise((resolve) => {
    silent.on('connect', () => silent.write(JSON.stringify(base) + '\n'));
    silent.on('data', () => silentGot === 'fds\n' && resolve());
  });
  const ps = await new Promise((resolve, reject) => {
    const sock = net.createConnection(path.join(dir, 'root', 'pod5', 'control.sock'));
    let buf = '';
    sock.on('connect', () => sock.write(JSON.stringify({ op: 'ps' }) + '\n'));
    sock.on('data', (d) => (buf += d));
    sock.on('end', () => resolve(JSON.parse(buf)));
    sock.on('error', reject);
  });
  assert.strictEqual(ps.ok, true, JSON.stringify(ps));
  assert.strictEqual(silentGot, 'fds\n', 'the silent create is still waiting when ps is answered');
  silent.end();
  await silentDone;
  assert.match(silentGot, /^fds\n\{"ok":false,"error":"the client closed the connection before its descriptors"\}\n$/);
  assert.strictEqual(state(dir, 'pod5').status, 'running');
  // The same container, its plan and descriptors right (create does it), joins.
  ok(tsv(dir, ['create', '--bundle', b, 'x']), 'create x');
  assert.strictEqual(state(dir, 'x').status, 'created');
});

test('a pod confined (the default): its sandbox\'s Sentry is; a joining container brings a Gofer of its own for its root and binds, its exit status is left by the runtime above the Sentry, and its Gofer ends at its delete', async () => {
  const dir = podDir();
  startSandbox(dir, 'pod6');
  const top = state(dir, 'pod6').pid;
  // The Sentry (sandbox-init below the runtime's unshare): confined as a single container's (oci_confine.test.js looks closer).
  const sentry = descendants(top).find((p) => {
    const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0');
    return argv[0] === process.execPath && argv.includes('sandbox-init');
  });
  assert.ok(sentry, 'a Sentry below the sandbox process');
  const st = fs.readFileSync(`/proc/${sentry}/status`, 'latin1');
  assert.strictEqual(statusField(st, 'Seccomp'), '2');
  assert.strictEqual(BigInt(`0x${statusField(st, 'CapEff')}`), 0n);
  assert.deepStrictEqual(fs.readdirSync(`/proc/${sentry}/root`), ['proc']);
  // j reads its root and writes the shared bind (both through its Gofer), and exits 5.
  join(dir, 'j', 'pod6', ['sh', '-c', 'cat /marker > /shared/j; echo w >> /shared/j; exit 5']);
  assert.strictEqual(tsv(dir, ['wait', 'j']).status, 5, 'j\'s exit status, from the file the runtime wrote');
  assert.strictEqual(fs.readFileSync(path.join(dir, 'shared', 'j'), 'utf8'), 'j\nw\n');
  // k: exec (stdio from the runtime above the Sentry), kill, its exit status.
  join(dir, 'k', 'pod6', ['sleep', '1000']);
  const kRoot = path.join(dir, 'k', 'rootfs');
  assert.ok(gofersOf(kRoot).length > 0, 'k\'s Gofer runs');
  // In the pod's sandbox's host cgroup (unshare and the Gofer it forked), as the sandbox's own Gofer is.
  for (const g of gofersOf(kRoot)) assert.strictEqual(fs.readFileSync(`/proc/${g}/cgroup`, 'utf8'), fs.readFileSync(`/proc/${top}/cgroup`, 'utf8'), `Gofer process ${g}'s cgroups`);
  assert.strictEqual(ok(tsv(dir, ['exec', 'k', 'cat', '/marker']), 'exec k').stdout, 'k\n');
  ok(tsv(dir, ['kill', 'k', 'KILL']), 'kill k');
  assert.strictEqual(tsv(dir, ['wait', 'k']).status, 137);
  assert.strictEqual(state(dir, 'pod6').status, 'running');
  // delete: the Sentry lets k's trees go, and its Gofer ends with its socket.
  ok(tsv(dir, ['delete', 'k']), 'delete k');
  for (let i = 0; i < 100 && gofersOf(kRoot).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepStrictEqual(gofersOf(kRoot), [], 'k\'s Gofer is gone');
});

test('a container of a pod with a terminal: the pty master goes to the console socket; the container sees a terminal of its consoleSize', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['python3'])) return;
  const dir = podDir();
  startSandbox(dir, 'pod6');
  bundle(dir, 'tt', ['sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo "is a tty"; stty size; read x; echo "got $x"; exit 4'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'pod6' }, (spec) => {
    spec.process.terminal = true;
    spec.process.consoleSize = { height: 25, width: 90 };
  });
  const sock = path.join(dir, 'console.sock');
  const py = childProcess.spawn('python3', [path.join(__dirname, 'oci', 'console.py'), sock, 'hello\n'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => py.kill('SIGKILL'));
  let out = '';
  py.stdout.setEncoding('utf8');
  py.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => py.on('exit', r));
  for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  const bad = tsv(dir, ['create', '--bundle', path.join(dir, 'tt'), 'tt']);
  assert.match(bad.stderr, /cannot allocate tty/);
  ok(tsv(dir, ['create', '--bundle', path.join(dir, 'tt'), '--console-socket', sock, 'tt']), 'create with a console socket');
  ok(tsv(dir, ['start', 'tt']), 'start');
  await exited;
  assert.match(out, /^name: \/dev\/ptmx$/m);
  assert.match(out, /is a tty/);
  assert.match(out, /25 90/);
  assert.match(out, /got hello/);
  assert.strictEqual(tsv(dir, ['wait', 'tt']).status, 4);
  ok(tsv(dir, ['delete', 'tt']), 'delete tt');
  ok(tsv(dir, ['delete', '--force', 'pod6']), 'delete pod6');
});
