// mount(2), umount2(2) flags (linux/mount.h) and the ID values user namespaces use.

export const MS_RDONLY = 0x1, MS_NOSUID = 0x2, MS_NODEV = 0x4, MS_NOEXEC = 0x8, MS_SYNCHRONOUS = 0x10, MS_REMOUNT = 0x20,
  MS_MANDLOCK = 0x40, MS_DIRSYNC = 0x80, MS_NOSYMFOLLOW = 0x100, MS_NOATIME = 0x400, MS_NODIRATIME = 0x800, MS_BIND = 0x1000,
  MS_MOVE = 0x2000, MS_REC = 0x4000, MS_SILENT = 0x8000, MS_POSIXACL = 0x10000, MS_UNBINDABLE = 0x20000,
  MS_PRIVATE = 0x40000, MS_SLAVE = 0x80000, MS_SHARED = 0x100000, MS_RELATIME = 0x200000, MS_KERNMOUNT = 0x400000,
  MS_I_VERSION = 0x800000, MS_STRICTATIME = 0x1000000, MS_LAZYTIME = 0x2000000;
/** Magic number callers before 2.4 put in the top half of the flags; Linux strips it. */
export const MS_MGC_VAL = 0xc0ed0000, MS_MGC_MSK = 0xffff0000;

export const MNT_FORCE = 1, MNT_DETACH = 2, MNT_EXPIRE = 4, UMOUNT_NOFOLLOW = 8;

/** The ID an unmapped user or group shows as (/proc/sys/kernel/overflowuid). */
export const OVERFLOW_ID = 65534;
/** Deepest nesting of user namespaces (EUSERS past it). */
export const MAX_USERNS_LEVEL = 32;
/** At most this many lines in a uid_map or gid_map. */
export const UID_GID_MAP_MAX_EXTENTS = 340;
/** Inode numbers of the initial namespaces as Linux shows them (PROC_*_INIT_INO); later ones count up from PROC_DYNAMIC_FIRST. */
export const PROC_IPC_INIT_INO = 0xefffffff, PROC_UTS_INIT_INO = 0xeffffffe, PROC_USER_INIT_INO = 0xeffffffd,
  PROC_PID_INIT_INO = 0xeffffffc, PROC_CGROUP_INIT_INO = 0xeffffffb, PROC_TIME_INIT_INO = 0xeffffffa,
  PROC_NET_INIT_INO = 0xeffffff9, PROC_MNT_INIT_INO = 0xeffffff8, PROC_DYNAMIC_FIRST = 0xf0000000;
