'use strict';
// oci_pod_pause: `pause` of one container of a pod holds its processes (its
// freezer, kernel/freezer.ts) while the sandbox's and the pod's other
// containers run on; `state` says paused for that one only; resume lets it
// go on. The sequence of commands and states is compared with runc's for a
// container of its own (the reference): pause before start, resume to
// created, start refused while paused, pause twice, resume of a running
// one, SIGKILL of a paused one, delete --force.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test, after } = require('node:test');
const h = require('../lib/harness');
const { CRI_TYPE, CRI_SANDBOX, cleanup, podDir, bundle, tsv, ok, state, startSandbox, join } = require('../lib/oci_pod');
const { busyboxRootfs } = require('../lib/procinfo');

after(cleanup);

const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const counter = (name) => ['sh', '-c', `i=0; while true; do i=$((i+1)); echo $i > /shared/${name}.count; sleep 0.05; done`];

test('pause of one container of a pod holds it alone; state says paused for it only; resume lets it run on', { timeout: 120_000 }, () => {
  const dir = podDir();
  startSandbox(dir, 'pp');
  join(dir, 'a', 'pp', counter('a'));
  join(dir, 'b', 'pp', counter('b'));
  // A container that has not written its first count yet counts 0 (a loaded host starts it late).
  const count = (name) => { try { return Number(fs.readFileSync(path.join(dir, 'shared', `${name}.count`), 'utf8') || 0); } catch (e) { if (e.code === 'ENOENT') return 0; throw e; } };
  for (let i = 0; i < 100 && (count('a') < 2 || count('b') < 2); i++) sleepMs(50);
  ok(tsv(dir, ['pause', 'a']), 'pause a');
  assert.strictEqual(state(dir, 'a').status, 'paused');
  assert.strictEqual(state(dir, 'b').status, 'running');
  assert.strictEqual(state(dir, 'pp').status, 'running');
  const a0 = count('a');
  const b0 = count('b');
  sleepMs(1000);
  assert.strictEqual(count('a'), a0, 'a is held');
  assert.ok(count('b') > b0 + 3, 'b runs on');
  // The sandbox's container serves execs; the paused one does not.
  assert.strictEqual(ok(tsv(dir, ['exec', 'pp', 'echo', 'up']), 'exec pp').stdout, 'up\n');
  const ex = tsv(dir, ['exec', 'a', 'true']);
  assert.strictEqual(ex.status, 1);
  assert.match(ex.stderr, /paused/);
  ok(tsv(dir, ['resume', 'a']), 'resume a');
  assert.strictEqual(state(dir, 'a').status, 'running');
  for (let i = 0; i < 100 && count('a') <= a0 + 3; i++) sleepMs(50);
  assert.ok(count('a') > a0 + 3, 'a runs again');
  for (const id of ['a', 'b']) ok(tsv(dir, ['delete', '--force', id]), `delete ${id}`);
  ok(tsv(dir, ['delete', '--force', 'pp']), 'delete pp');
});

/** The commands of the comparison, and what each gives: its exit status, its error's words, and the state after it. */
const STEPS = [['pause'], ['resume'], ['pause'], ['start'], ['resume'], ['start'], ['resume'], ['pause'], ['pause'], ['kill', 'KILL']];

function runSteps(run, stateOf) {
  const out = [];
  for (const step of STEPS) {
    const r = run(step);
    const err = (r.stderr.match(/(?:msg="|^)([^"\n]*(?:not running|not paused|cannot start[^"\n]*))/m) ?? [])[1] ?? '';
    if (step[0] === 'kill') sleepMs(500);
    out.push([step.join(' '), r.status, err.replace(/^.*?: (?=cannot|container)/, ''), stateOf()]);
  }
  return out;
}

test('pause, resume, start and kill of a pod\'s container: the same statuses, errors and states as runc\'s', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['runc'])) return;
  const dir = podDir();
  startSandbox(dir, 'pq');
  bundle(dir, 'c', ['sleep', '1000'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'pq' });
  ok(tsv(dir, ['create', '--bundle', path.join(dir, 'c'), 'c']), 'create c');
  const ours = runSteps((step) => tsv(dir, [step[0], 'c', ...step.slice(1)]), () => state(dir, 'c').status);
  assert.strictEqual(tsv(dir, ['wait', 'c']).status, 137);
  ok(tsv(dir, ['delete', 'c']), 'delete c');
  // A paused container is deleted by --force.
  join(dir, 'd', 'pq', ['sleep', '1000']);
  ok(tsv(dir, ['pause', 'd']), 'pause d');
  ok(tsv(dir, ['delete', '--force', 'd']), 'delete --force of a paused container');
  assert.ok(!fs.existsSync(path.join(dir, 'root', 'd')));
  assert.strictEqual(state(dir, 'pq').status, 'running');

  // runc with a container of its own.
  const b = path.join(dir, 'runc-c');
  fs.mkdirSync(b);
  busyboxRootfs(b, ['sleep']);
  childProcess.execFileSync('runc', ['spec'], { cwd: b });
  const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['sleep', '1000'];
  fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(spec));
  const id = `tsvisor-test-${process.pid}-pause`;
  const root = path.join(dir, 'runc-root');
  const runc = (args) => childProcess.spawnSync('runc', ['--root', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  t.after(() => runc(['delete', '--force', id]));
  assert.strictEqual(runc(['create', '--bundle', b, id]).status, 0);
  const theirs = runSteps((step) => runc([step[0], id, ...step.slice(1)]), () => JSON.parse(runc(['state', id]).stdout).status);
  assert.deepStrictEqual(ours, theirs);
  // The sequence says something: the errors and states it went through.
  assert.deepStrictEqual(ours.map((s) => s[3]), ['paused', 'created', 'paused', 'paused', 'created', 'running', 'running', 'paused', 'paused', 'stopped']);
});
