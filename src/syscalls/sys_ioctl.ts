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
    partial: 'terminals (docs/ARCHITECTURE.md, Terminals): no packet mode (TIOCPKT is EINVAL), no TIOCSTI, a pty master cannot be a controlling terminal (TIOCSCTTY on it is EINVAL). pidfds: PIDFD_GET_INFO only (the namespace getters of Linux 6.11 are ENOTTY). Sockets: the SIOCGIF* requests from the interface table; the SIOCSIF* setters are EPERM',
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
