'use strict';
// Host mappings of a stub stay bounded whatever the program does within its
// own limits (test/hostile/hostmaps.c): pages whose frames do not follow
// each other in the memory file, or whose host protection differs, are each
// a host mapping, and past the host's vm.max_map_count the stub's mmap would
// fail and the Sentry kill the task. Each pattern must run to the end with
// the right data; the stubs' /proc/PID/maps, read on the host while it runs,
// and the platform's own count (--stats) stay under the budget. After the
// drops, a read-only page still reads its data and a write to it is still
// SIGSEGV with SEGV_ACCERR, as natively.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const w = require('../lib/stubwatch');

/** As the platform computes it: a quarter of the host's limit less the stub's own 16. */
function budget() {
  let max = 65530;
  try {
    max = Number(fs.readFileSync('/proc/sys/vm/max_map_count', 'latin1').trim()) || max;
  } catch {
    // Linux's default then.
  }
  return Math.max(64, Math.floor((max - 16) / 4));
}

let bin = null;
function build(t) {
  if (!h.needTools(t, ['gcc'])) return null;
  if (bin) return bin;
  const dir = h.tmpDir('tsvisor-hostmaps-');
  const out = path.join(dir, 'hostmaps');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', out, path.join(__dirname, '..', 'hostile', 'hostmaps.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  bin = out;
  return bin;
}

function mapsLines(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n').length - 1;
  } catch {
    return 0; // gone meanwhile
  }
}

async function runPattern(t, args, check = null) {
  const b = build(t);
  if (!b) return null;
  const dir = h.tmpDir('tsvisor-hostmaps-');
  const stats = path.join(dir, 'stats.json');
  const log = path.join(dir, 'debug.log');
  let most = 0;
  const r = await w.runWatched([b, ...args], {
    cwd: '/',
    flags: ['--stats', stats, '--debug-log', log],
    timeout: 240_000,
    sample(pgid) {
      for (const p of w.group(pgid)) most = Math.max(most, mapsLines(p.pid));
      return most;
    },
  });
  assert.strictEqual(r.status, 0, `hostmaps ${args.join(' ')}: ${r.status} ${r.signal}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /^ok$/m);
  if (check) check(r.stdout);
  assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs');
  const s = JSON.parse(fs.readFileSync(stats, 'utf8'));
  const limit = budget();
  assert.ok(s.hostMappingsPeak <= limit, `platform count ${s.hostMappingsPeak} over the budget ${limit}`);
  // The stub's own mappings (code, control page, stack, vDSO) come on top.
  assert.ok(most > 0 && most <= limit + 32, `a stub had ${most} host mappings (budget ${limit})`);
  return s;
}

test('fork, then the child writes every other page of a 768 MiB heap top down and drops the rest', { timeout: 300_000 }, async (t) => {
  const s = await runPattern(t, ['cow', '768']);
  // 24k pieces unbounded: the budget was reached and the mappings dropped and faulted back.
  if (s) assert.ok(s.hostEvictions > 0, 'the pattern reaches the budget');
});

test('sparse writes and drops in a 512 MiB anonymous area', { timeout: 300_000 }, async (t) => {
  await runPattern(t, ['sparse', '512']);
});

test('30000 MAP_SHARED file pages interleaved with MAP_PRIVATE ones, both written; a read-only page after the drops', { timeout: 300_000 }, async (t) => {
  const s = await runPattern(t, ['readonly', '/tmp', '30000'], (out) => {
    // Linux's answer for the read-only page (the program only maps memory and a file it deletes).
    const dir = h.tmpDir('tsvisor-hostmaps-');
    const native = childProcess.spawnSync(bin, ['readonly', dir, '30000'], { encoding: 'utf8', timeout: 120_000 });
    assert.strictEqual(native.status, 0, native.stderr);
    assert.strictEqual(out, native.stdout);
  });
  // 60000 VMAs of their own: within the program's max_map_count, four times the budget.
  if (s) assert.ok(s.hostEvictions > 0, 'the pattern reaches the budget');
});
