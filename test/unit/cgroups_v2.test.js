'use strict';
// cli/cgroups.ts on a cgroup v2 host, against a fake cgroupfs directory (this
// host is cgroup v1 hybrid: its v2 hierarchy has no controllers, so the files
// runc writes on a v2 host do not exist here). What is checked is what runc
// writes for linux.resources on v2: the leaf directory at cgroupsPath
// (absolute, relative below the runtime's cgroup, systemd's slice:prefix:name),
// controllers enabled down the path one at a time and best effort,
// memory.max (the limit plus the Sentry's allowance), memory.swap.max (the
// swap alone), memory.low, cpu.weight (runc's conversion), cpu.max,
// cpuset.cpus and .mems, pids.max; what v2 lacks (swappiness) reported; the
// statistics read back; the view a cgroup mount gets; joining; and a path
// that leaves the hierarchy refused with nothing made.

const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');
const { HostCgroup, SENTRY_ALLOWANCE } = require('../../dist/cli/cgroups');
const { emptyResources, parseResources } = require('../../dist/oci/resources');

/** A fake v2 hierarchy: the root with every controller available; own is the runtime's cgroup (made, with its processes). */
function fakeV2(own = '/') {
  const mount = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-cg2-'));
  fs.writeFileSync(path.join(mount, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
  fs.writeFileSync(path.join(mount, 'cgroup.subtree_control'), '');
  if (own !== '/') {
    fs.mkdirSync(path.join(mount, own), { recursive: true });
    fs.writeFileSync(path.join(mount, own, 'cgroup.controllers'), 'cpu memory pids\n');
  }
  return { mount, layout: { version: 2, hier: new Map([['', { mount, root: '/', own }]]) } };
}

const read = (...p) => fs.readFileSync(path.join(...p), 'utf8');

function resources(linux) {
  const out = emptyResources();
  const unsupported = [];
  parseResources(linux, out, unsupported);
  return { out, unsupported };
}

test('cgroup v2: every limit written as runc writes it on v2, in the leaf at an absolute cgroupsPath', (t) => {
  const { mount, layout } = fakeV2();
  t.after(() => fs.rmSync(mount, { recursive: true, force: true }));
  const { out } = resources({
    memory: { limit: 64 * 1024 * 1024, reservation: 32 * 1024 * 1024, swap: 96 * 1024 * 1024 },
    cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
    pids: { limit: 100 },
  });
  const cg = HostCgroup.create('/kubepods/pod1/c1', 'c1', out, layout);
  const leaf = path.join(mount, 'kubepods/pod1/c1');
  assert.deepStrictEqual(cg.rec, { version: 2, dirs: { '': leaf } });
  assert.strictEqual(read(leaf, 'memory.max'), String(64 * 1024 * 1024 + SENTRY_ALLOWANCE));
  assert.strictEqual(read(leaf, 'memory.swap.max'), String(32 * 1024 * 1024), "OCI's swap is memory plus swap; v2's is the swap alone");
  assert.strictEqual(read(leaf, 'memory.low'), String(32 * 1024 * 1024));
  // runc: 1 + ((shares - 2) * 9999) / 262142
  assert.strictEqual(read(leaf, 'cpu.weight'), String(1 + Math.floor((510 * 9999) / 262142)));
  assert.strictEqual(read(leaf, 'cpu.max'), '50000 100000');
  assert.strictEqual(read(leaf, 'cpuset.cpus'), '0');
  assert.strictEqual(read(leaf, 'cpuset.mems'), '0');
  assert.strictEqual(read(leaf, 'pids.max'), String(2 * 100 + 64));
  assert.ok(!fs.existsSync(path.join(leaf, 'memory.swappiness')));
  assert.deepStrictEqual(cg.warnings, []);
  // Controllers enabled at every level above the leaf (not in the leaf), one write per controller: a fake file keeps the last.
  assert.strictEqual(read(mount, 'cgroup.subtree_control'), '+pids');
  assert.ok(!fs.existsSync(path.join(leaf, 'cgroup.subtree_control')));
  // Joining writes the pid to cgroup.procs.
  cg.join(4242);
  assert.strictEqual(read(leaf, 'cgroup.procs'), '4242');
  // A cgroup mount shows the one directory, read-only.
  const view = cg.viewMounts({ kind: 'cgroup', destination: '/sys/fs/cgroup', source: 'cgroup', readonly: false, noexec: true, nosuid: true, nodev: true, data: '' });
  assert.deepStrictEqual(view.map((m) => [m.kind, m.destination, m.source, m.readonly]), [['bind', '/sys/fs/cgroup', leaf, true]]);
});

test('cgroup v2: unlimited quota and swap, shares alone, and swappiness (v2 has none) reported', (t) => {
  const { mount, layout } = fakeV2();
  t.after(() => fs.rmSync(mount, { recursive: true, force: true }));
  const { out } = resources({ memory: { limit: 1 << 30, swap: -1, swappiness: 10 }, cpu: { quota: -1, period: 20000 } });
  const cg = HostCgroup.create('/a', 'a', out, layout);
  const leaf = path.join(mount, 'a');
  assert.strictEqual(read(leaf, 'memory.swap.max'), 'max');
  assert.strictEqual(read(leaf, 'cpu.max'), 'max 20000');
  assert.ok(!fs.existsSync(path.join(leaf, 'cpu.weight')));
  assert.ok(!fs.existsSync(path.join(leaf, 'pids.max')));
  assert.deepStrictEqual(cg.warnings, ['linux.resources.memory.swappiness: cgroup v2 has none; not applied']);
});

test('cgroup v2: paths: none (tsvisor/ID below the runtime\'s own), relative, systemd\'s slice:prefix:name; outside the hierarchy refused, nothing made', (t) => {
  const { mount, layout } = fakeV2('/user.slice/session-1.scope');
  t.after(() => fs.rmSync(mount, { recursive: true, force: true }));
  const none = HostCgroup.create(null, 'c9', emptyResources(), layout);
  assert.strictEqual(none.rec.dirs[''], path.join(mount, 'user.slice/session-1.scope/tsvisor/c9'));
  const rel = HostCgroup.create('mine/c8', 'c8', emptyResources(), layout);
  assert.strictEqual(rel.rec.dirs[''], path.join(mount, 'user.slice/session-1.scope/mine/c8'));
  const sd = HostCgroup.create('kubepods-besteffort-pod12.slice:cri-containerd:abc', 'abc', emptyResources(), layout);
  assert.strictEqual(sd.rec.dirs[''], path.join(mount, 'kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/cri-containerd-abc.scope'));
  const before = fs.readdirSync(mount).sort();
  // (An absolute path is from the hierarchy's root: /../../etc is its /etc, as path resolution makes it.)
  for (const bad of ['../../../../x', '../../..']) {
    assert.throws(() => HostCgroup.create(bad, 'x', emptyResources(), layout), /outside the cgroup hierarchy/);
  }
  assert.deepStrictEqual(fs.readdirSync(mount).sort(), before);
});

test('cgroup v2: a level that cannot enable controllers (processes of its own: EBUSY) does not fail create; a limit file the host refuses does, naming it', (t) => {
  const { mount, layout } = fakeV2();
  t.after(() => fs.rmSync(mount, { recursive: true, force: true }));
  // A level whose subtree_control refuses every write (a directory stands in for the kernel's EBUSY).
  fs.mkdirSync(path.join(mount, 'busy'));
  fs.writeFileSync(path.join(mount, 'busy', 'cgroup.controllers'), 'cpu memory pids\n');
  fs.mkdirSync(path.join(mount, 'busy', 'cgroup.subtree_control'));
  const cg = HostCgroup.create('/busy/c1', 'c1', emptyResources(), layout);
  assert.strictEqual(cg.rec.dirs[''], path.join(mount, 'busy/c1'));
  // A limit file the host refuses (here: a directory where memory.max would be): create fails naming it, and removes what it made.
  const { out } = resources({ memory: { limit: 1 << 20 } });
  fs.mkdirSync(path.join(mount, 'ro'));
  const leaf = path.join(mount, 'ro', 'c2');
  const real = fs.mkdirSync;
  // The leaf is made by create; make its memory.max a directory as soon as it exists.
  fs.mkdirSync = function (p, ...rest) {
    const r = real.call(fs, p, ...rest);
    if (p === leaf) real.call(fs, path.join(leaf, 'memory.max'));
    return r;
  };
  try {
    assert.throws(() => HostCgroup.create('/ro/c2', 'c2', out, layout), /cannot write \d+ to .*ro\/c2\/memory\.max/);
  } finally {
    fs.mkdirSync = real;
  }
});

test('cgroup v2: statistics read back from the v2 files', (t) => {
  const { mount, layout } = fakeV2();
  t.after(() => fs.rmSync(mount, { recursive: true, force: true }));
  const cg = HostCgroup.create('/s', 's', emptyResources(), layout);
  const leaf = path.join(mount, 's');
  fs.writeFileSync(path.join(leaf, 'cpu.stat'), 'usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\n');
  fs.writeFileSync(path.join(leaf, 'memory.current'), '1048576\n');
  fs.writeFileSync(path.join(leaf, 'memory.peak'), '2097152\n');
  fs.writeFileSync(path.join(leaf, 'memory.max'), 'max\n');
  fs.writeFileSync(path.join(leaf, 'memory.events'), 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n');
  fs.writeFileSync(path.join(leaf, 'memory.stat'), 'anon 4096\nfile 8192\n');
  fs.writeFileSync(path.join(leaf, 'pids.current'), '7\n');
  fs.writeFileSync(path.join(leaf, 'pids.max'), '264\n');
  assert.deepStrictEqual(cg.stats(), {
    cpu: { total: 3_000_000, user: 2_000_000, kernel: 1_000_000 },
    memory: { usage: 1048576, max: 2097152, limit: 0, failcnt: 5, raw: { anon: 4096, file: 8192 } },
    pids: { current: 7, limit: 264 },
    oomKills: 1,
  });
});
