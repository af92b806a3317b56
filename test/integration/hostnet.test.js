'use strict';
// Network modes beyond the C programs' host-mode comparisons (c_programs.test.js):
// - the sandbox's own loopback (sandbox and none modes) against a fresh
//   network namespace with lo up: netlink dumps, interface ioctls, ip(8), /proc/net;
// - host mode over IPv4 inside a fresh network namespace (this host has had
//   either of 127.0.0.1 and ::1 unusable); netlink, ioctls, ip(8) and /proc/net
//   in host mode against native in a private namespace with a veth pair (the
//   machine's own links change under the tests);
// - real programs: python's http.server in the sandbox reached by curl on the
//   host, curl and urllib in the sandbox reaching a server on the host;
// - hostile: host-socket exhaustion stays within RLIMIT_NOFILE, malformed
//   netlink traffic (test/hostile/nlfuzz.c), and no host socket at all in
//   sandbox and none modes (counted in the Sentry's /proc/PID/fd).

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const PY = '/usr/bin/python3';
const host = (mode) => ({ flags: ['--network', mode] });

/** argv run natively in a new network namespace (as root of a new user namespace) with lo up, after the shell commands pre. */
function inNetns(argv, pre = 'true') {
  const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  return ['unshare', '--map-root-user', '--net', 'sh', '-c', `ip link set lo up && ${pre} && exec ${argv.map(q).join(' ')}`];
}

function netnsWorks() {
  return h.runNative(inNetns(['true'])).status === 0;
}

// Sandbox mode adds the NAT's eth0 (nat.test.js checks that table).
for (const mode of ['none']) {
  test(`${mode} mode: netlink dumps, ioctls, ip(8) and /proc/net show a fresh namespace's loopback`, { timeout: 180_000 }, (t) => {
    if (!h.needTools(t, ['gcc', 'unshare', 'ip'])) return;
    if (!netnsWorks()) return t.skip('unshare --net is not permitted here');
    const b = h.buildPrograms();
    for (const argv of [
      [b.netlinkroute.dynamic], [b.ifioctl.static],
      ['/bin/sh', '-c', 'ip addr; ip -4 route show table all; ip -6 route show table all; ip link show lo; cat /proc/net/route /proc/net/if_inet6'],
    ]) {
      const native = h.runNative(inNetns(argv));
      assert.strictEqual(native.status, 0, h.describe('native', native));
      const sb = h.runSandbox(argv, host(mode));
      assert.strictEqual(sb.status, 0, h.describe('sandbox', sb));
      assert.strictEqual(sb.stdout, native.stdout, argv.join(' '));
    }
    const dev = h.runSandbox(['/bin/cat', '/proc/net/dev'], host(mode));
    assert.match(dev.stdout, /^ {4}lo: +0 +0 /m);
    assert.strictEqual(dev.stdout.split('\n').length, 4, dev.stdout);
  });
}

test('sandbox and none modes: inet sockets are the Sentry\'s own stack\'s (test/integration/inet.test.js), netlink works', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['python3'])) return;
  const code = 'import socket\nfor f in (socket.AF_INET, socket.AF_INET6):\n  s = socket.socket(f); s.bind(("localhost" if f == socket.AF_INET else "::1", 0)); print(s.family.name, s.type.name)\nprint(socket.if_nameindex())';
  for (const mode of ['sandbox', 'none']) {
    const r = h.runSandbox([PY, '-c', code], host(mode));
    assert.strictEqual(r.status, 0, h.describe(mode, r));
    // Sandbox mode's stack has the NAT's eth0 too (nat.test.js).
    assert.strictEqual(r.stdout, `AF_INET SOCK_STREAM\nAF_INET6 SOCK_STREAM\n[(1, 'lo')${mode === 'sandbox' ? ", (2, 'eth0')" : ''}]\n`);
  }
  const bad = h.runSandbox(['/bin/true'], host('bogus'));
  assert.notStrictEqual(bad.status, 0);
  assert.match(bad.stderr, /network/);
});

