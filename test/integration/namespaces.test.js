'use strict';
// Namespaces with real tools: unshare(1) (user, mount, UTS, PID namespaces),
// mount(8) inside them, compared with the same commands run natively (natively
// every mount happens inside `unshare -m`, whose mounts are private by
// default, so the host's mount table never changes). Then the hostile side:
// whatever the sandbox mounts never reaches the host's mount table or host
// name, and a bind mount cannot reach host files outside the sandbox's root.
// The system call level rules are test/c/namespaces.c's.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const AS_1000 = ['setpriv', '--reuid', '1000', '--regid', '1000', '--clear-groups'];

test('unshare -r: root in a new user namespace, mapped to the caller', (t) => {
  if (!h.needTools(t, ['unshare', 'setpriv'])) return;
  h.compare(t, ['unshare', '-r', 'id']);
  const r = h.compare(t, [...AS_1000, 'unshare', '-r', 'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; stat -c %u:%g /']);
  assert.match(r.sandbox.stdout, /^0\n0\n {9}0 {7}1000 {10}1\n {9}0 {7}1000 {10}1\ndeny\n65534:65534\n$/);
  // /proc shows IDs as the reader's namespace maps them.
  h.compare(t, [...AS_1000, 'unshare', '-r', 'sh', '-c', 'grep -E "^(Uid|Gid)" /proc/self/status; stat -c %u:%g /proc/self/status']);
});

