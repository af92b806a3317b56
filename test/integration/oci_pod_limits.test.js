'use strict';
// oci_pod_limits: a pod's container is held to its own config.json limits
// inside the shared sandbox (issue 10): linux.resources.memory.limit by the
// Sentry's charge group of the container (an allocation past it OOM-kills
// within the container, as a memory cgroup's OOM), pids.limit by its pids
// controller (a fork past it fails with EAGAIN). The OOM kill is recorded
// in the container's host cgroup, as docker inspect's OOMKilled needs. The
// sandbox and the pod's other containers are unaffected, and the same
// programs under runc (the reference, with the same limits) say the same.
// What a container makes the Sentry hold for it (pipe buffers, socket
// queues, /dev/shm pages: test/hostile/chargehog.c) is charged to it.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test, after } = require('node:test');
const h = require('../lib/harness');
const { CRI_TYPE, CRI_SANDBOX, cleanup, podDir, bundle, tsv, ok, state, startSandbox } = require('../lib/oci_pod');
const { busyboxRootfs } = require('../lib/procinfo');

after(cleanup);

const MiB = 1024 * 1024;

/** What the programs of these tests print (to /shared/NAME.out): allocations past 32 MiB (dd's buffer, filled: reading /dev/zero into untouched memory costs no frame), forks past 4 tasks. */
const PROGRAMS = {
  mem: 'dd if=/dev/urandom of=/dev/null bs=48M count=1 iflag=fullblock 2>/dev/null; echo big=$?; dd if=/dev/urandom of=/dev/null bs=8M count=1 iflag=fullblock 2>/dev/null; echo small=$?',
  pids: 'for i in 1 2 3 4 5 6; do sleep 100 & echo forked $i; done',
};
const LIMITS = { mem: { memory: { limit: 32 * MiB, swap: 32 * MiB } }, pids: { pids: { limit: 4 } } };

/** The OOM kills the host recorded in container id's host cgroup (memory.oom_control on v1, memory.events on v2; 0 without a memory cgroup). */
function oomKills(dir, id) {
  const rec = JSON.parse(fs.readFileSync(path.join(dir, 'root', id, 'state.json'), 'utf8')).cgroup;
  const mem = rec?.dirs.memory;
  if (!mem) return 0;
  const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(path.join(mem, rec.version === 2 ? 'memory.events' : 'memory.oom_control'), 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** The same program under runc with the same limits: what it prints and its exit status. */
function underRunc(t, dir, name) {
  const b = path.join(dir, `runc-${name}`);
  fs.mkdirSync(b);
  busyboxRootfs(b, ['sh', 'dd', 'echo', 'sleep']);
  childProcess.execFileSync('runc', ['spec'], { cwd: b });
  const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['sh', '-c', `${PROGRAMS[name]} 2>&1`];
  spec.linux.resources = { ...spec.linux.resources, ...LIMITS[name] };
  fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(spec));
  const id = `tsvisor-test-${process.pid}-${name}`;
  const root = path.join(dir, 'runc-root');
  t.after(() => childProcess.spawnSync('runc', ['--root', root, 'delete', '--force', id]));
  const r = childProcess.spawnSync('runc', ['--root', root, 'run', '--bundle', b, id], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { out: r.stdout, status: r.status };
}

test('a container of a pod is held to its own memory and pids limits, as runc holds a container; its neighbours are not', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['runc'])) return;
  const dir = podDir();
  startSandbox(dir, 'lim');
  const sh = (name, program) => ['sh', '-c', `(${program}) > /shared/${name}.out 2>&1`];
  const member = (name, program, resources) => {
    bundle(dir, name, sh(name, program), { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'lim' }, (spec) => {
      if (resources) spec.linux.resources = { ...spec.linux.resources, ...resources };
    });
    ok(tsv(dir, ['create', '--bundle', path.join(dir, name), name]), `create ${name}`);
    ok(tsv(dir, ['start', name]), `start ${name}`);
  };
  // Memory: the 48 MiB allocation is killed (SIGKILL: 137 in the shell), the 8 MiB one fits.
  member('mem', PROGRAMS.mem, LIMITS.mem);
  assert.strictEqual(tsv(dir, ['wait', 'mem']).status, 0);
  const mem = fs.readFileSync(path.join(dir, 'shared', 'mem.out'), 'utf8');
  assert.strictEqual(mem, 'big=137\nsmall=0\n');
  // The host recorded the OOM kill in the container's own host cgroup (what containerd's shim watches for OOMKilled), not in the sandbox's.
  assert.ok(oomKills(dir, 'mem') >= 1, 'an OOM kill in the container\'s host cgroup');
  // The same allocation in a neighbour without a limit, and in the sandbox's own container: fine.
  member('free', PROGRAMS.mem, null);
  assert.strictEqual(tsv(dir, ['wait', 'free']).status, 0);
  assert.strictEqual(fs.readFileSync(path.join(dir, 'shared', 'free.out'), 'utf8'), 'big=0\nsmall=0\n');
  assert.strictEqual(ok(tsv(dir, ['exec', 'lim', 'sh', '-c', PROGRAMS.mem]), 'exec lim').stdout, 'big=0\nsmall=0\n');
  // Pids: four tasks in all (sh and three sleeps); the fourth fork fails and the shell gives up, as under runc.
  member('pids', PROGRAMS.pids, LIMITS.pids);
  const pidsStatus = tsv(dir, ['wait', 'pids']).status;
  const pids = fs.readFileSync(path.join(dir, 'shared', 'pids.out'), 'utf8');
  assert.strictEqual(pids, 'forked 1\nforked 2\nforked 3\nsh: can\'t fork: Resource temporarily unavailable\n');
  assert.strictEqual(state(dir, 'lim').status, 'running');
  for (const id of ['lim', 'free', 'pids']) assert.strictEqual(oomKills(dir, id), 0, `no OOM kill recorded for ${id}`);

  // runc, the reference: the same lines and statuses.
  const rMem = underRunc(t, dir, 'mem');
  assert.deepStrictEqual(rMem, { out: mem, status: 0 });
  const rPids = underRunc(t, dir, 'pids');
  assert.deepStrictEqual(rPids, { out: pids, status: pidsStatus });
  for (const id of ['mem', 'free', 'pids']) ok(tsv(dir, ['delete', id]), `delete ${id}`);
  ok(tsv(dir, ['delete', '--force', 'lim']), 'delete lim');
});