test('host mode over IPv4 in a fresh namespace: inetsock 4 matches native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'unshare', 'ip'])) return;
  if (!netnsWorks()) return t.skip('unshare --net is not permitted here');
  const bin = h.buildPrograms().inetsock.dynamic;
  const native = h.runNative(inNetns([bin, '4']));
  assert.strictEqual(native.status, 0, h.describe('native', native));
  // The Sentry itself runs in the namespace: its host sockets are there.
  const sb = h.runNative(inNetns([process.execPath, h.TSVISOR, 'do', '--network', 'host', '--', bin, '4']), { env: h.sentryEnv() });
  assert.strictEqual(sb.status, 0, h.describe('sandbox', sb));
  assert.strictEqual(sb.stdout, native.stdout);
  assert.ok(native.stdout.endsWith('done\n'));
});


// A timed SO_LINGER must never reach the host socket: its close would block the Sentry (every task of
// the sandbox) until the peer acknowledged; inetlinger's closes that must wait for a reader in the
// sandbox would then never see it start. Urgent data goes through the host sockets as Linux's, with
// POLLPRI, SIOCATMARK and recv(MSG_OOB)'s flags; SIGURG is not sent in host mode (the host sends it
// to the Sentry's own socket, which has no owner), so that one line is left out of the comparison.
// inetscope: SO_BINDTODEVICE, SO_BINDTOIFINDEX (the application's CAP_NET_RAW checked by the Sentry) and scope ids through host sockets.
// inetpktinfo and inetcmsg: control messages through host sockets both ways (socket/hostinet/cmsg.ts), the sticky IPV6_PKTINFO; sotimestamp: receive timestamps and SIOCGSTAMP; ipopts: IPv4 options both ways;
// ip6opts: IPv6 extension headers (socket/hostinet/exthdr.ts), a segment routing header received with the namespace's seg6_enabled on;
// tstamping: SO_TIMESTAMPING's software stamps on receive and on the error queue (UDP and TCP, IPv4 and IPv6); tsrx: its receive part.
const PRE = {
  inetcmsg: 'echo 0 0 > /proc/sys/net/ipv4/ping_group_range',
  sotimestamp: 'echo 0 0 > /proc/sys/net/ipv4/ping_group_range',
  ip6opts: 'echo 1 > /proc/sys/net/ipv6/conf/all/seg6_enabled && echo 1 > /proc/sys/net/ipv6/conf/lo/seg6_enabled',
};
for (const prog of ['inetlinger', 'inetoob', 'inetscope', 'inetpktinfo', 'inetcmsg', 'sotimestamp', 'ipopts', 'ip6opts', 'tstamping', 'tsrx']) {
  test(`host mode in a fresh namespace: ${prog} matches native`, { timeout: 180_000 }, (t) => {
    if (!h.needTools(t, ['gcc', 'unshare', 'ip'])) return;
    if (!netnsWorks()) return t.skip('unshare --net is not permitted here');
    const bin = h.buildPrograms()[prog].static;
    // inetcmsg's ICMPv6 echo socket: the namespace admits the group of its root (the host socket is made in it).
    const pre = PRE[prog] ?? 'true';
    const native = h.runNative(inNetns([bin], pre));
    assert.strictEqual(native.status, 0, h.describe('native', native));
    const sb = h.runNative(inNetns([process.execPath, h.TSVISOR, 'do', '--network', 'host', '--', bin], pre), { env: h.sentryEnv() });
    assert.strictEqual(sb.status, 0, h.describe('sandbox', sb));
    const noSigurg = (s) => s.replace(/^SIGURG with an owner: .*\n/m, '');
    assert.strictEqual(noSigurg(sb.stdout), noSigurg(native.stdout));
    assert.ok(native.stdout.includes('SIGURG with an owner: 1') || prog !== 'inetoob');
    assert.ok(native.stdout.endsWith('done\n'));
  });
}
test('host mode: ip(8) and /proc/net/{route,if_inet6,dev} show the host (a private namespace with a veth pair)', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['ip', 'unshare'])) return;
  if (!netnsWorks()) return t.skip('unshare --net is not permitted here');
  // The machine's own interfaces change under the tests (other containers' veths come and go).
  const setup = 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad && ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 10.9.8.7/24 dev v0 && ip link set v0 up && ' +
    'ip link set v1 up && ip -6 addr add fd12::1/64 dev v0 nodad && ip route add default via 10.9.8.1 && sleep 1';
  const cmd = "ip addr; ip route; ip -6 route; ip link; cat /proc/net/route /proc/net/if_inet6 | sort; cut -d: -f1 /proc/net/dev";
  const script = `${setup} && sh -c '${cmd}' && echo ===== && ${process.execPath} ${h.TSVISOR} do --network host -- /bin/sh -c '${cmd}'`;
  const r = h.runNative(['unshare', '--map-root-user', '--net', 'sh', '-c', script], { env: h.sentryEnv() });
  assert.strictEqual(r.status, 0, h.describe('ip', r));
  const [native, sandbox] = r.stdout.split('=====\n');
  assert.match(native, /inet 10\.9\.8\.7\/24/);
  assert.strictEqual(sandbox, native);
});

