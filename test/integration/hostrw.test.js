'use strict';
// hostrw: read-write bind mounts (`tsvisor do -v HOSTDIR:DIR`) write through
// to the host. Real programs (coreutils and busybox cp, mv, rm -r, mkdir -p,
// ln, tar x, python) and a C program of the edge cases (test/c/hostrw.c)
// run natively on one host directory and in the sandbox on a bind of
// another: output and the resulting host trees must be the same. A
// read-only bind refuses every write; host-side changes made during the run
// are seen inside; the -v flag's errors are clear.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

/** The tree under dir as lines: type, mode, size, owner, content or link target (no times, no inode numbers). */
function treeOf(dir) {
  const out = [];
  const walk = (rel) => {
    const names = fs.readdirSync(path.join(dir, rel)).sort();
    for (const name of names) {
      const p = path.join(dir, rel, name);
      const r = path.join(rel, name);
      const st = fs.lstatSync(p);
      let what = '';
      if (st.isSymbolicLink()) what = `-> ${fs.readlinkSync(p)}`;
      else if (st.isFile()) what = fs.readFileSync(p).toString('base64').slice(0, 64);
      out.push(`${r} ${st.mode.toString(8)} ${st.isDirectory() ? '-' : st.size} ${st.uid}:${st.gid} ${st.nlink} ${what}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out.join('\n');
}

function freshPair(prefix) {
  return { native: h.tmpDir(`${prefix}-native-`), sandbox: h.tmpDir(`${prefix}-sb-`) };
}

/** Run script with sh in dir natively, and in the sandbox on a bind of the other dir at /data; compare. */
function compareScript(t, script, opts = {}) {
  const dirs = freshPair('tsvisor-hostrw');
  if (opts.setup) {
    opts.setup(dirs.native);
    opts.setup(dirs.sandbox);
  }
  const native = h.runNative(['sh', '-c', `cd "$0" && ${script}`, dirs.native], { timeout: 60_000 });
  const sb = h.runSandbox(['sh', '-c', `cd "$0" && ${script}`, '/data'], { flags: ['-v', `${dirs.sandbox}:/data`], timeout: 60_000 });
  assert.strictEqual(sb.stdout, native.stdout, h.describe('sandbox', sb));
  assert.strictEqual(sb.status, native.status, h.describe('sandbox', sb));
  assert.strictEqual(treeOf(dirs.sandbox), treeOf(dirs.native), 'the host trees agree');
  return dirs;
}

function sourceTree(dir) {
  h.writeTree(dir, { 'src/a.txt': 'alpha\n', 'src/sub/b.txt': 'beta\n', 'src/sub/deep/c.bin': 'x'.repeat(70000) });
  fs.symlinkSync('sub/b.txt', path.join(dir, 'src', 'lnk'));
  fs.chmodSync(path.join(dir, 'src', 'a.txt'), 0o751);
}

test('the edge cases of host writes match Linux (test/c/hostrw.c, native tmp dir vs rw bind)', { timeout: 120_000 }, () => {
  const bin = h.buildPrograms().hostrw.dynamic;
  const dirs = freshPair('tsvisor-hostrw-c');
  const native = h.runNative([bin, dirs.native]);
  const sb = h.runSandbox([bin, '/data'], { flags: ['-v', `${dirs.sandbox}:/data`] });
  assert.strictEqual(native.status, 0, h.describe('native', native));
  assert.strictEqual(sb.stdout, native.stdout, h.describe('sandbox', sb));
  assert.strictEqual(sb.status, 0, h.describe('sandbox', sb));
  assert.match(sb.stdout, /^unlinked: \[01234567abcdefghijklmnop\]$/m);
  assert.match(sb.stdout, /^m: late$/m, 'a MAP_SHARED write reaches the file');
  assert.strictEqual(treeOf(dirs.sandbox), treeOf(dirs.native));
});

test('coreutils: cp -a, mkdir -p, mv, ln, ln -s, rm -r, chmod write the host tree as natively', { timeout: 120_000 }, (t) => {
  compareScript(t, [
    'mkdir -p x/y/z', 'cp -a src dst', 'cp -r src copy', 'mv copy x/y/z/moved', 'ln dst/a.txt hard', 'ln -s dst/sub soft',
    'chmod 600 dst/sub/b.txt', 'echo appended >> hard', 'cat dst/a.txt', 'rm -r x/y', 'mv dst/sub dst/sub2', 'cat soft/b.txt 2>&1; echo $?',
    'ls -R | sort', 'find . -type f | sort | xargs md5sum',
  ].join(' && '), { setup: sourceTree });
});

test('busybox: tar x into the bind, cp, mv, rm -rf as natively', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['/bin/busybox'])) return;
  const bb = '/bin/busybox';
  const tarball = path.join(h.tmpDir('tsvisor-hostrw-tar-'), 't.tar');
  const srcDir = h.tmpDir('tsvisor-hostrw-tarsrc-');
  sourceTree(srcDir);
  childProcess.execFileSync('tar', ['-C', srcDir, '-cf', tarball, 'src']);
  // The tarball is read through a read-only bind.
  const dirs = freshPair('tsvisor-hostrw-bb');
  const script = (tb) => `cd "$0" && ${bb} tar xf ${tb} && ${bb} cp -r src c2 && ${bb} mv c2 c3 && ${bb} rm -rf src/sub && ${bb} ls -R . | ${bb} sort`;
  const native = h.runNative(['sh', '-c', script(tarball), dirs.native]);
  const sb = h.runSandbox(['sh', '-c', script('/tarball/t.tar'), '/data'], { flags: ['-v', `${dirs.sandbox}:/data`, '-v', `${path.dirname(tarball)}:/tarball:ro`] });
  assert.strictEqual(sb.stdout, native.stdout, h.describe('sandbox', sb));
  assert.strictEqual(sb.status, 0, h.describe('sandbox', sb));
  assert.strictEqual(treeOf(dirs.sandbox), treeOf(dirs.native));
});

test('python writes (open/write/os.replace/os.makedirs/shutil.rmtree) reach the host', { timeout: 120_000 }, (t) => {
  if (!fs.existsSync('/usr/bin/python3')) return t.skip('no /usr/bin/python3');
  const py = [
    'import os, shutil, json',
    'os.makedirs("p/q/r", exist_ok=True)',
    'open("p/data.json","w").write(json.dumps({"k": list(range(5))}))',
    'open("p/tmp","wb").write(b"\\x00\\x01" * 5000)',
    'os.replace("p/tmp", "p/q/final")',
    'f = open("p/log", "a"); [f.write("line %d\\n" % i) for i in range(100)]; f.close()',
    'shutil.rmtree("p/q/r")',
    'os.symlink("data.json", "p/ln")',
    'print(sorted(os.listdir("p")), os.path.getsize("p/q/final"), json.load(open("p/ln")))',
  ].join('\n');
  compareScript(t, `/usr/bin/python3 -c '${py}'`);
});

test('files the sandbox creates get the creating task\'s ids on the host (identity mapping, as runc as root)', { timeout: 60_000 }, (t) => {
  if (process.getuid() !== 0) return t.skip('needs root');
  if (!fs.existsSync('/usr/bin/python3')) return t.skip('no /usr/bin/python3');
  const dir = h.tmpDir('tsvisor-hostrw-own-');
  fs.chmodSync(dir, 0o777);
  const py = 'import os; os.setgid(1001); os.setuid(1000); open("/data/f","w").write("x"); os.mkdir("/data/d"); os.symlink("f", "/data/l")';
  const sb = h.runSandbox(['/usr/bin/python3', '-c', py], { flags: ['-v', `${dir}:/data`] });
  assert.strictEqual(sb.status, 0, h.describe('sandbox', sb));
  for (const n of ['f', 'd', 'l']) {
    const st = fs.lstatSync(path.join(dir, n));
    assert.deepStrictEqual([st.uid, st.gid], [1000, 1001], n);
  }
  assert.strictEqual(fs.statSync(path.join(dir, 'f')).mode & 0o777, 0o644, 'the sandbox umask, not the host\'s');
});

test('a read-only bind (:ro) refuses every write with EROFS and leaves the host tree alone', { timeout: 60_000 }, () => {
  const dir = h.tmpDir('tsvisor-hostrw-ro-');
  h.writeTree(dir, { 'f': 'orig\n', 'd/g': 'g\n' });
  const before = treeOf(dir);
  const ops = ['echo x > /data/f', 'echo x > /data/new', 'mkdir /data/n', 'rm /data/f', 'mv /data/f /data/h', 'ln -s f /data/s', 'ln /data/f /data/l',
    'chmod 777 /data/f', 'touch /data/f', 'truncate -s 0 /data/f', 'rmdir /data/d', 'mkfifo /data/p'];
  const script = ops.map((op) => `if ${op} 2>/dev/null; then echo "ok: ${op}"; else echo "refused"; fi`).join('; ') + '; cat /data/f; grep " /data " /proc/mounts | cut -d" " -f4 | cut -d, -f1';
  const sb = h.runSandbox(['sh', '-c', script], { flags: ['-v', `${dir}:/data:ro`] });
  assert.strictEqual(sb.status, 0, h.describe('sandbox', sb));
  assert.strictEqual(sb.stdout, `${'refused\n'.repeat(ops.length)}orig\nro\n`);
  const py = h.runSandbox(['/usr/bin/python3', '-c', 'import os\ntry:\n  open("/data/f","a")\nexcept OSError as e:\n  print(e.errno)'], { flags: ['-v', `${dir}:/data:ro`] });
  assert.strictEqual(py.stdout, '30\n', 'EROFS');
  assert.strictEqual(treeOf(dir), before);
});

test('rename across the bind and the sandbox\'s own tree is EXDEV; mv falls back to copying', { timeout: 60_000 }, () => {
  const dir = h.tmpDir('tsvisor-hostrw-xdev-');
  h.writeTree(dir, { f: 'content\n' });
  const py = 'import os\ntry:\n  os.rename("/data/f", "/tmp/f")\nexcept OSError as e:\n  print(e.errno)';
  const sb = h.runSandbox(['sh', '-c', `/usr/bin/python3 -c '${py}' && mv /data/f /tmp/f && cat /tmp/f && echo made > /tmp/g && mv /tmp/g /data/g`],
    { flags: ['-v', `${dir}:/data`] });
  assert.strictEqual(sb.stdout, '18\ncontent\n', h.describe('sandbox', sb));
  assert.deepStrictEqual(fs.readdirSync(dir), ['g']);
  assert.strictEqual(fs.readFileSync(path.join(dir, 'g'), 'utf8'), 'made\n');
});

test('host-side changes to a bind during the run are seen inside', { timeout: 60_000 }, async () => {
  const dir = h.tmpDir('tsvisor-hostrw-live-');
  h.writeTree(dir, { f: 'before\n' });
  const script = [
    'cat /data/f', 'ls /data', 'echo ready > /data/ready.tmp', 'mv /data/ready.tmp /data/ready',
    'n=0; while [ ! -e /data/go ] && [ $n -lt 1000 ]; do sleep 0.01; n=$((n+1)); done',
    'waitfor() { n=0; while ! eval "$1"; do n=$((n+1)); [ $n -gt 500 ] && return 1; sleep 0.01; done; }',
    'waitfor \'[ "$(cat /data/f)" = "after on the host" ]\'; cat /data/f',
    'waitfor \'[ -e /data/new ]\'; cat /data/new',
    'waitfor \'[ ! -e /data/gone ]\' && echo gone-removed',
    'waitfor \'[ -d /data/newdir ]\'; ls /data/newdir',
  ].join('\n');
  h.writeTree(dir, { gone: 'x' });
  const child = childProcess.spawn(process.execPath, h.sandboxArgs(['sh', '-c', script], { flags: ['-v', `${dir}:/data`] }),
    { cwd: h.ROOT, env: h.sentryEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const watchdog = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 50_000);
  try {
    for (let i = 0; i < 2000 && !fs.existsSync(path.join(dir, 'ready')); i++) await new Promise((r) => setTimeout(r, 10));
    assert.strictEqual(fs.readFileSync(path.join(dir, 'ready'), 'utf8'), 'ready\n', 'a write from inside reached the host');
    fs.writeFileSync(path.join(dir, 'f'), 'after on the host\n');
    fs.writeFileSync(path.join(dir, 'new'), 'added on the host\n');
    fs.unlinkSync(path.join(dir, 'gone'));
    fs.mkdirSync(path.join(dir, 'newdir'));
    fs.writeFileSync(path.join(dir, 'newdir', 'inside'), '');
    fs.writeFileSync(path.join(dir, 'go'), '');
    const code = await done;
    assert.strictEqual(code, 0, stderr);
    assert.strictEqual(stdout, 'before\nf\ngone\nafter on the host\nadded on the host\ngone-removed\ninside\n', stderr);
  } finally {
    clearTimeout(watchdog);
    if (child.exitCode === null) try { process.kill(-child.pid, 'SIGKILL'); } catch {}
  }
});

test('tsvisor do -v: errors for a missing host dir, a relative DIR, an unknown option', () => {
  const dir = h.tmpDir('tsvisor-hostrw-err-');
  const cases = [
    [`${dir}/missing:/data`, /does not exist/],
    [`${dir}:data`, /not an absolute path/],
    [`${dir}:/data:rx`, /unknown option "rx"/],
    [`${dir}`, /wants HOSTDIR:DIR/],
  ];
  for (const [spec, re] of cases) {
    const r = h.runSandbox(['true'], { flags: ['-v', spec] });
    assert.notStrictEqual(r.status, 0, spec);
    assert.match(r.stderr, re, spec);
  }
  // A single file binds too (as docker run -v FILE:/path), read-write.
  fs.writeFileSync(path.join(dir, 'one'), 'one\n');
  const r = h.runSandbox(['sh', '-c', 'cat /etc/one; echo two >> /etc/one'], { flags: ['--volume', `${dir}/one:/etc/one`] });
  assert.strictEqual(r.stdout, 'one\n', h.describe('sandbox', r));
  assert.strictEqual(fs.readFileSync(path.join(dir, 'one'), 'utf8'), 'one\ntwo\n');
});

// The host racer of the escape test: swaps DIR/a (a directory) with a symlink
// to OUT and DIR/f (a file) with a symlink to OUT/secret until DIR/stop.
const RACER = `
const fs = require('node:fs');
const [dir, out] = process.argv.slice(1);
let n = 0;
const quiet = (f) => { try { f(); } catch {} };
while (!fs.existsSync(dir + '/stop')) {
  quiet(() => fs.renameSync(dir + '/a', dir + '/a.real'));
  quiet(() => fs.symlinkSync(out, dir + '/a'));
  quiet(() => fs.renameSync(dir + '/f', dir + '/f.real'));
  quiet(() => fs.symlinkSync(out + '/secret', dir + '/f'));
  quiet(() => fs.unlinkSync(dir + '/a'));
  quiet(() => fs.renameSync(dir + '/a.real', dir + '/a'));
  quiet(() => fs.unlinkSync(dir + '/f'));
  quiet(() => fs.renameSync(dir + '/f.real', dir + '/f'));
  n++;
}
process.stdout.write(String(n));
`;

/** Every entry under dir with its metadata and content, times included: any change shows. */
function snapshot(dir) {
  const out = [];
  const walk = (rel) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const p = path.join(dir, rel, name);
      const st = fs.lstatSync(p);
      const data = st.isFile() ? fs.readFileSync(p, 'latin1') : st.isSymbolicLink() ? fs.readlinkSync(p) : '';
      out.push(`${path.join(rel, name)} ${st.mode} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${st.ctimeMs} ${data}`);
      if (st.isDirectory()) walk(path.join(rel, name));
    }
  };
  walk('');
  return out;
}

// Through the Gofer (TSVISOR_GOFER=1, test/integration/gofer.test.js runs this file so) every change is a round trip: fewer rounds fit the watchdog.
const ESCAPE_ROUNDS = process.env.TSVISOR_GOFER === '1' ? '60' : '300';

test('hostile: racing renames and symlink swaps (on the host and in the sandbox) never make a write or read leave the bind', { timeout: 180_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const top = h.tmpDir('tsvisor-hostrw-escape-');
  const bind = path.join(top, 'bind');
  const out = path.join(top, 'outside');
  const rootfs = path.join(top, 'rootfs');
  h.writeTree(out, { secret: 'OUTSIDE-MARKER\n', 'sub/deep': 'OUTSIDE-MARKER deep\n' });
  h.writeTree(bind, { 'a/secret': 'inside\n', 'a/sub/deep': 'inside deep\n', f: 'inside f\n', up: { symlink: '..' } });
  fs.mkdirSync(rootfs);
  const bin = path.join(rootfs, 'escape');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'hostrw_escape.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  // Let the test's own snapshot settle its atime-free view: nothing below reads out/ but the snapshot.
  const before = snapshot(out);
  const racer = childProcess.spawn(process.execPath, ['-e', RACER, bind, out], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  let swaps = '';
  racer.stdout.on('data', (d) => { swaps += d; });
  const racerDone = new Promise((resolve) => racer.on('exit', resolve));
  let r;
  try {
    r = await new Promise((resolve) => {
      const child = childProcess.spawn(process.execPath, h.sandboxArgs(['/escape', out, ESCAPE_ROUNDS], { rootfs, cwd: '/', rawEnv: true, env: {}, flags: ['-v', `${bind}:/data`] }),
        { cwd: h.ROOT, env: h.sentryEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      const watchdog = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 150_000);
      child.on('exit', (code) => { clearTimeout(watchdog); resolve({ code, stdout, stderr }); });
    });
  } finally {
    fs.writeFileSync(path.join(bind, 'stop'), '');
    await racerDone;
  }
  const ctx = `status=${r.code}\nstdout:\n${r.stdout.slice(-2000)}\nstderr:\n${r.stderr.slice(-2000)}`;
  assert.doesNotMatch(r.stdout, /LEAK/, ctx);
  assert.strictEqual(r.code, 0, ctx);
  const m = /^ops=(\d+) succeeded=(\d+) leaks=0$/m.exec(r.stdout);
  assert.ok(m && Number(m[2]) > 0, `some writes succeeded inside the bind\n${ctx}`);
  assert.ok(Number(swaps) > 0, 'the host raced');
  assert.deepStrictEqual(snapshot(out), before, 'nothing outside the bind was created, written or changed');
  assert.deepStrictEqual(fs.readdirSync(top).sort(), ['bind', 'outside', 'rootfs'], 'nothing created next to the bind');
  assert.deepStrictEqual(fs.readdirSync(rootfs), ['escape'], 'the rootfs is read-only to the sandbox (its overlay took any write)');
});

test('device nodes are never made on the host (EPERM); FIFOs and Unix sockets are, and work inside', { timeout: 60_000 }, () => {
  const dir = h.tmpDir('tsvisor-hostrw-nodes-');
  const py = 'import socket\ns=socket.socket(socket.AF_UNIX); s.bind("/data/sock"); s.listen(1)\nc=socket.socket(socket.AF_UNIX); c.connect("/data/sock"); a,_=s.accept(); c.send(b"hi"); print(a.recv(2).decode())';
  const sb = h.runSandbox(['sh', '-c', `mknod /data/null c 1 3 2>&1; mknod /data/blk b 8 0 2>&1; mkfifo /data/fifo && (echo through > /data/fifo &) && cat /data/fifo; /usr/bin/python3 -c '${py}'`],
    { flags: ['-v', `${dir}:/data`] });
  assert.match(sb.stdout, /mknod: \/data\/null: Operation not permitted\nmknod: \/data\/blk: Operation not permitted\nthrough\nhi\n/, h.describe('sandbox', sb));
  assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['fifo', 'sock']);
  assert.ok(fs.lstatSync(path.join(dir, 'fifo')).isFIFO());
  assert.ok(fs.lstatSync(path.join(dir, 'sock')).isSocket());
});

test('rootless: a Sentry run by an unprivileged user writes the bind as that user; chown inside is the host\'s EPERM', { timeout: 60_000 }, (t) => {
  if (process.getuid() !== 0) return t.skip('needs root to switch to an unprivileged user');
  if (!h.which('setpriv')) return t.skip('no setpriv');
  const dir = h.tmpDir('tsvisor-hostrw-rootless-');
  fs.chmodSync(path.dirname(dir), 0o755);
  fs.chownSync(dir, 65534, 65534);
  const r = childProcess.spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath,
    ...h.sandboxArgs(['sh', '-c', 'echo one > /data/f; echo two > /data/f; cat /data/f; mkdir /data/d; ln -s f /data/l; chown 1000 /data/f 2>&1; echo "chown $?"'],
      { flags: ['-v', `${dir}:/data`], env: { HOME: '/' } })],
  { cwd: '/', env: { ...h.sentryEnv(), HOME: '/' }, encoding: 'utf8', timeout: 50_000, killSignal: 'SIGKILL' });
  assert.strictEqual(r.stdout, 'two\nchown: changing ownership of \'/data/f\': Operation not permitted\nchown 1\n', `${r.status}\n${r.stderr}`);
  for (const n of ['f', 'd', 'l']) {
    const st = fs.lstatSync(path.join(dir, n));
    assert.deepStrictEqual([st.uid, st.gid], [65534, 65534], n);
  }
});

test('MAP_SHARED writes of a program that exits without munmap or close reach the host file', { timeout: 60_000 }, (t) => {
  if (!fs.existsSync('/usr/bin/python3')) return t.skip('no /usr/bin/python3');
  const dir = h.tmpDir('tsvisor-hostrw-mmap-');
  fs.writeFileSync(path.join(dir, 'f'), '0'.repeat(8192));
  const py = 'import mmap, os\nf = open("/data/f", "r+b"); m = mmap.mmap(f.fileno(), 8192)\nm[0:4] = b"abcd"; m[4096:4100] = b"efgh"\nos._exit(0)';
  const sb = h.runSandbox(['/usr/bin/python3', '-c', py], { flags: ['-v', `${dir}:/data`] });
  assert.strictEqual(sb.status, 0, h.describe('sandbox', sb));
  const data = fs.readFileSync(path.join(dir, 'f'), 'latin1');
  assert.strictEqual(data.slice(0, 6), 'abcd00');
  assert.strictEqual(data.slice(4096, 4102), 'efgh00');
  assert.strictEqual(data.length, 8192);
});
