'use strict';
// sentry_kill: killing the Sentry (the node process running `tsvisor do`)
// with SIGKILL must leave no stub process behind: no process whose comm is
// tsvisor-stub appears that was not there before, no process the Sentry had
// started (directly or not) survives, and none has the dead Sentry as parent.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const { test } = require('node:test');
const h = require('../lib/harness');

const STUB_COMM = 'tsvisor-stub';

// processes returns a Map pid -> {ppid, comm, start} read from /proc.
function processes() {
  const out = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm is in parentheses and may contain spaces or parentheses itself.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      // fields[0] is the state, [1] the ppid, [2] the process group, [19] the start time.
      if (fields[0] === 'Z' || fields[0] === 'X') continue; // dead, only not reaped yet
      out.set(Number(name), { ppid: Number(fields[1]), pgrp: Number(fields[2]), comm, start: fields[19] });
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}

// descendants returns the processes in procs below pid.
function descendants(procs, pid) {
  const found = new Map();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, info] of procs) {
      if (found.has(p)) continue;
      if (info.ppid === pid || found.has(info.ppid)) {
        found.set(p, info);
        grew = true;
      }
    }
  }
  return found;
}

const stubPids = (procs) => new Set([...procs].filter(([, i]) => i.comm === STUB_COMM).map(([p]) => p));

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test('SIGKILL of the Sentry leaves no stub process', { timeout: 60_000 }, async () => {
  const stubsBefore = stubPids(processes());
  const sentry = childProcess.spawn(process.execPath, h.sandboxArgs(['/bin/sleep', '30']), {
    cwd: h.ROOT,
    env: h.sentryEnv(),
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  sentry.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => sentry.on('exit', (code, signal) => resolve({ code, signal })));
  let exitInfo = null;
  exited.then((e) => { exitInfo = e; });
  const tree = new Map();
  try {
    // Wait until the sandbox runs: a stub below the Sentry.
    const deadline = Date.now() + 20_000;
    let stubs = [];
    while (Date.now() < deadline && !exitInfo) {
      const procs = processes();
      const below = descendants(procs, sentry.pid);
      stubs = [...below].filter(([, i]) => i.comm === STUB_COMM);
      if (stubs.length > 0) {
        for (const [p, i] of below) tree.set(p, i);
        break;
      }
      await sleep(100);
    }
    assert.ok(stubs.length > 0,
      `no ${STUB_COMM} process appeared below the Sentry (pid ${sentry.pid}) within 20 s` +
      (exitInfo ? `; the Sentry exited early (${JSON.stringify(exitInfo)})` : '') +
      (stderr ? `\nstderr:\n${stderr}` : ''));
    await sleep(300); // let `sleep` get going inside the sandbox
    for (const [p, i] of descendants(processes(), sentry.pid)) tree.set(p, i);

    assert.strictEqual(exitInfo, null,
      `the Sentry exited by itself before it could be killed (${JSON.stringify(exitInfo)}); ` +
      `it should still be running /bin/sleep 30${stderr ? `\nstderr:\n${stderr}` : ''}`);
    const stubGroups = new Set([...tree].filter(([, i]) => i.comm === STUB_COMM).map(([, i]) => i.pgrp));
    process.kill(sentry.pid, 'SIGKILL');
    const e = await exited;
    assert.strictEqual(e.signal, 'SIGKILL');

    // Everything the Sentry started must go away, promptly.
    let survivors = [];
    let newStubs = [];
    let orphans = [];
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const procs = processes();
      survivors = [...tree].filter(([p, i]) => procs.has(p) && procs.get(p).start === i.start);
      // New stubs count only in this Sentry's stub groups: other sandboxes may
      // run on the machine at the same time.
      newStubs = [...stubPids(procs)].filter((p) => !stubsBefore.has(p) && stubGroups.has(procs.get(p).pgrp));
      orphans = [...procs].filter(([, i]) => i.ppid === sentry.pid);
      if (survivors.length === 0 && newStubs.length === 0 && orphans.length === 0) break;
      await sleep(100);
    }
    assert.deepStrictEqual(survivors.map(([p, i]) => `${p} ${i.comm}`), [],
      'processes started by the Sentry survived it');
    assert.deepStrictEqual(newStubs, [], `${STUB_COMM} processes remain`);
    assert.deepStrictEqual(orphans.map(([p]) => p), [], 'processes still name the dead Sentry as parent');
  } finally {
    // Leave nothing behind whatever happened: the Sentry's group, then any
    // process it started that is still alive.
    try { process.kill(-sentry.pid, 'SIGKILL'); } catch {}
    const procs = processes();
    for (const [p, i] of tree) {
      if (procs.has(p) && procs.get(p).start === i.start) {
        try { process.kill(p, 'SIGKILL'); } catch {}
      }
    }
  }
});