/**
 * The host's usable loopback and a free port on it: ::1, or 127.0.0.1 where
 * the host has IPv6 disabled (this machine has had either one missing).
 */
async function loopback() {
  const tryAt = (addr) => new Promise((resolve) => {
    const s = require('node:net').createServer();
    s.on('error', () => resolve(null));
    s.listen(0, addr, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  for (const addr of ['::1', '127.0.0.1']) {
    const port = await tryAt(addr);
    if (port) return { addr, port, url: addr.includes(':') ? `[${addr}]` : addr, pyFamily: addr.includes(':') ? 'AF_INET6' : 'AF_INET' };
  }
  throw new Error('no usable loopback address on the host');
}

function curl(url) {
  return childProcess.spawnSync('curl', ['-s', '-g', '--max-time', '5', url], { encoding: 'utf8' });
}

test('host mode: python3 -m http.server in the sandbox serves curl on the host', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['python3', 'curl'])) return;
  const dir = h.tmpDir('tsvisor-httpserver-');
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'served from the sandbox\n'.repeat(1000));
  const { addr, port, url } = await loopback();
  const child = childProcess.spawn(process.execPath, h.sandboxArgs([PY, '-m', 'http.server', '--bind', addr, String(port)], { cwd: dir, flags: ['--network', 'host'] }), { env: h.sentryEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  try {
    let r;
    for (let i = 0; i < 100; i++) {
      r = curl(`http://${url}:${port}/hello.txt`);
      if (r.status === 0) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.strictEqual(r.status, 0, `curl: ${r.stderr}\nserver: ${err}`);
    assert.strictEqual(r.stdout, 'served from the sandbox\n'.repeat(1000));
    // Several requests in a row: the server keeps accepting.
    for (let i = 0; i < 5; i++) assert.strictEqual(curl(`http://${url}:${port}/hello.txt`).stdout.length, 24000);
    const listing = curl(`http://${url}:${port}/`);
    assert.match(listing.stdout, /hello\.txt/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((res) => child.on('exit', res));
  }
  assert.match(err, /"GET \/hello\.txt HTTP\/1\.1" 200/);
});

test('host mode: curl, python urllib and node fetch in the sandbox reach a server on the host', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['python3', 'curl'])) return;
  const body = Buffer.alloc(3 << 20, 'y');
  const server = http.createServer((req, res) => res.end(req.url === '/big' ? body : `hello ${req.url}\n`));
  const { addr, url } = await loopback();
  await new Promise((res) => server.listen(0, addr, res));
  const { port } = server.address();
  const run = (argv) => new Promise((resolve) => {
    childProcess.execFile(process.execPath, h.sandboxArgs(argv, { flags: ['--network', 'host'] }), { env: h.sentryEnv(), maxBuffer: 16 << 20, encoding: 'latin1' },
      (error, stdout, stderr) => resolve({ error, stdout, stderr }));
  });
  try {
    const c = await run(['curl', '-s', '-g', `http://${url}:${port}/from-curl`]);
    assert.strictEqual(c.stdout, 'hello /from-curl\n', c.stderr);
    const big = await run(['curl', '-s', '-g', `http://${url}:${port}/big`]);
    assert.strictEqual(big.stdout.length, body.length, big.stderr);
    const py = await run([PY, '-c', `import urllib.request; print(urllib.request.urlopen('http://${url}:${port}/from-python').read().decode(), end='')`]);
    assert.strictEqual(py.stdout, 'hello /from-python\n', py.stderr);
    const nodeFetch = await run(['/usr/bin/node', '-e', `fetch('http://${url}:${port}/from-node').then((r) => r.text()).then((t) => process.stdout.write(t))`]);
    assert.strictEqual(nodeFetch.stdout, 'hello /from-node\n', nodeFetch.stderr);
    // glibc's getaddrinfo with AI_ADDRCONFIG asks netlink which families are configured.
    const gai = `import socket\nfor n in ('localhost', 'ip6-localhost', '::1'):\n  try: print(sorted(set(a[4][0] for a in socket.getaddrinfo(n, 80, 0, socket.SOCK_STREAM, 0, socket.AI_ADDRCONFIG))))\n  except OSError as e: print(n, e.errno)`;
    const byName = await run([PY, '-c', gai]);
    assert.strictEqual(byName.stdout, h.runNative([PY, '-c', gai]).stdout, byName.stderr);
  } finally {
    server.close();
  }
});

