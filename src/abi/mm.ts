// Memory-management ABI of x86-64 Linux (asm-generic/mman-common.h,
// arch/x86/include/asm/page_64_types.h), defined once for every layer.

export const PAGE_SIZE = 4096;

/** One page below 2^47: the top of a 4-level x86-64 user address space. */
export const TASK_SIZE = 0x7ffffffff000;
/** Linux's access_ok() bound: a user range [addr, addr+len) must end at or below 2^47. */
export const USER_RANGE_END = 2 ** 47;

export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x100;
export const MAP_DENYWRITE = 0x800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

/** prctl(PR_SET_MDWE) bits: refuse writable+executable mappings and gaining execute; and not into children or a new image. */
export const MDWE_REFUSE_EXEC_GAIN = 1;
export const MDWE_NO_INHERIT = 2;
