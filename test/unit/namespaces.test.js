'use strict';
// User namespaces (capabilities across namespaces, ID maps) and mount
// namespace copies, on the objects themselves.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Credentials } = require('../../dist/auth/creds.js');
const userns = require('../../dist/auth/userns.js');
const { CAP_SYS_ADMIN, CAP_SETUID } = require('../../dist/abi/capability.js');
const { VirtualFilesystem } = require('../../dist/vfs/vfs.js');
const { TmpfsFs } = require('../../dist/fsimpl/tmpfs/tmpfs.js');
const { MountNamespace } = require('../../dist/vfs/mount_ns.js');

function creds(uid, ns) {
  return new Credentials(uid, uid, uid, uid, uid, uid, uid, uid, [], ns);
}

test('the creator of a user namespace has every capability in it, no one else does', () => {
  const init = userns.UserNamespace.initial();
  const alice = creds(1000, init);
  const child = userns.UserNamespace.child(alice);
  assert.equal(child.parent, init);
  assert.ok(child.inum >= 0xf0000000);
  assert.ok(userns.nsCapable(alice, child, CAP_SYS_ADMIN), 'owner in the parent');
  assert.ok(!userns.nsCapable(creds(1001, init), child, CAP_SYS_ADMIN), 'another unprivileged user');
  assert.ok(userns.nsCapable(creds(0, init), child, CAP_SYS_ADMIN), 'root of the parent, through its effective set');
  const inside = userns.credsEntering(alice, child);
  assert.ok(userns.nsCapable(inside, child, CAP_SETUID));
  assert.ok(!userns.capableInit(inside, CAP_SYS_ADMIN), 'nothing in the initial namespace');
  // Its creator must be mapped before it can make a namespace of its own.
  assert.throws(() => userns.UserNamespace.child(inside), { message: /EPERM/ });
  child.uidMap.extents = [{ first: 0, lower: 1000, count: 1 }];
  child.gidMap.extents = [{ first: 0, lower: 1000, count: 1 }];
  const grandchild = userns.UserNamespace.child(inside);
  assert.ok(userns.nsCapable(alice, grandchild, CAP_SYS_ADMIN), 'owner of an ancestor below the caller');
  const sibling = userns.UserNamespace.child(creds(1001, init));
  assert.ok(!userns.nsCapable(inside, sibling, CAP_SYS_ADMIN));
});

test('IDs translate through the maps; unmapped ones show as 65534 and cannot be named', () => {
  const init = userns.UserNamespace.initial();
  const ns = userns.UserNamespace.child(creds(1000, init));
  assert.equal(userns.uidFrom(ns, 1000), 65534);
  ns.uidMap.extents = [{ first: 0, lower: 1000, count: 1 }, { first: 1, lower: 100000, count: 65536 }];
  assert.equal(userns.uidFrom(ns, 1000), 0);
  assert.equal(userns.uidFrom(ns, 100005), 6);
  assert.equal(userns.uidFrom(ns, 0), 65534);
  assert.equal(userns.uidTo(ns, 6), 100005);
  assert.equal(userns.uidTo(ns, 65537), -1);
  assert.equal(userns.uidTo(init, 12345), 12345);
  assert.ok(!userns.idsMapped(ns, 1000, 0), 'gid map empty');
  assert.equal(userns.UserNamespace.child(creds(5, init)).parentCouldSetfcap, false);
  assert.equal(userns.UserNamespace.child(creds(0, init)).parentCouldSetfcap, true);
});

test('a mount namespace copy has its own mounts over the same dentries; a less privileged owner gets them locked', () => {
  const frames = {};
  const vfs = new VirtualFilesystem(new TmpfsFs(frames));
  const r = { creds: new Credentials(), root: vfs.root, ctx: null };
  vfs.mkdir(r, vfs.root, '/mnt', 0o755);
  const init = userns.UserNamespace.initial();
  const ns = new MountNamespace(vfs.rootMount, init, 1);
  const m = vfs.mountAt('/mnt', new TmpfsFs(frames), { readonly: true, noexec: false });
  assert.equal(m.ns, ns);
  const same = ns.copy(vfs, init, 2);
  assert.equal(same.ns.mounts().length, 2);
  assert.ok(same.ns.mounts().every((x) => !x.locked && x.ns === same.ns));
  const child = userns.UserNamespace.child(creds(1000, init));
  const { ns: copy, map } = ns.copy(vfs, child, 3);
  const cm = map.get(m);
  assert.notEqual(cm, m);
  assert.equal(cm.root, m.root);
  assert.equal(cm.parent, copy.root);
  assert.ok(cm.locked && cm.lockedFlags.readonly);
  const cwd = MountNamespace.translate({ mount: m, dentry: m.root }, map);
  assert.equal(cwd.mount, cm);
  assert.equal(m.ns, ns, 'the original is untouched');
});
