'use strict';
// gofer_start: what the Gofer's start is kept off (docs/PERFORMANCE.md,
// "The Gofer's start, measured"; issue 12). Its environment is its own
// settings only (Node acts on NODE_OPTIONS and NODE_EXTRA_CA_CERTS before
// the Gofer confines itself). A pod container's create starts its Gofer
// before its stand-in (so the Gofer's Node start runs while create works),
// and the pod's Sentry waits for that Gofer's hello without holding up the
// pod: another request is answered meanwhile, and a Gofer that never says
// hello fails that create only. Orders and outcomes, no timings.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { test, after } = require('node:test');
const h = require('../lib/harness');
const { CRI_TYPE, CRI_SANDBOX, cleanup, podDir, bundle, tsv, ok, state, startSandbox } = require('../lib/oci_pod');

after(cleanup);

const dist = (m) => require(path.join(h.ROOT, 'dist', m));

test("the Gofer's environment holds its own settings and nothing of its starter's", () => {
  const { spawnGofer } = dist('gofer/spawn.js');
  const { Channel } = dist('gofer/channel.js');
  const libc = dist('host/libc.js');
  const saved = { ...process.env };
  Object.assign(process.env, { TSVISOR_GOFER_MAX_IDS: '4096', NODE_OPTIONS: '--require /nonexistent/x.js', NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem', SECRET_TOKEN: 'x' });
  let g;
  try {
    g = spawnGofer([{ path: '/', writable: false }]);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  try {
    // The hello: it started (NODE_OPTIONS's missing module would have stopped Node).
    const hello = new Channel(g.fd, 1 << 16).recvWithFds();
    assert.strictEqual(hello.msg.readInt32LE(0), 0, 'hello errno');
    // g.pid is setpriv become unshare; the Gofer is its one child.
    const kids = fs.readFileSync(`/proc/${g.pid}/task/${g.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    assert.strictEqual(kids.length, 1, `unshare's children: ${kids}`);
    for (const p of [g.pid, Number(kids[0])]) {
      const env = fs.readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').filter(Boolean);
      assert.deepStrictEqual(env, ['TSVISOR_GOFER_MAX_IDS=4096'], `process ${p}'s environment`);
    }
  } finally {
    libc.close(g.fd);
  }
});

test("a pod container's create starts its Gofer before its stand-in and before it asks the sandbox", () => {
  const dir = podDir();
  startSandbox(dir, 'pods1');
  bundle(dir, 'c1', ['true'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'pods1' });
  const log = path.join(dir, 'c1.log');
  ok(tsv(dir, ['--debug', '--log', log, 'create', '--bundle', path.join(dir, 'c1'), 'c1']), 'create c1');
  const lines = fs.readFileSync(log, 'utf8').split('\n');
  const at = (re) => {
    const i = lines.findIndex((l) => re.test(l));
    assert.ok(i >= 0, `${re} in the runtime's log:\n${lines.join('\n')}`);
    return i;
  };
  const gofer = at(/c1: Gofer started \(process \d+\)/);
  const standIn = at(/c1: stand-in process \d+ started/);
  const ask = at(/c1: asking the sandbox to add the container/);
  assert.ok(gofer < standIn && standIn < ask, `order in the log:\n${lines.join('\n')}`);
  ok(tsv(dir, ['start', 'c1']), 'start c1');
});

test("the pod's Sentry answers other requests while a joining container's Gofer has not said hello; a Gofer that ends first fails that create only", async () => {
  const dir = podDir();
  startSandbox(dir, 'pods2');
  const b = bundle(dir, 'x', ['true'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'pods2' });
  const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  const rootfs = path.resolve(b, spec.root.path);
  const source = { spec, bundle: b, kinds: { [rootfs]: 'dir', [path.join(dir, 'shared')]: 'dir' }, real: {} };
  const req = { op: 'create', container: 'x', source, shareUts: false, shareIpc: false, terminal: false, cgroup: null, gofer: true };
  // A stand-in Gofer: our end of a socketpair that says nothing until we close it.
  const { seqpacketPair } = dist('gofer/channel.js');
  const libc = dist('host/libc.js');
  const [mine, theirs] = seqpacketPair();
  const theirsIno = fs.fstatSync(theirs).ino;
  let client;
  try {
    // The create, from a child (the request is a blocking call): stdio on /dev/null, the stand-in's pipes, the Gofer's socket (fd 3).
    const script = `
      const fs = require('fs');
      const libc = require(${JSON.stringify(path.join(h.ROOT, 'dist', 'host', 'libc.js'))});
      const { requestWithFds } = require(${JSON.stringify(path.join(h.ROOT, 'dist', 'host', 'fdpass.js'))});
      const p1 = new Int32Array(2), p2 = new Int32Array(2);
      if (libc.pipe2(p1, 0o2000000) < 0 || libc.pipe2(p2, 0o2000000) < 0) throw new Error('pipe2');
      const nul = () => fs.openSync('/dev/null', 'r+');
      process.stdout.write(requestWithFds(JSON.parse(process.argv[1]), [nul(), nul(), nul(), p1[1], p2[0], 3], 120000));
    `;
    client = childProcess.spawn(process.execPath, ['-e', script, JSON.stringify(req)], { cwd: path.join(dir, 'root', 'pods2'), stdio: ['ignore', 'pipe', 'pipe', theirs] });
  } finally {
    libc.close(theirs);
  }
  let out = '';
  let err = '';
  client.stdout.on('data', (d) => (out += d));
  client.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => client.on('exit', resolve));
  try {
    // The Sentry has the create once the socket we sent is among its descriptors.
    const sentry = [state(dir, 'pods2').pid];
    for (let i = 0; i < sentry.length; i++) {
      const kids = fs.readFileSync(`/proc/${sentry[i]}/task/${sentry[i]}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      sentry.push(...kids);
    }
    const peerHeld = () => sentry.some((p) => {
      try {
        return fs.readdirSync(`/proc/${p}/fd`).some((fd) => {
          try {
            return fs.readlinkSync(`/proc/${p}/fd/${fd}`) === `socket:[${theirsIno}]`;
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    });
    for (let i = 0; i < 600 && !peerHeld() && client.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    assert.strictEqual(client.exitCode, null, `the create ended before its Gofer said anything: ${out} ${err}`);
    assert.ok(peerHeld(), 'the sandbox holds the Gofer\'s socket');
    // Another request on the control channel is answered while that create waits for the hello.
    const ps = await new Promise((resolve, reject) => {
      const sock = net.createConnection(path.join(dir, 'root', 'pods2', 'control.sock'));
      let buf = '';
      // A Sentry that waited in a blocking read would never answer: fail instead of hanging.
      const guard = setTimeout(() => {
        sock.destroy();
        reject(new Error('ps was not answered while the create waited for its Gofer'));
      }, 30_000);
      sock.on('connect', () => sock.write(JSON.stringify({ op: 'ps' }) + '\n'));
      sock.on('data', (d) => (buf += d));
      sock.on('end', () => {
        clearTimeout(guard);
        resolve(JSON.parse(buf));
      });
      sock.on('error', reject);
    });
    assert.strictEqual(ps.ok, true, JSON.stringify(ps));
    assert.strictEqual(client.exitCode, null, 'the create still waits for its Gofer when ps is answered');
  } finally {
    // Our Gofer ends without a hello: that create fails.
    libc.close(mine);
  }
  await exited;
  const reply = JSON.parse(out);
  assert.strictEqual(reply.ok, false, out);
  assert.match(reply.error, /Gofer|EIO|input\/output/i, out);
  // The pod goes on, and the same container, made by create, joins it.
  assert.strictEqual(state(dir, 'pods2').status, 'running');
  ok(tsv(dir, ['create', '--bundle', b, 'x']), 'create x');
  assert.strictEqual(state(dir, 'x').status, 'created');
});