/** The Sentry below a `tsvisor do` process: itself, or with --confine its child's child (under unshare). */
function sentryOf(pid) {
  const kids = (p) => {
    try {
      return fs.readFileSync(`/proc/${p}/task/${p}/children`, 'latin1').trim().split(/\s+/).filter(Boolean);
    } catch {
      return [];
    }
  };
  for (const u of kids(pid)) {
    if (fs.readFileSync(`/proc/${u}/comm`, 'latin1').trim() === 'unshare') return Number(kids(u)[0]);
  }
  return pid;
}

/** The Sentry's open host sockets (its /proc/PID/fd entries that are sockets). */
function hostSockets(runtime) {
  const pid = sentryOf(runtime);
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/**
 * Run code (python) in the sandbox; it prints "start", waits for a line,
 * does its work, prints "ready" and waits again. Returns the Sentry's host
 * socket counts at start and ready, and the program's output.
 */
async function countSockets(mode, code) {
  const script = `import sys\nprint('start', flush=True)\nsys.stdin.readline()\n${code}\nprint('ready', flush=True)\nsys.stdin.readline()\n`;
  const child = childProcess.spawn(process.execPath, h.sandboxArgs([PY, '-c', script], { flags: ['--network', mode] }), { env: h.sentryEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let wake = () => {};
  child.stderr.on('data', (d) => (err += d));
  child.stdout.on('data', (d) => {
    out += d;
    wake();
  });
  const waitFor = (word) => new Promise((resolve, reject) => {
    wake = () => (out.includes(`${word}\n`) ? resolve() : null);
    child.on('exit', () => reject(new Error(`exited before ${word}: ${out}\n${err}`)));
    wake();
  });
  await waitFor('start');
  const before = hostSockets(child.pid);
  child.stdin.write('\n');
  await waitFor('ready');
  const after = hostSockets(child.pid);
  child.stdin.end('\n');
  await new Promise((res) => child.on('exit', res));
  return { before, after, out, err };
}

const TRY_SOCKETS = `import socket, fcntl, struct
made = 0
for i in range(50):
  for f in (socket.AF_INET, socket.AF_INET6):
    for k in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
      try:
        s = socket.socket(f, k); made += 1; globals().setdefault('keep', []).append(s)
      except OSError as e: pass
n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
print('inet sockets made', made, 'interfaces', [x[1] for x in socket.if_nameindex()][:1], flush=True)`;

test('sandbox and none modes create no host socket; host mode does (the count sees them)', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['python3'])) return;
  for (const mode of ['sandbox', 'none']) {
    const r = await countSockets(mode, TRY_SOCKETS);
    // Whether inet sockets exist there (the Sentry's stack) or not, none is a host socket.
    assert.match(r.out, /inet sockets made (0|200) interfaces \['lo'\]/, r.err);
    assert.strictEqual(r.after, r.before, `${mode}: the Sentry's host sockets went from ${r.before} to ${r.after}`);
  }
  const r = await countSockets('host', TRY_SOCKETS);
  assert.match(r.out, /inet sockets made 200 /, r.err);
  assert.strictEqual(r.after - r.before, 200, 'each host-mode socket is one host socket of the Sentry');
});

