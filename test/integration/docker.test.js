'use strict';
// docker: Docker (Debian's docker.io) runs containers with --runtime=tsvisor.
// The test starts its own dockerd as root (vfs storage, its own data root,
// exec root, pid file, socket and config file, the config made by `tsvisor
// install --config`), imports a busybox image from a tarball (no registry),
// and stops the daemon by its pid at the end. Flags: the daemon keeps
// Docker's default bridge network (so containers start in a network
// namespace with a veth, which the sandbox process joins) but changes no
// host firewall (--iptables=false --ip6tables=false --ip-masq=false).

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test, before, after } = require('node:test');
const h = require('../lib/harness');
// The release the sandbox reports (kernel/uts.ts): what uname says inside, never the host's.
const { UTS_RELEASE } = require('../../dist/kernel/uts');

const DOCKERD = h.which('dockerd');
// Debian's client (the daemon's version) before any other docker on PATH.
const DOCKER = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : h.which('docker');
const ROOT_USER = process.getuid && process.getuid() === 0;

let dir = null;
let sock = null;
let daemon = null;
let bridgeBefore = false;
const IMAGE = 'tsvisor-busybox:test';
/**
 * The daemon's cgroup parent: relative, so containers' cgroups are made below
 * the test's own cgroup (runc's reading of a relative cgroupsPath) and not at
 * the roots of the host's hierarchies; removed at the end.
 */
const CGROUP_PARENT = `tsvisor-test-docker-${process.pid}`;

/** Every directory of the test's cgroup parent in any hierarchy (wherever a client put it), deepest first. */
function cgroupParentDirs() {
  const out = [];
  const walk = (d, depth, inside) => {
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const sub = path.join(d, e.name);
      const mine = inside || e.name === CGROUP_PARENT;
      if (mine || depth < 3) walk(sub, depth + 1, mine);
      if (mine) out.push(sub);
    }
  };
  // Every hierarchy: the clients make directories in the controllers tsvisor does not use too (blkio, devices, freezer).
  for (const ctl of fs.readdirSync('/sys/fs/cgroup')) walk(`/sys/fs/cgroup/${ctl}`, 0, false);
  return out;
}

/** The test's own cgroup in the memory hierarchy (podman makes a relative parent absolute: it is given this one below it). */
const OWN_MEMORY_CGROUP = (fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:memory:/.test(l)) ?? '0:memory:/').split(':')[2];

/** Remove the cgroups the daemon's containers left (their processes killed first). */
function removeCgroups() {
  for (const d of cgroupParentDirs()) {
    try {
      for (const p of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(p), 'SIGKILL');
      fs.rmdirSync(d);
    } catch {
      // gone, or busy for a moment: reported by the check below
    }
  }
}

function skipReason() {
  if (!ROOT_USER) return 'dockerd needs root';
  if (!DOCKERD || !DOCKER) return 'docker.io is not installed (.ci/run installs it)';
  return null;
}