test('unshare -m: mount a tmpfs, bind and remount it read-only, only inside', (t) => {
  if (!h.needTools(t, ['unshare'])) return;
  const r = h.compare(t, ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs x /mnt && touch /mnt/a && ls /mnt && grep " /mnt " /proc/self/mounts']);
  assert.strictEqual(r.sandbox.stdout, 'a\nx /mnt tmpfs rw,relatime 0 0\n');
  h.compare(t, ['unshare', '-m', 'sh', '-c',
    'mount -t tmpfs x /mnt && mkdir /mnt/d && mount --bind /mnt/d /mnt/d && mount -o remount,ro,bind /mnt/d; touch /mnt/d/f 2>/dev/null; echo $?; touch /mnt/f; echo $?']);
  // Rootless: a user namespace owns the new mount namespace, and its root may mount tmpfs there.
  h.compare(t, [...AS_1000, 'unshare', '-rm', 'sh', '-c', 'mount -t tmpfs t /mnt && touch /mnt/x && ls /mnt && stat -c %u:%g /mnt/x']);
});

test('unshare -p -f --mount-proc: ps sees the new PID namespace only', (t) => {
  if (!h.needTools(t, ['unshare', 'setpriv', 'ps'])) return;
  const r = h.compare(t, ['unshare', '-p', '-f', '--mount-proc', 'ps', '-o', 'pid,ppid,comm']);
  assert.strictEqual(r.sandbox.stdout, '    PID    PPID COMMAND\n      1       0 ps\n');
  // A shell as its init, a background child, and the numbers of the outer /proc's levels hidden.
  h.compare(t, ['unshare', '-p', '-f', '--mount-proc', 'sh', '-c', 'sleep 100 & sleep 0.2; ps -o pid,ppid,comm; grep ^NS /proc/self/status; kill $!; wait']);
  // Rootless: the user namespace made first owns the PID namespace and the new /proc.
  h.compare(t, [...AS_1000, 'unshare', '-Urpf', '--mount-proc', 'sh', '-c', 'id -u; ps -o pid,ppid,comm; echo $$']);
  // bubblewrap's own init (pid 1) above the command.
  if (h.which('bwrap')) h.compare(t, ['bwrap', '--ro-bind', '/', '/', '--proc', '/proc', '--dev-bind', '/dev', '/dev', '--unshare-pid', '--unshare-user', 'sh', '-c', 'echo $$; ps -o pid,ppid,comm']);
});

test('unshare -u: a host name of its own', (t) => {
  if (!h.needTools(t, ['unshare'])) return;
  const r = h.runSandbox(['sh', '-c', 'unshare -u sh -c "hostname foo && hostname"; hostname']);
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  assert.strictEqual(r.stdout, 'foo\ntsvisor\n');
  h.compare(t, [...AS_1000, 'unshare', '-ru', 'sh', '-c', 'hostname inner && hostname']);
});

test('unshare -i: System V shared memory and the IPC limits of /proc/sys/kernel are the new namespace\'s', (t) => {
  if (!h.needTools(t, ['unshare'])) return;
  h.compare(t, ['unshare', '-i', 'sh', '-c', 'cat /proc/sys/kernel/msgmni /proc/sys/kernel/sem; echo 5 > /proc/sys/kernel/msgmni; cat /proc/sys/kernel/msgmni']);
  // System V objects: each IPC namespace has its own segments, semaphore sets and message queues (natively inside unshare -i: the host's stay untouched).
  h.compare(t, ['unshare', '-i', 'sh', '-c',
    'ipcmk -M 4096 >/dev/null; ipcmk -S 2 >/dev/null; ipcmk -Q >/dev/null; ipcs | grep -c "^0x"; unshare -i sh -c "ipcs | grep -c ^0x; ipcmk -Q >/dev/null; ipcs | grep -c ^0x"; ipcs | grep -c "^0x"']);
});

test('bubblewrap: bind mounts, proc, tmpfs, UTS, IPC and user namespaces', (t) => {
  if (!h.needTools(t, ['bwrap', 'setpriv'])) return;
  h.compare(t, ['bwrap', '--ro-bind', '/', '/', '--proc', '/proc', '--unshare-uts', '--hostname', 'inner', 'hostname']);
  h.compare(t, ['bwrap', '--ro-bind', '/', '/', '--unshare-ipc', '--unshare-uts', '--unshare-user', '--proc', '/proc', '--tmpfs', '/tmp',
    'sh', '-c', 'ls -A /tmp; id -u; touch /etc/x 2>/dev/null; echo $?']);
  // Rootless, as an unprivileged user: only a user namespace mapping itself.
  const r = h.compare(t, [...AS_1000, 'bwrap', '--ro-bind', '/', '/', '--unshare-user', '--uid', '0', '--tmpfs', '/tmp',
    'sh', '-c', 'id -u; touch /tmp/x && ls /tmp; cat /proc/self/uid_map']);
  assert.match(r.sandbox.stdout, /^0\nx\n {9}0 {7}1000 {10}1\n$/);
});

test('/proc/PID/ns: links name the namespaces, and change with unshare', () => {
  const r = h.runSandbox(['sh', '-c', 'readlink /proc/self/ns/mnt /proc/self/ns/user; unshare -m readlink /proc/self/ns/mnt; unshare -U readlink /proc/self/ns/user; nsenter --mount=/proc/1/ns/mnt readlink /proc/self/ns/mnt']);
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  const [mnt, user, mnt2, user2, mnt3] = r.stdout.trim().split('\n');
  assert.strictEqual(mnt, 'mnt:[4026531832]');
  assert.strictEqual(user, 'user:[4026531837]');
  assert.match(mnt2, /^mnt:\[40265318\d\d\]$/);
  assert.notStrictEqual(mnt2, mnt);
  assert.match(user2, /^user:\[40265318\d\d\]$/);
  assert.strictEqual(mnt3, mnt);
});

test('unshare -n: a network namespace of its own, its loopback down until ip link set lo up', (t) => {
  if (!h.needTools(t, ['unshare', 'ip'])) return;
  const r = h.compare(t, ['unshare', '-n', 'sh', '-c', 'ip -o link; ip -o addr; ip link set lo up && ip -o link && ip -o addr && ip route show table local']);
  assert.match(r.sandbox.stdout, /^1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN/);
  assert.match(r.sandbox.stdout, /inet 127\.0\.0\.1\/8 scope host lo/);
  // ip addr add on a loopback that is down, then up, then down: the addresses and local routes Linux keeps.
  h.compare(t, ['unshare', '-n', 'sh', '-c', 'ip addr add 127.0.0.1/8 dev lo; echo $?; ip addr add 127.0.0.1/8 dev lo 2>/dev/null; echo $?; ip -o addr; ip link set lo up; ip link set lo down; ip -o addr; ip route show table all']);
  // A listener of the first namespace is not in the new one; the new one's is not in the first.
  const py = 'import socket,sys\ns=socket.socket()\ntry:\n socket.create_connection(("127.0.0.1",int(sys.argv[1])),timeout=5); print("reached")\nexcept OSError as e: print(e.errno)';
  const s = h.runSandbox(['sh', '-c', `python3 -m http.server -b 127.0.0.1 8765 >/dev/null 2>&1 & sleep 1.5; unshare -n sh -c 'python3 -c "$0" 8765; ip link set lo up; python3 -c "$0" 8765' '${py}'; python3 -c '${py}' 8765; kill $!`]);
  assert.strictEqual(s.status, 0, h.describe('sandbox', s));
  assert.strictEqual(s.stdout, '101\n111\nreached\n');
});

test('bwrap --unshare-all: its loopback set up in a network namespace of its own', (t) => {
  if (!h.needTools(t, ['bwrap', 'ip'])) return;
  const r = h.compare(t, ['bwrap', '--unshare-all', '--ro-bind', '/', '/', '--proc', '/proc', 'sh', '-c', 'ip -o link; ip -o addr']);
  assert.match(r.sandbox.stdout, /inet 127\.0\.0\.1\/8 scope host lo/);
});

test('hostile: a new network namespace under --network host reaches no host socket', async (t) => {
  if (!h.needTools(t, ['unshare', 'ip'])) return;
  const net = require('node:net');
  const server = net.createServer((c) => c.end());
  await new Promise((resolve) => server.listen(0, '::1', resolve));
  const port = server.address().port;
  try {
    const py = 'import socket,sys\ntry:\n socket.create_connection(("::1",int(sys.argv[1])),timeout=5); print("reached")\nexcept OSError as e: print(e.errno)';
    const r = h.runSandbox(['sh', '-c', `python3 -c "$0" ${port}; unshare -n sh -c 'python3 -c "$0" ${port}; ip link set lo up; python3 -c "$0" ${port}' "$0"`, py], { flags: ['--network', 'host'] });
    assert.strictEqual(r.status, 0, h.describe('sandbox', r));
    // The host's listener from the sandbox's first (host) namespace; from a new one, the network is unreachable, then nobody listens.
    assert.strictEqual(r.stdout, 'reached\n101\n111\n');
  } finally {
    server.close();
  }
});

function hostMounts() {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8');
}

test('hostile: mounts, unmounts and host names in the sandbox never reach the host', () => {
  const before = hostMounts();
  const hostname = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8');
  // The sandbox's root does all of it in its first mount namespace, no unshare.
  const script = [
    'mount -t tmpfs evil /mnt', 'mount --bind / /mnt', 'mount -t proc proc /mnt', 'mount -t sysfs sys /mnt',
    'mount -o remount,ro /', 'umount -l /proc', 'umount /dev/shm', 'umount -l /tmp', 'mount --make-rprivate /',
    'mkdir -p /newroot && mount -t tmpfs r /newroot && mkdir /newroot/old && cd /newroot && pivot_root . old',
    'hostname evil', 'echo done',
  ].join('; ');
  const r = h.runSandbox(['sh', '-c', script]);
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  assert.match(r.stdout, /done\n$/);
  assert.strictEqual(hostMounts(), before, 'the host mount table changed');
  assert.strictEqual(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8'), hostname);
});

test('hostile: a bind mount cannot reach host files outside the sandbox root', (t) => {
  if (!h.needTools(t, ['/bin/busybox'])) return;
  const base = h.tmpDir('tsvisor-nsroot-');
  const root = path.join(base, 'root');
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  for (const d of ['mnt', 'proc', 'tmp', 'dev', 'sys']) fs.mkdirSync(path.join(root, d));
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  fs.writeFileSync(path.join(root, 'inside'), 'in\n');
  fs.writeFileSync(path.join(base, 'secret'), 'host secret\n');
  const script = [
    'busybox mount --bind /.. /mnt', 'busybox ls /mnt', 'busybox cat /mnt/../secret /mnt/secret /proc/1/root/../secret',
    'busybox umount /mnt', 'busybox mount --bind /proc/self/root/../.. /mnt', 'busybox cat /mnt/inside',
  ].join('; ');
  const r = h.runSandbox(['/bin/busybox', 'sh', '-c', script], { rootfs: root, cwd: '/', env: { PATH: '/bin' } });
  assert.doesNotMatch(r.stdout + r.stderr, /host secret/);
  assert.strictEqual(r.stdout, 'bin\ndev\ninside\nmnt\nproc\nsys\ntmp\nin\n');
});

test('hostile: an unprivileged user may not mount, unmount or pivot', (t) => {
  if (!h.needTools(t, ['setpriv'])) return;
  const nobody = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];
  const r = h.runSandbox(['sh', '-c', [
    `${nobody.join(' ')} mount -t tmpfs x /mnt; echo mount=$?`,
    `${nobody.join(' ')} umount /proc; echo umount=$?`,
    `${nobody.join(' ')} unshare -m true; echo unshare=$?`,
    'grep -c " /mnt " /proc/self/mounts',
  ].join('; ')]);
  assert.match(r.stdout, /^mount=(1|32)\numount=(1|32)\nunshare=1\n0\n$/, h.describe('sandbox', r) + r.stdout);
});

test('hostile: root of a new user namespace cannot ptrace a process outside it', (t) => {
  if (!h.needTools(t, ['setpriv', 'strace'])) return;
  const nobody = 'setpriv --reuid 65534 --regid 65534 --clear-groups';
  // CAP_SYS_PTRACE held in its own namespace must not count over a process of the initial one;
  // tracing its own child inside the namespace still works.
  const r = h.runSandbox(['sh', '-c', [
    'sleep 30 & P=$!',
    `${nobody} unshare -r strace -e trace=none -p $P 2>&1 | grep -c "Operation not permitted"`,
    `${nobody} unshare -r strace -qq -e trace=none true; echo own=$?`,
    'kill $P',
  ].join('; ')]);
  assert.match(r.stdout, /^1\nown=0\n$/, h.describe('sandbox', r) + r.stdout);
});

test('hostile: random mount, pivot_root, chroot, unshare and setns calls do not hurt the Sentry', { timeout: 240_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-nsfuzz-');
  const bin = path.join(dir, 'nsfuzz');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'nsfuzz.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const before = hostMounts();
  const log = path.join(dir, 'debug.log');
  const r = h.runSandbox([bin, '20'], { cwd: '/', flags: ['--debug-log', log], timeout: 200_000 });
  assert.strictEqual(r.status, 0, h.describe('nsfuzz', r));
  assert.match(r.stdout, /^sentry alive$/m);
  assert.strictEqual((r.stdout.match(/^round \d+: /gm) || []).length, 20);
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs hit by namespace calls');
  assert.strictEqual(hostMounts(), before, 'the host mount table changed');
});