test('host mode: a socket() loop stops at RLIMIT_NOFILE and holds no more host sockets than that', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['python3'])) return;
  const code = `import resource, socket
resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100))
keep = []
try:
  while True: keep.append(socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
except OSError as e: print('stopped', e.errno, len(keep) < 100, flush=True)`;
  const r = await countSockets('host', code);
  assert.match(r.out, /stopped 24 True/, r.err);
  assert.ok(r.after - r.before < 100, `host sockets grew by ${r.after - r.before}`);
  assert.ok(r.after - r.before > 80, `host sockets grew by ${r.after - r.before}`);
});

test('hostile netlink traffic gets errors, the Sentry keeps answering (test/hostile/nlfuzz.c)', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-nlfuzz-');
  const bin = path.join(dir, 'nlfuzz');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'nlfuzz.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const log = path.join(dir, 'debug.log');
  for (const mode of ['sandbox', 'host']) {
    const r = h.runSandbox([bin], { flags: ['--network', mode, '--debug-log', log], timeout: 150_000 });
    assert.strictEqual(r.status, 0, h.describe('nlfuzz', r));
    assert.strictEqual(r.stdout, [
      'random sends returned: 1', 'RTM_NEWLINK: EPERM', 'oversized send: EMSGSIZE', 'piled-up dumps refused with EBUSY: 1',
      'send to a user port: ECONNREFUSED', 'send bad pointer: EFAULT', 'bind bad pointer: EFAULT', 'sockets made: 200', 'links after all that: 1', 'done', '',
    ].join('\n'));
  }
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs');
});

test('host mode: interface setters are EPERM; FIONREAD on a listener is EINVAL', { timeout: 60_000 }, async (t) => {
  if (!h.needTools(t, ['python3'])) return;
  const lo = await loopback();
  const code = `import socket, fcntl, struct, errno
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for req in (0x8914, 0x8916, 0x8922, 0x8923):
  try: fcntl.ioctl(s, req, struct.pack('16s24x', b'lo')); print('set ok')
  except OSError as e: print(errno.errorcode[e.errno])
l = socket.socket(socket.${lo.pyFamily}); l.bind(('${lo.addr}', 0)); l.listen()
try: fcntl.ioctl(l, 0x541b, b'\\0' * 4)
except OSError as e: print('FIONREAD on listener', errno.errorcode[e.errno])`;
  const r = h.runSandbox([PY, '-c', code], host('host'));
  assert.strictEqual(r.stdout, 'EPERM\nEPERM\nEPERM\nEPERM\nFIONREAD on listener EINVAL\n', r.stderr);
});

