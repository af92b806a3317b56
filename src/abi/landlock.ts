// Landlock (linux/landlock.h; Documentation/userspace-api/landlock.rst): the
// constants of the ABI version the sandbox offers, 7 (Linux 6.15 to 6.18:
// file system rights up to IOCTL_DEV, TCP port rules, scopes, and the audit
// flags of landlock_restrict_self, accepted with nothing to log to).

/** The ABI version landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) answers. */
export const LANDLOCK_ABI_VERSION = 7;

export const LANDLOCK_CREATE_RULESET_VERSION = 1 << 0;
export const LANDLOCK_CREATE_RULESET_ERRATA = 1 << 1;
/**
 * The errata whose fixes the checks follow, as bits (erratum N is bit N-1):
 * 1 only TCP sockets are restricted by the TCP rights, 2 signals within a
 * process are never scoped, 3 a disconnected directory gets the rights of
 * both its hierarchies (vfs/landlock.ts granted).
 */
export const LANDLOCK_ERRATA = 0b111;

/** ABI 7: landlock_restrict_self's audit flags (no audit log in the sandbox: they change nothing). */
export const RESTRICT_SELF_LOG_SAME_EXEC_OFF = 1 << 0;
export const RESTRICT_SELF_LOG_NEW_EXEC_ON = 1 << 1;
export const RESTRICT_SELF_LOG_SUBDOMAINS_OFF = 1 << 2;
export const RESTRICT_SELF_FLAGS = RESTRICT_SELF_LOG_SAME_EXEC_OFF | RESTRICT_SELF_LOG_NEW_EXEC_ON | RESTRICT_SELF_LOG_SUBDOMAINS_OFF;
export const LANDLOCK_RULE_PATH_BENEATH = 1;
export const LANDLOCK_RULE_NET_PORT = 2;

export const ACCESS_FS_EXECUTE = 1 << 0;
export const ACCESS_FS_WRITE_FILE = 1 << 1;
export const ACCESS_FS_READ_FILE = 1 << 2;
export const ACCESS_FS_READ_DIR = 1 << 3;
export const ACCESS_FS_REMOVE_DIR = 1 << 4;
export const ACCESS_FS_REMOVE_FILE = 1 << 5;
export const ACCESS_FS_MAKE_CHAR = 1 << 6;
export const ACCESS_FS_MAKE_DIR = 1 << 7;
export const ACCESS_FS_MAKE_REG = 1 << 8;
export const ACCESS_FS_MAKE_SOCK = 1 << 9;
export const ACCESS_FS_MAKE_FIFO = 1 << 10;
export const ACCESS_FS_MAKE_BLOCK = 1 << 11;
export const ACCESS_FS_MAKE_SYM = 1 << 12;
export const ACCESS_FS_REFER = 1 << 13;
/** ABI 3: truncate, ftruncate, open with O_TRUNC. */
export const ACCESS_FS_TRUNCATE = 1 << 14;
/** ABI 5: ioctl on a character or block device. */
export const ACCESS_FS_IOCTL_DEV = 1 << 15;

/** Every file system right of ABI 6. */
export const ACCESS_FS_ALL = (ACCESS_FS_IOCTL_DEV << 1) - 1;
/** The rights that apply to a file itself (a rule on a non-directory may grant only these). */
export const ACCESS_FS_FILE = ACCESS_FS_EXECUTE | ACCESS_FS_WRITE_FILE | ACCESS_FS_READ_FILE | ACCESS_FS_TRUNCATE | ACCESS_FS_IOCTL_DEV;
/** The rights an open file keeps from the moment it was opened (checked later on the file description). */
export const ACCESS_FS_OPTIONAL = ACCESS_FS_TRUNCATE | ACCESS_FS_IOCTL_DEV;

/** ABI 4: TCP bind and connect, by port. */
export const ACCESS_NET_BIND_TCP = 1 << 0;
export const ACCESS_NET_CONNECT_TCP = 1 << 1;
export const ACCESS_NET_ALL = (ACCESS_NET_CONNECT_TCP << 1) - 1;

/** ABI 6: what a domain may not reach outside itself. */
export const LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0;
export const LANDLOCK_SCOPE_SIGNAL = 1 << 1;
export const LANDLOCK_SCOPE_ALL = (LANDLOCK_SCOPE_SIGNAL << 1) - 1;

/** A domain stacks at most this many rulesets (E2BIG beyond). */
export const LANDLOCK_MAX_NUM_LAYERS = 16;

/** sizeof(struct landlock_ruleset_attr) since ABI 6: handled_access_fs, handled_access_net, scoped. */
export const RULESET_ATTR_SIZE = 24;
/** The shortest landlock_ruleset_attr accepted: handled_access_fs alone (ABI 1 to 3). */
export const RULESET_ATTR_MIN_SIZE = 8;
/** sizeof(struct landlock_path_beneath_attr): packed u64 allowed_access, s32 parent_fd. */
export const PATH_BENEATH_ATTR_SIZE = 12;
/** sizeof(struct landlock_net_port_attr): u64 allowed_access, u64 port (host order). */
export const NET_PORT_ATTR_SIZE = 16;