test('events --stats of a pod\'s container: the memory charged to it and its limits; a neighbour cannot use up its room', { timeout: 120_000 }, () => {
  const dir = podDir();
  startSandbox(dir, 'lim2');
  bundle(dir, 'hold', ['sh', '-c', 'dd if=/dev/zero of=/tmp/f bs=1M count=8 2>/dev/null; exec sleep 1000'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'lim2' }, (spec) => {
    spec.linux.resources = { ...spec.linux.resources, memory: { limit: 24 * MiB }, pids: { limit: 7 } };
  });
  ok(tsv(dir, ['create', '--bundle', path.join(dir, 'hold'), 'hold']), 'create hold');
  ok(tsv(dir, ['start', 'hold']), 'start hold');
  const stats = () => JSON.parse(ok(tsv(dir, ['events', '--stats', 'hold']), 'events hold').stdout).data;
  let s = stats();
  for (let i = 0; i < 100 && s.memory.usage.usage < 8 * MiB; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    s = stats();
  }
  // Its /tmp file (a tmpfs of its own) is charged to it; its limits are its spec's.
  assert.ok(s.memory.usage.usage >= 8 * MiB && s.memory.usage.usage < 24 * MiB, `usage ${s.memory.usage.usage}`);
  assert.strictEqual(s.memory.usage.limit, 24 * MiB);
  assert.strictEqual(s.pids.limit, 7);
  // Its room is its own: 20 MiB more in its /tmp do not fit (the write fails), 4 MiB do.
  const more = tsv(dir, ['exec', 'hold', 'sh', '-c', 'dd if=/dev/zero of=/tmp/g bs=1M count=20 2>/dev/null; echo $?; rm /tmp/g; dd if=/dev/zero of=/tmp/g bs=1M count=4 2>/dev/null; echo $?']);
  assert.match(more.stdout, /^[1-9]\d*\n0\n$/, more.stdout + more.stderr);
  assert.ok(stats().memory.usage.failcnt > 0);
  // A neighbour's allocations are not charged to it.
  bundle(dir, 'other', ['sh', '-c', 'dd if=/dev/zero of=/tmp/f bs=1M count=40 2>/dev/null; exec sleep 1000'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'lim2' });
  ok(tsv(dir, ['create', '--bundle', path.join(dir, 'other'), 'other']), 'create other');
  ok(tsv(dir, ['start', 'other']), 'start other');
  let o = JSON.parse(ok(tsv(dir, ['events', '--stats', 'other']), 'events other').stdout).data;
  for (let i = 0; i < 100 && o.memory.usage.usage < 40 * MiB; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    o = JSON.parse(ok(tsv(dir, ['events', '--stats', 'other']), 'events other').stdout).data;
  }
  assert.ok(o.memory.usage.usage >= 40 * MiB);
  assert.ok(stats().memory.usage.usage < 24 * MiB);
  for (const id of ['hold', 'other']) ok(tsv(dir, ['delete', '--force', id]), `delete ${id}`);
  ok(tsv(dir, ['delete', '--force', 'lim2']), 'delete lim2');
});