test('do: /etc/hostname is the hostname; host mode has the host\'s name, hosts and resolv.conf', { timeout: 60_000 }, () => {
  const before = fs.readFileSync('/etc/hosts', 'utf8');
  const cmd = ['/bin/sh', '-c', 'hostname; cat /etc/hostname /etc/hosts; echo ---; cat /etc/resolv.conf'];
  const sb = h.runSandbox(cmd, host('sandbox'));
  assert.strictEqual(sb.status, 0, h.describe('sandbox', sb));
  const [ids, resolv] = sb.stdout.split('---\n');
  assert.match(ids, /^tsvisor\ntsvisor\n127\.0\.0\.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n/);
  assert.match(ids, /^127\.0\.1\.1\ttsvisor$/m);
  assert.strictEqual(resolv, 'nameserver 10.0.2.3\n', 'the NAT\'s DNS forwarder');
  const hm = h.runSandbox(cmd, host('host'));
  const name = require('node:os').hostname();
  assert.strictEqual(hm.stdout, `${name}\n${name}\n${fs.readFileSync('/etc/hosts', 'utf8')}---\n${fs.readFileSync('/etc/resolv.conf', 'utf8')}`);
  // The sandbox wrote its private upper layer, never the host's files.
  assert.strictEqual(fs.readFileSync('/etc/hosts', 'utf8'), before);
});

test('OCI: the global --network reaches the container\'s sandbox (host: the host\'s interfaces; default: loopback)', { timeout: 120_000 }, () => {
  if (!fs.existsSync('/bin/busybox')) return;
  const dir = h.tmpDir('tsvisor-ocinet-');
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  fs.symlinkSync('busybox', path.join(rootfs, 'bin', 'cat'));
  const tsv = (globals, args) => {
    const out = path.join(dir, `out-${process.hrtime.bigint()}`);
    const fd = fs.openSync(out, 'w');
    const r = childProcess.spawnSync(process.execPath, [h.TSVISOR, '--root', path.join(dir, 'root'), ...globals, ...args], {
      cwd: dir, env: h.sentryEnv(), stdio: ['ignore', fd, 'inherit'], timeout: 60_000, killSignal: 'SIGKILL',
    });
    fs.closeSync(fd);
    return { status: r.status, stdout: fs.readFileSync(out, 'utf8') };
  };
  assert.strictEqual(tsv([], ['spec', '--bundle', dir]).status, 0);
  const file = path.join(dir, 'config.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  spec.process.args = ['/bin/cat', '/proc/net/dev'];
  spec.process.terminal = false;
  // As Docker writes it for --network host: no network namespace of the container's own (one listed without a path is a new, empty one, as runc and runsc make it).
  spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'network');
  fs.writeFileSync(file, JSON.stringify(spec));
  const names = (s) => s.split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean).sort();
  const hostMode = tsv(['--network', 'host'], ['run', 'nethost']);
  assert.strictEqual(hostMode.status, 0, hostMode.stdout);
  assert.deepStrictEqual(names(hostMode.stdout), names(fs.readFileSync('/proc/net/dev', 'utf8')));
  const dflt = tsv([], ['run', 'netdefault']);
  assert.strictEqual(dflt.status, 0, dflt.stdout);
  assert.deepStrictEqual(names(dflt.stdout), ['lo']);
});

test('/proc/net/unix lists the sandbox\'s bound unix sockets', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['python3'])) return;
  const code = `import socket, os
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); a.bind('\\0tsvisor-test-abstract'); a.listen()
b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); b.bind('/tmp/tsvisor-test-path')
lines = open('/proc/net/unix').read().splitlines()
print(lines[0])
for l in lines[1:]:
  f = l.split()
  print(f[3], f[4], f[5], f[7] if len(f) > 7 else '')`;
  const r = h.runSandbox([PY, '-c', code]);
  assert.strictEqual(r.status, 0, h.describe('proc/net/unix', r));
  const rows = r.stdout.split('\n');
  assert.strictEqual(rows[0], 'Num       RefCount Protocol Flags    Type St Inode Path');
  // Flags __SO_ACCEPTCON for the listener, type, state SS_UNCONNECTED (01).
  assert.ok(rows.includes('00010000 0001 01 @tsvisor-test-abstract'), r.stdout);
  assert.ok(rows.includes('00000000 0002 01 /tmp/tsvisor-test-path'), r.stdout);
});

