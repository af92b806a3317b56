'use strict';
// What a pod's sandbox takes from outside for a joining container, without a
// sandbox: the plan's source its create sends (cli/container_spec.ts's
// planFromSource makes the same plan as config.json gives, with the same
// checks, and refuses a malformed or lying source), and what the runtime
// above a confined pod's Sentry does when the Sentry names a container
// (cli/sandbox_confined.ts's podRecorder: only containers whose records say
// they are of its pod, only a number as status).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { readBundleSource, planFromSource } = require('../../dist/cli/container_spec.js');
const { podRecorder } = require('../../dist/cli/sandbox_confined.js');

function tmp() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-podwire-'));
}

/** A bundle with a root, a directory bind and a file bind (through a symlink). */
function bundle() {
  const dir = tmp();
  fs.mkdirSync(path.join(dir, 'rootfs'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'hosts'), '127.0.0.1 x\n');
  fs.symlinkSync('hosts', path.join(dir, 'hosts-link'));
  const spec = {
    ociVersion: '1.0.2', root: { path: 'rootfs' }, process: { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } },
    mounts: [
      { destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'rw'] },
      { destination: '/etc/hosts', type: 'bind', source: 'hosts-link', options: ['rbind', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' },
    ],
    linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }] } },
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

test('planFromSource: the source create sends (through JSON) makes the plan config.json gives; no host path is looked at', () => {
  const dir = bundle();
  try {
    const { plan, source } = readBundleSource(dir);
    const wire = JSON.parse(JSON.stringify(source));
    // Looked at here only through the source: the bundle gone, the same plan.
    fs.rmSync(dir, { recursive: true, force: true });
    const again = planFromSource(wire);
    assert.deepStrictEqual(again, plan);
    assert.strictEqual(again.mounts.find((m) => m.destination === '/etc/hosts').kind, 'file');
    assert.strictEqual(again.mounts.find((m) => m.destination === '/etc/hosts').source, path.join(dir, 'hosts'));
    assert.ok(Buffer.isBuffer(again.seccomp) && again.seccomp.length > 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('planFromSource: a malformed source, or one whose host facts do not cover its paths, is refused with config.json\'s words', () => {
  const dir = bundle();
  try {
    const { source } = readBundleSource(dir);
    const wire = JSON.parse(JSON.stringify(source));
    const bad = (s, re) => assert.throws(() => planFromSource(s), re);
    for (const s of [null, 7, 'x', [], {}, { ...wire, bundle: 'rel' }, { ...wire, bundle: 7 }, { ...wire, kinds: [] }, { ...wire, kinds: { rel: 'dir' } },
      { ...wire, kinds: { '/x': 'socket' } }, { ...wire, real: { '/x': 'rel' } }, { ...wire, kinds: JSON.parse('{"__proto__": "dir"}') }]) {
      bad(s, /the container's plan is malformed/);
    }
    const kinds = (omit) => Object.fromEntries(Object.entries(wire.kinds).filter(([k]) => !k.endsWith(omit)));
    bad({ ...wire, kinds: kinds('/data') }, /config\.json: mounts\[0\] \(\/data\): source .* does not exist/);
    bad({ ...wire, kinds: kinds('/rootfs') }, /config\.json: root\.path: .* is not a directory/);
    bad({ ...wire, real: {} }, /config\.json: the real path of .*hosts-link is not given/);
    bad({ ...wire, spec: { ...wire.spec, process: { ...wire.spec.process, args: 'true' } } }, /config\.json: process\.args/);
    bad({ ...wire, spec: { ...wire.spec, linux: { seccomp: { defaultAction: 'NOPE' } } } }, /config\.json: linux\.seccomp/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('podRecorder: the runtime leaves a status only for a container of its own pod, only a number, and answers every podexit', async () => {
  const root = tmp();
  try {
    const rec = (id, sandbox) => {
      fs.mkdirSync(path.join(root, id));
      fs.writeFileSync(path.join(root, id, 'state.json'), JSON.stringify({ id, sandbox }));
    };
    fs.mkdirSync(path.join(root, 'pod'));
    rec('a', 'pod');
    rec('b', 'other');
    rec('c', undefined);
    let acks = 0;
    const r = podRecorder(path.join(root, 'pod'), 'pod', () => acks++);
    await r.exited('a', '1280');
    for (const [id, st] of [['b', '5'], ['c', '5'], ['../b', '5'], ['pod', '5'], ['a/../b', '5'], ['missing', '5']]) await r.exited(id, st);
    await r.exited('a', '5; x');
    assert.strictEqual(acks, 8);
    assert.strictEqual(fs.readFileSync(path.join(root, 'a', 'exit-status'), 'utf8'), '1280');
    for (const id of ['b', 'c', 'pod']) assert.ok(!fs.existsSync(path.join(root, id, 'exit-status')), id);
    // An OOM record for a container without a cgroup in its record, or of another pod: nothing to raise (and no throw).
    r.oom('a');
    r.oom('b');
    r.oom('../x');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
