'use strict';
// kernel/cgroup.ts without a sandbox: the tree's limits and errnos (Linux's
// for cgroup v2), membership from the processes, pids.max at fork, CPU time
// kept across exits and rmdir, memory charge groups per cgroup.
const test = require('node:test');
const assert = require('node:assert');
const { CgroupTree, MAX_CGROUPS } = require('../../dist/kernel/cgroup.js');
const { ChargeTable } = require('../../dist/platform/memcharge.js');

function world() {
  const groups = new Map();
  const tasks = new Map();
  const charges = new ChargeTable();
  const tree = new CgroupTree({ groups, tasks, charges, limitPages: 1000 });
  let next = 1;
  const proc = (cgroup = null, threads = 1) => {
    const pid = next++;
    const g = { pid, zombie: false, cgroup, tasks: new Set(), cpuTime: () => ({ userNs: 3000, sysNs: 1000 }) };
    for (let i = 0; i < threads; i++) {
      const t = { tid: i === 0 ? pid : next++, state: 'running', tg: g, mm: { charge: null } };
      g.tasks.add(t);
      tasks.set(t.tid, t);
    }
    groups.set(pid, g);
    return g;
  };
  return { groups, tasks, charges, tree, proc };
}

const errno = (code) => (e) => e.message.split(':')[0] === code;

test('mkdir and rmdir: EAGAIN past max.depth, max.descendants and the cap; EBUSY while populated or a parent', () => {
  const { tree, proc } = world();
  const a = tree.mkdir(tree.root, 'a');
  const b = tree.mkdir(a, 'b');
  assert.strictEqual(b.path(), '/a/b');
  assert.strictEqual(tree.root.descendants(), 2);
  a.maxDepth = 1;
  assert.throws(() => tree.mkdir(b, 'c'), errno('EAGAIN'));
  a.maxDepth = Infinity;
  tree.root.maxDescendants = 2;
  assert.throws(() => tree.mkdir(tree.root, 'x'), errno('EAGAIN'));
  tree.root.maxDescendants = Infinity;
  assert.throws(() => tree.rmdir(a), errno('EBUSY'));
  const g = proc();
  tree.move(g, b);
  assert.strictEqual(tree.of(g), b);
  assert.deepStrictEqual(b.procs(), [g]);
  assert.ok(a.populated());
  assert.throws(() => tree.rmdir(b), errno('EBUSY'));
  tree.move(g, tree.root);
  assert.strictEqual(g.cgroup, null);
  tree.rmdir(b);
  tree.rmdir(a);
  assert.throws(() => tree.rmdir(tree.root), errno('EBUSY'));
  const made = [];
  for (let i = 0; i < MAX_CGROUPS; i++) made.push(tree.mkdir(tree.root, `c${i}`));
  assert.throws(() => tree.mkdir(tree.root, 'one-more'), errno('EAGAIN'));
  for (const c of made) tree.rmdir(c);
  assert.strictEqual(tree.count, 0);
});

test('no internal processes: a cgroup that gives domain controllers takes no process; one giving threaded ones only may (a thread root)', () => {
  const { tree, proc } = world();
  const a = tree.mkdir(tree.root, 'a');
  a.subtreeControl.add('memory');
  assert.throws(() => tree.move(proc(), a), errno('EBUSY'));
  a.subtreeControl.delete('memory');
  a.subtreeControl.add('pids');
  assert.deepStrictEqual(tree.mkdir(a, 'b').controllers(), ['pids']);
  const g = proc();
  tree.move(g, a);
  assert.strictEqual(a.typeName(), 'domain threaded');
  assert.strictEqual(a.children.get('b').typeName(), 'domain invalid');
  assert.throws(() => tree.move(proc(), a.children.get('b')), errno('EOPNOTSUPP'));
});

test('threaded cgroups: a thread moves within its domain only, pids.current counts it where it is', () => {
  const { tree, proc } = world();
  const d = tree.mkdir(tree.root, 'd');
  const x = tree.mkdir(d, 'x');
  const other = tree.mkdir(tree.root, 'o');
  tree.makeThreaded(x);
  assert.deepStrictEqual([d.typeName(), x.typeName()], ['domain threaded', 'threaded']);
  const g = proc(d, 2);
  const [, second] = [...g.tasks];
  tree.moveThread(second, x);
  assert.strictEqual(tree.ofTask(second), x);
  assert.deepStrictEqual([x.threads().length, d.threads().length, x.tasksInSubtree(), d.procs().length], [1, 1, 1, 1]);
  assert.throws(() => tree.moveThread(second, other), errno('EOPNOTSUPP'));
  assert.throws(() => tree.makeThreaded(d), errno('EOPNOTSUPP'));
  tree.move(g, other);
  assert.strictEqual(tree.ofTask(second), other);
});

test('pids.max counts the subtree\'s threads at fork and records refusals', () => {
  const { tree, proc } = world();
  const a = tree.mkdir(tree.root, 'a');
  const b = tree.mkdir(a, 'b');
  proc(b, 2);
  a.pidsMax = 3;
  tree.checkFork(b);
  proc(b);
  assert.strictEqual(a.tasksInSubtree(), 3);
  assert.throws(() => tree.checkFork(b), errno('EAGAIN'));
  assert.strictEqual(a.pidsRefused, 1);
  assert.strictEqual(b.pidsRefused, 0);
});

test('cpu time stays after a process is reaped and after rmdir; memory charges per cgroup with the least limit on the way up', () => {
  const { tree, proc, groups, tasks } = world();
  const a = tree.mkdir(tree.root, 'a');
  const b = tree.mkdir(a, 'b');
  const g = proc(b);
  assert.deepStrictEqual(b.cpuNs(), { userNs: 3000, sysNs: 1000 });
  tree.reaped(g);
  groups.delete(g.pid);
  for (const t of g.tasks) tasks.delete(t.tid);
  tree.rmdir(b);
  assert.deepStrictEqual(a.cpuNs(), { userNs: 3000, sysNs: 1000 });
  const c = tree.mkdir(a, 'c');
  assert.ok(c.charge);
  a.setMemoryMax(8192);
  assert.strictEqual(c.charge.limitPages, 2);
  c.setMemoryMax(40960);
  assert.strictEqual(c.charge.limitPages, 2);
  a.setMemoryMax(Infinity);
  assert.strictEqual(c.charge.limitPages, 10);
  c.setMemoryMax(Infinity);
  assert.strictEqual(c.charge.limitPages, 1000);
  assert.throws(() => tree.root.setMemoryMax(4096), errno('EPERM'));
  const h = proc();
  tree.move(h, c);
  assert.strictEqual([...h.tasks][0].mm.charge, c.charge);
});
