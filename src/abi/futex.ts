// futex(2) and futex_waitv(2): operations, flags and the bits of a PI futex word (linux/futex.h).

export const FUTEX_WAIT = 0;
export const FUTEX_WAKE = 1;
export const FUTEX_REQUEUE = 3;
export const FUTEX_CMP_REQUEUE = 4;
export const FUTEX_WAKE_OP = 5;
export const FUTEX_LOCK_PI = 6;
export const FUTEX_UNLOCK_PI = 7;
export const FUTEX_TRYLOCK_PI = 8;
export const FUTEX_WAIT_BITSET = 9;
export const FUTEX_WAKE_BITSET = 10;
export const FUTEX_WAIT_REQUEUE_PI = 11;
export const FUTEX_CMP_REQUEUE_PI = 12;
export const FUTEX_LOCK_PI2 = 13;
export const FUTEX_PRIVATE_FLAG = 128;
export const FUTEX_CLOCK_REALTIME = 256;
export const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

/** A PI futex word: the owner's tid, and two flags above it. */
export const FUTEX_WAITERS = 0x80000000;
export const FUTEX_OWNER_DIED = 0x40000000;
export const FUTEX_TID_MASK = 0x3fffffff;

/** futex_waitv: at most this many entries; each is struct futex_waitv (u64 val, u64 uaddr, u32 flags, u32 reserved). */
export const FUTEX_WAITV_MAX = 128;
export const FUTEX_WAITV_SIZE = 24;
/** futex2 flags of an entry: the size (only FUTEX2_SIZE_U32 exists for waiting) and private. */
export const FUTEX2_SIZE_MASK = 3;
export const FUTEX2_SIZE_U32 = 2;
export const FUTEX2_PRIVATE = FUTEX_PRIVATE_FLAG;
