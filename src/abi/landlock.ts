// Landlock (linux/landlock.h; Documentation/userspace-api/landlock.rst): the
// constants of the ABI version the sandbox offers, 2 (Linux 5.19 to 6.1, the
// release src/kernel/uts.ts reports).

/** The ABI version landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) answers. */
export const LANDLOCK_ABI_VERSION = 2;

export const LANDLOCK_CREATE_RULESET_VERSION = 1 << 0;
export const LANDLOCK_RULE_PATH_BENEATH = 1;

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

/** Every file system right of ABI 2. */
export const ACCESS_FS_ALL = (ACCESS_FS_REFER << 1) - 1;
/** The rights that apply to a file itself (a rule on a non-directory may grant only these). */
export const ACCESS_FS_FILE = ACCESS_FS_EXECUTE | ACCESS_FS_WRITE_FILE | ACCESS_FS_READ_FILE;

/** A domain stacks at most this many rulesets (E2BIG beyond). */
export const LANDLOCK_MAX_NUM_LAYERS = 16;

/** sizeof(struct landlock_ruleset_attr) at ABI 2: handled_access_fs only. */
export const RULESET_ATTR_SIZE = 8;
/** sizeof(struct landlock_path_beneath_attr): packed u64 allowed_access, s32 parent_fd. */
export const PATH_BENEATH_ATTR_SIZE = 12;
