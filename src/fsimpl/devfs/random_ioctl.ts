// The ioctls of /dev/random and /dev/urandom (random(4)). The sandbox's pool
// is the host's generator, always initialised, so the entropy count is the
// full pool (256 bits, as /proc/sys/kernel/random/entropy_avail says) and
// what a privileged caller adds or clears leaves it so; the added bytes are
// read (EFAULT as Linux when they are not readable) and dropped. Every other
// request, terminal ones included, is EINVAL: Linux's random driver answers
// so rather than ENOTTY (isatty(3) on /dev/urandom sets EINVAL).
import { Errno, E } from '../../abi/errno';
import { CAP_SYS_ADMIN } from '../../abi/capability';
import { hasCapability } from '../../auth/creds';
import { userRoom } from '../../vfs/file';
import type { Task } from '../../kernel/task';

const RNDGETENTCNT = 0x80045200;
const RNDADDTOENTCNT = 0x40045201;
const RNDADDENTROPY = 0x40085203;
const RNDZAPENTCNT = 0x5204;
const RNDCLEARPOOL = 0x5206;
const RNDRESEEDCRNG = 0x5207;

/** The input pool's size in bits: a ready pool reports all of it. */
export const POOL_BITS = 256;
/** Linux's MAX_RW_COUNT: the most one request transfers. */
const MAX_RW_COUNT = 0x7ffff000;

export function randomIoctl(t: Task, cmd: number, arg: number): number {
  switch (cmd) {
    case RNDGETENTCNT:
      t.mm.writeI32(arg, POOL_BITS);
      return 0;
    case RNDADDTOENTCNT: {
      if (!hasCapability(t.creds, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
      const bits = t.mm.readI32(arg);
      if (bits < 0) throw new Errno(E.EINVAL);
      return 0;
    }
    case RNDADDENTROPY: {
      if (!hasCapability(t.creds, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
      const bits = t.mm.readI32(arg);
      if (bits < 0) throw new Errno(E.EINVAL);
      // buf_size is an int taken as a length: a negative one is a huge length, which cannot all be read.
      const size = t.mm.readI32(arg + 4) >>> 0;
      const len = Math.min(size, MAX_RW_COUNT);
      if (len > 0 && userRoom(t.mm, arg + 8, len, false) < len) throw new Errno(E.EFAULT);
      return 0;
    }
    case RNDZAPENTCNT:
    case RNDCLEARPOOL:
    case RNDRESEEDCRNG:
      if (!hasCapability(t.creds, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
      return 0;
    default:
      throw new Errno(E.EINVAL);
  }
}
