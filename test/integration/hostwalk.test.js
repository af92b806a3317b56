'use strict';
// hostwalk: the host tree under --rootfs changes while the sandbox runs.
// A host process keeps swapping the directory DIR/a for a symlink to a host
// directory outside DIR whose files hold a marker, while the sandbox reads
// DIR/a/b/secretN in a loop: the marker must never show (the host must never
// follow the swapped symlink; the Sentry resolves it inside the sandbox's
// root, where it leads nowhere). Legitimate host changes (a new file, a
// changed file, a removed file) must be seen once the revalidation window
// has passed, and a file opened before the swaps must stay readable.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const FILES = 200;
const MARKER = 'MARKER-FROM-OUTSIDE';

// The swapper: a host process flipping DIR/a between the real directory and a
// symlink to OUT until DIR/stop exists, then leaving the real directory in
// place. It creates DIR/swapping after its first flip and prints its count.
const SWAPPER = `
const fs = require('node:fs');
const [dir, out] = process.argv.slice(1);
const a = dir + '/a', real = dir + '/a.real';
const pause = new Int32Array(new SharedArrayBuffer(4));
let n = 0;
while (!fs.existsSync(dir + '/stop')) {
  fs.renameSync(a, real);
  fs.symlinkSync(out, a);
  if (n === 0) fs.writeFileSync(dir + '/swapping', '');
  fs.unlinkSync(a);
  fs.renameSync(real, a);
  n++;
  // Hold the real directory a moment, so that the sandbox's lookups see both
  // states even on a loaded machine (where its 1 s revalidation window can
  // otherwise keep landing on the symlink).
  Atomics.wait(pause, 0, 0, 2);
}
process.stdout.write(String(n));
`;

function buildTrees() {
  const root = h.tmpDir('tsvisor-hostwalk-');
  const out = h.tmpDir('tsvisor-outside-');
  fs.mkdirSync(path.join(root, 'bin'));
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
  fs.mkdirSync(path.join(out, 'b'));
  for (let i = 0; i < FILES; i++) {
    fs.writeFileSync(path.join(root, 'a', 'b', `secret${i}`), `legit${i}\n`);
    fs.writeFileSync(path.join(out, 'b', `secret${i}`), `${MARKER}\n`);
  }
  fs.writeFileSync(path.join(root, 'a', 'b', 'keep'), 'kept open\n');
  fs.writeFileSync(path.join(root, 'a', 'b', 'gone'), 'about to go\n');
  fs.writeFileSync(path.join(out, 'b', 'keep'), `${MARKER}\n`);
  return { root, out };
}

// The sandboxed script: open keep, wait for the swaps, read every secret a few
// times (also through cached dentries), then wait for the test's host changes.
const SCRIPT = `
exec 3< /a/b/keep
echo opened
while [ ! -e /swapping ]; do sleep 0.01; done
[ -e /a/b/new ] && echo new-early
ok=0; missing=0; i=0
while [ $i -lt ${FILES * 4} ] || { [ $ok -eq 0 ] && [ $i -lt ${FILES * 40} ]; }; do
  if read -r line < /a/b/secret$((i % ${FILES})); then echo "$line"; ok=$((ok+1)); else missing=$((missing+1)); fi
  i=$((i+1))
done 2>/dev/null
echo "loop ok=$ok missing=$missing"
read -r line <&3; echo "fd3: $line"
echo "loop done"
while [ ! -e /go ]; do sleep 0.01; done
# Cached entries are trusted for a short while (1 s by default): wait (5 s at most) for each change.
waitfor() { n=0; while ! eval "$1"; do n=$((n+1)); [ $n -gt 500 ] && return 1; sleep 0.01; done; }
waitfor '[ -e /a/b/new ]'; read -r line < /a/b/new && echo "new: $line"
waitfor 'read -r line < /a/b/secret0 && [ "$line" = "changed on the host" ]' 2>/dev/null; echo "changed: $line"
waitfor '[ ! -e /a/b/gone ]' && echo gone-removed || echo gone-still-there
ls /a/b | grep -c secret
`;

test('a host-side symlink swap under --rootfs never leads outside; host changes are seen', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['/bin/busybox'])) return;
  const { root, out } = buildTrees();
  const sandbox = childProcess.spawn(process.execPath,
    h.sandboxArgs(['/bin/busybox', 'sh', '-c', SCRIPT], { rootfs: root, cwd: '/', env: { PATH: '/bin' } }),
    { cwd: h.ROOT, env: h.sentryEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let swapper = null;
  let swaps = '';
  let swapperDone = null;
  let changed = false;
  const finish = new Promise((resolve) => sandbox.on('exit', (code, signal) => resolve({ code, signal })));
  const watchdog = setTimeout(() => sandbox.kill('SIGKILL'), 90_000);
  sandbox.stderr.on('data', (d) => { stderr += d; });
  sandbox.stdout.on('data', async (d) => {
    stdout += d;
    if (!swapper && stdout.includes('opened\n')) {
      swapper = childProcess.spawn(process.execPath, ['-e', SWAPPER, root, out], { stdio: ['ignore', 'pipe', 'inherit'] });
      swapper.stdout.on('data', (s) => { swaps += s; });
      swapperDone = new Promise((resolve) => swapper.on('exit', resolve));
    }
    if (swapper && !changed && stdout.includes('loop done\n')) {
      changed = true;
      fs.writeFileSync(path.join(root, 'stop'), '');
      await swapperDone;
      fs.writeFileSync(path.join(root, 'a', 'b', 'new'), 'added on the host\n');
      fs.writeFileSync(path.join(root, 'a', 'b', 'secret0'), 'changed on the host\n');
      fs.unlinkSync(path.join(root, 'a', 'b', 'gone'));
      fs.writeFileSync(path.join(root, 'go'), '');
    }
  });
  const { code, signal } = await finish;
  clearTimeout(watchdog);
  if (swapper && swapper.exitCode === null) {
    fs.writeFileSync(path.join(root, 'stop'), '');
    await swapperDone;
  }
  const ctx = `status=${code} signal=${signal}\nstdout:\n${stdout.slice(-3000)}\nstderr:\n${stderr.slice(-3000)}`;
  assert.ok(!stdout.includes(MARKER), `a file outside the rootfs was read through the swapped symlink\n${ctx}`);
  assert.strictEqual(code, 0, ctx);
  assert.ok(Number(swaps) > 0, `the host swapped DIR/a during the loop (${swaps} swaps)\n${ctx}`);
  const m = /^loop ok=(\d+) missing=(\d+)$/m.exec(stdout);
  assert.ok(m, ctx);
  assert.ok(Number(m[1]) + Number(m[2]) >= FILES * 4, ctx);
  assert.ok(Number(m[1]) > 0, `some reads landed while DIR/a was the real directory\n${ctx}`);
  for (const line of stdout.split('\n')) {
    if (line.startsWith('legit')) assert.match(line, /^legit\d+$/);
  }
  assert.doesNotMatch(stdout, /new-early/);
  assert.match(stdout, /^fd3: kept open$/m, `a file opened before the swaps stays readable\n${ctx}`);
  assert.match(stdout, /^new: added on the host$/m, `a file added on the host is seen\n${ctx}`);
  assert.match(stdout, /^changed: changed on the host$/m, `a file changed on the host is seen\n${ctx}`);
  assert.match(stdout, /^gone-removed$/m, `a file removed on the host is gone\n${ctx}`);
  assert.match(stdout, new RegExp(`^${FILES}$`, 'm'), ctx);
});
