'use strict';
// --strace against the host's strace -f: test/c/stracecalls.c runs each mode
// natively under `strace -f -o FILE` and under `tsvisor do --strace`. The
// lines each process prints between its BEGIN and END markers must be the
// same, once pids, addresses, alignment and the split of a blocked call into
// "<unfinished ...>" and "<... resumed>" lines are normalised away (where the
// split falls depends on timing, in both tracers).

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

// parse turns trace lines into {pid, text}; lines without a pid belong to the first process.
function parse(lines, firstPid) {
  const out = [];
  for (const line of lines) {
    let m = /^\[pid (\d+)\] (.*)$/.exec(line) || /^(\d+) +(.*)$/.exec(line);
    if (m) out.push({ pid: Number(m[1]), text: m[2] });
    else if (/^([a-z_0-9]+\(|<\.\.\. |--- |\+\+\+ )/.test(line)) out.push({ pid: firstPid, text: line });
  }
  return out;
}

// sequences groups the lines by process (main first), merges unfinished and
// resumed halves, keeps what lies between the markers, and normalises.
function sequences(entries) {
  const main = entries.find((e) => e.text.startsWith('write(1, "BEGIN')).pid;
  const byPid = new Map();
  for (const e of entries) {
    if (!byPid.has(e.pid)) byPid.set(e.pid, []);
    byPid.get(e.pid).push(e.text);
  }
  const labels = new Map([[main, 'P0']]);
  for (const pid of byPid.keys()) if (!labels.has(pid)) labels.set(pid, `P${labels.size}`);
  const result = {};
  for (const [pid, texts] of byPid) {
    const merged = [];
    let stem = null;
    for (const t of texts) {
      if (t.endsWith(' <unfinished ...>')) {
        stem = t.slice(0, -' <unfinished ...>'.length);
        continue;
      }
      const r = /^<\.\.\. [a-z_0-9]+ resumed>(.*)$/.exec(t);
      if (r && stem !== null) {
        merged.push(stem + r[1].replace(/^ /, ''));
        stem = null;
        continue;
      }
      merged.push(t);
    }
    // The main process: BEGIN to END. A child: all of it, except what runs
    // between a successful execve and the new image's BEGIN (start-up noise).
    let on = pid !== main;
    const kept = [];
    for (const t of merged) {
      if (pid === main && t.startsWith('write(1, "BEGIN')) on = true;
      if (pid !== main && !on && t.startsWith('write(1, "BEGIN')) on = true;
      if (on && !t.startsWith('--- SIGCHLD')) kept.push(normalise(t, labels));
      if (pid === main && t.startsWith('write(1, "END')) on = false;
      if (/^execve\(.*\)\s+= 0$/.test(t)) on = false;
    }
    result[labels.get(pid)] = kept;
  }
  return result;
}

function normalise(t, labels) {
  const pid = (n) => labels.get(Number(n)) ?? 'P?';
  return t
    .replace(/^(clone\(.*\)\s+= )(\d+)$/, (_, a, n) => a + pid(n))
    .replace(/^(wait4\()(\d+)/, (_, a, n) => a + pid(n))
    .replace(/^(wait4\(.*\)\s+= )(\d+)$/, (_, a, n) => a + pid(n))
    .replace(/^((?:getpid|getppid)\(\)\s+= )(\d+)$/, (_, a, n) => a + pid(n))
    .replace(/^(kill\()(\d+)/, (_, a, n) => a + pid(n))
    .replace(/(si_pid=)(\d+)/g, (_, a, n) => a + pid(n))
    .replace(/si_([us])time=\d+/g, 'si_$1time=N')
    .replace(/0x[0-9a-f]+/g, '0xADDR')
    .replace(/\s+= /, ' = ');
}

function nativeTrace(bin, mode, cwd) {
  const out = path.join(cwd, 'trace.txt');
  const r = childProcess.spawnSync('strace', ['-f', '-o', out, bin, mode], {
    cwd, env: h.baseEnv, encoding: 'utf8', timeout: 60_000,
  });
  assert.strictEqual(r.status, 0, `native strace ${mode}: ${r.stderr}`);
  return fs.readFileSync(out, 'utf8').split('\n');
}

function sandboxTrace(bin, mode, cwd) {
  const r = h.runSandbox([bin, mode], { strace: true, cwd });
  assert.strictEqual(r.status, 0, h.describe(`--strace ${mode}`, r));
  return r.stderr.split('\n');
}

function compareMode(t, mode) {
  if (!h.needTools(t, ['gcc', 'strace'])) return null;
  const bin = h.buildPrograms().stracecalls.dynamic;
  const nativeLines = nativeTrace(bin, mode, h.tmpDir());
  const sandboxLines = sandboxTrace(bin, mode, h.tmpDir());
  const native = sequences(parse(nativeLines, 0));
  const sandbox = sequences(parse(sandboxLines, 1));
  assert.deepStrictEqual(sandbox, native, `--strace differs from strace -f for ${mode}:\n${sandboxLines.join('\n')}`);
  return { sandboxLines, native };
}

test('--strace decodes like strace -f: files, stat, iovec, signals, memory, futex, prctl, ioctl', { timeout: 120_000 }, (t) => {
  const r = compareMode(t, 'basic');
  if (!r) return;
  assert.ok(r.native.P0.length > 30, 'the comparison covers the calls');
  assert.ok(r.native.P0.some((l) => l.startsWith('newfstatat(AT_FDCWD, "f.txt", {st_mode=S_IFREG|0644, st_size=10, ...}, 0)')));
  assert.ok(r.native.P0.includes('poll([{fd=3, events=POLLIN|POLLPRI}], 1, 0) = 0 (Timeout)'), r.native.P0.join('\n'));
});

test('--strace: a blocked read is unfinished, then resumed', { timeout: 120_000 }, (t) => {
  const r = compareMode(t, 'block');
  if (!r) return;
  const text = r.sandboxLines.join('\n');
  assert.match(text, /^\[pid \d+\] read\(3,  <unfinished \.\.\.>$/m);
  assert.match(text, /^\[pid \d+\] <\.\.\. read resumed>"x", 1\) +\s= 1$/m);
});

test('--strace: an interrupted call shows ERESTARTSYS, then the signal', { timeout: 120_000 }, (t) => {
  const r = compareMode(t, 'restart');
  if (!r) return;
  const restarts = r.native.P0.filter((l) => l.endsWith('= ? ERESTARTSYS (To be restarted if SA_RESTART is set)'));
  assert.strictEqual(restarts.length, 2, r.native.P0.join('\n'));
  assert.ok(r.native.P0.includes('rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)'));
  assert.ok(r.native.P0.includes('--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=P1, si_uid=0} ---'));
});

test('--strace: execve with argv and the count of envp, wait4 status', { timeout: 120_000 }, (t) => {
  const r = compareMode(t, 'exec');
  if (!r) return;
  assert.ok(r.native.P1.some((l) => /^execve\(".*", \[".*"(\.\.\.)?, "child", "two words"\], 0xADDR \/\* 2 vars \*\/\) = 0$/.test(l)), r.native.P1.join('\n'));
  assert.ok(r.native.P0.some((l) => l.includes('[{WIFEXITED(s) && WEXITSTATUS(s) == 5}], 0, NULL) = P1')));
});

test('--strace: ERESTART_RESTARTBLOCK for a sleep, ERESTARTNOHAND for pause', { timeout: 120_000 }, (t) => {
  const r = compareMode(t, 'restart2');
  if (!r) return;
  assert.ok(r.native.P0.includes('nanosleep({tv_sec=0, tv_nsec=300000000}, NULL) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)'), r.native.P0.join('\n'));
  assert.ok(r.native.P0.includes('pause() = ? ERESTARTNOHAND (To be restarted if no handler)'), r.native.P0.join('\n'));
});

test('--strace survives hostile pointers: bad addresses are shown, never followed', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().efault.static;
  const native = h.runNative([bin]);
  const r = h.runSandbox([bin], { strace: true });
  assert.strictEqual(r.status, 0, h.describe('--strace efault', r));
  assert.strictEqual(r.stdout, native.stdout);
  assert.doesNotMatch(r.stderr, /internal error|BUG/);
  assert.match(r.stderr, /^write\(1, 0xffff800000000000, 10\) +\s= -1 EFAULT \(Bad address\)$/m);
});
