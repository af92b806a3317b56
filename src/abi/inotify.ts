// inotify(7) event bits, flags and struct inotify_event (linux/inotify.h).

export const IN_ACCESS = 0x1;
export const IN_MODIFY = 0x2;
export const IN_ATTRIB = 0x4;
export const IN_CLOSE_WRITE = 0x8;
export const IN_CLOSE_NOWRITE = 0x10;
export const IN_OPEN = 0x20;
export const IN_MOVED_FROM = 0x40;
export const IN_MOVED_TO = 0x80;
export const IN_CREATE = 0x100;
export const IN_DELETE = 0x200;
export const IN_DELETE_SELF = 0x400;
export const IN_MOVE_SELF = 0x800;
export const IN_ALL_EVENTS = 0xfff;

export const IN_UNMOUNT = 0x2000;
export const IN_Q_OVERFLOW = 0x4000;
export const IN_IGNORED = 0x8000;

export const IN_ONLYDIR = 0x01000000;
export const IN_DONT_FOLLOW = 0x02000000;
export const IN_EXCL_UNLINK = 0x04000000;
export const IN_MASK_CREATE = 0x10000000;
export const IN_MASK_ADD = 0x20000000;
export const IN_ISDIR = 0x40000000;
export const IN_ONESHOT = 0x80000000;

/** Every bit inotify_add_watch knows: a mask with none of them is EINVAL. */
export const ALL_INOTIFY_BITS = (IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR | IN_DONT_FOLLOW |
  IN_EXCL_UNLINK | IN_MASK_CREATE | IN_MASK_ADD | IN_ISDIR | IN_ONESHOT) >>> 0;

/** Events a directory's watch also gets for its entries (with the entry's name). */
export const IN_EVENTS_ON_CHILD = IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN;

/** inotify_init1 flags: IN_CLOEXEC is O_CLOEXEC, IN_NONBLOCK is O_NONBLOCK. */
export const IN_CLOEXEC = 0o2000000;
export const IN_NONBLOCK = 0o4000;

/** struct inotify_event {s32 wd; u32 mask; u32 cookie; u32 len; char name[len]}. */
export const INOTIFY_EVENT_SIZE = 16;

/** The name field's length: the name, a NUL, padded to a multiple of the header's size (0 without a name). */
export function inotifyNameLen(nameBytes: number): number {
  return nameBytes === 0 ? 0 : (nameBytes + 1 + INOTIFY_EVENT_SIZE - 1) & ~(INOTIFY_EVENT_SIZE - 1);
}

/** /proc/sys/fs/inotify defaults (Linux's). */
export const INOTIFY_MAX_QUEUED_EVENTS = 16384;
export const INOTIFY_MAX_USER_INSTANCES = 128;
export const INOTIFY_MAX_USER_WATCHES = 8192;
