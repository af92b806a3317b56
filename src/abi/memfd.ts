// memfd_create(2) flags and the file seals of fcntl(2) (include/uapi/linux/memfd.h,
// include/uapi/linux/fcntl.h), defined once for every layer.

export const MFD_CLOEXEC = 0x1;
export const MFD_ALLOW_SEALING = 0x2;
export const MFD_HUGETLB = 0x4;
export const MFD_NOEXEC_SEAL = 0x8;
export const MFD_EXEC = 0x10;
/** The hugetlb page size field of the flags (MFD_HUGE_SHIFT 26, MFD_HUGE_MASK 0x3f). */
export const MFD_HUGE_BITS = 0x3f << 26;
/** The longest name, without the "memfd:" prefix and the terminating zero. */
export const MFD_NAME_MAX = 249;

export const F_ADD_SEALS = 1033;
export const F_GET_SEALS = 1034;

export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;
export const F_SEAL_FUTURE_WRITE = 0x10;
export const F_SEAL_EXEC = 0x20;
export const F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;
/** Seals that refuse writes, shared writable mappings and hole punching. */
export const F_SEAL_ANY_WRITE = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
