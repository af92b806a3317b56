'use strict';
// What /proc tells of a host process, for tests that look at the runtime's
// processes (the Sentry, the Gofer, their children) from outside. A process
// that ended meanwhile reads as nothing.

const fs = require('node:fs');
const path = require('node:path');

function read(p) {
  try {
    return fs.readFileSync(p, 'latin1');
  } catch {
    return null;
  }
}

/** The direct children of pid's main thread. */
function children(pid) {
  return (read(`/proc/${pid}/task/${pid}/children`) ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
}

function comm(pid) {
  return (read(`/proc/${pid}/comm`) ?? '').trim();
}

function cmdline(pid) {
  const s = read(`/proc/${pid}/cmdline`);
  return s === null ? [] : s.split('\0');
}

/** A field of /proc/PID/status text ("Seccomp", "CapEff"...), or null. */
function statusField(status, name) {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status);
  return m ? m[1].trim() : null;
}

/** pid's descriptors of files, as [fd, target, open flags]: not sockets, pipes, anonymous inodes or memfds; a descriptor closed meanwhile is left out. */
function fileFds(pid) {
  const out = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    const target = (() => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return null;
      }
    })();
    if (target === null || /^(socket|pipe):\[\d+\]$/.test(target) || target.startsWith('anon_inode:') || target.startsWith('/memfd:')) continue;
    const info = read(`/proc/${pid}/fdinfo/${fd}`);
    if (info === null) continue;
    out.push([fd, target, parseInt(/^flags:\s*([0-7]+)$/m.exec(info)[1], 8)]);
  }
  return out;
}

/** An OCI bundle's rootfs under dir: a static busybox and its applets in /bin, and an empty /data. */
function busyboxRootfs(dir, applets) {
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const a of applets) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  fs.mkdirSync(path.join(rootfs, 'data'));
  return rootfs;
}

module.exports = { children, comm, cmdline, statusField, fileFds, busyboxRootfs };