test('what a pod\'s container makes the Sentry hold for it (pipe buffers written or spliced, unix socket queues, /dev/shm, memfd and shared System V pages) is charged to its own limit, and given back', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = podDir();
  const bin = path.join(dir, 'shared', 'chargehog');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'chargehog.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  startSandbox(dir, 'lim3');
  const modes = ['pipes', 'splice', 'sockets', 'shm', 'fallocate', 'memfd'];
  bundle(dir, 'hog', ['sh', '-c', `${modes.map((m) => `/shared/chargehog ${m} > /shared/${m}.out 2>&1`).join('; ')}; touch /shared/done; exec sleep 1000`], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'lim3' }, (spec) => {
    spec.linux.resources = { ...spec.linux.resources, memory: { limit: 32 * MiB } };
  });
  ok(tsv(dir, ['create', '--bundle', path.join(dir, 'hog'), 'hog']), 'create hog');
  ok(tsv(dir, ['start', 'hog']), 'start hog');
  for (let i = 0; i < 600 && !fs.existsSync(path.join(dir, 'shared', 'done')); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  // Each stops at the container's 32 MiB (the sandbox's own limit and budget are far larger), then gets its memory back.
  const expect = { pipes: 'ENOMEM', splice: 'ENOMEM', sockets: 'ENOBUFS', shm: 'ENOMEM', fallocate: 'ENOMEM', memfd: 'ENOMEM' };
  for (const m of modes) {
    const out = fs.readFileSync(path.join(dir, 'shared', `${m}.out`), 'utf8');
    const held = /^held MiB: (\d+)$/m.exec(out);
    assert.ok(held && Number(held[1]) >= 16 && Number(held[1]) < 32, `${m}: ${out}`);
    assert.match(out, new RegExp(`^${m}: ${expect[m]}\\nheld MiB: \\d+\\nagain: ok\\nalive\\n$`), `${m}: ${out}`);
  }
  const s = JSON.parse(ok(tsv(dir, ['events', '--stats', 'hog']), 'events hog').stdout).data;
  assert.ok(s.memory.usage.failcnt >= 6, `failcnt ${s.memory.usage.failcnt}`);
  assert.ok(s.memory.usage.max >= 16 * MiB && s.memory.usage.max <= 32 * MiB, `max ${s.memory.usage.max}`);
  // All of it given back: what is left is its shell's and sleep's.
  assert.ok(s.memory.usage.usage < 8 * MiB, `usage ${s.memory.usage.usage}`);
  // System V segments of the sandbox's IPC namespace (shared, as a pod's containers share it under the CRI), touched: its pages are the toucher's, and the OOM kill is within the container.
  const sbPid = state(dir, 'lim3').pid;
  bundle(dir, 'shmhog', ['sh', '-c', '/shared/chargehog sysvshm > /shared/sysvshm.out 2>&1; echo "status $?" >> /shared/sysvshm.out'], { [CRI_TYPE]: 'container', [CRI_SANDBOX]: 'lim3' }, (spec) => {
    spec.linux.resources = { ...spec.linux.resources, memory: { limit: 32 * MiB } };
    spec.linux.namespaces = spec.linux.namespaces.map((n) => (n.type === 'ipc' ? { type: 'ipc', path: `/proc/${sbPid}/ns/ipc` } : n));
  });
  ok(tsv(dir, ['create', '--bundle', path.join(dir, 'shmhog'), 'shmhog']), 'create shmhog');
  ok(tsv(dir, ['start', 'shmhog']), 'start shmhog');
  assert.strictEqual(tsv(dir, ['wait', 'shmhog']).status, 0);
  assert.match(fs.readFileSync(path.join(dir, 'shared', 'sysvshm.out'), 'utf8'), /^(Killed\n)?status 137\n$/);
  assert.ok(oomKills(dir, 'shmhog') >= 1, 'the OOM kill recorded in its host cgroup');
  assert.strictEqual(state(dir, 'lim3').status, 'running');
  for (const id of ['hog', 'shmhog']) ok(tsv(dir, ['delete', '--force', id]), `delete ${id}`);
  ok(tsv(dir, ['delete', '--force', 'lim3']), 'delete lim3');
});
