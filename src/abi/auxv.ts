// The auxiliary vector's entry types (linux/auxvec.h, asm/auxvec.h).

export const AT_NULL = 0;
export const AT_PHDR = 3;
export const AT_PHENT = 4;
export const AT_PHNUM = 5;
export const AT_PAGESZ = 6;
export const AT_BASE = 7;
export const AT_FLAGS = 8;
export const AT_ENTRY = 9;
export const AT_UID = 11;
export const AT_EUID = 12;
export const AT_GID = 13;
export const AT_EGID = 14;
export const AT_PLATFORM = 15;
export const AT_HWCAP = 16;
export const AT_CLKTCK = 17;
export const AT_SECURE = 23;
export const AT_RANDOM = 25;
export const AT_HWCAP2 = 26;
export const AT_EXECFN = 31;
export const AT_SYSINFO_EHDR = 33;
export const AT_MINSIGSTKSZ = 51;
