'use strict';
// A Kubernetes pod driven as containerd's CRI drives the runtime, for the
// oci_pod tests: bundles of busybox with CRI's annotations, tsvisor with
// --root under a test directory, and the cleanup of what they made.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const { busyboxRootfs, children, cmdline } = require('./procinfo');

const APPLETS = ['sh', 'echo', 'cat', 'sleep', 'true', 'ls', 'nc', 'hostname', 'touch', 'ps', '[', 'stty', 'dd', 'head', 'wc'];
const CRI_TYPE = 'io.kubernetes.cri.container-type';
const CRI_SANDBOX = 'io.kubernetes.cri.sandbox-id';

const dirs = [];
/** Delete every container the tests made (the pod's containers first), then their directories: for after(). */
function cleanup() {
  for (const dir of dirs) {
    for (const root of ['root', 'root2']) {
      const ids = tsv(dir, ['list', '-q'], root).stdout.split('\n').filter(Boolean);
      // The pod's containers first, then the sandboxes.
      for (const id of ids.sort((a, b) => (a.startsWith('pod') ? 1 : 0) - (b.startsWith('pod') ? 1 : 0))) tsv(dir, ['delete', '--force', id], root);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A test directory with a shared directory (an emptyDir) and a bundle maker. */
function podDir() {
  const dir = h.tmpDir('tsvisor-oci-pod-');
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'shared'), { mode: 0o777 });
  return dir;
}

/** A bundle named name in dir: busybox root with /marker saying name, args, annotations; edit changes the spec. */
function bundle(dir, name, args, annotations, edit = () => {}) {
  const b = path.join(dir, name);
  fs.mkdirSync(b);
  const rootfs = busyboxRootfs(b, APPLETS);
  fs.writeFileSync(path.join(rootfs, 'marker'), `${name}\n`);
  assert.strictEqual(tsv(dir, ['spec', '--bundle', b]).status, 0);
  const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = args;
  spec.annotations = annotations;
  spec.mounts.push({ destination: '/shared', type: 'bind', source: path.join(dir, 'shared'), options: ['rbind', 'rw'] });
  edit(spec);
  fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(spec));
  return b;
}

/** tsvisor --root DIR/root ARGS, stdio through files (the stand-in processes inherit them). */
function tsv(dir, args, root = 'root') {
  const out = path.join(dir, `out-${process.hrtime.bigint()}`);
  const fd1 = fs.openSync(out + '.1', 'w');
  const fd2 = fs.openSync(out + '.2', 'w');
  const r = childProcess.spawnSync(h.TSVISOR, ['--root', path.join(dir, root), ...args], {
    cwd: dir, env: h.sentryEnv(), stdio: ['ignore', fd1, fd2], timeout: 60_000, killSignal: 'SIGKILL',
  });
  fs.closeSync(fd1);
  fs.closeSync(fd2);
  return { status: r.status, signal: r.signal, stdout: fs.readFileSync(out + '.1', 'utf8'), stderr: fs.readFileSync(out + '.2', 'utf8') };
}

function ok(r, what) {
  assert.strictEqual(r.status, 0, `${what}: status ${r.status} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`);
  return r;
}

const state = (dir, id, root) => JSON.parse(ok(tsv(dir, ['state', id], root), `state ${id}`).stdout);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Start the pod's sandbox (pause) container id: sleep as its init; flags: global flags of its create (--no-confine). */
function startSandbox(dir, id, root = 'root', extra = {}, flags = []) {
  bundle(dir, id, ['sleep', '1000'], { [CRI_TYPE]: 'sandbox', [CRI_SANDBOX]: id, ...extra });
  ok(tsv(dir, [...flags, 'create', '--bundle', path.join(dir, id), id], root), `create ${id}`);
  ok(tsv(dir, ['start', id], root), `start ${id}`);
}

/** Create and start container id of the pod of sandbox sb. */
function join(dir, id, sb, args, extra = {}) {
  bundle(dir, id, args, { [CRI_TYPE]: 'container', [CRI_SANDBOX]: sb, ...extra });
  ok(tsv(dir, ['create', '--bundle', path.join(dir, id), '--pid-file', path.join(dir, `${id}.pid`), id]), `create ${id}`);
  ok(tsv(dir, ['start', id]), `start ${id}`);
}

/** The host processes below pid (pid's children, theirs, ...). */
function descendants(pid) {
  return children(pid).flatMap((c) => [c, ...descendants(c)]);
}

/** The pids of the Gofers (and their unshare) serving tree (a path) read-only. */
function gofersOf(tree) {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number)
    .filter((p) => {
      const argv = cmdline(p);
      return argv.includes(`ro:${tree}`) && argv.some((a) => /gofer\/main\.js$/.test(a));
    });
}

module.exports = { APPLETS, CRI_TYPE, CRI_SANDBOX, cleanup, podDir, bundle, tsv, ok, state, alive, startSandbox, join, descendants, gofersOf };
