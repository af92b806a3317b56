// ioctl: the generic requests on any descriptor, the rest to the file itself.
import { Errno, E } from '../abi/errno';
import { O_NONBLOCK, O_PATH } from '../abi/fs';
import { setAsync } from './fasync';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { SocketFile } from '../socket/socket';
import { ifIoctl, isIfIoctl } from '../socket/ifioctl';
import { CAP_NET_ADMIN } from '../abi/capability';
import { nsCapable } from '../auth/userns';
import { fileattrIoctl } from './fileattr';
import { nsfsIoctl } from './nsfs_ioctl';
import { pidfdIoctl } from './pidfd_info';
import { landlockCheckIoctl } from '../vfs/landlock';
import { loopIoctl } from './loop_ioctl';
import { remapIoctl } from './remap_ioctl';

const FIONREAD = 0x541b;
const FIONBIO = 0x5421;
const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;
const FIOASYNC = 0x5452;

export const defs: SyscallDef[] = [
  {
    nr: 16, name: 'ioctl', args: ['fd', 'ioctl_req', 'ioctl_arg'],
    partial: 'terminals (docs/ARCHITECTURE.md, Terminals): no packet mode (TIOCPKT is EINVAL), no TIOCSTI, a pty master cannot be a controlling terminal (TIOCSCTTY on it is EINVAL). pidfds: PIDFD_GET_INFO only (the namespace getters of Linux 6.11 are ENOTTY). Sockets: the SIOCGIF* requests from the interface table; the SIOCSIF* setters are EPERM, but SIOCSIFFLAGS (the up flag) of a new namespace\'s loopback and of a tun device, and SIOCSIFADDR/SIOCSIFNETMASK/SIOCSIFMTU/SIOCSIFTXQLEN of a tun device. /dev/net/tun: TUNSETIFF (IFF_TUN, or IFF_TAP with ARP and IPv4 only: IPv6 packets to a TAP device are dropped, it does no neighbour discovery; with or without IFF_NO_PI; IFF_MULTI_QUEUE, IFF_VNET_HDR and IFF_NAPI* are EINVAL), TUNGETIFF, TUNGETFEATURES, TUNSETPERSIST, TUNSETOWNER/GROUP, TUNSETNOCSUM/DEBUG (taken), TUNSETOFFLOAD of 0, TUNGET/SETSNDBUF (kept); the device is an interface of the namespace\'s own stack (never the host\'s network), at most 64 of them a namespace (ENOMEM beyond; Linux has no bound), and none in --network=host\'s first namespace (EPERM). Loop devices (loop(4), over the sandbox\'s own files): LOOP_SET_FD, CONFIGURE, CHANGE_FD, CLR_FD, SET/GET_STATUS(64), SET_CAPACITY, SET_BLOCK_SIZE, SET_DIRECT_IO and the LOOP_CTL_* requests, at most 64 devices (LOOP_CTL_ADD beyond: ENOSPC); lo_offset and lo_sizelimit above 2^53 are EOVERFLOW (Linux takes up to 2^63-1); PARTSCAN is kept but no partition table is read; no encryption (lo_encrypt_type other than 0: EINVAL, as Linux). Block requests: BLKGETSIZE(64), BLKSSZGET, BLKPBSZGET, BLKBSZGET, BLKIOMIN/IOOPT, BLKALIGNOFF, BLKROGET/ROSET, BLKFLSBUF, BLKRAGET/RASET, BLKROTATIONAL, BLKRRPART, BLKDISCARD and BLKZEROOUT (a hole punched in the backing file); BLKSECDISCARD is EOPNOTSUPP. FICLONE/FICLONERANGE: EOPNOTSUPP after Linux\'s checks (no file system shares extents)',
    fn: (t, a) => {
      const fd = i32(a[0]);
      const cmd = u32(a[1]);
      const arg = a[2];
      const f = t.fdTable.get(fd);
      if (f.flags & O_PATH) throw new Errno(E.EBADF);
      // Landlock's file_ioctl hook (ABI 5) comes before any command, the generic ones too.
      landlockCheckIoctl(f.landlockAllowed, f.path?.dentry.inode ?? f.inode, cmd);
      switch (cmd) {
        case FIOCLEX:
          t.fdTable.setCloexec(fd, true);
          return 0;
        case FIONCLEX:
          t.fdTable.setCloexec(fd, false);
          return 0;
        case FIONBIO:
          if (t.mm.readI32(arg) !== 0) f.flags |= O_NONBLOCK;
          else f.flags &= ~O_NONBLOCK;
          f.flagsChanged();
          return 0;
        case FIOASYNC:
          setAsync(t, fd, f, t.mm.readI32(arg) !== 0);
          return 0;
        case FIONREAD: {
          let n: number;
          try {
            n = f.available();
          } catch (e) {
            // Files without a notion of pending bytes may still answer through their own ioctl.
            if (e instanceof Errno && e.errno === E.ENOTTY) return f.ioctl(t, cmd, arg);
            throw e;
          }
          t.mm.writeI32(arg, Math.min(n, 0x7fffffff));
          return 0;
        }
        default:
          // The interface requests of netdevice(7): any socket, from its network namespace's interface table.
          if (f instanceof SocketFile && isIfIoctl(cmd)) {
            const ns = f.netns ?? t.nsproxy.net;
            return ifIoctl(ns.config.interfaces, t.mm, f.family, cmd, arg, nsCapable(t.creds, ns.owner, CAP_NET_ADMIN));
          }
          return remapIoctl(t, f, cmd, arg) ?? loopIoctl(t, f, cmd, arg) ?? nsfsIoctl(t, f, cmd, arg) ?? pidfdIoctl(t, f, cmd, arg) ?? fileattrIoctl(t, f, cmd, arg) ?? f.ioctl(t, cmd, arg);
      }
    },
  },
];
