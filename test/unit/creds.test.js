'use strict';
// Credentials: capability transitions of capabilities(7) on UID changes and
// execve, and the permission checks that consult them.
const test = require('node:test');
const assert = require('node:assert/strict');
const C = { ...require('../../dist/auth/creds.js'), ...require('../../dist/abi/capability.js') };
const P = require('../../dist/vfs/perm.js');

const bit = (c) => 1n << BigInt(c);
function withIds(c, uid, fsOnly = false) {
  const n = c.clone();
  if (fsOnly) n.fsuid = uid;
  else n.uid = n.euid = n.suid = n.fsuid = uid;
  C.fixCapsAfterSetuid(c, n, fsOnly);
  return n;
}

test('root has every capability, others none', () => {
  const root = new C.Credentials();
  assert.equal(root.capEffective, C.ALL_CAPS);
  assert.ok(C.hasCapability(root, C.CAP_SYS_RESOURCE));
  const user = new C.Credentials(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000);
  assert.equal(user.capPermitted, 0n);
  assert.ok(!C.hasCapability(user, C.CAP_DAC_OVERRIDE));
});

test('setuid away from root clears permitted unless keep-caps; effective always', () => {
  const root = new C.Credentials();
  const dropped = withIds(root, 65534);
  assert.equal(dropped.capPermitted, 0n);
  assert.equal(dropped.capEffective, 0n);
  root.securebits |= C.SECBIT_KEEP_CAPS;
  const kept = withIds(root, 65534);
  assert.equal(kept.capPermitted, C.ALL_CAPS);
  assert.equal(kept.capEffective, 0n);
  root.securebits = C.SECBIT_NO_SETUID_FIXUP;
  assert.equal(withIds(root, 65534).capEffective, C.ALL_CAPS);
});

test('setfsuid moves only the filesystem capabilities', () => {
  const root = new C.Credentials();
  const fs = withIds(root, 1000, true);
  assert.ok(!C.hasCapability(fs, C.CAP_DAC_OVERRIDE));
  assert.ok(!C.hasCapability(fs, C.CAP_MKNOD));
  assert.ok(C.hasCapability(fs, C.CAP_SYS_ADMIN));
  const back = withIds(fs, 0, true);
  assert.equal(back.capEffective, C.ALL_CAPS);
});

const PLAIN = { mode: 0o100755, uid: 0, gid: 0, caps: null, nosuid: false };
const SAFE = { noNewPrivs: false, sharedFs: false, tracedByUnprivileged: false };

test('execve: root gets bounding | inheritable, others only ambient, keep-caps cleared', () => {
  const root = new C.Credentials();
  root.capBounding &= ~bit(C.CAP_SYS_RESOURCE);
  root.capEffective = 0n;
  root.securebits = C.SECBIT_KEEP_CAPS;
  const n = C.credsForExec(root, PLAIN, SAFE).creds;
  assert.equal(n.capPermitted, root.capBounding);
  assert.equal(n.capEffective, root.capBounding);
  assert.equal(n.securebits, 0);
  const user = new C.Credentials(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000);
  user.capPermitted = user.capInheritable = user.capAmbient = bit(10); // CAP_NET_BIND_SERVICE
  const u = C.credsForExec(user, PLAIN, SAFE);
  assert.equal(u.creds.capPermitted, user.capAmbient);
  assert.equal(u.creds.capEffective, user.capAmbient);
  assert.equal(u.secure, false);
  root.securebits = C.SECBIT_NOROOT;
  assert.equal(C.credsForExec(root, PLAIN, SAFE).creds.capPermitted, 0n);
});

test('execve: set-user-ID root, file capabilities, and what no_new_privs takes away', () => {
  const user = () => new C.Credentials(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000);
  const suid = C.credsForExec(user(), { ...PLAIN, mode: 0o104755 }, SAFE);
  assert.deepEqual([suid.creds.uid, suid.creds.euid, suid.creds.suid], [1000, 0, 0]);
  assert.equal(suid.creds.capEffective, C.ALL_CAPS);
  assert.ok(suid.secure && suid.privChange);
  const nnp = C.credsForExec(user(), { ...PLAIN, mode: 0o104755 }, { ...SAFE, noNewPrivs: true });
  assert.equal(nnp.creds.euid, 1000);
  assert.equal(nnp.creds.capPermitted, 0n);
  assert.equal(C.credsForExec(user(), { ...PLAIN, mode: 0o104755, nosuid: true }, SAFE).creds.euid, 1000);
  const v2 = Buffer.alloc(20);
  v2.writeUInt32LE(0x02000001, 0); // revision 2, effective
  v2.writeUInt32LE(1 << 13, 4); // CAP_NET_RAW permitted
  const fc = C.credsForExec(user(), { ...PLAIN, caps: v2 }, SAFE);
  assert.equal(fc.creds.capPermitted, bit(13));
  assert.equal(fc.creds.capEffective, bit(13));
  assert.throws(() => C.credsForExec(user(), { ...PLAIN, caps: Buffer.alloc(7) }, SAFE), /EINVAL|Errno/);
  const small = user();
  small.capBounding &= ~bit(13);
  assert.throws(() => C.credsForExec(small, { ...PLAIN, caps: v2 }, SAFE), /EPERM|Errno/);
  assert.ok(C.validFileCapsValue(v2));
  assert.ok(!C.validFileCapsValue(Buffer.alloc(12)));
});

test('file permissions: mode bits first, then CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH', () => {
  const file = { mode: 0o100444, uid: 1000, gid: 1000 };
  const dir = { mode: 0o040555, uid: 1000, gid: 1000 };
  const root = new C.Credentials();
  assert.ok(P.mayAccess(root, file, P.MAY_WRITE));
  root.capEffective &= ~bit(C.CAP_DAC_OVERRIDE);
  assert.ok(!P.mayAccess(root, file, P.MAY_WRITE));
  assert.ok(!P.mayAccess(root, dir, P.MAY_WRITE | P.MAY_EXEC));
  assert.ok(P.mayAccess(root, { ...file, mode: 0o100000 }, P.MAY_READ)); // CAP_DAC_READ_SEARCH
  root.capEffective = C.ALL_CAPS;
  assert.ok(!P.mayAccess(root, { ...file, mode: 0o100644 }, P.MAY_EXEC)); // nobody may execute
  assert.throws(() => P.checkChown(new C.Credentials(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000), file, 0, -1), /EPERM|Errno/);
});
