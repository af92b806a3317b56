'use strict';
// A dockerd of a test's own (Debian's docker.io), as test/integration/
// docker.test.js starts it: vfs storage, its own data root, exec root, pid
// file, socket and config file (made by `tsvisor install --config`), a
// busybox image imported from a tarball (no registry), no host firewall
// changes (--iptables=false ...), containers' cgroups below the test's own.
// stop() removes its containers, stops it by its pid and cleans up.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const DOCKERD = h.which('dockerd');
// Debian's client (the daemon's version) before any other docker on PATH.
const DOCKER = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : h.which('docker');

function skipReason() {
  if (!(process.getuid && process.getuid() === 0)) return 'dockerd needs root';
  if (!DOCKERD || !DOCKER) return 'docker.io is not installed (.ci/run installs it)';
  return null;
}

async function until(what, fn, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A root file system with busybox-static, one link per applet, and extra files {path: hostFile}, as a tarball in dir. */
function imageTar(dir, extra = {}) {
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
  for (const [p, src] of Object.entries(extra)) {
    fs.copyFileSync(src, path.join(root, p));
    fs.chmodSync(path.join(root, p), 0o755);
  }
  const tar = path.join(dir, 'image.tar');
  childProcess.execFileSync('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}

class Dockerd {
  /**
   * flags: more dockerd flags; extra: files added to the image. A daemon whose
   * own containerd does not come up in time (seen once in a CI rehearsal:
   * "timeout waiting for containerd to start", while the next daemon of the
   * same run started in a second) is stopped and started once more.
   */
  static async start(opts = {}) {
    try {
      return await Dockerd.startOnce(opts);
    } catch (e) {
      process.stderr.write(`dockerd did not start, once more: ${e.message.split('\n')[0]}\n`);
      return Dockerd.startOnce(opts);
    }
  }

  static async startOnce({ flags = [], extra = {}, image = 'tsvisor-busybox:test' } = {}) {
    const d = new Dockerd();
    d.image = image;
    d.bridgeBefore = fs.existsSync('/sys/class/net/docker0');
    // Short: the daemon's sockets live under these directories (sun_path holds 107 bytes).
    d.dir = fs.mkdtempSync('/tmp/tsvd-');
    d.sock = path.join(d.dir, 'docker.sock');
    d.cgroupParent = `tsvisor-test-dockerd-${process.pid}`;
    const config = path.join(d.dir, 'daemon.json');
    fs.writeFileSync(config, JSON.stringify({ 'log-level': 'warn' }));
    // Three runtimes: tsvisor, tsvisor-confined (its Sentries confined: docs/SECURITY.md), tsvisor-hostnet (--network host).
    for (const args of [[], ['--runtime', 'tsvisor-confined', '--', '--confine'], ['--runtime', 'tsvisor-hostnet', '--', '--network', 'host']]) {
      const inst = childProcess.spawnSync(process.execPath, [h.TSVISOR, 'install', '--config', config, ...args], { encoding: 'utf8', env: h.sentryEnv() });
      assert.strictEqual(inst.status, 0, inst.stderr);
    }
    const log = fs.openSync(path.join(d.dir, 'dockerd.log'), 'w');
    d.daemon = childProcess.spawn(DOCKERD, [
      '--config-file', config, '--storage-driver=vfs', '--data-root', path.join(d.dir, 'data'), '--exec-root', path.join(d.dir, 'exec'),
      '--pidfile', path.join(d.dir, 'dockerd.pid'), '-H', `unix://${d.sock}`, '--iptables=false', '--ip6tables=false', '--ip-masq=false',
      '--cgroup-parent', d.cgroupParent, ...flags,
    ], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    await until('dockerd to answer', () => d.daemon.exitCode === null && fs.existsSync(d.sock) && d.run(['version']).status === 0, 60_000).catch(async (e) => {
      const log = d.log();
      if (d.daemon.exitCode === null) {
        // SIGTERM first: dockerd stops the containerd it started.
        d.daemon.kill('SIGTERM');
        await until('dockerd to end', () => d.daemon.exitCode !== null || d.daemon.signalCode !== null, 15_000).catch(() => d.daemon.kill('SIGKILL'));
      }
      d.removeDir();
      throw new Error(`${e.message}\n${log}`);
    });
    d.ok(['import', imageTar(d.dir, extra), image], 'import');
    return d;
  }

  log() {
    return fs.readFileSync(path.join(this.dir, 'dockerd.log'), 'utf8').slice(-3000);
  }

  run(args, opts = {}) {
    const r = childProcess.spawnSync(DOCKER, ['-H', `unix://${this.sock}`, ...args], {
      encoding: 'utf8', timeout: opts.timeout ?? 60_000, killSignal: 'SIGKILL', input: opts.input,
    });
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut: !!(r.error && r.error.code === 'ETIMEDOUT'), ms: 0 };
  }

  ok(args, what = args.join(' '), opts = {}) {
    const r = this.run(args, opts);
    assert.ok(!r.timedOut, `docker ${what} timed out`);
    assert.strictEqual(r.status, 0, `docker ${what} failed\n${h.describe(what, r)}\nstdout: ${r.stdout}`);
    return r.stdout;
  }

  async stop() {
    if (!this.daemon) return;
    const ids = this.run(['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) this.run(['rm', '-f', ...ids]);
    for (const n of this.run(['network', 'ls', '-q', '--filter', 'type=custom']).stdout.split('\n').filter(Boolean)) this.run(['network', 'rm', n]);
    const d = this.daemon;
    if (d.exitCode === null) {
      d.kill('SIGTERM');
      await until('dockerd to stop', () => d.exitCode !== null || d.signalCode !== null, 30_000).catch(() => d.kill('SIGKILL'));
    }
    this.removeDir();
    if (!this.bridgeBefore && fs.existsSync('/sys/class/net/docker0')) childProcess.spawnSync('ip', ['link', 'delete', 'docker0']);
    this.removeCgroups();
    this.daemon = null;
  }

  /** The daemon's directory, with what it mounted under it (the data root is made a private mount of itself). */
  removeDir() {
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(this.dir));
    for (const m of mounts.sort().reverse()) childProcess.spawnSync('umount', ['-l', m]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The cgroups the daemon's containers left below its parent, in every hierarchy (processes killed first). */
  removeCgroups() {
    const dirs = [];
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
        const mine = inside || e.name === this.cgroupParent;
        if (mine || depth < 3) walk(sub, depth + 1, mine);
        if (mine) dirs.push(sub);
      }
    };
    for (const ctl of fs.readdirSync('/sys/fs/cgroup')) walk(`/sys/fs/cgroup/${ctl}`, 0, false);
    for (const d of dirs) {
      try {
        for (const p of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(p), 'SIGKILL');
        fs.rmdirSync(d);
      } catch {
        // gone, or busy for a moment
      }
    }
  }
}

module.exports = { Dockerd, skipReason, until, DOCKER };
