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

test('execve: root gets bounding | inheritable, others only ambient, keep-caps cleared', () => {
  const root = new C.Credentials();
  root.capBounding &= ~bit(C.CAP_SYS_RESOURCE);
  root.capEffective = 0n;
  root.securebits = C.SECBIT_KEEP_CAPS;
  const n = C.credsForExec(root, false);
  assert.equal(n.capPermitted, root.capBounding);
  assert.equal(n.capEffective, root.capBounding);
  assert.equal(n.securebits, 0);
  const user = new C.Credentials(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000);
  user.capPermitted = user.capInheritable = user.capAmbient = bit(10); // CAP_NET_BIND_SERVICE
  const u = C.credsForExec(user, false);
  assert.equal(u.capPermitted, user.capAmbient);
  assert.equal(u.capEffective, user.capAmbient);
  root.securebits = C.SECBIT_NOROOT;
  assert.equal(C.credsForExec(root, false).capPermitted, 0n);
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
