'use strict';
// hardening: behaviour the sandbox must share with Linux where it used to
// claim success or differ: stdio that is a host regular file, process names,
// capabilities, resource limits. Each case runs natively and in the sandbox
// and compares.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

// The command line that runs argv in the sandbox, quoted for sh.
function sandboxed(argv, opts = {}) {
  return [process.execPath, ...h.sandboxArgs(argv, opts)].map(quote).join(' ');
}
function quote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

// sh runs a host shell script in dir.
function sh(script, dir) {
  const r = childProcess.spawnSync('/bin/sh', ['-c', script], {
    cwd: dir,
    env: h.sentryEnv(),
    timeout: 120_000,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Runs script natively ($RUN removed) and with $RUN = `tsvisor do ... --`, each
// in a fresh directory holding files; returns both results and the final
// contents of the named output files.
function both(script, files, outputs) {
  const res = {};
  for (const kind of ['native', 'sandbox']) {
    const dir = h.tmpDir();
    h.writeTree(dir, files);
    const prefix = sandboxed([], { cwd: dir }); // ends with '--': the command follows
    const r = sh(script.replace(/\$RUN/g, kind === 'native' ? '' : prefix), dir);
    r.files = Object.fromEntries(outputs.map((o) => [o, fs.existsSync(path.join(dir, o)) ? fs.readFileSync(path.join(dir, o), 'latin1') : null]));
    res[kind] = r;
  }
  return res;
}

function assertSame(res, what) {
  const ctx = `${what}\nnative: ${JSON.stringify(res.native)}\nsandbox: ${JSON.stringify(res.sandbox)}`;
  assert.strictEqual(res.sandbox.status, res.native.status, `status differs: ${ctx}`);
  assert.strictEqual(res.sandbox.stdout, res.native.stdout, `stdout differs: ${ctx}`);
  assert.deepStrictEqual(res.sandbox.files, res.native.files, `files differ: ${ctx}`);
}

const LINES = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n';

test('stdio from and to a host regular file is a regular file', { timeout: 300_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().stdiofile.dynamic;
  const files = { in: 'abcdefghijklmnopqrstuvwxyz0123456789\n', big: LINES };
  const cases = [
    // seek, positional I/O, copy_file_range, sendfile, RWF_APPEND on fds 0 and 1
    [`$RUN ${bin} files < in > out 2> err`, ['out', 'err']],
    [`echo first > out; $RUN ${bin} files < in >> out 2> err`, ['out', 'err']],
    // coreutils: cat uses copy_file_range to fd 1, wc -c seeks on fd 0
    ['$RUN cat big > out', ['out']],
    ['$RUN wc -c < big', []],
    ['$RUN sh -c "cat big; cat in" >> out; $RUN cat in >> out', ['out']],
    // one description shared with the caller: the offset carries over both ways
    ['(echo a; $RUN echo b; echo c) > out', ['out']],
    ['(read x; $RUN sh -c "read y; echo \\$y"; read z; echo $x $z) < big', []],
    ['(head -c 7 > /dev/null; $RUN sh -c "head -c 5"; echo; cat) < in', []],
  ];
  for (const [script, outs] of cases) assertSame(both(script, files, outs), script);
});

test('the sandbox starts with the caller\'s resource limits', { timeout: 120_000 }, () => {
  // Soft and hard nofile set together (Node raises a lower soft limit of its own, see hostRlimits).
  const script = 'ulimit -n 4096; ulimit -Ss 4000; ulimit -Sc 0; $RUN cat /proc/self/limits; $RUN sh -c "ulimit -n; ulimit -Hn; ulimit -s"; true';
  assertSame(both(script, {}, []), script);
});

test('a soft RLIMIT_NOFILE below the hard one reaches the sandbox, also when the shell execs tsvisor', { timeout: 120_000 }, () => {
  // Node raises its own soft limit before any script runs: bin/tsvisor.js's
  // shell line hands the caller's over. Exec'd by the shell, tsvisor's parent
  // is not that shell, so the parent's limits would be the wrong answer.
  const bin = path.join(__dirname, '..', '..', 'bin', 'tsvisor.js');
  const inner = '"ulimit -Sn; ulimit -Hn; env | grep -c TSVISOR_ || true"';
  const script = `(ulimit -Sn 517; ${bin} do -- sh -c ${inner}); sh -c 'ulimit -Sn 517; exec ${bin} do -- sh -c ${inner}'`;
  const r = sh(script, h.tmpDir());
  const hard = sh('ulimit -Hn', h.tmpDir()).stdout.trim();
  assert.strictEqual(r.stdout, `517\n${hard}\n0\n`.repeat(2), JSON.stringify(r));
});

test('a program started through a symlink is found by its name (pgrep -x, pidof)', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['pgrep', 'pidof'])) return;
  // /bin/sh is a symlink to dash here: the shell must be named sh, as natively.
  const script = '$RUN sh -c \'pgrep -x sh > /dev/null && echo pgrep; pidof sh > /dev/null && echo pidof; cat /proc/$$/comm\'';
  const res = both(script, {}, []);
  assertSame(res, script);
  assert.match(res.native.stdout, /pgrep\npidof\nsh\n/);
});

test('setpriv drops to another user as natively', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['setpriv'])) return;
  if (process.getuid() !== 0) return t.skip('needs root natively');
  const script = '$RUN setpriv --reuid=65534 --regid=65534 --clear-groups id; $RUN setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all cat /proc/self/status | grep ^Cap';
  assertSame(both(script, {}, []), script);
});