function docker(args, opts = {}) {
  const r = childProcess.spawnSync(DOCKER, ['-H', `unix://${sock}`, ...args], {
    encoding: 'utf8', timeout: opts.timeout ?? 60_000, killSignal: 'SIGKILL', input: opts.input,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut: !!(r.error && r.error.code === 'ETIMEDOUT'), ms: 0 };
}

function ok(args, what = args.join(' ')) {
  const r = docker(args);
  assert.ok(!r.timedOut, `docker ${what} timed out`);
  assert.strictEqual(r.status, 0, `docker ${what} failed\n${h.describe(what, r)}\nstdout: ${r.stdout}`);
  return r.stdout;
}

const RUN = ['run', '--rm', '--runtime=tsvisor'];

async function until(what, fn, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

/** Host processes that are tsvisor sandbox processes of this container id. */
function sandboxProcesses(id) {
  const out = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0');
      // sandbox-init, or the create that became the sandbox process (bin/tsvisor.js executed, as the shim does).
      if ((argv.includes('sandbox-init') || argv.includes('create')) && argv.includes(id) && argv.some((a) => a.endsWith('tsvisor.js'))) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function bridgeExists() {
  return fs.existsSync('/sys/class/net/docker0');
}

/** A root file system with busybox-static and one link per applet, as a tarball. */
function imageTar() {
  const root = path.join(dir, 'image');
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(root, 'etc'));
  fs.mkdirSync(path.join(root, 'tmp'), { mode: 0o1777 });
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  const list = childProcess.execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of list) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(root, 'bin', a));
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/tmp:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\ntty:x:5:\nuser:x:1000:\n');
  const tar = path.join(dir, 'image.tar');
  childProcess.execFileSync('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}

/** dockerd on sock with its roots under dir (a second attempt gets fresh ones); stopped by its pid if it does not answer. */
async function startDaemon(config, attempt) {
  const log = fs.openSync(path.join(dir, 'dockerd.log'), 'w');
  const roots = attempt === 1 ? '' : `${attempt}`;
  daemon = childProcess.spawn(DOCKERD, [
    '--config-file', config, '--storage-driver=vfs', '--data-root', path.join(dir, `data${roots}`), '--exec-root', path.join(dir, `exec${roots}`),
    '--pidfile', path.join(dir, 'dockerd.pid'), '-H', `unix://${sock}`, '--iptables=false', '--ip6tables=false', '--ip-masq=false',
    '--cgroup-parent', CGROUP_PARENT,
  ], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  await until('dockerd to answer', () => daemon.exitCode === null && fs.existsSync(sock) && docker(['version']).status === 0, 60_000).catch(async (e) => {
    const text = fs.readFileSync(path.join(dir, 'dockerd.log'), 'utf8').slice(-3000);
    if (daemon.exitCode === null) {
      // SIGTERM first: dockerd stops the containerd it started.
      daemon.kill('SIGTERM');
      await until('dockerd to end', () => daemon.exitCode !== null || daemon.signalCode !== null, 15_000).catch(() => daemon.kill('SIGKILL'));
    }
    fs.rmSync(sock, { force: true });
    throw new Error(`${e.message}\n${text}`);
  });
}

before(async () => {
  if (skipReason()) return;
  bridgeBefore = bridgeExists();
  // Short: the daemon's sockets live under these directories (sun_path holds 107 bytes).
  dir = fs.mkdtempSync('/tmp/tsvd-');
  sock = path.join(dir, 'docker.sock');
  const config = path.join(dir, 'daemon.json');
  // install keeps what the file holds and adds the runtime.
  fs.writeFileSync(config, JSON.stringify({ 'log-level': 'warn', runtimes: { other: { path: '/bin/true' } } }));
  const inst = childProcess.spawnSync(process.execPath, [h.TSVISOR, 'install', '--config', config], { encoding: 'utf8', env: h.sentryEnv() });
  assert.strictEqual(inst.status, 0, inst.stderr);
  const conf = JSON.parse(fs.readFileSync(config, 'utf8'));
  assert.strictEqual(conf['log-level'], 'warn');
  assert.deepStrictEqual(conf.runtimes.other, { path: '/bin/true' });
  assert.strictEqual(conf.runtimes.tsvisor.path, path.resolve(h.TSVISOR));
  // A daemon whose own containerd does not come up in time (seen once in a CI rehearsal: "timeout waiting for containerd
  // to start", while docker_net's daemon of the same run started at once) is stopped by its pid and started once more.
  for (let attempt = 1; ; attempt++) {
    try {
      await startDaemon(config, attempt);
      break;
    } catch (e) {
      if (attempt === 2) throw e;
      process.stderr.write(`dockerd did not start, once more: ${e.message.split('\n')[0]}\n`);
    }
  }
  ok(['import', imageTar(), IMAGE], 'import');
});

after(async () => {
  if (!daemon) return;
  const ids = docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
  if (ids.length) docker(['rm', '-f', ...ids]);
  const pid = daemon.pid;
  // By its pid: it stops its containerd with it.
  if (daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await until('dockerd to stop', () => daemon.exitCode !== null || daemon.signalCode !== null, 30_000).catch(() => daemon.kill('SIGKILL'));
  }
  assert.ok(!alive(pid));
  // What the daemon mounted under its roots (the data root is made a private mount of itself).
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(dir));
  for (const m of mounts.sort().reverse()) childProcess.spawnSync('umount', ['-l', m]);
  if (!bridgeBefore && bridgeExists()) childProcess.spawnSync('ip', ['link', 'delete', 'docker0']);
  fs.rmSync(dir, { recursive: true, force: true });
  removeCgroups();
  assert.deepStrictEqual(cgroupParentDirs(), [], 'no cgroup left');
});

test('docker run --runtime=tsvisor: output, exit status, -e, -w, --user, capabilities, --init, --read-only, --tmpfs, networks', { timeout: 240_000 }, (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  assert.strictEqual(ok([...RUN, IMAGE, 'echo', 'hi']), 'hi\n');
  // The command runs in the sandbox: its kernel is the Sentry's.
  assert.strictEqual(ok([...RUN, IMAGE, 'uname', '-r']), `${UTS_RELEASE}\n`);
  assert.strictEqual(docker([...RUN, IMAGE, 'sh', '-c', 'exit 3']).status, 3);
  const nf = docker([...RUN, IMAGE, 'nosuchprogram']);
  assert.strictEqual(nf.status, 127, h.describe('a missing program', nf));
  assert.match(nf.stderr, /executable file not found/);
  assert.strictEqual(ok([...RUN, '-e', 'FOO=bar baz', IMAGE, 'sh', '-c', 'echo "$FOO"']), 'bar baz\n');
  assert.strictEqual(ok([...RUN, '-w', '/etc', IMAGE, 'pwd']), '/etc\n');
  assert.strictEqual(ok([...RUN, '--user', '1000:1000', IMAGE, 'id']), 'uid=1000(user) gid=1000(user) groups=1000(user)\n');
  const ro = docker([...RUN, '--read-only', IMAGE, 'touch', '/x']);
  assert.notStrictEqual(ro.status, 0);
  assert.match(ro.stderr, /Read-only file system/);
  // Capabilities: Docker's default set lets root chown; without any, root cannot.
  assert.strictEqual(ok([...RUN, IMAGE, 'sh', '-c', 'chown 5 /tmp && echo chowned']), 'chowned\n');
  const nocap = docker([...RUN, '--cap-drop', 'ALL', IMAGE, 'sh', '-c', 'grep CapBnd /proc/self/status; chown 5 /tmp']);
  assert.match(nocap.stdout, /CapBnd:\s+0000000000000000/);
  assert.match(nocap.stderr, /chown: \/tmp: Operation not permitted/);
  // --init: Docker's init (a static binary bound in from the host) as pid 1.
  assert.strictEqual(ok([...RUN, '--init', IMAGE, 'cat', '/proc/1/comm']), 'docker-init\n');
  assert.strictEqual(ok([...RUN, '--read-only', '--tmpfs', '/x', IMAGE, 'sh', '-c', 'echo a > /x/f && cat /x/f && grep " /x " /proc/mounts | cut -d" " -f3']), 'a\ntmpfs\n');
  // Docker's default bridge: the sandbox process starts in a network namespace of its own, where Docker's prestart hook puts the veth.
  const netOf = (args) => {
    const id = ok(['run', '-d', '--runtime=tsvisor', ...args, IMAGE, 'sleep', '1000']).trim();
    const pid = Number(ok(['inspect', '-f', '{{.State.Pid}}', id]).trim());
    const ns = fs.readlinkSync(`/proc/${pid}/ns/net`);
    const addrs = childProcess.execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-o', 'addr'], { encoding: 'utf8' });
    const links = childProcess.execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-o', 'link'], { encoding: 'utf8' });
    ok(['rm', '-f', id]);
    return { ns, addrs, links };
  };
  const hostNs = fs.readlinkSync('/proc/self/ns/net');
  const bridge = netOf([]);
  assert.notStrictEqual(bridge.ns, hostNs);
  // The veth is in the sandbox process's namespace, its addresses taken over by the sandbox's stack (docker_net.test.js).
  assert.match(bridge.links, /eth0@/, 'the veth is in the sandbox process\'s namespace');
  assert.doesNotMatch(bridge.addrs, /eth0\s+inet/);
  const none = netOf(['--network', 'none']);
  assert.notStrictEqual(none.ns, hostNs);
  assert.doesNotMatch(none.links, /eth0/);
  assert.strictEqual(ok([...RUN, '--network', 'none', IMAGE, 'echo', 'none']), 'none\n');
});

test('docker run -v: binds of host directories and files, seen live, without a way out', { timeout: 120_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  const host = path.join(dir, 'vol');
  fs.mkdirSync(host);
  fs.writeFileSync(path.join(host, 'f'), 'from the host\n');
  // Hostile entries of the bind source: a symlink to a host secret, resolved inside the container (whose image has no /etc/shadow).
  fs.symlinkSync('/etc/shadow', path.join(host, 'shadow'));
  fs.symlinkSync('../../../../../../etc/shadow', path.join(host, 'up'));
  assert.strictEqual(ok([...RUN, '-v', `${host}:/data:ro`, IMAGE, 'cat', '/data/f']), 'from the host\n');
  const esc = docker([...RUN, '-v', `${host}:/data`, IMAGE, 'sh', '-c', 'cat /data/shadow; cat /data/up; cat /data/../../etc/shadow; ls /data/../../']);
  assert.doesNotMatch(esc.stdout, /root:/, 'no host file through a bind');
  assert.match(esc.stderr, /can't open '\/data\/shadow': No such file/);
  const ro = docker([...RUN, '-v', `${host}:/data:ro`, IMAGE, 'sh', '-c', 'echo x > /data/g']);
  assert.notStrictEqual(ro.status, 0, 'a read-only bind refuses writes');
  assert.ok(!fs.existsSync(path.join(host, 'g')), 'nothing written through the read-only bind');
  // A read-write bind writes through to the host.
  assert.strictEqual(ok([...RUN, '-v', `${host}:/data`, IMAGE, 'sh', '-c', 'echo x > /data/g && cat /data/g']), 'x\n');
  assert.strictEqual(fs.readFileSync(path.join(host, 'g'), 'utf8'), 'x\n');
  fs.unlinkSync(path.join(host, 'g'));

  // Live: a host-side change after start is seen inside, in a directory bind and in Docker's file binds (/etc/hostname).
  const id = ok(['run', '-d', '--runtime=tsvisor', '-v', `${host}:/data`, IMAGE, 'sh', '-c',
    'while [ ! -e /data/go ]; do sleep 0.1; done; cat /data/f; cat /etc/hostname; ls /sys/firmware | wc -l; ls /proc/sys >/dev/null && touch /proc/sys/x']).trim();
  fs.writeFileSync(path.join(host, 'f'), 'changed on the host\n');
  const hostnameFile = path.join(dir, 'data', 'containers', id, 'hostname');
  fs.writeFileSync(hostnameFile, 'renamed\n');
  fs.writeFileSync(path.join(host, 'go'), '');
  assert.strictEqual(ok(['wait', id]).trim(), '1', 'touch in the read-only /proc/sys fails');
  const logs = docker(['logs', id]);
  assert.strictEqual(logs.stdout, 'changed on the host\nrenamed\n0\n', 'the masked /sys/firmware is empty');
  assert.match(logs.stderr, /\/proc\/sys\/x: Read-only file system/);
  ok(['rm', id]);
});

test('docker run --security-opt seccomp=PROFILE: the profile filters the application\'s system calls', { timeout: 120_000 }, (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  const profile = path.join(dir, 'seccomp.json');
  fs.writeFileSync(profile, JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      // The setuid bit only: an argument condition.
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0o4000, valueTwo: 0o4000, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['fchmodat'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: 0o4000, valueTwo: 0o4000, op: 'SCMP_CMP_MASKED_EQ' }] },
    ],
  }));
  const r = docker([...RUN, '--security-opt', `seccomp=${profile}`, IMAGE, 'sh', '-c', 'mkdir /tmp/d; touch /tmp/f; chmod 755 /tmp/f && echo chmod-ok; chmod 4755 /tmp/f; echo done']);
  assert.match(r.stderr, /mkdir: can't create directory '\/tmp\/d': Permission denied/);
  assert.match(r.stderr, /chmod: \/tmp\/f: Operation not permitted/);
  assert.strictEqual(r.stdout, 'chmod-ok\ndone\n');
  // Docker's default profile is applied too, and lets ordinary programs run.
  assert.strictEqual(ok([...RUN, IMAGE, 'sh', '-c', 'mkdir /tmp/d && chmod 4755 /tmp/d && echo fine']), 'fine\n');
});

