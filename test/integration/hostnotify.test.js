'use strict';
// inotify on bind mounts reports changes made on the host
// (fsimpl/hostfs/changes.ts): test/c/hostnotify.c watches a directory and a
// file in it, then the host (this test) creates, writes, chmods, renames and
// removes entries there. The same program runs natively on one host
// directory and in the sandbox on a read-write and a read-only bind of
// another; the events must be the same, except what the sandbox does not
// watch on the host (CLOSE_WRITE: the serving process's own closes cannot be
// told apart) and repeats the host merged while the reader was slower. The
// program's own changes in the read-write bind come once each, not echoed.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

/** The host's changes, made once the program says it is ready. */
function hostChanges(dir) {
  fs.appendFileSync(path.join(dir, 'watched'), 'more\n');
  fs.chmodSync(path.join(dir, 'watched'), 0o600);
  fs.writeFileSync(path.join(dir, 'new'), '');
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.renameSync(path.join(dir, 'old'), path.join(dir, 'renamed'));
  fs.writeFileSync(path.join(dir, 'new'), 'x\n');
  fs.unlinkSync(path.join(dir, 'new'));
  fs.rmdirSync(path.join(dir, 'sub'));
}

/** Run argv (the program on dir, natively or in the sandbox), make the host's changes in dir at "ready", return its output. */
async function runWithHostChanges(argv, dir) {
  const child = childProcess.spawn(argv[0], argv.slice(1), { cwd: h.ROOT, env: h.sentryEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  let changed = false;
  child.stdout.on('data', (d) => {
    stdout += d;
    if (!changed && /^ready$/m.test(stdout)) {
      changed = true;
      hostChanges(dir);
    }
  });
  child.stderr.on('data', (d) => { stderr += d; });
  const watchdog = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 60_000);
  try {
    const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
    assert.strictEqual(code, 0, `${stdout}\n${stderr}`);
    assert.ok(changed, 'the program got ready');
    return stdout;
  } finally {
    clearTimeout(watchdog);
  }
}

/** Events without CLOSE_WRITE, consecutive repeats merged, and without the counts (which those change). */
function comparable(out) {
  const lines = out.split('\n').filter((l) => l && !/CLOSE_WRITE/.test(l) && !/^(host|own): \d+ events$/.test(l));
  return lines.filter((l, i) => l !== lines[i - 1]).join('\n');
}

function freshDir(prefix) {
  const dir = h.tmpDir(prefix);
  h.writeTree(dir, { watched: 'a\n', old: 'b\n' });
  return dir;
}

/** How the sandbox reaches the bind: itself, through the Gofer (which watches for it), and confined with the Gofer. */
const SERVED = [[], ['--gofer'], ['--confine', '--gofer']];

for (const served of SERVED) for (const mode of ['rw', 'ro']) {
  if (served.includes('--confine') && mode === 'ro') continue;
  test(`inotify on a ${mode} bind ${served.join(' ') || 'served in-process'} reports the host's changes as Linux reports them natively`, { timeout: 600_000 }, async (t) => {
    if (!h.needTools(t, ['gcc'])) return;
    const bin = h.buildPrograms().hostnotify.dynamic;
    const extra = mode === 'ro' ? ['ro'] : [];
    const nativeDir = freshDir('tsvisor-hostnotify-native-');
    const native = await runWithHostChanges([bin, nativeDir, ...extra], nativeDir);
    const sbDir = freshDir('tsvisor-hostnotify-sb-');
    const flags = [...served, '-v', `${sbDir}:/data${mode === 'ro' ? ':ro' : ''}`];
    const sandbox = await runWithHostChanges([process.execPath, ...h.sandboxArgs([bin, '/data', ...extra], { flags })], sbDir);
    assert.match(native, /dir MOVED_TO renamed cookie#1/, native);
    assert.strictEqual(comparable(sandbox), comparable(native), `sandbox:\n${sandbox}\nnative:\n${native}`);
    if (mode === 'rw') {
      // The program's own changes: each event once (the host's report of them is not forwarded again).
      const own = (s) => s.slice(s.indexOf('host: ')).split('\n').filter((l) => / mine /.test(l));
      assert.deepStrictEqual(own(sandbox), own(native), sandbox);
    }
  });
}

for (const served of SERVED.slice(0, 2)) test(`a program watching more bind-mount files than the bound gets its watches; the host holds at most 1024 for it (${served.join(' ') || 'in-process'})`, { timeout: 300_000 }, async () => {
  const dir = h.tmpDir('tsvisor-hostnotify-many-');
  for (let i = 0; i < 1100; i++) fs.writeFileSync(path.join(dir, `f${i}`), '');
  // ctypes inotify: 1100 watches, then say so and wait for the test to look.
  const script = [
    'import ctypes, os, sys',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'fd = libc.inotify_init1(0)',
    'wds = [libc.inotify_add_watch(fd, f"/data/f{i}".encode(), 2) for i in range(1100)]',
    'print("watches", sum(1 for w in wds if w > 0), flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child = childProcess.spawn(process.execPath, h.sandboxArgs(['python3', '-c', script], { flags: [...served, '-v', `${dir}:/data`] }),
    { cwd: h.ROOT, env: h.sentryEnv(), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  const watchdog = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 240_000);
  try {
    for (let i = 0; i < 2400 && !/^watches \d+\n/m.test(stdout) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(stdout, /^watches 1100$/m, stderr);
    // The Sentry's host inotify watches, from its fdinfo ('inotify wd:' lines; with --gofer, of the instance the Gofer donated).
    let hostWatches = 0;
    for (const fd of fs.readdirSync(`/proc/${child.pid}/fdinfo`)) {
      let info = '';
      try {
        info = fs.readFileSync(`/proc/${child.pid}/fdinfo/${fd}`, 'latin1');
      } catch {
        continue;
      }
      hostWatches += (info.match(/^inotify wd:/gm) ?? []).length;
    }
    assert.ok(hostWatches > 0 && hostWatches <= 1024, `${hostWatches} host watches`);
    child.stdin.end();
    assert.strictEqual(await exited, 0, stderr);
  } finally {
    clearTimeout(watchdog);
    if (child.exitCode === null) try { process.kill(-child.pid, 'SIGKILL'); } catch {}
  }
});

for (const served of SERVED.slice(0, 2)) test(`a file the host removed is gone inside as soon as its DELETE event is read (${served.join(' ') || 'in-process'})`, { timeout: 300_000 }, async () => {
  const dir = h.tmpDir('tsvisor-hostnotify-gone-');
  fs.writeFileSync(path.join(dir, 'x'), 'x\n');
  fs.mkdirSync(path.join(dir, 'd'));
  // Stat x and d (so any cache holds them), watch the directory, say ready; at the DELETE events, stat them again.
  const script = [
    'import ctypes, os, struct',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'os.stat("/data/x"); os.stat("/data/d"); os.listdir("/data")',
    'fd = libc.inotify_init1(0)',
    'assert libc.inotify_add_watch(fd, b"/data", 0x200) > 0',
    'print("ready", flush=True)',
    'gone = set()',
    'while len(gone) < 2:',
    '    buf = os.read(fd, 4096); at = 0',
    '    while at < len(buf):',
    '        wd, mask, cookie, n = struct.unpack_from("iIII", buf, at)',
    '        gone.add(buf[at + 16:at + 16 + n].rstrip(b"\\0").decode()); at += 16 + n',
    'print("exists", os.path.exists("/data/x"), os.path.exists("/data/d"), sorted(os.listdir("/data")), flush=True)',
  ].join('\n');
  const child = childProcess.spawn(process.execPath, h.sandboxArgs(['python3', '-c', script], { flags: [...served, '-v', `${dir}:/data`] }),
    { cwd: h.ROOT, env: h.sentryEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    if (/^ready$/m.test(stdout) && fs.existsSync(path.join(dir, 'x'))) {
      fs.unlinkSync(path.join(dir, 'x'));
      fs.rmdirSync(path.join(dir, 'd'));
    }
  });
  child.stderr.on('data', (d) => { stderr += d; });
  const watchdog = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 240_000);
  try {
    assert.strictEqual(await new Promise((resolve) => child.on('exit', (c) => resolve(c))), 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /^exists False False \[\]$/m, stderr);
  } finally {
    clearTimeout(watchdog);
  }
});