test('host mode: a node http server in the sandbox serves curl on the host', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['curl']) || !fs.existsSync('/usr/bin/node')) return;
  const { addr, url } = await loopback();
  const code = `const s = require('http').createServer((q, r) => r.end('node in the sandbox ' + q.url + '\\n'));
s.listen(0, '${addr}', () => console.log('port', s.address().port));
process.stdin.on('end', () => process.exit(0)).resume();`;
  const child = childProcess.spawn(process.execPath, h.sandboxArgs(['/usr/bin/node', '-e', code], { flags: ['--network', 'host'] }), { env: h.sentryEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  try {
    for (let i = 0; i < 100 && !/port \d+/.test(out); i++) await new Promise((res) => setTimeout(res, 200));
    const port = /port (\d+)/.exec(out)?.[1];
    assert.ok(port, `no port: ${out}`);
    for (let i = 0; i < 5; i++) assert.strictEqual(curl(`http://${url}:${port}/n${i}`).stdout, `node in the sandbox /n${i}\n`);
  } finally {
    child.stdin.end();
    await new Promise((res) => child.on('exit', res));
  }
});

test('host mode in a private namespace with a veth pair: netlinkroute and ifioctl match native', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'unshare', 'ip'])) return;
  if (!netnsWorks()) return t.skip('unshare --net is not permitted here');
  const b = h.buildPrograms();
  const setup = 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad && ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 10.9.8.7/24 dev v0 && ip link set v0 up && ' +
    'ip link set v1 up && ip -6 addr add fd12::1/64 dev v0 nodad && ip route add default via 10.9.8.1 && sleep 1';
  for (const argv of [[b.netlinkroute.dynamic], [b.ifioctl.static, 'inet'], [b.ifioctl.dynamic]]) {
    const prog = argv.join(' ');
    const script = `${setup} && ${prog} && echo ===== && ${process.execPath} ${h.TSVISOR} do --network host -- ${prog}`;
    const r = h.runNative(['unshare', '--map-root-user', '--net', 'sh', '-c', script], { env: h.sentryEnv() });
    assert.strictEqual(r.status, 0, h.describe(prog, r));
    const [native, sandbox] = r.stdout.split('=====\n');
    assert.match(native, /10\.9\.8\.7/);
    assert.strictEqual(sandbox, native, prog);
  }
});

test('/proc/sys/net/ipv6/conf: an interface with IPv6 turned off (as Docker leaves an IPv4-only network\'s) reads disable_ipv6 1, as natively (host mode, a private namespace with a veth pair)', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['ip', 'unshare'])) return;
  if (!netnsWorks()) return t.skip('unshare --net is not permitted here');
  const setup = 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad && ip link set lo up && ip link add v0 type veth peer name v1 && ' +
    'echo 1 > /proc/sys/net/ipv6/conf/v0/disable_ipv6 && ip addr add 10.9.8.7/24 dev v0 && ip link set v0 up && ip link set v1 up && sleep 1';
  const cmd = 'cd /proc/sys/net/ipv6/conf && grep . */disable_ipv6';
  const script = `${setup} && sh -c '${cmd}' && echo ===== && ${process.execPath} ${h.TSVISOR} do --network host -- /bin/sh -c '${cmd}'`;
  const r = h.runNative(['unshare', '--map-root-user', '--net', 'sh', '-c', script], { env: h.sentryEnv() });
  assert.strictEqual(r.status, 0, h.describe('disable_ipv6', r));
  const [native, sandbox] = r.stdout.split('=====\n');
  assert.match(native, /^v0\/disable_ipv6:1$/m);
  assert.match(native, /^v1\/disable_ipv6:0$/m);
  assert.strictEqual(sandbox, native);
});