test('docker run --memory: an allocation past the limit is killed', { timeout: 120_000 }, (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  // dd's buffer is 40 MiB and filled (pages the application really touches): past 16 MiB.
  const r = docker(['run', '--name', 'tsv-oom', '--runtime=tsvisor', '--memory', '16m', IMAGE, 'sh', '-c', 'tr "\\0" a < /dev/zero | dd of=/dev/null bs=40M count=1 iflag=fullblock']);
  assert.strictEqual(r.status, 137, h.describe('oom', r));
  assert.match(r.stderr, /out of memory/);
  // The Sentry's OOM kill is recorded by the host cgroup, which is how Docker learns of it.
  assert.strictEqual(ok(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'tsv-oom']).trim(), 'true 137');
  ok(['rm', 'tsv-oom']);
  // docker stats: the figures of the container's host cgroup (the limit plus the Sentry's allowance of 256 MiB).
  const id = ok(['run', '-d', '--runtime=tsvisor', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '50', IMAGE, 'sleep', '1000']).trim();
  const st = ok(['stats', '--no-stream', '--format', '{{.MemUsage}} {{.PIDs}}', id]).trim();
  assert.match(st, /^[\d.]+[KM]iB \/ 320MiB [1-9]\d*$/, st);
  const cgs = cgroupParentDirs().filter((d) => d.endsWith(id));
  assert.ok(cgs.length >= 4, `the container's cgroups: ${cgs.join(' ')}`);
  const cpu = cgs.find((d) => d.startsWith('/sys/fs/cgroup/cpu/'));
  assert.strictEqual(fs.readFileSync(path.join(cpu, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000', '--cpus 0.5');
  ok(['rm', '-f', id]);
  assert.deepStrictEqual(cgroupParentDirs().filter((d) => d.endsWith(id)), [], 'docker rm removed its cgroups');
  assert.strictEqual(ok([...RUN, '--memory', '64m', IMAGE, 'sh', '-c', 'tr "\\0" a < /dev/zero | dd of=/dev/null bs=8M count=1 iflag=fullblock 2>/dev/null && echo fits']), 'fits\n');
});

test('docker run -d, logs, exec, top, kill -s, pause/unpause, ps states, stop, wait, rm', { timeout: 240_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  const script = 'trap "echo got USR1" USR1; trap "echo got TERM; exit 9" TERM; echo started; while :; do sleep 0.1; done';
  const id = ok(['create', '--runtime=tsvisor', IMAGE, 'sh', '-c', script]).trim();
  const status = () => ok(['inspect', '-f', '{{.State.Status}}', id]).trim();
  assert.strictEqual(status(), 'created');
  ok(['start', id]);
  await until('the container to start', () => ok(['logs', id]).includes('started'));
  assert.strictEqual(status(), 'running');
  assert.match(ok(['ps', '--filter', `id=${id}`]), /Up /);

  // exec: another process in the same sandbox, with its exit status.
  assert.strictEqual(ok(['exec', id, 'sh', '-c', 'echo in $(hostname)']), `in ${id.slice(0, 12)}\n`);
  assert.strictEqual(docker(['exec', id, 'sh', '-c', 'exit 4']).status, 4);
  // The exec sees the first process: one PID namespace.
  assert.match(ok(['exec', id, 'ps']), /sh -c trap/);

  // top: the host processes standing for the container (the sandbox process and the platform's stubs).
  const top = ok(['top', id]);
  const pids = JSON.parse(childProcess.execFileSync(process.execPath, [h.TSVISOR, '--root', path.join(dir, 'exec', 'runtime-runc', 'moby'), 'ps', '--format', 'json', id], { encoding: 'utf8' }));
  assert.ok(pids.length >= 2, `host pids ${pids}`);
  assert.match(top, /tsvisor\.js .* create .*/, 'the sandbox process is the create the shim ran');
  // The state pid is the create the shim ran; a confined sandbox's Sentry (sandbox-init, below it) is not among the pids docker top shows.
  const sandbox = sandboxProcesses(id);
  assert.ok(sandbox.includes(pids[0]), `the sandbox process ${pids[0]} of ${sandbox}`);
  assert.deepStrictEqual(sandbox.filter((p) => pids.includes(p)), [pids[0]], 'one sandbox process among the pids');
  assert.doesNotMatch(top, /sandbox-init|unshare|gofer/, 'the Sentry, the Gofer and unshare are the runtime\'s, not the container\'s');

  ok(['kill', '-s', 'USR1', id]);
  await until('USR1 to arrive', () => ok(['logs', id]).includes('got USR1'));
  assert.strictEqual(status(), 'running');

  ok(['pause', id]);
  assert.strictEqual(status(), 'paused');
  assert.match(ok(['ps', '--filter', `id=${id}`]), /\(Paused\)/);
  const before = ok(['logs', id]);
  ok(['unpause', id]);
  assert.strictEqual(status(), 'running');
  assert.strictEqual(before.includes('got TERM'), false);

  // stop: SIGTERM, which the trap handles.
  ok(['stop', '-t', '20', id]);
  assert.strictEqual(ok(['wait', id]).trim(), '9');
  assert.match(ok(['logs', id]), /got TERM/);
  assert.strictEqual(status(), 'exited');
  assert.match(ok(['ps', '-a', '--filter', `id=${id}`]), /Exited \(9\)/);
  ok(['rm', id]);
  assert.deepStrictEqual(sandboxProcesses(id), []);
  assert.ok(!fs.existsSync(path.join(dir, 'exec', 'runtime-runc', 'moby', id)), 'the runtime state is gone');

  // An init without a SIGTERM handler ignores it (Linux's rule from outside its PID namespace): stop then kills.
  const id2 = ok(['run', '-d', '--runtime=tsvisor', IMAGE, 'sleep', '1000']).trim();
  const t0 = Date.now();
  ok(['stop', '-t', '1', id2]);
  assert.ok(Date.now() - t0 >= 900, 'stop waited for its timeout');
  assert.strictEqual(ok(['wait', id2]).trim(), '137');
  ok(['rm', id2]);

  // docker wait returns the exit status of a container that ends by itself.
  const id3 = ok(['run', '-d', '--runtime=tsvisor', IMAGE, 'sh', '-c', 'sleep 0.5; exit 6']).trim();
  assert.strictEqual(ok(['wait', id3]).trim(), '6');
  ok(['rm', id3]);
  // rm -f of a running container.
  const id4 = ok(['run', '-d', '--runtime=tsvisor', IMAGE, 'sleep', '1000']).trim();
  ok(['rm', '-f', id4]);
  await until('its sandbox process to end', () => sandboxProcesses(id4).length === 0);
});

/** tty_driver.py's steps, from its output (each "name: ok"), and the command's exit status. */
function driveTty(args) {
  const r = childProcess.spawnSync('python3', [path.join(__dirname, 'docker', 'tty_driver.py'), DOCKER, '-H', `unix://${sock}`, ...args], {
    encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL',
  });
  const text = r.stdout ?? '';
  const head = text.split('--- transcript')[0];
  for (const step of ['prompt', 'tty', 'size', 'interrupt', 'suspend']) assert.match(head, new RegExp(`^${step}: ok$`, 'm'), `step ${step}\n${text}\n${r.stderr}`);
  assert.match(head, /^exit: 5$/m, `the shell's exit status\n${text}`);
}

test('docker run -it and exec -it: an interactive shell on a terminal (size, ^C, ^Z, exit)', { timeout: 240_000 }, (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  if (!h.needTools(t, ['python3'])) return;
  driveTty(['run', '-it', '--rm', '--runtime=tsvisor', IMAGE, 'sh']);
  const id = ok(['run', '-d', '--runtime=tsvisor', IMAGE, 'sleep', '1000']).trim();
  driveTty(['exec', '-it', id, 'sh']);
  ok(['rm', '-f', id]);
});

test('containerd: ctr run --runc-binary tsvisor (the runc v2 shim), ctr task exec', { timeout: 180_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  if (!h.needTools(t, ['ctr'])) return;
  // The containerd dockerd started, in a namespace of its own; the image from `docker save`.
  const ctr = (args, opts = {}) => childProcess.spawnSync('ctr', ['--address', path.join(dir, 'exec', 'containerd', 'containerd.sock'), '-n', 'tsvisor-test', ...args], {
    encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', ...opts,
  });
  const must = (args) => {
    const r = ctr(args);
    assert.strictEqual(r.status, 0, `ctr ${args.join(' ')}: ${r.status}\n${r.stderr}`);
    return r.stdout;
  };
  const saved = path.join(dir, 'saved.tar');
  ok(['save', '-o', saved, IMAGE]);
  must(['image', 'import', saved]);
  const ref = `docker.io/library/${IMAGE}`;
  const bin = path.resolve(h.TSVISOR);
  assert.strictEqual(must(['run', '--rm', '--runc-binary', bin, '--cgroup', `${CGROUP_PARENT}/c1`, ref, 'c1', 'sh', '-c', 'echo hi from $(uname -r)']), `hi from ${UTS_RELEASE}\n`);
  assert.strictEqual(ctr(['run', '--rm', '--runc-binary', bin, '--cgroup', `${CGROUP_PARENT}/c2`, ref, 'c2', 'sh', '-c', 'exit 7']).status, 7);
  must(['run', '-d', '--runc-binary', bin, '--cgroup', `${CGROUP_PARENT}/c3`, ref, 'c3', 'sleep', '1000']);
  const e = ctr(['task', 'exec', '--exec-id', 'e1', 'c3', 'sh', '-c', 'echo exec; exit 3']);
  assert.strictEqual(e.stdout, 'exec\n');
  assert.strictEqual(e.status, 3);
  assert.match(must(['task', 'ls']), /c3\s+\d+\s+RUNNING/);
  must(['task', 'kill', '-s', 'KILL', 'c3']);
  await until('the task to stop', () => /c3\s+\d+\s+STOPPED/.test(must(['task', 'ls'])));
  must(['task', 'rm', 'c3']);
  must(['container', 'rm', 'c3']);
  assert.deepStrictEqual(sandboxProcesses('c3'), []);
  must(['image', 'rm', ref]);
});

test('containerd: a pod through the runc v2 shim with the CRI\'s annotations: the containers join the pause container\'s sandbox, each with its own exit status; delete lets the shim unmount its root', { timeout: 180_000 }, async (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  if (!h.needTools(t, ['ctr'])) return;
  const ctr = (args, opts = {}) => childProcess.spawnSync('ctr', ['--address', path.join(dir, 'exec', 'containerd', 'containerd.sock'), '-n', 'tsvisor-pod', ...args], {
    encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', ...opts,
  });
  const must = (args) => {
    const r = ctr(args);
    assert.strictEqual(r.status, 0, `ctr ${args.join(' ')}: ${r.status}\n${r.stderr}`);
    return r.stdout;
  };
  const saved = path.join(dir, 'saved-pod.tar');
  ok(['save', '-o', saved, IMAGE]);
  must(['image', 'import', saved]);
  const ref = `docker.io/library/${IMAGE}`;
  const bin = path.resolve(h.TSVISOR);
  // The CRI's annotations: the shim runs a pod's containers in the pause container's shim, and tsvisor in its sandbox.
  const pod = (type) => ['--annotation', `io.kubernetes.cri.container-type=${type}`, '--annotation', 'io.kubernetes.cri.sandbox-id=pause1'];
  const run = (id, extra, args, detach = false) => ['run', ...(detach ? ['-d'] : []), '--runc-binary', bin, '--cgroup', `${CGROUP_PARENT}/${id}`, ...extra, ref, id, ...args];
  t.after(() => {
    for (const id of ['k3', 'k2', 'k1', 'pause1']) {
      ctr(['task', 'kill', '-s', 'KILL', id]);
      ctr(['task', 'rm', '-f', id]);
      ctr(['container', 'rm', id]);
    }
    ctr(['image', 'rm', ref]);
  });
  must(run('pause1', pod('sandbox'), ['sleep', '1000'], true));
  must(run('k1', pod('container'), ['sleep', '1000'], true));
  // A container of the pod that exits: its status through the shim, which waits on its stand-in's pid; the pod runs on.
  const k2 = ctr(run('k2', pod('container'), ['sh', '-c', 'exit 7']));
  assert.strictEqual(k2.status, 7, k2.stderr);
  // A container of the pod killed at its own memory limit (the Sentry's charge group of it): the shim learns of
  // the OOM kill from the container's host cgroup (a /tasks/oom event, what the CRI reports as OOMKilled).
  const events = childProcess.spawn('ctr', ['--address', path.join(dir, 'exec', 'containerd', 'containerd.sock'), '-n', 'tsvisor-pod', 'events'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => events.kill('SIGKILL'));
  let seen = '';
  events.stdout.on('data', (d) => (seen += d));
  const k3 = ctr(run('k3', [...pod('container'), '--memory-limit', String(16 * 1024 * 1024)], ['sh', '-c', 'tr "\\0" a < /dev/zero | dd of=/dev/null bs=40M count=1 iflag=fullblock']));
  assert.strictEqual(k3.status, 137, k3.stderr);
  await until('the shim\'s OOM event of k3', () => /\/tasks\/oom\s.*"k3"/.test(seen));
  assert.doesNotMatch(seen, /\/tasks\/oom\s.*"(pause1|k1|k2)"/);
  events.kill('SIGKILL');
  const e = ctr(['task', 'exec', '--exec-id', 'e1', 'k1', 'sh', '-c', 'echo exec; exit 3']);
  assert.strictEqual(e.stdout, 'exec\n');
  assert.strictEqual(e.status, 3);
  // One Sentry: k1's processes are seen from the pause container's (one PID namespace); no sandbox process of k1's own.
  assert.match(must(['task', 'exec', '--exec-id', 'e2', 'pause1', 'ps']), /sleep 1000[\s\S]*sleep 1000/);
  assert.deepStrictEqual(sandboxProcesses('k1'), []);
  assert.match(must(['task', 'ls']), /k1\s+\d+\s+RUNNING/);
  must(['task', 'kill', '-s', 'KILL', 'k1']);
  await until('k1 to stop', () => /k1\s+\d+\s+STOPPED/.test(must(['task', 'ls'])));
  assert.match(must(['task', 'ls']), /pause1\s+\d+\s+RUNNING/);
});

test('podman --runtime tsvisor: run, exit status, exec', { timeout: 180_000 }, (t) => {
  const why = skipReason();
  if (why) return t.skip(why);
  if (!h.needTools(t, ['podman'])) return;
  // Storage and run state of its own (vfs), no network set-up (no host bridge), no cgroups of its own.
  const pm = path.join(dir, 'podman');
  // Runs get a cgroup parent below the test's own cgroup (podman's default, /libpod_parent, is at the hierarchies' roots).
  const parent = path.posix.join(OWN_MEMORY_CGROUP, CGROUP_PARENT, 'podman');
  const podman = (args) => childProcess.spawnSync('podman', ['--root', path.join(pm, 'root'), '--runroot', path.join(pm, 'run'), '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', path.resolve(h.TSVISOR),
    ...(args[0] === 'run' ? ['run', '--cgroup-parent', parent, ...args.slice(1)] : args)], { encoding: 'utf8', timeout: 90_000, killSignal: 'SIGKILL' });
  const must = (args) => {
    const r = podman(args);
    assert.strictEqual(r.status, 0, `podman ${args.join(' ')}: ${r.status}\n${r.stderr}`);
    return r.stdout;
  };
  must(['import', path.join(dir, 'image.tar'), 'localhost/tsvisor-busybox:test']);
  const img = 'localhost/tsvisor-busybox:test';
  assert.strictEqual(must(['run', '--rm', '--network', 'none', img, 'echo', 'hi']), 'hi\n');
  assert.strictEqual(podman(['run', '--rm', '--network', 'none', img, 'sh', '-c', 'exit 4']).status, 4);
  const id = must(['run', '-d', '--network', 'none', img, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']).trim();
  const e = podman(['exec', id, 'sh', '-c', 'echo exec; exit 2']);
  assert.strictEqual(e.stdout, 'exec\n');
  assert.strictEqual(e.status, 2);
  must(['rm', '-f', id]);
  assert.deepStrictEqual(sandboxProcesses(id), []);
  must(['rmi', img]);
});
