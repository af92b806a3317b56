// userfaultfd(2)'s ABI (linux/userfaultfd.h): the ioctl numbers, the
// structures' layout, modes, features and message events.

export const UFFD_API = 0xaa;
/** userfaultfd(2) flags: O_CLOEXEC, O_NONBLOCK, and faults from user mode only. */
export const UFFD_USER_MODE_ONLY = 1;

// _IOWR/_IOR(0xAA, nr, struct): (dir << 30) | (size << 16) | (0xAA << 8) | nr.
export const UFFDIO_API = 0xc018aa3f; // struct uffdio_api, 24 bytes
export const UFFDIO_REGISTER = 0xc020aa00; // struct uffdio_register, 32 bytes
export const UFFDIO_UNREGISTER = 0x8010aa01; // struct uffdio_range, 16 bytes
export const UFFDIO_WAKE = 0x8010aa02; // struct uffdio_range
export const UFFDIO_COPY = 0xc028aa03; // struct uffdio_copy, 40 bytes
export const UFFDIO_ZEROPAGE = 0xc020aa04; // struct uffdio_zeropage, 32 bytes
export const UFFDIO_WRITEPROTECT = 0xc018aa06; // struct uffdio_writeprotect, 24 bytes
export const UFFDIO_CONTINUE = 0xc020aa07; // struct uffdio_continue, 32 bytes
export const UFFDIO_POISON = 0xc020aa08; // struct uffdio_poison, 32 bytes
export const UFFDIO_MOVE = 0xc028aa05; // struct uffdio_move, 40 bytes
/** /dev/userfaultfd: _IO(0xAA, 0), the argument is userfaultfd(2)'s flags. */
export const USERFAULTFD_IOC_NEW = 0xaa00;

/** The _UFFDIO_* numbers, bits of uffdio_api.ioctls and uffdio_register.ioctls. */
export const NR_REGISTER = 0x00;
export const NR_UNREGISTER = 0x01;
export const NR_WAKE = 0x02;
export const NR_COPY = 0x03;
export const NR_ZEROPAGE = 0x04;
export const NR_MOVE = 0x05;
export const NR_WRITEPROTECT = 0x06;
export const NR_CONTINUE = 0x07;
export const NR_POISON = 0x08;
export const NR_API = 0x3f;

export const UFFDIO_REGISTER_MODE_MISSING = 1;
export const UFFDIO_REGISTER_MODE_WP = 2;
export const UFFDIO_REGISTER_MODE_MINOR = 4;
export const UFFDIO_COPY_MODE_DONTWAKE = 1;
export const UFFDIO_COPY_MODE_WP = 2;
export const UFFDIO_ZEROPAGE_MODE_DONTWAKE = 1;
export const UFFDIO_CONTINUE_MODE_DONTWAKE = 1;
export const UFFDIO_POISON_MODE_DONTWAKE = 1;
export const UFFDIO_MOVE_MODE_DONTWAKE = 1;
export const UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES = 2;
export const UFFDIO_WRITEPROTECT_MODE_WP = 1;
export const UFFDIO_WRITEPROTECT_MODE_DONTWAKE = 2;

export const UFFD_FEATURE_PAGEFAULT_FLAG_WP = 1 << 0;
export const UFFD_FEATURE_EVENT_FORK = 1 << 1;
export const UFFD_FEATURE_EVENT_REMAP = 1 << 2;
export const UFFD_FEATURE_EVENT_REMOVE = 1 << 3;
export const UFFD_FEATURE_MISSING_SHMEM = 1 << 5;
export const UFFD_FEATURE_EVENT_UNMAP = 1 << 6;
export const UFFD_FEATURE_SIGBUS = 1 << 7;
export const UFFD_FEATURE_THREAD_ID = 1 << 8;
export const UFFD_FEATURE_MINOR_SHMEM = 1 << 10;
export const UFFD_FEATURE_EXACT_ADDRESS = 1 << 11;
export const UFFD_FEATURE_WP_HUGETLBFS_SHMEM = 1 << 12;
export const UFFD_FEATURE_POISON = 1 << 14;
export const UFFD_FEATURE_MOVE = 1 << 16;

export const UFFD_EVENT_PAGEFAULT = 0x12;
export const UFFD_EVENT_FORK = 0x13;
export const UFFD_EVENT_REMAP = 0x14;
export const UFFD_EVENT_REMOVE = 0x15;
export const UFFD_EVENT_UNMAP = 0x16;
export const UFFD_PAGEFAULT_FLAG_WRITE = 1;
export const UFFD_PAGEFAULT_FLAG_WP = 2;
export const UFFD_PAGEFAULT_FLAG_MINOR = 4;
/** sizeof(struct uffd_msg). */
export const UFFD_MSG_SIZE = 32;
